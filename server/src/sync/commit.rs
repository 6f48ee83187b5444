//! Group commit of sync messages. Messages that arrive together, from many tablets, are made
//! durable in one transaction: the document rows locked in one statement, the chunks, the
//! history and the notifications written in one more (`persist::write`), the job projections
//! read (with their stored attachments) in one and written in one (see
//! `projection::write_all`), then one commit (one WAL flush) for all of them. Each message is acknowledged only after that commit, as before.
//!
//! A connection hands its candidate (the document's lock guard with it) to [`GroupCommit`]
//! and waits. Up to [`MAX_BATCHES`] batches run at once, each in a task of its own, taking what
//! is queued when it starts ([`super::batch`]); so when the database is idle a message is
//! committed alone at once, and under load the queue that builds while a commit is in flight
//! becomes the next batch.
//! Two messages for one document are never in one batch: each holds the document's lock.
//!
//! If a batch's transaction fails, its messages are committed one by one, so a message that
//! cannot be stored fails alone and the others are not held back by it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use automerge::{Automerge, Change, Patch};
use sync_protocol::job::ReadMemo;
use tokio::sync::{OwnedMutexGuard, oneshot};

use super::batch::Batches;
use crate::documents::{
    Author, Current, DocumentKind, LoadedDocument, Rebased, Staged, StoreError,
};
use crate::error::ApiError;
use crate::jobs::projection;
use crate::state::AppState;

/// Messages committed in one transaction at most.
const MAX_BATCH: usize = 128;
/// Batches in flight at once: one can be building (reading jobs, evaluating) while another
/// waits for its commit.
const MAX_BATCHES: usize = 2;

/// A sync candidate waiting for its commit.
#[derive(Debug)]
pub struct Pending {
    pub document: Arc<LoadedDocument>,
    /// The document's lock, held until the candidate is committed or refused.
    pub current: OwnedMutexGuard<Current>,
    /// `current.doc` plus `changes`, as the peer's session applied them; `None` once used up
    /// (by a batch that then failed): the changes are applied to the cached copy again.
    pub after: Option<Automerge>,
    /// Exactly the changes `after` adds.
    pub changes: Vec<Change>,
    /// What applying them changed, as Automerge logged it.
    pub patches: Vec<Patch>,
    pub author: Author,
}

/// What became of a [`Pending`]: its lock back, and the outcome.
#[derive(Debug)]
pub struct Done {
    pub current: OwnedMutexGuard<Current>,
    pub outcome: Result<Committed, ApiError>,
}

#[derive(Debug)]
pub enum Committed {
    /// Durable; this many of the changes were new.
    Written { new_changes: usize },
    /// Not written: the reason is for the peer.
    Refused(String),
}

/// Messages waiting for a batch now, groups being committed now, and since the instance
/// started the transactions that committed synced changes and the messages in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub waiting: usize,
    /// Groups being committed now (at most [`MAX_BATCHES`]).
    pub committing: usize,
    pub commits: u64,
    pub committed: u64,
}

/// The instance's group commit; see the module documentation.
#[derive(Debug)]
pub struct GroupCommit {
    batches: Arc<Batches<Waiting>>,
    /// Transactions committed, and messages in them: the operator's view of batching.
    commits: AtomicU64,
    committed: AtomicU64,
}

impl Default for GroupCommit {
    fn default() -> Self {
        Self {
            batches: Arc::new(Batches::new(MAX_BATCH, MAX_BATCHES)),
            commits: AtomicU64::new(0),
            committed: AtomicU64::new(0),
        }
    }
}

#[derive(Debug)]
struct Waiting {
    pending: Pending,
    done: oneshot::Sender<Done>,
}

