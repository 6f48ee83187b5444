//! The sync connections' per-message access checks, asked of PostgreSQL together. Every sync
//! message's document is checked against the database after the message arrived (DESIGN.md:
//! access changes, so no answer is kept); checks that arrive while one statement is under way
//! are answered by the next, all in one (`jobs::access::sync_access_all`). A tablet alone
//! pays one statement per message as before; under load, one statement answers many, and the
//! pool's per-use round trips (a ping at checkout and another at release) are paid once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::batch::Batches;
use crate::auth::Caller;
use crate::jobs::{DocumentAccess, sync_access_all};

/// Checks answered by one statement at most.
const MAX_CHECKS: usize = 256;

/// See the module documentation.
#[derive(Debug)]
pub struct AccessChecks {
    /// One statement at a time: what queues while it runs is the next.
    batches: Arc<Batches<Check>>,
    /// Since the instance started: checks answered, and statements that answered them.
    checks: AtomicU64,
    statements: AtomicU64,
}

impl Default for AccessChecks {
    fn default() -> Self {
        Self {
            batches: Arc::new(Batches::new(MAX_CHECKS, 1)),
            checks: AtomicU64::new(0),
            statements: AtomicU64::new(0),
        }
    }
}

#[derive(Debug)]
struct Check {
    caller: Caller,
    document: Uuid,
    answer: oneshot::Sender<Result<Option<DocumentAccess>, String>>,
}

/// Checks answered and the statements that answered them, since the instance started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessStats {
    pub checks: u64,
    pub statements: u64,
}

impl AccessChecks {
    /// What `caller` may do with `document` now, or `None` (doc-unavailable); an error means
    /// the database could not be asked (never "not shared with you").
    pub async fn check(
        self: &Arc<Self>,
        db: &PgPool,
        caller: &Caller,
        document: Uuid,
    ) -> Result<Option<DocumentAccess>, String> {
        let (answer, receipt) = oneshot::channel();
        let check = Check {
            caller: caller.clone(),
            document,
            answer,
        };
        self.batches.push(check, || {
            let (this, db) = (self.clone(), db.clone());
            move |batch| {
                let (this, db) = (this.clone(), db.clone());
                async move { this.answer(&db, batch).await }
            }
        });
        receipt
            .await
            .map_err(|_| "the access check was abandoned".to_owned())?
    }

    pub fn stats(&self) -> AccessStats {
        AccessStats {
            checks: self.checks.load(Ordering::Relaxed),
            statements: self.statements.load(Ordering::Relaxed),
        }
    }

    /// Answers `batch` with one statement.
    async fn answer(&self, db: &PgPool, batch: Vec<Check>) {
        let asked: Vec<(&Caller, Uuid)> = batch.iter().map(|c| (&c.caller, c.document)).collect();
        let answers = sync_access_all(db, &asked).await;
        self.checks.fetch_add(batch.len() as u64, Ordering::Relaxed);
        self.statements.fetch_add(1, Ordering::Relaxed);
        match answers {
            Ok(answers) => {
                for (check, access) in batch.into_iter().zip(answers) {
                    let _ = check.answer.send(Ok(access));
                }
            }
            Err(error) => {
                let reason = error.to_string();
                for check in batch {
                    let _ = check.answer.send(Err(reason.clone()));
                }
            }
        }
    }
}
