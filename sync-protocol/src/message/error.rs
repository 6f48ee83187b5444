//! Why a frame is not an automerge-repo message we can act on.

use crate::DocumentIdError;

/// A frame that could not be decoded. Each variant says what was wrong with the peer's bytes;
/// none carries our internal state, so the text is safe to send back in an `error` message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Refused before decoding: the frame is over the configured size limit.
    #[error(
        "the message is {size} bytes, over the {limit}-byte limit; send smaller sync messages or raise the limit"
    )]
    TooLarge { size: usize, limit: usize },
    /// A zero-length frame (automerge-repo never sends one).
    #[error("the message is empty; send a CBOR-encoded automerge-repo message")]
    Empty,
    /// The input ended inside a CBOR item (or an item declared more bytes than were left).
    #[error(
        "the message is truncated: CBOR data ends at byte {offset} before the item is complete"
    )]
    Truncated { offset: usize },
    /// Bytes were left after the one CBOR item a frame must hold.
    #[error(
        "unexpected bytes after the message, starting at byte {offset}; send one message per frame"
    )]
    TrailingBytes { offset: usize },
    /// Not well-formed CBOR, or a CBOR feature automerge-repo does not use.
    #[error("the message is not valid CBOR at byte {offset}: {reason}")]
    InvalidCbor { offset: usize, reason: &'static str },
    /// Nested deeper than the configured limit.
    #[error("the message nests deeper than {limit} levels")]
    TooDeep { limit: usize },
    /// The top-level item is not a map.
    #[error("the message is not a CBOR map; automerge-repo messages are maps with a `type` field")]
    NotAMap,
    /// A map key that is not a text string.
    #[error("the message has a map key that is not a text string")]
    NonTextKey,
    /// The same key twice in one map.
    #[error("the message has the field `{field}` twice")]
    DuplicateField { field: String },
    /// A field the message type requires is absent.
    #[error("a `{kind}` message needs the field `{field}`")]
    MissingField { kind: String, field: &'static str },
    /// A field holds the wrong CBOR type.
    #[error("the field `{field}` must be {expected}")]
    WrongFieldType {
        field: &'static str,
        expected: &'static str,
    },
    /// A text field longer than any real peer sends (peer ids are short random strings).
    #[error("the field `{field}` is {length} bytes long, over the {limit}-byte limit")]
    FieldTooLong {
        field: &'static str,
        length: usize,
        limit: usize,
    },
    /// A `type` this implementation does not know. automerge-repo drops such messages, and
    /// callers should skip them too rather than close the connection.
    #[error("unknown message type `{kind}`")]
    UnknownType { kind: String },
    /// The `documentId` is not a bs58check-encoded document id.
    #[error("the documentId `{value}` is not an automerge document id: {source}")]
    InvalidDocumentId {
        value: String,
        #[source]
        source: DocumentIdError,
    },
}

impl DecodeError {
    /// True for errors a peer should be forgiven for (automerge-repo ignores unknown types);
    /// every other decode error means the peer is broken or hostile and the connection should end.
    pub fn is_ignorable(&self) -> bool {
        matches!(self, Self::UnknownType { .. })
    }
}
