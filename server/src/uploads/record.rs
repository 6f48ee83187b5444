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
    /// Received, not yet sent in a part; read only by [`lease`] (empty from [`find`]).
    pub pending: Vec<u8>,
    pub multipart_id: Option<String>,
    #[sqlx(json)]
    pub parts: Vec<StoredPart>,
    pub state: String,
    pub failure: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The lease this record was read under, if it was read by [`lease`].
    pub lease_id: Option<Uuid>,
}

/// With `pending` assembled from the upload's chunk rows, in file order: for the request that
/// holds the lease, the only one that uses the bytes.
const COLUMNS: &str = "id, organisation_id, job_id, uploaded_by, kind, content_type, sha256, \
    length, received, multipart_id, parts, state, failure, expires_at, lease_id, \
    (select coalesce(string_agg(c.bytes, ''::bytea order by c.start_offset), ''::bytea) \
     from upload_pending_chunks c where c.upload_id = uploads.id) as pending";

/// The same with `pending` left empty, for looking at an upload's state.
const STATE_COLUMNS: &str = "id, organisation_id, job_id, uploaded_by, kind, content_type, \
    sha256, length, received, multipart_id, parts, state, failure, expires_at, \
    null::uuid as lease_id, ''::bytea as pending";

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

/// The upload if `caller` made it (anyone else learns nothing), without its pending bytes
/// (`pending` is empty; [`lease`] reads them).
pub async fn find(
    db: impl PgExecutor<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<UploadRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {STATE_COLUMNS} from uploads where id = $1 and uploaded_by = $2"
    )))
    .bind(id)
    .bind(caller.staff_id)
    .fetch_optional(db)
    .await
}

/// Takes the lease for one request of `instance`, if the upload is still receiving, no other
/// request holds it, and (when `at` is given) the server has exactly `at` bytes; `None`
/// otherwise. A lease held by an instance whose heartbeat stopped is free: a crash holds an
/// upload for seconds ([`crate::instances::STALE_AFTER`]), not for the lease's length.
pub async fn lease(
    db: &sqlx::PgPool,
    instance: Uuid,
    caller: &Caller,
    id: Uuid,
    at: Option<i64>,
) -> Result<Option<UploadRecord>, sqlx::Error> {
    // Alive before it holds anything, so no other instance takes this lease for a dead one's.
    crate::instances::beat(db, instance).await?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        r#"update uploads set lease_until = now() + make_interval(secs => {LEASE_SECONDS}),
                  lease_id = $3, lease_instance = $5
           where id = $1 and uploaded_by = $2 and state = 'receiving'
             and (lease_until is null or lease_until < now()
                  or not exists (select 1 from server_instances i
                                 where i.id = uploads.lease_instance
                                   and i.heartbeat_at > now() - make_interval(secs => $6)))
             and ($4::bigint is null or received = $4)
           returning {COLUMNS}"#
    )))
    .bind(id)
    .bind(caller.staff_id)
    .bind(Uuid::new_v4())
    .bind(at)
    .bind(instance)
    .bind(crate::instances::STALE_AFTER.as_secs_f64())
    .fetch_optional(db)
    .await
}

/// Gives a lease back, if it is still the holder's.
pub async fn release(db: impl PgExecutor<'_>, upload: &UploadRecord) -> Result<(), sqlx::Error> {
    sqlx::query("update uploads set lease_until = null where id = $1 and lease_id = $2")
        .bind(upload.id)
        .bind(upload.lease_id)
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

/// What one PATCH leaves to keep with the upload.
#[derive(Debug, Clone, Copy)]
pub enum Pending<'a> {
    /// No part went out: these bytes, starting at `at` in the file, follow what was pending.
    Append { at: i64, bytes: &'a [u8] },
    /// Parts went out: what was pending is gone; these bytes, starting at `at`, are all that is
    /// left.
    Replace { at: i64, bytes: &'a [u8] },
}

/// Saves the progress of a PATCH under its lease, in one transaction: the lease is given back,
/// unless every byte has arrived (then it is kept until finishing marks the upload). Only the
/// bytes the PATCH brought are written, not everything pending again. `false`, and nothing
/// written, when the lease is no longer the request's or the upload ended meanwhile.
pub async fn progress(
    db: &sqlx::PgPool,
    upload: &UploadRecord,
    received: i64,
    pending: Pending<'_>,
    parts: &[StoredPart],
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    // The upload's row first, then its chunks: the order `mark` takes them in.
    let held = sqlx::query(
        r#"update uploads set received = $3, parts = $4,
                  lease_until = case when $3 = length then lease_until end
           where id = $1 and lease_id = $2 and state = 'receiving' and lease_until >= now()"#,
    )
    .bind(upload.id)
    .bind(upload.lease_id)
    .bind(received)
    .bind(sqlx::types::Json(parts))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !held {
        return Ok(false);
    }
    let (at, bytes) = match pending {
        Pending::Append { at, bytes } => (at, bytes),
        Pending::Replace { at, bytes } => {
            sqlx::query("delete from upload_pending_chunks where upload_id = $1")
                .bind(upload.id)
                .execute(&mut *tx)
                .await?;
            (at, bytes)
        }
    };
    if !bytes.is_empty() {
        sqlx::query(
            "insert into upload_pending_chunks (upload_id, start_offset, bytes) values ($1, $2, $3)",
        )
        .bind(upload.id)
        .bind(at)
        .bind(bytes)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub async fn mark(
    db: impl PgExecutor<'_>,
    id: Uuid,
    state: &str,
    failure: Option<&str>,
) -> Result<(), sqlx::Error> {
    // One statement, so that it joins the caller's transaction when it has one. The delete
    // needs the update's row, so the upload's row is locked first, as in `progress`.
    sqlx::query(
        r#"with marked as (
               update uploads set state = $2, failure = $3, lease_until = null,
                      completed_at = case when $2 = 'complete' then now() else completed_at end
               where id = $1 returning id)
           delete from upload_pending_chunks where upload_id in (select id from marked)"#,
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
        "select {STATE_COLUMNS} from uploads where state = 'receiving' and expires_at < now() limit 100"
    )))
    .fetch_all(db)
    .await
}
