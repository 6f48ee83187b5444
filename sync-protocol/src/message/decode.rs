//! From a frame to a typed [`WireMessage`]: strict about the fields we act on, tolerant of extra
//! fields (newer peers may add some), and treating JS `undefined` like an absent field.

use std::collections::HashSet;

use super::cbor::{self, TAG_UINT8_ARRAY, Value};
use super::{
    DecodeError, DecodeLimits, DocUnavailable, DocumentSync, Ephemeral, ErrorMessage, Ignored,
    IgnoredKind, Join, Peer, PeerId, PeerMetadata, WireMessage,
};
use crate::DocumentId;

/// Longest peer id accepted: automerge-repo's are a few dozen characters; a server stores them
/// (the fleet view), so a peer may not choose megabytes.
const MAX_PEER_ID_BYTES: usize = 256;

/// JS numbers are exact integers only up to 2^53.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

pub(super) fn decode(frame: &[u8], limits: &DecodeLimits) -> Result<WireMessage, DecodeError> {
    if frame.len() > limits.max_message_bytes {
        return Err(DecodeError::TooLarge {
            size: frame.len(),
            limit: limits.max_message_bytes,
        });
    }
    if frame.is_empty() {
        return Err(DecodeError::Empty);
    }
    let fields = Fields::new(cbor::read(frame, limits.max_depth)?)?;
    let kind = fields.required_text("type")?;
    let message = fields.with_kind(&kind);
    Ok(match kind.as_str() {
        "join" => WireMessage::Join(Join {
            sender_id: message.peer("senderId")?,
            peer_metadata: message.metadata()?,
            supported_protocol_versions: message.text_list("supportedProtocolVersions")?,
        }),
        "peer" => WireMessage::Peer(Peer {
            sender_id: message.peer("senderId")?,
            peer_metadata: message.metadata()?,
            selected_protocol_version: message.required_text("selectedProtocolVersion")?,
            target_id: message.peer("targetId")?,
        }),
        "error" => WireMessage::Error(ErrorMessage {
            sender_id: message.peer("senderId")?,
            message: message.required_text("message")?,
            target_id: message.peer("targetId")?,
        }),
        "request" => WireMessage::Request(message.document_sync()?),
        "sync" => WireMessage::Sync(message.document_sync()?),
        "doc-unavailable" => WireMessage::DocUnavailable(DocUnavailable {
            sender_id: message.peer("senderId")?,
            target_id: message.peer("targetId")?,
            document_id: message.document_id()?,
        }),
        "ephemeral" => WireMessage::Ephemeral(Ephemeral {
            sender_id: message.peer("senderId")?,
            target_id: message.peer("targetId")?,
            document_id: message.document_id()?,
            count: message.count()?,
            session_id: message.required_text("sessionId")?,
            data: message.bytes("data")?,
        }),
        "remote-heads-changed" => message.ignored(IgnoredKind::RemoteHeadsChanged, frame)?,
        "remote-subscription-change" => {
            message.ignored(IgnoredKind::RemoteSubscriptionChange, frame)?
        }
        "leave" => message.ignored(IgnoredKind::Leave, frame)?,
        _ => return Err(DecodeError::UnknownType { kind }),
    })
}

/// The top-level map, with the message type for error messages.
struct Fields<'a> {
    entries: Vec<(String, Value)>,
    kind: &'a str,
}

impl Fields<'static> {
    fn new(value: Value) -> Result<Self, DecodeError> {
        Ok(Self {
            entries: text_keyed(value)?,
            kind: "message",
        })
    }

    fn with_kind(self, kind: &str) -> Fields<'_> {
        Fields {
            entries: self.entries,
            kind,
        }
    }
}

