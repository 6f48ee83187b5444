//! The JSON form of a message shared with `fixtures-gen/json.mjs`: byte strings as
//! `{"$bytes": hex}`, JS `undefined` as `{"$undefined": true}`.

use serde_json::{Value as Json, json};
use sync_protocol::message::{PeerMetadata, WireMessage};

/// The JSON the JS side produces for the same message.
pub fn to_json(message: &WireMessage) -> Json {
    match message {
        WireMessage::Join(m) => {
            let mut out = json!({ "type": "join", "senderId": m.sender_id.as_str() });
            if let Some(metadata) = &m.peer_metadata {
                out["peerMetadata"] = metadata_json(metadata);
            }
            if let Some(versions) = &m.supported_protocol_versions {
                out["supportedProtocolVersions"] = json!(versions);
            }
            out
        }
        WireMessage::Peer(m) => {
            let mut out = json!({
                "type": "peer",
                "senderId": m.sender_id.as_str(),
                "selectedProtocolVersion": m.selected_protocol_version,
                "targetId": m.target_id.as_str(),
            });
            if let Some(metadata) = &m.peer_metadata {
                out["peerMetadata"] = metadata_json(metadata);
            }
            out
        }
        WireMessage::Error(m) => json!({
            "type": "error",
            "senderId": m.sender_id.as_str(),
            "message": m.message,
            "targetId": m.target_id.as_str(),
        }),
        WireMessage::Request(m) | WireMessage::Sync(m) => json!({
            "type": message.kind(),
            "senderId": m.sender_id.as_str(),
            "targetId": m.target_id.as_str(),
            "documentId": m.document_id.to_string(),
            "data": bytes(&m.data),
        }),
        WireMessage::DocUnavailable(m) => json!({
            "type": "doc-unavailable",
            "senderId": m.sender_id.as_str(),
            "targetId": m.target_id.as_str(),
            "documentId": m.document_id.to_string(),
        }),
        WireMessage::Ephemeral(m) => json!({
            "type": "ephemeral",
            "senderId": m.sender_id.as_str(),
            "targetId": m.target_id.as_str(),
            "documentId": m.document_id.to_string(),
            "count": m.count,
            "sessionId": m.session_id,
            "data": bytes(&m.data),
        }),
        WireMessage::Ignored(m) => json!({
            "type": m.kind.as_str(),
            "senderId": m.sender_id.as_ref().map(|p| p.as_str()),
        }),
    }
}

fn metadata_json(metadata: &PeerMetadata) -> Json {
    json!({
        "storageId": match &metadata.storage_id {
            Some(id) => json!(id),
            None => json!({ "$undefined": true }),
        },
        "isEphemeral": metadata.is_ephemeral,
    })
}

fn bytes(data: &[u8]) -> Json {
    json!({ "$bytes": hex::encode(data) })
}
