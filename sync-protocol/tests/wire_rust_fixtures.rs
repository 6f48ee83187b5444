//! The messages our encoder writes, kept as golden files in `tests/fixtures/wire/rust` for
//! `fixtures-gen/check.mjs` to decode with the real JS library. This test fails when the
//! encoding drifts from the committed files; `UPDATE_WIRE_FIXTURES=1` rewrites them.

mod wire_support;

use std::fs;
use std::path::PathBuf;

use automerge::sync::SyncDoc;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge};
use serde_json::json;
use sync_protocol::DocumentId;
use sync_protocol::message::{
    DocUnavailable, DocumentSync, Ephemeral, ErrorMessage, Join, Peer, PeerId, PeerMetadata,
    WireMessage,
};
use uuid::Uuid;
use wire_support::to_json;

/// Deterministic messages: fixed ids, actor and timestamps.
fn messages() -> Vec<(&'static str, WireMessage)> {
    let server = PeerId::new("rust-server");
    let tablet = PeerId::new("js-tablet");
    let job = DocumentId::from_uuid(Uuid::from_u128(0x6f0d1c52_0b8e_4d8e_9a0c_0d6a4f1e2b3c));
    let mut doc = Automerge::new().with_actor(ActorId::from(vec![7u8; 16]));
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "customer", "Acme").expect("put");
    tx.commit_with(CommitOptions::default().with_time(1_748_764_800));
    // What a server sends a tablet that asked with an empty document: the whole job.
    let mut tablet_state = automerge::sync::State::new();
    let opening = Automerge::new()
        .generate_sync_message(&mut tablet_state)
        .expect("opening");
    let mut state = automerge::sync::State::new();
    doc.receive_sync_message(&mut state, opening)
        .expect("receive");
    let sync = doc
        .generate_sync_message(&mut state)
        .expect("sync")
        .encode();
    let request = Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .expect("request")
        .encode();
    let metadata = PeerMetadata {
        storage_id: Some("rust-server-storage".to_owned()),
        is_ephemeral: false,
    };
    vec![
        (
            "join",
            WireMessage::Join(Join {
                sender_id: server.clone(),
                peer_metadata: Some(PeerMetadata::default()),
                supported_protocol_versions: Some(vec!["1".to_owned()]),
            }),
        ),
        (
            "peer",
            WireMessage::Peer(Peer {
                sender_id: server.clone(),
                peer_metadata: Some(metadata),
                selected_protocol_version: "1".to_owned(),
                target_id: tablet.clone(),
            }),
        ),
        (
            "error",
            WireMessage::Error(ErrorMessage {
                sender_id: server.clone(),
                message: "unsupported protocol version".to_owned(),
                target_id: tablet.clone(),
            }),
        ),
        (
            "request",
            WireMessage::Request(DocumentSync {
                sender_id: server.clone(),
                target_id: tablet.clone(),
                document_id: job,
                data: request,
            }),
        ),
        (
            "sync",
            WireMessage::Sync(DocumentSync {
                sender_id: server.clone(),
                target_id: tablet.clone(),
                document_id: job,
                data: sync,
            }),
        ),
        (
            "doc-unavailable",
            WireMessage::DocUnavailable(DocUnavailable {
                sender_id: server.clone(),
                target_id: tablet.clone(),
                document_id: job,
            }),
        ),
        (
            "ephemeral",
            WireMessage::Ephemeral(Ephemeral {
                sender_id: server.clone(),
                target_id: tablet.clone(),
                document_id: job,
                count: 5_000_000_000,
                session_id: "rust-session".to_owned(),
                // cbor-x's encoding of {cursor: 3}
                data: vec![
                    0xb9, 0x00, 0x01, 0x66, b'c', b'u', b'r', b's', b'o', b'r', 0x03,
                ],
            }),
        ),
    ]
}

#[test]
fn our_encodings_match_the_committed_fixtures() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire/rust");
    let update = std::env::var_os("UPDATE_WIRE_FIXTURES").is_some();
    let mut manifest = Vec::new();
    for (index, (kind, message)) in messages().into_iter().enumerate() {
        let file = format!("{index:02}-{kind}.cbor");
        let bytes = message.encode();
        if update {
            fs::create_dir_all(&dir).expect("fixture dir");
            fs::write(dir.join(&file), &bytes).expect("write fixture");
        } else {
            let committed = fs::read(dir.join(&file))
                .expect("committed fixture; run with UPDATE_WIRE_FIXTURES=1");
            assert_eq!(bytes, committed, "{file} drifted");
        }
        manifest.push(json!({ "file": file, "message": to_json(&message) }));
    }
    let text = serde_json::to_string_pretty(&manifest).expect("json") + "\n";
    if update {
        fs::write(dir.join("manifest.json"), text).expect("write manifest");
    } else {
        let committed = fs::read_to_string(dir.join("manifest.json")).expect("manifest");
        assert_eq!(text, committed, "manifest.json drifted");
    }
}
