//! A sans-IO automerge-repo sync session with one peer: frames in, [`Event`]s and frames out,
//! and for each document a [`Candidate`] to authorize before anything is adopted or persisted.
//!
//! # Message flow
//!
//! ```text
//!  connecting side (tablet)                 accepting side (server)
//!  PeerSession::connecting ─ join ────────▶ receive → Event::Connected
//!  receive → Event::Connected ◀── peer ──── (or `error` + close: no common version)
//!  sync_document(doc) ── request/sync ────▶ receive → Event::Sync(incoming)
//!                                           │ may the peer see it, do we have it?
//!                                           ├─ no:  unavailable(id) ── doc-unavailable ──▶
//!                                           └─ yes: receive_sync(&incoming, &doc) → Candidate
//!                                                   check candidate.document() (ownership),
//!                                                   persist candidate.new_changes(),
//!                                                   accept(candidate) → Accepted { document }
//!  receive → Event::Sync ◀──── sync ─────── sync_document(id, &document)
//!  apply_sync(&incoming, &mut doc) …        … until neither side has anything to say
//! ```
//!
//! Refusing is dropping the [`Candidate`]: the document and the sync state stay as if the
//! message never came. Because a peer learns that we hold its changes only from the next message
//! [`PeerSession::sync_document`] generates, persisting before that call makes every
//! acknowledged change durable.
//!
//! The session never decides authorization, does no I/O, reads no clock and draws no random
//! numbers: the same frames in give the same frames out.
//!
//! # Example
//!
//! ```
//! use automerge::{Automerge, ReadDoc, transaction::Transactable};
//! use sync_protocol::DocumentId;
//! use sync_protocol::message::PeerId;
//! use sync_protocol::session::{Event, PeerSession, SessionConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let job = DocumentId::random();
//! let mut server_doc = Automerge::new();
//! let mut tx = server_doc.transaction();
//! tx.put(automerge::ROOT, "customer", "Acme")?;
//! tx.commit();
//! let mut tablet_doc = Automerge::new();
//!
//! let mut server = PeerSession::accepting(SessionConfig::new(PeerId::new("server")));
//! let mut tablet = PeerSession::connecting(SessionConfig::new(PeerId::new("tablet")));
//! loop {
//!     let to_server = tablet.take_outbound();
//!     let to_tablet = server.take_outbound();
//!     if to_server.is_empty() && to_tablet.is_empty() {
//!         break;
//!     }
//!     for frame in to_server.iter().map(|m| m.encode()) {
//!         if let Event::Sync(incoming) = server.receive(&frame)? {
//!             // Authorize here: may the tablet see `incoming.document_id`, and make these changes?
//!             let candidate = server.receive_sync(&incoming, &server_doc)?;
//!             // Persist candidate.new_changes() here, then adopt them and answer.
//!             server_doc = server.accept(candidate)?.document;
//!             server.sync_document(job, &server_doc);
//!         }
//!     }
//!     for frame in to_tablet.iter().map(|m| m.encode()) {
//!         match tablet.receive(&frame)? {
//!             Event::Connected { .. } => {
//!                 tablet.sync_document(job, &tablet_doc); // goes out as `request`
//!             }
//!             Event::Sync(incoming) => {
//!                 tablet.apply_sync(&incoming, &mut tablet_doc)?;
//!                 tablet.sync_document(job, &tablet_doc);
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(tablet_doc.get_heads(), server_doc.get_heads());
//! let (customer, _) = tablet_doc.get(automerge::ROOT, "customer")?.expect("synced");
//! assert_eq!(customer.as_str(), Some("Acme"));
//! # Ok(())
//! # }
//! ```

mod document;
mod error;
mod handshake;
mod verify;

use std::collections::BTreeMap;

use automerge::sync;

pub use document::{Acceptance, Accepted, Candidate};
pub use error::{SessionError, SyncRefusal};

use crate::DocumentId;
use crate::message::{DecodeLimits, Ephemeral, Ignored, PeerId, PeerMetadata, WireMessage};

/// How this side presents itself and what it accepts.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our peer id, sent as `senderId`.
    pub local_id: PeerId,
    /// Our metadata in `join`/`peer`.
    pub metadata: PeerMetadata,
    /// Size and depth limits for incoming frames.
    pub limits: DecodeLimits,
    /// Names this run of ours in ephemeral messages; receivers drop repeats per session id.
    pub ephemeral_session_id: String,
}

