//! Server-side edits: one transaction across the documents a dispatcher's operation touches
//! (the job, and the technicians' index documents), each change made as the server's actor.

use std::sync::Arc;

use automerge::{AutoCommit, Automerge};
use sqlx::{Postgres, Transaction};
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use crate::documents::{Author, Current, DocumentKind, LoadedDocument, Staged};
use crate::error::ApiError;
use crate::state::AppState;

/// A look at a job's status (the projection's word) before it is changed: `Err` refuses.
pub type StatusCheck = dyn Fn(&str) -> Result<(), ApiError> + Sync;

/// Documents locked and changed in one transaction; nothing is visible until [`Edit::commit`].
/// Lock order to avoid deadlocks: the job first, then index documents by ascending id.
pub struct Edit<'s> {
    state: &'s AppState,
    pub tx: Transaction<'static, Postgres>,
    pub author: Author,
    pending: Vec<(Arc<LoadedDocument>, OwnedMutexGuard<Current>, Staged)>,
}

impl std::fmt::Debug for Edit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edit")
            .field("documents", &self.pending.len())
            .finish()
    }
}

impl<'s> Edit<'s> {
    pub async fn begin(state: &'s AppState, author: Author) -> Result<Self, ApiError> {
        Ok(Self {
            state,
            tx: state.db.begin().await?,
            author,
            pending: Vec::new(),
        })
    }

    /// Applies `operation` to document `id` as the server, stages the resulting changes and
    /// returns the document as it will be.
    pub async fn change<E: std::fmt::Display>(
        &mut self,
        id: Uuid,
        operation: impl FnOnce(&mut AutoCommit) -> Result<(), E>,
    ) -> Result<&Automerge, ApiError> {
        self.change_job_if(id, None, operation).await
    }

    /// [`Self::change`] for job `id` if `allowed` accepts its status (the projection's word),
    /// read with the job's row locked until the commit: a sync merge that would change the
    /// status at the same moment commits first, or waits for this edit. The row is locked
    /// after the document, the order a sync commit takes them in (document, then rows), so the
    /// two never wait for each other.
    pub async fn change_job_if<E: std::fmt::Display>(
        &mut self,
        id: Uuid,
        allowed: Option<&StatusCheck>,
        operation: impl FnOnce(&mut AutoCommit) -> Result<(), E>,
    ) -> Result<&Automerge, ApiError> {
        let documents = &self.state.documents;
        let document = documents
            .get_in(&mut self.tx, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let mut current = document.lock_owned().await;
        if let Some(allowed) = allowed {
            let status: String =
                sqlx::query_scalar("select status from jobs where id = $1 for update")
                    .bind(id)
                    .fetch_one(&mut *self.tx)
                    .await?;
            allowed(&status)?;
        }
        let mut doc = AutoCommit::load(&current.doc().save())
            .map_err(|e| ApiError::Internal(e.into()))?
            .with_actor(documents.actor().clone());
        let heads = doc.get_heads();
        operation(&mut doc).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let changes = doc.get_changes(&heads);
        let staged = documents
            .stage(&mut self.tx, &document, &mut current, changes, &self.author)
            .await?;
        if document.kind == DocumentKind::Job {
            super::projection::project(&mut self.tx, id, &staged.after).await?;
        }
        self.pending.push((document, current, staged));
        let (_, _, staged) = self.pending.last().ok_or(ApiError::NotFound)?;
        Ok(&staged.after)
    }

    /// Commits, then shows the changes in memory (and so to syncing peers).
    pub async fn commit(self) -> Result<(), ApiError> {
        self.tx.commit().await?;
        for (document, mut current, staged) in self.pending {
            staged.apply(&mut current, None);
            self.state.sync_hub.changed(document.id);
        }
        Ok(())
    }
}
