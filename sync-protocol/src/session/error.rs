//! What can go wrong in a session: with the connection as a whole ([`SessionError`]) or with one
//! document's sync message ([`SyncRefusal`]).

use crate::DocumentId;
use crate::message::{DecodeError, PeerId};

/// A problem with the connection. Unless [`SessionError::closes_connection`] says otherwise, the
/// caller sends whatever [`super::PeerSession::take_outbound`] holds (often an `error` message
/// telling the peer why) and then closes the connection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// The frame is not a message we can read.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// The peer offered no protocol version we speak.
    #[error(
        "unsupported protocol version (offered {offered:?}); this server speaks automerge-repo protocol \"1\""
    )]
    UnsupportedProtocol { offered: Vec<String> },
    /// A document or other message came before the handshake finished.
    #[error("a `{kind}` message arrived before the handshake; send `join` first")]
    NotJoined { kind: &'static str },
    /// A message this side of the connection never receives (a `join` sent to the connecting
    /// side, a `peer` sent to the accepting side).
    #[error("a `{kind}` message is not expected on this side of the connection")]
    UnexpectedMessage { kind: &'static str },
    /// A second `join` under another peer id on the same connection.
    #[error("the connection joined as `{was}` and cannot become `{now}`; open a new connection")]
    PeerChanged { was: PeerId, now: PeerId },
    /// The peer sent an `error` message; it will close the connection.
    #[error("the peer reported an error: {message}")]
    PeerReportedError { message: String },
    /// The session already ended after an earlier fatal error.
    #[error("the session has ended; open a new connection")]
    Closed,
    /// A candidate was accepted after another change to the same document's sync state.
    #[error("the sync message for {document_id} was overtaken by a later one; receive it again")]
    StaleCandidate { document_id: DocumentId },
    /// A persisted sync state could not be decoded.
    #[error(
        "the saved sync state for {document_id} is unreadable ({reason}); discard it and start from an empty state"
    )]
    InvalidSyncState {
        document_id: DocumentId,
        reason: String,
    },
}

impl SessionError {
    /// True when the connection cannot go on: every error except those about one document.
    pub fn closes_connection(&self) -> bool {
        !matches!(
            self,
            Self::StaleCandidate { .. } | Self::InvalidSyncState { .. }
        )
    }
}

/// Why one document's sync message was refused. The document and the sync state are unchanged,
/// as if the message had never arrived.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncRefusal {
    /// The `data` field is not an Automerge sync message.
    #[error("the data is not an Automerge sync message: {0}")]
    Malformed(String),
    /// The changes the message carries are not well-formed Automerge chunks.
    #[error("change chunk {chunk} of the sync message is malformed: {reason}")]
    MalformedChanges { chunk: usize, reason: String },
    /// A chunk type the sync protocol never sends.
    #[error(
        "the sync message carries an Automerge chunk of type {chunk_type}, which sync never sends"
    )]
    UnsupportedChunk { chunk_type: u8 },
    /// Some carried changes did not apply, usually because changes they depend on were not sent
    /// (`lacking`, neither carried nor held). Answer it with
    /// [`super::PeerSession::answer_refusal`].
    #[error(
        "{missing} of the {carried} changes in the sync message could not be applied (missing dependencies); resend from the last shared state"
    )]
    NotApplied {
        missing: usize,
        carried: usize,
        lacking: Vec<automerge::ChangeHash>,
    },
    /// Automerge refused the message.
    #[error("the sync message could not be applied: {0}")]
    Rejected(String),
}
