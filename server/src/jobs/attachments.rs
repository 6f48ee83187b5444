//! The evidence files stored for a job (signature images, feedback-card and cleanup photos),
//! for whoever may see the job.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::document_access;
use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Debug, Serialize, sqlx::FromRow)]
/// One stored file of a job.
pub struct Attachment {
    pub sha256: String,
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub has_derivatives: bool,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// The files stored for `job`, oldest first; a job the caller may not see answers like one that
/// does not exist.
pub async fn list(
    db: &sqlx::PgPool,
    caller: &Caller,
    job: Uuid,
) -> Result<Vec<Attachment>, ApiError> {
    document_access(db, caller, job)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(sqlx::query_as(
        r#"select a.sha256, a.kind, b.content_type, b.size, b.width, b.height, b.has_derivatives,
                  a.uploaded_by, a.created_at
           from attachments a join blobs b on b.sha256 = a.sha256
           where a.job_id = $1 order by a.created_at, a.sha256"#,
    )
    .bind(job)
    .fetch_all(db)
    .await?)
}
