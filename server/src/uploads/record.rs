//! The `uploads` rows: creation, the one-PATCH-at-a-time lease, progress, and the end states.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::metadata::UploadMetadata;
use crate::auth::Caller;

/// How long one PATCH may hold an upload before another request may take over.
const LEASE_SECONDS: i64 = 600;

/// A part already sent to object storage as part of a multipart upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredPart {
    pub number: i32,
    pub etag: String,
}

/// An upload as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRecord {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub job_id: Uuid,
    pub uploaded_by: Uuid,
    pub kind: String,
    pub content_type: String,
    pub sha256: String,
    pub length: i64,
    pub received: i64,
    pub pending: Vec<u8>,
    pub multipart_id: Option<String>,
    #[sqlx(json)]
    pub parts: Vec<StoredPart>,
    pub state: String,
    pub failure: Option<String>,
    pub expires_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organisation_id, job_id, uploaded_by, kind, content_type, sha256, \
    length, received, pending, multipart_id, parts, state, failure, expires_at";

pub async fn create(
    db: impl PgExecutor<'_>,
    caller: &Caller,
    metadata: &UploadMetadata,
    length: i64,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        r#"insert into uploads (id, organisation_id, job_id, uploaded_by, device_token_id, kind,
                                content_type, sha256, length, expires_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
    )
    .bind(id)
    .bind(caller.organisation_id)
    .bind(metadata.job_id)
    .bind(caller.staff_id)
    .bind(caller.device_token_id)
    .bind(metadata.kind.as_str())
    .bind(&metadata.content_type)
    .bind(&metadata.sha256)
    .bind(length)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(id)
}

/// The upload if `caller` made it (anyone else learns nothing).
pub async fn find(
    db: impl PgExecutor<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<UploadRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from uploads where id = $1 and uploaded_by = $2"
    )))
    .bind(id)
    .bind(caller.staff_id)
    .fetch_optional(db)
    .await
}

/// Takes the lease for one PATCH; `None` if another request holds it.
pub async fn lease(
    db: impl PgExecutor<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<UploadRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        r#"update uploads set lease_until = now() + make_interval(secs => {LEASE_SECONDS})
           where id = $1 and uploaded_by = $2 and (lease_until is null or lease_until < now())
           returning {COLUMNS}"#
    )))
    .bind(id)
    .bind(caller.staff_id)
    .fetch_optional(db)
    .await
}

pub async fn release(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update uploads set lease_until = null where id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records the multipart upload as soon as it exists, so an abandoned one can be aborted.
pub async fn set_multipart(
    db: impl PgExecutor<'_>,
    id: Uuid,
    multipart_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update uploads set multipart_id = $2 where id = $1")
        .bind(id)
        .bind(multipart_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Saves the progress of a PATCH and gives the lease back.
pub async fn progress(
    db: impl PgExecutor<'_>,
    id: Uuid,
    received: i64,
    pending: &[u8],
    parts: &[StoredPart],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"update uploads set received = $2, pending = $3, parts = $4, lease_until = null
           where id = $1"#,
    )
    .bind(id)
    .bind(received)
    .bind(pending)
    .bind(sqlx::types::Json(parts))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark(
    db: impl PgExecutor<'_>,
    id: Uuid,
    state: &str,
    failure: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"update uploads set state = $2, failure = $3, pending = ''::bytea, lease_until = null,
                  completed_at = case when $2 = 'complete' then now() else completed_at end
           where id = $1"#,
    )
    .bind(id)
    .bind(state)
    .bind(failure)
    .execute(db)
    .await?;
    Ok(())
}

/// Uploads past their expiry that never completed, for the sweeper.
pub async fn expired(db: impl PgExecutor<'_>) -> Result<Vec<UploadRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from uploads where state = 'receiving' and expires_at < now() limit 100"
    )))
    .fetch_all(db)
    .await
}
