//! The sync engine: everything `field sync` and an online `field login` do with the server.
//! The offline core stays synchronous; this module is the only async code, driven by a
//! current-thread runtime the binary creates for these two commands.
//!
//! One `field sync` run:
//!
//! 1. [`api::ServerApi::me`] checks the token and names the technician's index document.
//! 2. [`exchange`]: one WebSocket session (automerge-repo protocol v1) syncing the index first,
//!    then every job it lists and every job stored here, until the server has shown that it
//!    holds exactly what the tablet holds, document by document.
//!    Received changes commit locally before the next message acknowledges them; the server's
//!    heads are recorded as they arrive, so acknowledged local changes stop being pending.
//! 3. [`crate::tus`]: pending photos and signatures, resumable over tus 1.0.
//! 4. The remaining backlog is reported to `/api/v1/fleet/report`, and the run recorded.
//!
//! Connection failures are retried with exponential backoff and jitter ([`backoff`]); when the
//! server stays unreachable the run ends with one line, and nothing local is touched.
//! [`watch`] repeats runs until stopped, which is how a tablet syncs by itself.

pub mod api;
pub mod backoff;
mod error;
mod exchange;
mod incoming;
mod link;
pub mod report;
mod watch;

use std::time::Duration;

pub use error::SyncError;
pub use report::SyncReport;
pub use watch::{WatchOptions, watch};

use crate::login::{AccessToken, read_token};
use crate::status::SyncBacklog;
use crate::store::{Store, now_millis};
use api::ServerApi;
use backoff::Backoff;

/// Bounds of one run.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// How long both sides must stay silent before checking whether the exchange is finished.
    pub quiet: Duration,
    /// How long to wait in silence for the server to confirm documents not yet in sync.
    pub settle_limit: Duration,
    /// The longest the document exchange may take, whatever the server keeps sending.
    pub exchange_limit: Duration,
    /// Retries of connecting and of each upload.
    pub backoff: Backoff,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            quiet: Duration::from_millis(400),
            settle_limit: Duration::from_secs(15),
            exchange_limit: Duration::from_secs(60),
            backoff: Backoff::default(),
        }
    }
}

/// What an online login learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginCheck {
    /// The server knows the token; technicians get their index document.
    Verified {
        index_document: Option<sync_protocol::DocumentId>,
    },
    /// The server could not be reached; the token is checked at the first sync.
    Offline,
}

/// Checks a token against the server before `field login` stores it.
pub async fn check_login(server_url: &str, token: &AccessToken) -> Result<LoginCheck, SyncError> {
    let api = ServerApi::new(server_url, token.clone())?;
    match Backoff::quick().run(|| api.me()).await {
        Ok(me) => Ok(LoginCheck::Verified {
            index_document: me.index_document()?,
        }),
        Err(SyncError::Unreachable { .. }) => Ok(LoginCheck::Offline),
        Err(other) => Err(other),
    }
}

/// One full sync run: documents, uploads, the backlog report.
pub async fn run(store: &mut Store, options: &SyncOptions) -> Result<SyncReport, SyncError> {
    let login = store.require_login()?;
    let token = read_token(store.home())?.ok_or(crate::ClientError::NotLoggedIn)?;
    let api = ServerApi::new(&login.server_url, token)?;
    let me = options.backoff.run(|| api.me()).await?;
    let index = me.index_document()?;
    let mut report = SyncReport::new(&login.server_url);
    let pending_before = pending_changes(&SyncBacklog::read(store)?);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match exchange::run(store, &api, index, options, &mut report).await {
            Ok(()) => break,
            Err(error) if error.is_transient() && attempt < options.backoff.attempts => {
                options.backoff.pause(attempt).await;
            }
            Err(error) => return Err(error),
        }
    }
    crate::tus::upload_pending(store, &api, &options.backoff, &mut report).await?;
    let backlog = SyncBacklog::read(store)?;
    report.finish(&backlog);
    report.changes_sent = pending_before.saturating_sub(report.pending_changes);
    // The report is informative for operators; a failure here must not fail the technician's sync.
    if let Err(error) = api.report_backlog(&backlog).await {
        report
            .notes
            .push(format!("could not report pending work: {error}"));
    }
    store.record_sync_finished(now_millis())?;
    Ok(report)
}

fn pending_changes(backlog: &SyncBacklog) -> usize {
    backlog.pending_changes.iter().map(|d| d.changes).sum()
}
