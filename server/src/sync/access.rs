//! The sync connections' per-message access checks, asked of PostgreSQL together. Every sync
//! message's document is checked against the database after the message arrived (DESIGN.md:
//! access changes, so no answer is kept); checks that arrive while one statement is under way
//! are answered by the next, all in one (`jobs::access::document_access_all`). A tablet alone
//! pays one statement per message as before; under load, one statement answers many, and the
//! pool's per-use round trips (a ping at checkout and another at release) are paid once.

use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::auth::Caller;
use crate::jobs::{DocumentAccess, document_access_all};

/// Checks answered by one statement at most.
const MAX_CHECKS: usize = 256;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct AccessChecks {
    state: Mutex<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: Vec<Check>,
    /// Whether a task is answering checks now.
    answering: bool,
    /// Since the instance started: checks answered, and statements that answered them.
    checks: u64,
    statements: u64,
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
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // The queue stays consistent whatever panicked while it was held.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What `caller` may do with `document` now, or `None` (doc-unavailable); an error means
    /// the database could not be asked (never "not shared with you").
    pub async fn check(
        self: &Arc<Self>,
        db: &PgPool,
        caller: &Caller,
        document: Uuid,
    ) -> Result<Option<DocumentAccess>, String> {
        let (answer, receipt) = oneshot::channel();
        let start = {
            let mut queue = self.queue();
            queue.waiting.push(Check {
                caller: caller.clone(),
                document,
                answer,
            });
            !std::mem::replace(&mut queue.answering, true)
        };
        if start {
            // In a task of its own: the checks it takes are answered even if this
            // connection goes.
            let this = self.clone();
            let db = db.clone();
            tokio::spawn(async move { this.answer(&db).await });
        }
        receipt
            .await
            .map_err(|_| "the access check was abandoned".to_owned())?
    }

    pub fn stats(&self) -> AccessStats {
        let queue = self.queue();
        AccessStats {
            checks: queue.checks,
            statements: queue.statements,
        }
    }

    /// Answers what is waiting, a statement at a time, until nothing is.
    async fn answer(self: Arc<Self>, db: &PgPool) {
        let mut leaving = Leaving(Some(self.clone()));
        loop {
            let batch: Vec<Check> = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    // Decided under the lock that queues: a check queued after this finds
                    // nobody answering and starts a task itself.
                    queue.answering = false;
                    leaving.0 = None;
                    return;
                }
                let take = queue.waiting.len().min(MAX_CHECKS);
                queue.waiting.drain(..take).collect()
            };
            let asked: Vec<(&Caller, Uuid)> =
                batch.iter().map(|c| (&c.caller, c.document)).collect();
            let answers = document_access_all(db, &asked).await;
            {
                let mut queue = self.queue();
                queue.checks += batch.len() as u64;
                queue.statements += 1;
            }
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
}

/// If the answering task ends by panicking: nobody is answering, and the checks waiting are
/// told (their senders dropped) rather than left waiting.
struct Leaving(Option<Arc<AccessChecks>>);

impl Drop for Leaving {
    fn drop(&mut self) {
        if let Some(checks) = self.0.take() {
            let mut queue = checks.queue();
            queue.answering = false;
            queue.waiting.clear();
        }
    }
}
