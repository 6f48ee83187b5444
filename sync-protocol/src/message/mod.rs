//! The automerge-repo network protocol v1 messages, as `@automerge/automerge-repo-network-websocket`
//! 2.5 sends them in binary WebSocket frames: one CBOR map per frame with a `type` field.
//!
//! - Handshake: the connecting peer sends [`Join`]; the other answers [`Peer`] with the selected
//!   protocol version (`"1"`), or [`ErrorMessage`] and closes when no offered version is supported.
//! - Per document: [`WireMessage::Request`] (a first sync message from a peer that does not have the
//!   document and wants [`DocUnavailable`] if we do not either), [`WireMessage::Sync`], and
//!   [`Ephemeral`] (application broadcast, never stored).
//! - Skipped: `remote-heads-changed`, `remote-subscription-change` and `leave` decode into
//!   [`WireMessage::Ignored`] so a server can pass over them.
//!
//! [`WireMessage::encode`] writes byte-for-byte what automerge-repo's `cbor-x` encoder writes for
//! the same message (same key order, 16-bit map heads, untagged byte strings); the golden fixtures
//! in `tests/fixtures/wire/js` hold the proof.

mod cbor;
mod decode;
mod encode;
mod error;

use std::fmt;

pub use error::DecodeError;

use crate::DocumentId;

/// The only protocol version automerge-repo 2.5 defines.
pub const PROTOCOL_V1: &str = "1";

/// Default for [`DecodeLimits::max_message_bytes`]: big enough for a whole job document with its
/// history in one sync message, small enough that one frame cannot exhaust a server.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// Bounds applied to a frame before and while decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Frames longer than this are refused before any decoding.
    pub max_message_bytes: usize,
    /// Deepest CBOR nesting accepted (automerge-repo messages nest at most four levels).
    pub max_depth: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_depth: 16,
        }
    }
}

/// A peer's id: an opaque string chosen by the peer (automerge-repo uses random strings).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(String);

impl PeerId {
    /// Wraps a peer id string.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({})", self.0)
    }
}

/// What a peer says about itself in the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    /// The id of the peer's storage, if it persists documents (peers save sync state per storage id).
    pub storage_id: Option<String>,
    /// True when the peer will not come back with the same storage, so keeping sync state is pointless.
    pub is_ephemeral: bool,
}

/// `join`: the connecting peer introduces itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub sender_id: PeerId,
    pub peer_metadata: Option<PeerMetadata>,
    /// Absent means version 1 only (the JS server adapter reads it so).
    pub supported_protocol_versions: Option<Vec<String>>,
}

/// `peer`: the answer to a join, naming the selected protocol version.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub sender_id: PeerId,
    pub peer_metadata: Option<PeerMetadata>,
    pub selected_protocol_version: String,
    pub target_id: PeerId,
}

/// `error`: the sender is about to close the connection, and says why.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorMessage {
    pub sender_id: PeerId,
    pub message: String,
    pub target_id: PeerId,
}

/// `request` or `sync`: an Automerge sync message about one document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSync {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub document_id: DocumentId,
    /// The encoded `automerge::sync::Message`.
    pub data: Vec<u8>,
}

/// `doc-unavailable`: the sender does not have the document (or will not share it).
#[derive(Debug, Clone, PartialEq)]
pub struct DocUnavailable {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub document_id: DocumentId,
}

/// `ephemeral`: application data about a document (presence, cursors), relayed and never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Ephemeral {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub document_id: DocumentId,
    /// Increases with every ephemeral message of one sender session; receivers drop repeats.
    pub count: u64,
    pub session_id: String,
    /// CBOR-encoded application payload.
    pub data: Vec<u8>,
}

/// Which skipped message type arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredKind {
    RemoteHeadsChanged,
    RemoteSubscriptionChange,
    Leave,
}

impl IgnoredKind {
    /// The `type` string on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RemoteHeadsChanged => "remote-heads-changed",
            Self::RemoteSubscriptionChange => "remote-subscription-change",
            Self::Leave => "leave",
        }
    }
}

/// A message we recognise but do not act on; it keeps its frame so it can be relayed unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignored {
    pub kind: IgnoredKind,
    pub sender_id: Option<PeerId>,
    /// The frame exactly as received.
    pub raw: Vec<u8>,
}

/// One automerge-repo network message.
#[derive(Debug, Clone, PartialEq)]
pub enum WireMessage {
    Join(Join),
    Peer(Peer),
    Error(ErrorMessage),
    Request(DocumentSync),
    Sync(DocumentSync),
    DocUnavailable(DocUnavailable),
    Ephemeral(Ephemeral),
    Ignored(Ignored),
}

impl WireMessage {
    /// Decodes one frame, refusing it before any parsing if it is over `limits.max_message_bytes`.
    pub fn decode(frame: &[u8], limits: &DecodeLimits) -> Result<Self, DecodeError> {
        decode::decode(frame, limits)
    }

    /// Encodes the message as automerge-repo's WebSocket adapter would.
    pub fn encode(&self) -> Vec<u8> {
        encode::encode(self)
    }

    /// The `type` string on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Join(_) => "join",
            Self::Peer(_) => "peer",
            Self::Error(_) => "error",
            Self::Request(_) => "request",
            Self::Sync(_) => "sync",
            Self::DocUnavailable(_) => "doc-unavailable",
            Self::Ephemeral(_) => "ephemeral",
            Self::Ignored(ignored) => ignored.kind.as_str(),
        }
    }

    /// The peer that sent the message, when the message names one.
    pub fn sender_id(&self) -> Option<&PeerId> {
        match self {
            Self::Join(m) => Some(&m.sender_id),
            Self::Peer(m) => Some(&m.sender_id),
            Self::Error(m) => Some(&m.sender_id),
            Self::Request(m) | Self::Sync(m) => Some(&m.sender_id),
            Self::DocUnavailable(m) => Some(&m.sender_id),
            Self::Ephemeral(m) => Some(&m.sender_id),
            Self::Ignored(m) => m.sender_id.as_ref(),
        }
    }

    /// The document the message is about, for per-document messages.
    pub fn document_id(&self) -> Option<DocumentId> {
        match self {
            Self::Request(m) | Self::Sync(m) => Some(m.document_id),
            Self::DocUnavailable(m) => Some(m.document_id),
            Self::Ephemeral(m) => Some(m.document_id),
            _ => None,
        }
    }
}
