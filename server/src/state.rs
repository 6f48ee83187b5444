//! What every request handler shares.

use sqlx::PgPool;

use crate::blob::BlobStore;

/// Handles to the server's backing services; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: PgPool,
    pub blobs: BlobStore,
}
