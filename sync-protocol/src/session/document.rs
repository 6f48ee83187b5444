//! The per-document half of a session: a received sync message becomes a [`Candidate`] the
//! caller can inspect and authorize, then [`PeerSession::accept`] or drop; outgoing sync
//! messages come from [`PeerSession::sync_document`].

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, Change, Patch, PatchLog};

use super::error::{SessionError, SyncRefusal};
use super::verify::{carried, count_missing};
use super::{DocumentState, IncomingSync, PeerSession};
use crate::DocumentId;
use crate::message::{DocUnavailable, DocumentSync, WireMessage};

/// A received sync message applied to a copy of the document, not yet adopted. Dropping it is
/// refusing it: the caller's document and the session's sync state stay as they were.
#[derive(Debug)]
pub struct Candidate {
    document_id: DocumentId,
    document: Automerge,
    state: sync::State,
    new_changes: Vec<Change>,
    /// What the changes did to the visible document, logged while they were applied.
    patches: Vec<Patch>,
    generation: u64,
    peer_has_document: bool,
}

/// What [`PeerSession::accept_parts`] needs of a candidate whose document and changes the
/// caller took with [`Candidate::into_parts`] (to persist them without a copy).
#[derive(Debug)]
pub struct Acceptance {
    document_id: DocumentId,
    state: sync::State,
    generation: u64,
    peer_has_document: bool,
}

impl Candidate {
    /// The document the message is about.
    pub fn document_id(&self) -> DocumentId {
        self.document_id
    }

    /// The document as it would be after the message: run field-ownership checks on it.
    pub fn document(&self) -> &Automerge {
        &self.document
    }

    /// The changes the message adds to the document, in causal order: what must be persisted.
    pub fn new_changes(&self) -> &[Change] {
        &self.new_changes
    }

    /// What the new changes did to the document's visible state (puts, deletes, inserts, text
    /// edits, and conflicts a concurrent change created, a losing write included), logged while
    /// they were applied: the same account Automerge's diff between the heads before and after
    /// gives, at the cost of the changes rather than of the document.
    pub fn patches(&self) -> &[Patch] {
        &self.patches
    }

    /// Takes [`Self::patches`] out (for a caller that keeps them past [`Self::into_parts`]).
    pub fn take_patches(&mut self) -> Vec<Patch> {
        std::mem::take(&mut self.patches)
    }

    /// True when the message carried nothing new (an acknowledgement or a heads update).
    pub fn is_empty(&self) -> bool {
        self.new_changes.is_empty()
    }

    /// The document after the message, its new changes, and what accepting it still needs.
    pub fn into_parts(self) -> (Automerge, Vec<Change>, Acceptance) {
        (
            self.document,
            self.new_changes,
            Acceptance {
                document_id: self.document_id,
                state: self.state,
                generation: self.generation,
                peer_has_document: self.peer_has_document,
            },
        )
    }
}

/// A candidate adopted by the session.
#[derive(Debug)]
pub struct Accepted {
    pub document_id: DocumentId,
    /// The document including the new changes; it replaces the caller's copy.
    pub document: Automerge,
    /// The changes that were new, for a caller that persists after accepting.
    pub new_changes: Vec<Change>,
}

impl PeerSession {
    /// Receives a message that carries no changes (an acknowledgement, a heads update, a peer
    /// asking for what it lacks) straight into the session, without the copy of the document
    /// [`Self::receive_sync`] makes: such a message changes only what we know of the peer.
    /// Automerge's API takes the document mutably, but the document is left as it was (the sync
    /// state is read-only while the message is received, so Automerge would not load changes
    /// even if some were there). Returns `Ok(false)`, with nothing changed, for a message that
    /// does carry changes: give it to [`Self::receive_sync`].
    pub fn receive_without_changes(
        &mut self,
        incoming: &IncomingSync,
        document: &mut Automerge,
    ) -> Result<bool, SyncRefusal> {
        let message = sync::Message::decode(&incoming.data)
            .map_err(|e| SyncRefusal::Malformed(e.to_string()))?;
        if !message.changes.is_empty() {
            return Ok(false);
        }
        let peer_has_document = !message.heads.is_empty();
        let entry = self
            .documents
            .entry(incoming.document_id)
            .or_insert_with(DocumentState::new);
        let mut state = entry.state.clone();
        let read_only = state.read_only;
        state.read_only = true;
        document
            .receive_sync_message(&mut state, message)
            .map_err(|e| SyncRefusal::Rejected(e.to_string()))?;
        state.read_only = read_only;
        entry.state = state;
        entry.generation += 1;
        entry.peer_has_document |= peer_has_document;
        Ok(true)
    }

