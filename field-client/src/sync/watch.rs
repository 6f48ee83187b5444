//! `field sync --watch`: the tablet syncing by itself. It runs [`super::run`] again and again
//! until stopped (Ctrl-C or SIGTERM):
//!
//! - after a run that reached the server, the next one starts when the technician records
//!   something (another process committed to the store, seen through SQLite's `data_version`)
//!   or, at the latest, after `every`, so dispatch changes arrive without anyone asking;
//! - after a run that could not reach the server (offline, server down or busy), the next one
//!   waits a growing, jittered pause capped at `every`, so the tablet notices the network's
//!   return soon without draining its battery or hammering a recovering server;
//! - a refused token, a tablet not logged in or a store from a newer `field` ends the watch:
//!   those need a person. Any other failure is retried like being offline.
//!
//! Stopping at any point is safe: every step of a run is durable or repeated by the next one.

use std::time::Duration;

use tokio::time::Instant;

use super::backoff::Backoff;
use super::{SyncError, SyncOptions, SyncReport, run};
use crate::error::ClientError;
use crate::store::Store;

/// Pacing of a watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The longest time between two runs.
    pub every: Duration,
    /// How often to look for new local work between runs.
    pub check: Duration,
    /// Pauses after failed runs, growing up to `every`.
    pub offline: Backoff,
}

impl WatchOptions {
    pub fn every(every: Duration) -> Self {
        let every = every.max(Duration::from_secs(1));
        Self {
            every,
            check: Duration::from_secs(1).min(every),
            offline: Backoff {
                attempts: u32::MAX,
                first_pause: Duration::from_secs(2).min(every),
                max_pause: every,
            },
        }
    }
}

/// Syncs until `stop` resolves (the CLI passes Ctrl-C or SIGTERM; an app its own shutdown);
/// `on_run` sees each run's outcome as it ends. Ends `Ok` when stopped, with the error when a
/// failure needs a person.
pub async fn watch(
    store: &mut Store,
    options: &SyncOptions,
    pacing: &WatchOptions,
    stop: impl std::future::Future<Output = ()>,
    mut on_run: impl FnMut(Result<&SyncReport, &SyncError>),
) -> Result<(), SyncError> {
    let mut stop = std::pin::pin!(stop);
    let mut failures: u32 = 0;
    loop {
        // Read before the run: what another process commits while the run is under way may
        // have missed it, and wakes the next run at once.
        let seen = store.data_version()?;
        let outcome = tokio::select! {
            outcome = run(store, options) => outcome,
            () = &mut stop => return Ok(()),
        };
        let wait = match &outcome {
            Ok(report) => {
                failures = 0;
                on_run(Ok(report));
                pacing.every
            }
            Err(error) if needs_a_person(error) => {
                // Reported once, by whoever handles the returned error.
                return outcome.map(drop);
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                on_run(Err(error));
                pacing.offline.delay(failures)
            }
        };
        let deadline = Instant::now() + wait;
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(pacing.check.min(deadline - now)) => {}
                () = &mut stop => return Ok(()),
            }
            // New local work goes out at once when the server was reachable; offline, the
            // pause stands, the work waits with everything else.
            if failures == 0 && store.data_version()? != seen {
                break;
            }
        }
    }
}

/// Failures no later run can get past: a refused token, no login, a store from a newer `field`.
/// Anything else (a busy or failing store, a message that would not apply, a server error) may
/// pass, and is retried after a pause like being offline.
fn needs_a_person(error: &SyncError) -> bool {
    matches!(
        error,
        SyncError::TokenRefused
            | SyncError::Local(
                ClientError::NotLoggedIn | ClientError::StoreTooNew { .. } | ClientError::Login(_)
            )
    )
}
