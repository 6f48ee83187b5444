//! What every request handler shares.

use sqlx::PgPool;

use crate::blob::BlobStore;
use crate::documents::Documents;
use crate::sync::SyncHub;

/// Handles to the server's backing services; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: PgPool,
    pub blobs: BlobStore,
    pub documents: Documents,
    pub sync_hub: SyncHub,
}

impl AppState {
    /// The state of a server on `db` and `blobs` with default limits.
    pub fn new(db: PgPool, blobs: BlobStore) -> Self {
        Self {
            documents: Documents::new(db.clone(), Default::default()),
            sync_hub: SyncHub::new(),
            db,
            blobs,
        }
    }
}
