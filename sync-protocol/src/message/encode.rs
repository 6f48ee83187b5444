//! From a [`WireMessage`] to the exact bytes automerge-repo 2.5 would send.
//!
//! Key order is part of byte compatibility: cbor-x writes object keys in insertion order, and
//! automerge-repo builds each message type in its own order (the synchronizer writes the body,
//! then the network subsystem appends `senderId`). The orders below are those of the captured
//! fixtures.

use super::cbor::{self, Value};
use super::{PeerMetadata, WireMessage};

pub(super) fn encode(message: &WireMessage) -> Vec<u8> {
    let entries: Vec<(&str, Value)> = match message {
        WireMessage::Join(m) => {
            let mut entries = vec![
                ("type", text("join")),
                ("senderId", text(m.sender_id.as_str())),
            ];
            if let Some(metadata) = &m.peer_metadata {
                entries.push(("peerMetadata", metadata_value(metadata)));
            }
            if let Some(versions) = &m.supported_protocol_versions {
                let list = versions.iter().map(|v| text(v)).collect();
                entries.push(("supportedProtocolVersions", Value::Array(list)));
            }
            entries
        }
        WireMessage::Peer(m) => {
            let mut entries = vec![
                ("type", text("peer")),
                ("senderId", text(m.sender_id.as_str())),
            ];
            if let Some(metadata) = &m.peer_metadata {
                entries.push(("peerMetadata", metadata_value(metadata)));
            }
            entries.push((
                "selectedProtocolVersion",
                text(&m.selected_protocol_version),
            ));
            entries.push(("targetId", text(m.target_id.as_str())));
            entries
        }
        WireMessage::Error(m) => vec![
            ("type", text("error")),
            ("senderId", text(m.sender_id.as_str())),
            ("message", text(&m.message)),
            ("targetId", text(m.target_id.as_str())),
        ],
        WireMessage::Request(m) => vec![
            ("type", text("request")),
            ("targetId", text(m.target_id.as_str())),
            ("documentId", text(&m.document_id.to_string())),
            ("data", Value::Bytes(m.data.clone())),
            ("senderId", text(m.sender_id.as_str())),
        ],
        WireMessage::Sync(m) => vec![
            ("type", text("sync")),
            ("targetId", text(m.target_id.as_str())),
            ("data", Value::Bytes(m.data.clone())),
            ("documentId", text(&m.document_id.to_string())),
            ("senderId", text(m.sender_id.as_str())),
        ],
        WireMessage::DocUnavailable(m) => vec![
            ("type", text("doc-unavailable")),
            ("documentId", text(&m.document_id.to_string())),
            ("targetId", text(m.target_id.as_str())),
            ("senderId", text(m.sender_id.as_str())),
        ],
        WireMessage::Ephemeral(m) => vec![
            ("type", text("ephemeral")),
            ("targetId", text(m.target_id.as_str())),
            ("documentId", text(&m.document_id.to_string())),
            ("data", Value::Bytes(m.data.clone())),
            ("count", js_number(m.count)),
            ("sessionId", text(&m.session_id)),
            ("senderId", text(m.sender_id.as_str())),
        ],
        // Relayed as received: we never build these ourselves.
        WireMessage::Ignored(m) => return m.raw.clone(),
    };
    let map = Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect());
    let mut out = Vec::new();
    cbor::write(&map, &mut out);
    out
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// The shape automerge-repo's Repo gives its metadata: `storageId` is always present, as
/// `undefined` when the peer has no storage.
fn metadata_value(metadata: &PeerMetadata) -> Value {
    let storage_id = match &metadata.storage_id {
        Some(id) => text(id),
        None => Value::Undefined,
    };
    Value::Map(vec![
        (text("storageId"), storage_id),
        (text("isEphemeral"), Value::Bool(metadata.is_ephemeral)),
    ])
}

/// cbor-x writes integers that fit 32 bits as integers and larger ones as float64.
fn js_number(n: u64) -> Value {
    if u32::try_from(n).is_ok() {
        Value::Unsigned(n)
    } else {
        Value::Float(n as f64)
    }
}