impl SessionConfig {
    /// Defaults: no storage id, not ephemeral, default limits, the peer id as session id.
    pub fn new(local_id: PeerId) -> Self {
        Self {
            ephemeral_session_id: local_id.as_str().to_owned(),
            local_id,
            metadata: PeerMetadata::default(),
            limits: DecodeLimits::default(),
        }
    }
}

/// What an incoming frame means for the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The handshake finished; documents can be synced from now on.
    Connected {
        peer_id: PeerId,
        metadata: Option<PeerMetadata>,
    },
    /// A `request` or `sync` for a document: decide access, then [`PeerSession::receive_sync`]
    /// or [`PeerSession::unavailable`].
    Sync(IncomingSync),
    /// The peer does not have the document or will not share it.
    Unavailable { document_id: DocumentId },
    /// Application data to hand on; never stored.
    Ephemeral(Ephemeral),
    /// Nothing to do.
    Skipped(Skipped),
}

/// A received `request` or `sync` awaiting the caller's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingSync {
    pub document_id: DocumentId,
    /// True for `request`: the peer lacks the document and wants `doc-unavailable` if we do too.
    pub is_request: bool,
    /// The encoded Automerge sync message.
    pub data: Vec<u8>,
}

/// Why an incoming frame needs no action.
#[derive(Debug, Clone, PartialEq)]
pub enum Skipped {
    /// Remote-heads gossip or `leave`, which we do not act on.
    Ignored(Ignored),
    /// A message type we do not know (automerge-repo drops these too).
    UnknownType(String),
    /// A message naming another sender than the peer that joined (automerge-repo drops these).
    ForeignSender(PeerId),
}

/// One connection's protocol state with one remote peer.
#[derive(Debug)]
pub struct PeerSession {
    config: SessionConfig,
    accepting: bool,
    remote: Option<PeerId>,
    closed: bool,
    outbound: Vec<WireMessage>,
    documents: BTreeMap<DocumentId, DocumentState>,
    ephemeral_count: u64,
}

/// Sync bookkeeping for one document with this peer.
#[derive(Debug)]
struct DocumentState {
    state: sync::State,
    /// Bumped on every change to `state`, so a candidate built from an older state is refused.
    generation: u64,
    /// The peer has shown heads for this document, so we never `request` it.
    peer_has_document: bool,
    /// Changes to ask for by hash in our next message (dependencies of refused changes).
    lacking: Vec<automerge::ChangeHash>,
}

impl DocumentState {
    fn new() -> Self {
        Self {
            state: sync::State::new(),
            generation: 0,
            peer_has_document: false,
            lacking: Vec::new(),
        }
    }
}

impl PeerSession {
    /// The accepting side (a server): waits for the peer's `join`.
    pub fn accepting(config: SessionConfig) -> Self {
        Self::new(config, true)
    }

    /// The connecting side (a tablet): queues our `join` at once.
    pub fn connecting(config: SessionConfig) -> Self {
        let mut session = Self::new(config, false);
        session.queue_join();
        session
    }

    fn new(config: SessionConfig, accepting: bool) -> Self {
        Self {
            config,
            accepting,
            remote: None,
            closed: false,
            outbound: Vec::new(),
            documents: BTreeMap::new(),
            ephemeral_count: 0,
        }
    }

    /// The remote peer, once the handshake is done.
    pub fn remote_peer(&self) -> Option<&PeerId> {
        self.remote.as_ref()
    }

    /// True after a fatal error: send what is queued, then close.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Messages to send, oldest first; encode each with [`WireMessage::encode`].
    pub fn take_outbound(&mut self) -> Vec<WireMessage> {
        std::mem::take(&mut self.outbound)
    }

    /// Queues an ephemeral message (presence, cursors) about a document for the peer.
    pub fn send_ephemeral(&mut self, document_id: DocumentId, data: Vec<u8>) -> bool {
        let (Some(remote), false) = (self.remote.clone(), self.closed) else {
            return false;
        };
        self.ephemeral_count += 1;
        self.outbound.push(WireMessage::Ephemeral(Ephemeral {
            sender_id: self.config.local_id.clone(),
            target_id: remote,
            document_id,
            count: self.ephemeral_count,
            session_id: self.config.ephemeral_session_id.clone(),
            data,
        }));
        true
    }
}
