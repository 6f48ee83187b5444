//! Expired unfinished uploads: their multipart uploads aborted, staging objects removed.

use std::time::Duration;

use super::{objects, record};
use crate::state::AppState;

const SWEEP_EVERY: Duration = Duration::from_secs(300);

/// Runs until the task is aborted.
pub async fn sweep(app: AppState) {
    let mut interval = tokio::time::interval(SWEEP_EVERY);
    loop {
        interval.tick().await;
        if let Err(e) = sweep_once(&app).await {
            tracing::warn!(error = %e, "sweeping expired uploads failed");
        }
    }
}

pub async fn sweep_once(app: &AppState) -> Result<usize, sqlx::Error> {
    let expired = record::expired(&app.db).await?;
    for upload in &expired {
        objects::discard(&app.blobs, upload.id, upload.multipart_id.as_deref()).await;
        record::mark(&app.db, upload.id, "terminated", Some("expired")).await?;
    }
    Ok(expired.len())
}
