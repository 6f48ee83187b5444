//! The automerge-repo network messages as they cross the WebSocket: CBOR maps with a `type`.
//! Decoding is strict about what we act on and tolerant of fields we do not use.

use ciborium::Value;
use serde::Deserialize;

/// The protocol version we speak (automerge-repo network protocol v1).
pub const PROTOCOL_VERSION: &str = "1";

/// A message from a peer.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
    },
    Request {
        sender_id: String,
        document_id: String,
        data: Vec<u8>,
    },
    Sync {
        sender_id: String,
        document_id: String,
        data: Vec<u8>,
    },
    DocUnavailable {
        document_id: String,
    },
    Ephemeral,
    Leave,
    /// Types we decode and skip (remote heads gossip, subscriptions, future types).
    Other(String),
}

/// Why a frame is not a message we can read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the frame is not valid CBOR: {0}")]
    Cbor(String),
    #[error("a `{kind}` message needs the field `{field}`")]
    MissingField { kind: String, field: &'static str },
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "senderId")]
    sender_id: Option<String>,
    #[serde(rename = "documentId")]
    document_id: Option<String>,
    data: Option<serde_bytes::ByteBuf>,
    #[serde(rename = "supportedProtocolVersions")]
    supported_protocol_versions: Option<Vec<String>>,
}

pub fn decode(frame: &[u8]) -> Result<Inbound, WireError> {
    let envelope: Envelope =
        ciborium::from_reader(frame).map_err(|e| WireError::Cbor(e.to_string()))?;
    let kind = envelope.kind.clone();
    let missing = |field| WireError::MissingField {
        kind: kind.clone(),
        field,
    };
    Ok(match envelope.kind.as_str() {
        "join" => Inbound::Join {
            sender_id: envelope.sender_id.ok_or_else(|| missing("senderId"))?,
            supported_protocol_versions: envelope
                .supported_protocol_versions
                .ok_or_else(|| missing("supportedProtocolVersions"))?,
        },
        "request" | "sync" => {
            let sender_id = envelope.sender_id.ok_or_else(|| missing("senderId"))?;
            let document_id = envelope.document_id.ok_or_else(|| missing("documentId"))?;
            let data = envelope.data.ok_or_else(|| missing("data"))?.into_vec();
            if envelope.kind == "request" {
                Inbound::Request {
                    sender_id,
                    document_id,
                    data,
                }
            } else {
                Inbound::Sync {
                    sender_id,
                    document_id,
                    data,
                }
            }
        }
        "doc-unavailable" => Inbound::DocUnavailable {
            document_id: envelope.document_id.ok_or_else(|| missing("documentId"))?,
        },
        "ephemeral" => Inbound::Ephemeral,
        "leave" => Inbound::Leave,
        other => Inbound::Other(other.to_owned()),
    })
}

/// A message to a peer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound<'a> {
    Peer {
        sender_id: &'a str,
        target_id: &'a str,
    },
    Error {
        sender_id: &'a str,
        target_id: &'a str,
        message: &'a str,
    },
    Sync {
        sender_id: &'a str,
        target_id: &'a str,
        document_id: &'a str,
        data: Vec<u8>,
    },
    DocUnavailable {
        sender_id: &'a str,
        target_id: &'a str,
        document_id: &'a str,
    },
}

pub fn encode(message: Outbound<'_>) -> Vec<u8> {
    let text = |s: &str| Value::Text(s.to_owned());
    let entries: Vec<(&str, Value)> = match message {
        Outbound::Peer {
            sender_id,
            target_id,
        } => vec![
            ("type", text("peer")),
            ("senderId", text(sender_id)),
            (
                "peerMetadata",
                Value::Map(vec![(text("isEphemeral"), Value::Bool(false))]),
            ),
            ("selectedProtocolVersion", text(PROTOCOL_VERSION)),
            ("targetId", text(target_id)),
        ],
        Outbound::Error {
            sender_id,
            target_id,
            message,
        } => vec![
            ("type", text("error")),
            ("senderId", text(sender_id)),
            ("message", text(message)),
            ("targetId", text(target_id)),
        ],
        Outbound::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        } => vec![
            ("type", text("sync")),
            ("senderId", text(sender_id)),
            ("targetId", text(target_id)),
            ("documentId", text(document_id)),
            ("data", Value::Bytes(data)),
        ],
        Outbound::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => vec![
            ("type", text("doc-unavailable")),
            ("senderId", text(sender_id)),
            ("targetId", text(target_id)),
            ("documentId", text(document_id)),
        ],
    };
    let map = Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect());
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::into_writer(&map, &mut bytes);
    bytes
}
