//! One document synced with one peer: receive their sync message into a candidate, verify it
//! really applied, check the caller may make those changes, make them durable, and only then
//! adopt them (so the next message we generate acknowledges only what is on disk).

use std::sync::Arc;

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, Change};
use sync_protocol::job::check_ownership;
use uuid::Uuid;

use crate::auth::Caller;
use crate::documents::{Author, DocumentKind, LoadedDocument};
use crate::error::ApiError;
use crate::jobs::{DocumentAccess, projection};
use crate::state::AppState;

/// A document as one connection syncs it.
#[derive(Debug)]
pub struct DocumentSync {
    pub document: Arc<LoadedDocument>,
    pub access: DocumentAccess,
    pub state: sync::State,
}

/// What became of a peer's sync message.
#[derive(Debug)]
pub enum Receipt {
    /// Applied (and durable, if it carried new changes).
    Accepted { new_changes: usize },
    /// Refused whole: nothing of it was persisted; the reason is for the peer.
    Refused(String),
}

impl DocumentSync {
    pub async fn receive(
        &mut self,
        app: &AppState,
        caller: &Caller,
        data: &[u8],
    ) -> Result<Receipt, ApiError> {
        let message = match sync::Message::decode(data) {
            Ok(message) => message,
            Err(e) => {
                return Ok(Receipt::Refused(format!(
                    "not an Automerge sync message: {e}"
                )));
            }
        };
        if let Err(reason) = check_chunks(&message) {
            return Ok(Receipt::Refused(reason));
        }
        let mut current = self.document.lock_owned().await;
        let mut candidate = current.doc.clone();
        let mut candidate_state = self.state.clone();
        let before = candidate.get_heads();
        if let Err(e) = candidate.receive_sync_message(&mut candidate_state, message) {
            return Ok(Receipt::Refused(format!(
                "the sync message could not be applied: {e}"
            )));
        }
        let new: Vec<Change> = candidate.get_changes(&before);
        if new.is_empty() {
            self.state = candidate_state;
            return Ok(Receipt::Accepted { new_changes: 0 });
        }
        if let Err(reason) = self.authorize(&current.doc, &candidate) {
            return Ok(Receipt::Refused(reason));
        }
        let author = Author {
            staff_id: Some(caller.staff_id),
            device_token_id: Some(caller.device_token_id),
        };
        let mut tx = app.db.begin().await?;
        let staged = app
            .documents
            .stage(&mut tx, &self.document, &mut current, new, &author)
            .await?;
        if self.document.kind == DocumentKind::Job {
            match projection::project(&mut tx, self.document.id, &staged.after).await {
                Ok(_) => {}
                Err(ApiError::BadRequest(reason)) => return Ok(Receipt::Refused(reason)),
                Err(other) => return Err(other),
            }
        }
        tx.commit().await?;
        let new_changes = staged.new_changes;
        staged.apply(&mut current);
        self.state = candidate_state;
        drop(current);
        app.sync_hub.changed(self.document.id);
        Ok(Receipt::Accepted { new_changes })
    }

    /// The next message for the peer, if there is anything to say.
    pub async fn generate(&mut self) -> Option<Vec<u8>> {
        let current = self.document.lock().await;
        current
            .doc
            .generate_sync_message(&mut self.state)
            .map(sync::Message::encode)
    }

    fn authorize(&self, before: &Automerge, after: &Automerge) -> Result<(), String> {
        let role = match self.access {
            DocumentAccess::Read => {
                return Err("you may read this document but not change it".to_owned());
            }
            DocumentAccess::Write(role) => role,
        };
        if self.document.kind != DocumentKind::Job {
            return Err("only the server writes index documents".to_owned());
        }
        let violations = check_ownership(before, after, role)
            .map_err(|e| format!("the changes could not be checked: {e}"))?;
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

/// Every chunk a sync message carries must be an Automerge change or document: automerge
/// itself skips what it cannot parse and reports success.
fn check_chunks(message: &sync::Message) -> Result<(), String> {
    for chunk in message.changes.iter() {
        let is_change = Change::from_bytes(chunk.to_vec()).is_ok();
        if !is_change && Automerge::load(chunk).is_err() {
            return Err("the sync message carries data that is not an Automerge change".to_owned());
        }
    }
    Ok(())
}

/// The persisted sync state of `device` for `document`, or a fresh one.
pub async fn load_state(app: &AppState, device: Uuid, document: Uuid) -> sync::State {
    let stored: Option<Vec<u8>> = sqlx::query_scalar(
        "select state from sync_states where device_token_id = $1 and document_id = $2",
    )
    .bind(device)
    .bind(document)
    .fetch_optional(&app.db)
    .await
    .unwrap_or(None);
    stored
        .and_then(|bytes| sync::State::decode(&bytes).ok())
        .unwrap_or_default()
}

/// Keeps what we know the device has, so a reconnect already in sync costs little.
pub async fn save_state(app: &AppState, device: Uuid, document: Uuid, state: &sync::State) {
    let result = sqlx::query(
        r#"insert into sync_states (device_token_id, document_id, state) values ($1, $2, $3)
           on conflict (device_token_id, document_id)
           do update set state = excluded.state, updated_at = now()"#,
    )
    .bind(device)
    .bind(document)
    .bind(state.encode())
    .execute(&app.db)
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "saving a sync state failed");
    }
}
