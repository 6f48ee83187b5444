//! One document synced with one peer, on top of `sync_protocol::session`: the session verifies
//! the message and produces a candidate; here we check the caller may make those changes, make
//! them durable (chunk, history, projection in one transaction), and only then accept the
//! candidate, so the next message we generate acknowledges only what is on disk.
//!
//! The work per message follows the message, not the document, where it can: the ownership
//! check reads the patches Automerge logged while applying the candidate (not a diff of the
//! whole document), and the candidate's copy of the document is the one committed (not copied
//! and applied again), in a transaction shared with the messages of other tablets that arrived
//! meanwhile (see `commit`).

use std::sync::Arc;

use automerge::Patch;
use sync_protocol::DocumentId;
use sync_protocol::job::check_patches;
use sync_protocol::session::{IncomingSync, PeerSession};
use uuid::Uuid;

use super::commit::{Committed, Done, Pending};
use crate::auth::Caller;
use crate::documents::{Author, DocumentKind, LoadedDocument};
use crate::error::ApiError;
use crate::jobs::DocumentAccess;
use crate::state::AppState;

/// A document as one connection syncs it.
#[derive(Debug)]
pub struct OpenDocument {
    pub document: Arc<LoadedDocument>,
    pub access: DocumentAccess,
}

/// What became of a peer's sync message.
#[derive(Debug)]
pub enum Receipt {
    /// Applied (and durable, if it carried new changes).
    Accepted { new_changes: usize },
    /// Refused whole: nothing of it was persisted; the reason is for the peer.
    Refused(String),
    /// Incomplete (changes without one they depend on): nothing persisted, and the peer was
    /// asked for what is missing; not an error for the peer. The reason is for the log.
    AskedAgain(String),
}

impl OpenDocument {
    /// Receives `incoming` through `session`, and answers (queues the next sync message) once
    /// whatever it carried is durable.
    pub async fn receive(
        &self,
        app: &AppState,
        caller: &Caller,
        session: &mut PeerSession,
        incoming: &IncomingSync,
    ) -> Result<Receipt, ApiError> {
        let mut current = self.document.lock_owned().await;
        // Half of a tablet's messages acknowledge what we sent and carry nothing: no copy.
        match current.unchanged(|doc| session.receive_without_changes(incoming, doc)) {
            Ok(true) => {
                session.sync_document(incoming.document_id, current.doc());
                return Ok(Receipt::Accepted { new_changes: 0 });
            }
            Ok(false) => {}
            Err(refusal) => return Ok(refuse(session, incoming, current.doc(), &refusal)),
        }
        let mut candidate = match session.receive_sync(incoming, current.doc()) {
            Ok(candidate) => candidate,
            Err(refusal) => return Ok(refuse(session, incoming, current.doc(), &refusal)),
        };
        if candidate.is_empty() {
            accept(session, candidate)?;
            session.sync_document(incoming.document_id, current.doc());
            return Ok(Receipt::Accepted { new_changes: 0 });
        }
        if let Err(reason) = self.authorize(candidate.patches()) {
            return Ok(Receipt::Refused(reason));
        }
        let author = Author {
            staff_id: Some(caller.staff_id),
            device_token_id: caller.device_token(),
        };
        let patches = candidate.take_patches();
        let (after, changes, acceptance) = candidate.into_parts();
        let pending = Pending {
            document: self.document.clone(),
            current,
            after: Some(after),
            changes,
            patches,
            author,
        };
        let Done { current, outcome } = app.sync_commits.commit(app, pending).await?;
        let new_changes = match outcome? {
            Committed::Written { new_changes } => new_changes,
            Committed::Refused(reason) => return Ok(Receipt::Refused(reason)),
        };
        session
            .accept_parts(acceptance)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("accepting a sync message: {e}")))?;
        session.sync_document(incoming.document_id, current.doc());
        drop(current);
        app.sync_hub.changed(self.document.id);
        Ok(Receipt::Accepted { new_changes })
    }

    /// Queues what the peer lacks of this document, if anything.
    pub async fn push(&self, session: &mut PeerSession, id: DocumentId) {
        let current = self.document.lock().await;
        session.sync_document(id, current.doc());
    }

    /// Whether the caller may make the changes whose effect `patches` describe.
    fn authorize(&self, patches: &[Patch]) -> Result<(), String> {
        let role = match self.access {
            DocumentAccess::Read => {
                return Err("you may read this document but not change it".to_owned());
            }
            DocumentAccess::Write(role) => role,
        };
        if self.document.kind != DocumentKind::Job {
            return Err("only the server writes index documents".to_owned());
        }
        let violations = check_patches(patches, role);
        if violations.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = violations.iter().take(5).map(ToString::to_string).collect();
        Err(format!(
            "changes refused, nothing was saved: {}{}",
            listed.join("; "),
            if violations.len() > 5 { "; …" } else { "" }
        ))
    }
}

/// What a refused sync message becomes; answers the peer.
fn refuse(
    session: &mut PeerSession,
    incoming: &IncomingSync,
    doc: &automerge::Automerge,
    refusal: &sync_protocol::session::SyncRefusal,
) -> Receipt {
    if session.answer_refusal(incoming.document_id, refusal) {
        // Not a refusal of the peer's work: changes came without one they depend on (the
        // peer's test of our Bloom filter wrongly said we hold it, about one change in a
        // hundred; or they were sent out of order). Our next message asks for what we lack by
        // hash; the peer sends it again.
        session.sync_document(incoming.document_id, doc);
        return Receipt::AskedAgain(refusal.to_string());
    }
    Receipt::Refused(refusal.to_string())
}

fn accept(
    session: &mut PeerSession,
    candidate: sync_protocol::session::Candidate,
) -> Result<(), ApiError> {
    session
        .accept(candidate)
        .map(|_| ())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("accepting a sync message: {e}")))
}

/// The persisted sync state of `device` for `document`, if any.
pub async fn load_state(app: &AppState, device: Uuid, document: Uuid) -> Option<Vec<u8>> {
    sqlx::query_scalar(
        "select state from sync_states where device_token_id = $1 and document_id = $2",
    )
    .bind(device)
    .bind(document)
    .fetch_optional(&app.db)
    .await
    .ok()
    .flatten()
}

/// Keeps what we know the device has, so a reconnect already in sync costs little.
pub async fn save_state(app: &AppState, device: Uuid, document: Uuid, state: &[u8]) {
    let result = sqlx::query(
        r#"insert into sync_states (device_token_id, document_id, state) values ($1, $2, $3)
           on conflict (device_token_id, document_id)
           do update set state = excluded.state, updated_at = now()"#,
    )
    .bind(device)
    .bind(document)
    .bind(state)
    .execute(&app.db)
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "saving a sync state failed");
    }
}