impl GroupCommit {
    /// Commits `pending` with whatever else is waiting, and gives its lock back with the
    /// outcome. An error means the message was not stored (the tablet sends it again).
    pub async fn commit(
        self: &Arc<Self>,
        app: &AppState,
        pending: Pending,
    ) -> Result<Done, ApiError> {
        let (done, receipt) = oneshot::channel();
        self.batches.push(Waiting { pending, done }, || {
            let (this, app) = (self.clone(), app.clone());
            move |batch| {
                let (this, app) = (this.clone(), app.clone());
                async move {
                    let (commits, committed) = commit_batch(&app, batch).await;
                    this.commits.fetch_add(commits, Ordering::Relaxed);
                    this.committed.fetch_add(committed, Ordering::Relaxed);
                }
            }
        });
        receipt.await.map_err(|_| {
            ApiError::Internal(anyhow::anyhow!(
                "the commit of a sync message was abandoned"
            ))
        })
    }

    /// What the operator sees of the group commit.
    pub fn stats(&self) -> CommitStats {
        let load = self.batches.load();
        CommitStats {
            waiting: load.waiting,
            committing: load.running,
            commits: self.commits.load(Ordering::Relaxed),
            committed: self.committed.load(Ordering::Relaxed),
        }
    }
}

/// A message inside a batch: its changes rebased on the locked row, its job read.
struct Prepared {
    waiting: Waiting,
    rebased: Rebased,
    memo: ReadMemo,
    job: Option<sync_protocol::job::JobDocument>,
}

/// Commits `batch` in one transaction, or (if that fails) each message alone. Returns
/// (transactions committed, messages in them).
async fn commit_batch(app: &AppState, batch: Vec<Waiting>) -> (u64, u64) {
    if batch.len() == 1 {
        let committed = commit_alone(app, batch.into_iter().next().expect("one")).await;
        return (u64::from(committed), u64::from(committed));
    }
    match try_batch(app, batch, Retry::Alone).await {
        Ok(count) => (1, count),
        Err((error, batch)) => {
            tracing::warn!(%error, messages = batch.len(), "a group commit failed; committing its messages one by one");
            let mut commits = (0, 0);
            for waiting in batch {
                let committed = u64::from(commit_alone(app, waiting).await);
                commits.0 += committed;
                commits.1 += committed;
            }
            commits
        }
    }
}

/// Commits one message in a transaction of its own and answers it; whether it was written.
async fn commit_alone(app: &AppState, waiting: Waiting) -> bool {
    match try_batch(app, vec![waiting], Retry::None).await {
        Ok(count) => count > 0,
        Err((error, batch)) => {
            for waiting in batch {
                let copy = copy_of(&error);
                let done = Done {
                    current: waiting.pending.current,
                    outcome: Err(copy),
                };
                let _ = waiting.done.send(done);
            }
            false
        }
    }
}

/// A copy of `error` for one message (the error is not `Clone`), saying what it says and
/// keeping whether the document is damaged.
fn copy_of(error: &ApiError) -> ApiError {
    let ApiError::Internal(inner) = error else {
        return ApiError::Internal(anyhow::anyhow!("{error}"));
    };
    match inner.downcast_ref::<StoreError>() {
        Some(StoreError::Corrupt(reason)) => {
            ApiError::Internal(StoreError::Corrupt(reason.clone()).into())
        }
        _ => ApiError::Internal(anyhow::anyhow!("{inner:#}")),
    }
}

/// Whether the messages of a failed [`try_batch`] are committed again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Each alone: a message keeps (a copy of) its changes, to be replayed from them.
    Alone,
    None,
}

