//! What every request handler shares.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::blob::BlobStore;
use crate::documents::Documents;
use crate::sync::{GroupCommit, SyncHub};

/// Handles to the server's backing services; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: PgPool,
    pub blobs: BlobStore,
    pub documents: Documents,
    pub sync_hub: SyncHub,
    /// Sync messages arriving together are committed in one transaction.
    pub sync_commits: Arc<GroupCommit>,
    /// Sync messages' access checks arriving together are answered by one statement.
    pub sync_access: Arc<crate::sync::AccessChecks>,
    /// Uploads streaming at once; each holds at most one part in memory.
    pub upload_slots: Arc<Semaphore>,
    /// Decoding and deriving evidence photos, bounded in concurrency and memory.
    pub images: crate::images::ImagePipeline,
    /// Webhook delivery: private targets, retry schedule, timeouts.
    pub webhooks: crate::notifications::WebhookSettings,
    /// Requests per device and second.
    pub rates: crate::auth::RateLimiter,
    /// What `/metrics` reports of this instance.
    pub metrics: crate::metrics::Metrics,
    /// This instance, as its heartbeat and the leases it holds name it.
    pub instance_id: uuid::Uuid,
    /// Failed console sign-ins per account and address.
    pub sign_in: Arc<crate::auth::session::SignInThrottle>,
}

/// Concurrent PATCH requests allowed: bounds upload memory to about this many parts.
const UPLOAD_SLOTS: usize = 16;

impl AppState {
    /// The state of a server on `db` and `blobs` with default limits.
    pub fn new(db: PgPool, blobs: BlobStore) -> Self {
        Self {
            documents: Documents::new(db.clone(), Default::default()),
            sync_hub: SyncHub::new(),
            sync_commits: Arc::default(),
            sync_access: Arc::default(),
            upload_slots: Arc::new(Semaphore::new(UPLOAD_SLOTS)),
            images: crate::images::ImagePipeline::new(Default::default()),
            webhooks: Default::default(),
            rates: crate::auth::RateLimiter::new(Default::default()),
            metrics: Default::default(),
            instance_id: uuid::Uuid::new_v4(),
            sign_in: Default::default(),
            db,
            blobs,
        }
    }
}