    /// Applies a peer's sync message to a copy of `document` and checks that it really applied.
    /// Nothing in the session or the document changes until [`Self::accept`].
    pub fn receive_sync(
        &self,
        incoming: &IncomingSync,
        document: &Automerge,
    ) -> Result<Candidate, SyncRefusal> {
        let message = sync::Message::decode(&incoming.data)
            .map_err(|e| SyncRefusal::Malformed(e.to_string()))?;
        let carried = carried(&message)?;
        let peer_has_document = !message.heads.is_empty();
        let (mut state, generation) = match self.documents.get(&incoming.document_id) {
            Some(known) => (known.state.clone(), known.generation),
            None => (sync::State::new(), 0),
        };
        let mut after = document.clone();
        let mut log = PatchLog::active();
        after
            .receive_sync_message_log_patches(&mut state, message, &mut log)
            .map_err(|e| SyncRefusal::Rejected(e.to_string()))?;
        let missing = count_missing(&after, &carried.hashes);
        if missing > 0 {
            return Err(SyncRefusal::NotApplied {
                missing,
                carried: carried.hashes.len(),
                lacking: carried.lacking(&after),
            });
        }
        // The carried changes the document lacked, when their order is one to store them in
        // (it always is for a well-behaved peer); else Automerge's walk of the history.
        let new_changes = match carried.new_in_order(document) {
            Some(new) => {
                #[cfg(debug_assertions)]
                {
                    let sorted = |changes: &[Change]| {
                        let mut hashes: Vec<automerge::ChangeHash> =
                            changes.iter().map(Change::hash).collect();
                        hashes.sort();
                        hashes
                    };
                    assert_eq!(
                        sorted(&new),
                        sorted(&after.get_changes(&document.get_heads()))
                    );
                }
                new
            }
            // `document` is untouched: its heads are the heads before the message.
            None => after.get_changes(&document.get_heads()),
        };
        let patches = if new_changes.is_empty() {
            Vec::new()
        } else {
            after.make_patches(&mut log)
        };
        Ok(Candidate {
            document_id: incoming.document_id,
            document: after,
            state,
            new_changes,
            patches,
            generation,
            peer_has_document,
        })
    }

    /// Adopts a candidate: its sync state becomes the session's, and its document is handed back
    /// to replace the caller's. Persist [`Candidate::new_changes`] before calling this, or at the
    /// latest before the next [`Self::sync_document`] for this document, which acknowledges them.
    pub fn accept(&mut self, candidate: Candidate) -> Result<Accepted, SessionError> {
        let (document, new_changes, acceptance) = candidate.into_parts();
        let document_id = acceptance.document_id;
        self.accept_parts(acceptance)?;
        Ok(Accepted {
            document_id,
            document,
            new_changes,
        })
    }

    /// [`Self::accept`] for a candidate taken apart with [`Candidate::into_parts`]: the caller
    /// keeps the document (it becomes the caller's document) and its changes.
    pub fn accept_parts(&mut self, acceptance: Acceptance) -> Result<(), SessionError> {
        let current = self
            .documents
            .get(&acceptance.document_id)
            .map_or(0, |known| known.generation);
        if current != acceptance.generation {
            return Err(SessionError::StaleCandidate {
                document_id: acceptance.document_id,
            });
        }
        let entry = self
            .documents
            .entry(acceptance.document_id)
            .or_insert_with(DocumentState::new);
        entry.state = acceptance.state;
        entry.generation += 1;
        entry.peer_has_document |= acceptance.peer_has_document;
        Ok(())
    }

    /// Receives and accepts in one step, for callers with nothing to authorize (a tablet
    /// trusting its server). Returns the new changes; `document` is updated in place.
    pub fn apply_sync(
        &mut self,
        incoming: &IncomingSync,
        document: &mut Automerge,
    ) -> Result<Vec<Change>, SyncRefusal> {
        let candidate = self.receive_sync(incoming, document)?;
        // Nothing can touch this document's state between the two calls.
        let accepted = self
            .accept(candidate)
            .map_err(|e| SyncRefusal::Rejected(e.to_string()))?;
        *document = accepted.document;
        Ok(accepted.new_changes)
    }