/// One transaction for `batch`. On success every message was answered (written or refused)
/// and the count of those written is returned; on failure nothing was written and the messages
/// come back unanswered (in no particular order); with [`Retry::Alone`] each still has its
/// `changes`, to be replayed onto its (caught up) copy.
async fn try_batch(
    app: &AppState,
    batch: Vec<Waiting>,
    retry: Retry,
) -> Result<u64, (ApiError, Vec<Waiting>)> {
    let mut tx = match app.db.begin().await {
        Ok(tx) => tx,
        Err(e) => return Err((e.into(), batch)),
    };
    let ids: Vec<_> = batch.iter().map(|w| w.pending.document.id).collect();
    let rows = match app.documents.lock_all(&mut tx, &ids).await {
        Ok(rows) => rows,
        Err(e) => return Err((e.into(), batch)),
    };
    // Rebase each on its locked row (replaying it onto the cached copy if another instance
    // committed first); read its job; refuse (unwritten) what does not read as a job.
    let mut prepared = Vec::with_capacity(batch.len());
    let mut refused = Vec::new();
    let mut failed = None;
    let mut back = Vec::new();
    for mut waiting in batch {
        let pending = &mut waiting.pending;
        let Some(row) = rows.iter().find(|r| r.id == pending.document.id).cloned() else {
            failed = Some(ApiError::Internal(anyhow::anyhow!(
                "a synced document has no row"
            )));
            back.push(waiting);
            continue;
        };
        if failed.is_some() {
            back.push(waiting);
            continue;
        }
        let after = pending.after.take();
        let changes = match retry {
            Retry::Alone => pending.changes.clone(),
            Retry::None => std::mem::take(&mut pending.changes),
        };
        let rebased = match Rebased::onto(&mut tx, &mut pending.current, row, after, changes).await
        {
            Ok(rebased) => rebased,
            Err(e) => {
                failed = Some(e.into());
                back.push(waiting);
                continue;
            }
        };
        // The memo of the last read, unless this read starts over.
        let mut memo = match pending.current.take_memo() {
            Some(mut memo) if !rebased.replayed => {
                memo.forget_touched(&pending.patches);
                memo
            }
            _ => ReadMemo::default(),
        };
        let job = if pending.document.kind == DocumentKind::Job {
            match projection::read_remembering(&rebased.after, &mut memo) {
                Ok(job) => Some(job),
                Err(reason) => {
                    refused.push((waiting, reason));
                    continue;
                }
            }
        } else {
            None
        };
        prepared.push(Prepared {
            waiting,
            rebased,
            memo,
            job,
        });
    }
    if let Some(error) = failed {
        // Those already rebased are given back to be replayed.
        back.extend(prepared.into_iter().map(|p| p.waiting));
        back.extend(refused.into_iter().map(|(w, _)| w));
        return Err((error, back));
    }
    let mut jobs = Vec::new();
    let mut writes = Vec::with_capacity(prepared.len());
    let mut kept = Vec::with_capacity(prepared.len());
    for p in prepared {
        if let Some(job) = p.job {
            jobs.push((p.waiting.pending.document.id, job));
        }
        writes.push((p.rebased, p.waiting.pending.author));
        kept.push((p.waiting, p.memo));
    }
    let written = async {
        let staged = Staged::write_all(&mut tx, writes).await?;
        projection::write_all(&mut tx, jobs).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(staged)
    }
    .await;
    let staged = match written {
        Ok(staged) => staged,
        Err(error) => {
            let mut back: Vec<Waiting> = kept.into_iter().map(|(w, _)| w).collect();
            back.extend(refused.into_iter().map(|(w, _)| w));
            return Err((error, back));
        }
    };
    let count = staged.len() as u64;
    for ((mut waiting, memo), staged) in kept.into_iter().zip(staged) {
        let new_changes = staged.new_changes;
        let current = &mut waiting.pending.current;
        let is_job = waiting.pending.document.kind == DocumentKind::Job;
        staged.apply(current, is_job.then_some(memo));
        let done = Done {
            current: waiting.pending.current,
            outcome: Ok(Committed::Written { new_changes }),
        };
        let _ = waiting.done.send(done);
    }
    for (waiting, reason) in refused {
        let done = Done {
            current: waiting.pending.current,
            outcome: Ok(Committed::Refused(reason)),
        };
        let _ = waiting.done.send(done);
    }
    Ok(count)
}