impl Fields<'_> {
    /// A field's value; `undefined` counts as absent, as it does in JS.
    fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
            .filter(|value| **value != Value::Undefined)
    }

    fn missing(&self, field: &'static str) -> DecodeError {
        DecodeError::MissingField {
            kind: self.kind.to_owned(),
            field,
        }
    }

    fn required_text(&self, field: &'static str) -> Result<String, DecodeError> {
        match self.get(field) {
            Some(Value::Text(text)) => Ok(text.clone()),
            Some(_) => Err(wrong(field, "a text string")),
            None => Err(self.missing(field)),
        }
    }

    fn peer(&self, field: &'static str) -> Result<PeerId, DecodeError> {
        let text = self.required_text(field)?;
        if text.len() > MAX_PEER_ID_BYTES {
            return Err(DecodeError::FieldTooLong {
                field,
                length: text.len(),
                limit: MAX_PEER_ID_BYTES,
            });
        }
        Ok(PeerId::new(text))
    }

    fn document_id(&self) -> Result<DocumentId, DecodeError> {
        let text = self.required_text("documentId")?;
        DocumentId::parse(&text).map_err(|source| DecodeError::InvalidDocumentId {
            value: text,
            source,
        })
    }

    fn bytes(&self, field: &'static str) -> Result<Vec<u8>, DecodeError> {
        match self.get(field) {
            Some(Value::Bytes(bytes)) => Ok(bytes.clone()),
            Some(Value::Tag(TAG_UINT8_ARRAY, inner)) => match inner.as_ref() {
                Value::Bytes(bytes) => Ok(bytes.clone()),
                _ => Err(wrong(field, "a byte string")),
            },
            Some(_) => Err(wrong(field, "a byte string")),
            None => Err(self.missing(field)),
        }
    }

    fn text_list(&self, field: &'static str) -> Result<Option<Vec<String>>, DecodeError> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(wrong(field, "an array of text strings"));
        };
        items
            .iter()
            .map(|item| match item {
                Value::Text(text) => Ok(text.clone()),
                _ => Err(wrong(field, "an array of text strings")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn metadata(&self) -> Result<Option<PeerMetadata>, DecodeError> {
        const FIELD: &str = "peerMetadata";
        let Some(value) = self.get(FIELD) else {
            return Ok(None);
        };
        if *value == Value::Null {
            return Ok(None);
        }
        let inner = Fields {
            entries: text_keyed(value.clone()).map_err(|_| wrong(FIELD, "a map"))?,
            kind: self.kind,
        };
        let storage_id = match inner.get("storageId") {
            None | Some(Value::Null) => None,
            Some(Value::Text(text)) => Some(text.clone()),
            Some(_) => return Err(wrong("storageId", "a text string")),
        };
        let is_ephemeral = match inner.get("isEphemeral") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(wrong("isEphemeral", "a boolean")),
        };
        Ok(Some(PeerMetadata {
            storage_id,
            is_ephemeral,
        }))
    }

    fn count(&self) -> Result<u64, DecodeError> {
        const FIELD: &str = "count";
        const EXPECTED: &str = "a non-negative integer";
        match self.get(FIELD) {
            Some(Value::Unsigned(n)) => Ok(*n),
            // cbor-x writes JS numbers above 2^32 as float64.
            Some(Value::Float(f)) if f.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(f) => {
                Ok(*f as u64)
            }
            Some(_) => Err(wrong(FIELD, EXPECTED)),
            None => Err(self.missing(FIELD)),
        }
    }

    fn document_sync(&self) -> Result<DocumentSync, DecodeError> {
        Ok(DocumentSync {
            sender_id: self.peer("senderId")?,
            target_id: self.peer("targetId")?,
            document_id: self.document_id()?,
            data: self.bytes("data")?,
        })
    }

    fn ignored(&self, kind: IgnoredKind, frame: &[u8]) -> Result<WireMessage, DecodeError> {
        let sender_id = match self.get("senderId") {
            Some(Value::Text(text)) => Some(PeerId::new(text.clone())),
            Some(_) => return Err(wrong("senderId", "a text string")),
            None => None,
        };
        Ok(WireMessage::Ignored(Ignored {
            kind,
            sender_id,
            raw: frame.to_vec(),
        }))
    }
}

fn wrong(field: &'static str, expected: &'static str) -> DecodeError {
    DecodeError::WrongFieldType { field, expected }
}

/// A map's entries with text keys, refusing other keys and duplicates.
fn text_keyed(value: Value) -> Result<Vec<(String, Value)>, DecodeError> {
    let Value::Map(entries) = value else {
        return Err(DecodeError::NotAMap);
    };
    let mut out: Vec<(String, Value)> = Vec::with_capacity(entries.len());
    // A set, not a scan of `out`: a hostile frame may hold a map with a million keys.
    let mut seen = HashSet::with_capacity(entries.len());
    for (key, value) in entries {
        let Value::Text(key) = key else {
            return Err(DecodeError::NonTextKey);
        };
        if !seen.insert(key.clone()) {
            return Err(DecodeError::DuplicateField { field: key });
        }
        out.push((key, value));
    }
    Ok(out)
}