    /// Answers a refusal of [`Self::receive_sync`]; call it with every refusal. For changes
    /// that arrived without what they depend on ([`SyncRefusal::NotApplied`]), our next sync
    /// message for the document asks the peer to forget what it believes it has sent us and
    /// send again everything we lack (Automerge's sync reset), and names the missing changes in
    /// `need`: the peer's Bloom filter test may keep wrongly deciding we hold one of them, and
    /// only an explicit `need` gets past that; that next message always goes out. Without it
    /// the peer, counting the refused changes as delivered, never sends them again, and the two
    /// can exchange empty messages forever. Other refusals need nothing: the message was
    /// broken, and its changes would only come back.
    ///
    /// Returns whether the refusal only asks the peer to send again (`NotApplied`): the peer
    /// did nothing wrong (a Bloom filter false positive, or changes out of order), so it must
    /// not be told its work was refused; queue the next message with [`Self::sync_document`].
    pub fn answer_refusal(&mut self, document_id: DocumentId, refusal: &SyncRefusal) -> bool {
        let SyncRefusal::NotApplied { lacking, .. } = refusal else {
            return false;
        };
        let entry = self
            .documents
            .entry(document_id)
            .or_insert_with(DocumentState::new);
        entry.state.needs_reset = true;
        entry.state.have_responded = false;
        entry.lacking = lacking.clone();
        entry.generation += 1;
        true
    }

    /// Queues the next sync message for this document if Automerge has anything to say. The
    /// first message about a document we do not have yet goes out as `request`, so the peer
    /// answers `doc-unavailable` rather than silence. Returns whether a message was queued.
    pub fn sync_document(&mut self, document_id: DocumentId, document: &Automerge) -> bool {
        let (Some(remote), false) = (self.remote.clone(), self.closed) else {
            return false;
        };
        let entry = self
            .documents
            .entry(document_id)
            .or_insert_with(DocumentState::new);
        let Some(mut message) = document.generate_sync_message(&mut entry.state) else {
            return false;
        };
        if !entry.lacking.is_empty() {
            message.need.append(&mut entry.lacking);
            message.need.sort();
            message.need.dedup();
        }
        entry.generation += 1;
        let body = DocumentSync {
            sender_id: self.config.local_id.clone(),
            target_id: remote,
            document_id,
            data: message.encode(),
        };
        let asking = document.get_heads().is_empty() && !entry.peer_has_document;
        self.outbound.push(if asking {
            WireMessage::Request(body)
        } else {
            WireMessage::Sync(body)
        });
        true
    }

    /// Tells the peer we do not have this document, or that it may not see it (the two must look
    /// the same), and forgets any sync state for it.
    pub fn unavailable(&mut self, document_id: DocumentId) {
        self.documents.remove(&document_id);
        let Some(remote) = self.remote.clone() else {
            return;
        };
        self.outbound
            .push(WireMessage::DocUnavailable(DocUnavailable {
                sender_id: self.config.local_id.clone(),
                target_id: remote,
                document_id,
            }));
    }

    /// The sync state to persist for this peer and document (`automerge::sync::State::encode`:
    /// the heads both sides are known to share).
    pub fn encoded_sync_state(&self, document_id: DocumentId) -> Option<Vec<u8>> {
        self.documents
            .get(&document_id)
            .map(|known| known.state.encode())
    }

    /// Resumes from a persisted sync state, so a reconnecting peer is not sent what it already has.
    pub fn restore_sync_state(
        &mut self,
        document_id: DocumentId,
        encoded: &[u8],
    ) -> Result<(), SessionError> {
        let state = sync::State::decode(encoded).map_err(|e| SessionError::InvalidSyncState {
            document_id,
            reason: e.to_string(),
        })?;
        let entry = self
            .documents
            .entry(document_id)
            .or_insert_with(DocumentState::new);
        entry.peer_has_document = !state.shared_heads.is_empty();
        entry.state = state;
        entry.generation += 1;
        Ok(())
    }

    /// Drops a document's sync state from memory, returning it encoded for persistence.
    pub fn forget_document(&mut self, document_id: DocumentId) -> Option<Vec<u8>> {
        self.documents
            .remove(&document_id)
            .map(|known| known.state.encode())
    }

    /// Whether the peer's last sync message on this document showed exactly `document`'s heads:
    /// it holds every change we have and we hold every change it has. `false` before the peer
    /// has said anything about the document in this session.
    pub fn peer_in_sync(&self, document_id: DocumentId, document: &Automerge) -> bool {
        let Some(their_heads) = self
            .documents
            .get(&document_id)
            .and_then(|known| known.state.their_heads.as_ref())
        else {
            return false;
        };
        let mut ours = document.get_heads();
        let mut theirs = their_heads.clone();
        ours.sort_unstable();
        theirs.sort_unstable();
        ours == theirs
    }

    /// Documents this session holds sync state for.
    pub fn documents(&self) -> impl Iterator<Item = DocumentId> + '_ {
        self.documents.keys().copied()
    }
}
