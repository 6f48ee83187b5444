//! Golden fixtures captured from the real JS library (`fixtures-gen/capture.mjs`, automerge-repo
//! 2.5.6 over a WebSocket): every frame decodes to the values JS decoded, and re-encodes to the
//! same bytes.

mod wire_support;

use std::fs;
use std::path::PathBuf;

use serde_json::Value as Json;
use sync_protocol::message::{DecodeLimits, IgnoredKind, WireMessage};
use wire_support::to_json;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire/js")
}

fn manifest() -> Vec<Json> {
    let text = fs::read_to_string(fixtures().join("manifest.json")).expect("manifest.json");
    serde_json::from_str::<Json>(&text)
        .expect("manifest is JSON")
        .as_array()
        .expect("manifest is a list")
        .clone()
}

#[test]
fn every_captured_frame_decodes_to_what_js_decoded() {
    let entries = manifest();
    assert!(entries.len() >= 15, "the capture covers every message type");
    for entry in entries {
        let file = entry["file"].as_str().expect("file name");
        let frame = fs::read(fixtures().join(file)).expect("fixture");
        let message = WireMessage::decode(&frame, &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let expected = &entry["message"];
        assert_eq!(message.kind(), expected["type"], "{file}");
        match &message {
            WireMessage::Ignored(ignored) => {
                assert_eq!(
                    ignored.sender_id.as_ref().map(|p| p.as_str()),
                    expected["senderId"].as_str(),
                    "{file}"
                );
            }
            other => assert_eq!(&to_json(other), expected, "{file}"),
        }
    }
}

#[test]
fn every_captured_frame_re_encodes_to_the_same_bytes() {
    for entry in manifest() {
        let file = entry["file"].as_str().expect("file name");
        let frame = fs::read(fixtures().join(file)).expect("fixture");
        let message = WireMessage::decode(&frame, &DecodeLimits::default()).expect("decodes");
        assert_eq!(message.encode(), frame, "{file} re-encodes byte for byte");
    }
}

#[test]
fn the_capture_holds_each_protocol_message_type() {
    let kinds: Vec<String> = manifest()
        .iter()
        .map(|e| e["message"]["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    for kind in [
        "join",
        "peer",
        "error",
        "request",
        "sync",
        "doc-unavailable",
        "ephemeral",
        "remote-heads-changed",
        "remote-subscription-change",
        "leave",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no `{kind}` fixture");
    }
}

#[test]
fn captured_sync_payloads_are_automerge_sync_messages() {
    for entry in manifest() {
        let file = entry["file"].as_str().expect("file name");
        let frame = fs::read(fixtures().join(file)).expect("fixture");
        if let WireMessage::Request(m) | WireMessage::Sync(m) =
            WireMessage::decode(&frame, &DecodeLimits::default()).expect("decodes")
        {
            automerge::sync::Message::decode(&m.data)
                .unwrap_or_else(|e| panic!("{file}: not a sync message: {e}"));
        }
    }
}

#[test]
fn gossip_is_recognised_and_kept_verbatim() {
    let frame = fs::read(fixtures().join("14-remote-heads-changed.cbor")).expect("fixture");
    let WireMessage::Ignored(ignored) =
        WireMessage::decode(&frame, &DecodeLimits::default()).expect("decodes")
    else {
        panic!("remote-heads-changed is skipped");
    };
    assert_eq!(ignored.kind, IgnoredKind::RemoteHeadsChanged);
    assert_eq!(ignored.raw, frame);
}
