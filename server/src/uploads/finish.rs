//! The end of an upload: assemble, read back and verify the whole file's SHA-256, process the
//! image, and only then make it visible (content-addressed original, derivatives, the attachment
//! record) and re-evaluate the job, whose completion may wait for exactly this evidence.

use bytes::Bytes;
use uuid::Uuid;

use super::metadata::UploadMetadata;
use super::objects;
use super::record::{self, UploadRecord};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::projection::project;
use crate::state::AppState;

/// Links already stored bytes to the job at once; `true` if they were stored and already
/// belong to the caller's organisation. Knowing a hash proves nothing about having the file:
/// another organisation's tablet sends the bytes (stored once all the same), so nothing crosses
/// organisations.
pub async fn attach_if_stored(
    app: &AppState,
    upload: Uuid,
    metadata: &UploadMetadata,
    length: i64,
    caller: &Caller,
) -> Result<bool, ApiError> {
    let size: Option<i64> = sqlx::query_scalar(
        r#"select b.size from blobs b
           where b.sha256 = $1
             and exists (select 1 from attachments a
                         where a.sha256 = b.sha256 and a.organisation_id = $2)"#,
    )
    .bind(&metadata.sha256)
    .bind(caller.organisation_id)
    .fetch_optional(&app.db)
    .await?;
    if size != Some(length) {
        return Ok(false);
    }
    let document = app
        .documents
        .get(metadata.job_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let current = document.lock().await;
    let mut tx = app.db.begin().await?;
    attach(
        &mut tx,
        metadata.job_id,
        &metadata.sha256,
        metadata.kind.as_str(),
        caller,
    )
    .await?;
    sqlx::query("update uploads set received = length where id = $1")
        .bind(upload)
        .execute(&mut *tx)
        .await?;
    record::mark(&mut *tx, upload, "complete", None).await?;
    project(&mut tx, metadata.job_id, current.doc()).await?;
    tx.commit().await?;
    Ok(true)
}

async fn attach(
    tx: &mut sqlx::PgConnection,
    job: Uuid,
    sha256: &str,
    kind: &str,
    caller: &Caller,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"insert into attachments (job_id, sha256, organisation_id, kind, uploaded_by)
           values ($1, $2, $3, $4, $5) on conflict do nothing"#,
    )
    .bind(job)
    .bind(sha256)
    .bind(caller.organisation_id)
    .bind(kind)
    .bind(caller.staff_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Runs [`complete`] in a task of its own, so that a client hanging up while its last `PATCH` is
/// verified and stored (tablets lose the network all the time) does not cut the work off
/// halfway: it finishes, and the client's next `HEAD` finds the upload complete.
pub async fn complete_detached(
    app: &AppState,
    caller: &Caller,
    upload: UploadRecord,
    last: Bytes,
) -> Result<(), ApiError> {
    let (app, caller) = (app.clone(), caller.clone());
    tokio::spawn(async move {
        let outcome = complete(&app, &caller, &upload, last).await;
        if outcome.is_err() {
            // Marked failed (a refusal), or stopped by an error before marking: either way the
            // lease held since the last byte is given back, so a later HEAD can finish it.
            record::release(&app.db, &upload).await?;
        }
        outcome
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("finishing an upload stopped: {e}")))?
}

/// Verifies and stores a fully received upload. On any refusal the upload is marked failed,
/// everything it left in the bucket is removed, and the error says why. The attachment record,
/// the upload's completion and the job's projection (completion, the outbox event) commit in
/// one transaction, under the job document's lock.
async fn complete(
    app: &AppState,
    caller: &Caller,
    upload: &UploadRecord,
    last: Bytes,
) -> Result<(), ApiError> {
    match verify_and_store(app, upload, last).await {
        Ok(stored) => {
            let document = app
                .documents
                .get(upload.job_id)
                .await?
                .ok_or(ApiError::NotFound)?;
            let current = document.lock().await;
            let mut tx = app.db.begin().await?;
            sqlx::query(
                r#"insert into blobs (sha256, size, content_type, width, height, has_derivatives)
                   values ($1, $2, $3, $4, $5, $6) on conflict (sha256) do nothing"#,
            )
            .bind(&upload.sha256)
            .bind(upload.length)
            .bind(&upload.content_type)
            .bind(stored.width)
            .bind(stored.height)
            .bind(stored.has_derivatives)
            .execute(&mut *tx)
            .await?;
            attach(&mut tx, upload.job_id, &upload.sha256, &upload.kind, caller).await?;
            record::mark(&mut *tx, upload.id, "complete", None).await?;
            project(&mut tx, upload.job_id, current.doc()).await?;
            tx.commit().await?;
            drop(current);
            discard_copies(app, upload).await;
            Ok(())
        }
        Err(refusal) if is_refusal(&refusal) => {
            objects::discard(&app.blobs, upload.id, upload.multipart_id.as_deref()).await;
            record::mark(&app.db, upload.id, "failed", Some(&refusal.to_string())).await?;
            Err(refusal)
        }
        // The store or the database failed on the way: nothing is lost, the upload stays
        // received in full, and the next HEAD finishes it from wherever this one stopped.
        Err(failure) => Err(failure),
    }
}

/// Other unfinished uploads of the same file for the same job, left behind by the same
/// technician (a tablet that started over): ended now, with their parts, instead of waiting for
/// their expiry. One that a request is sending right now is left alone.
async fn discard_copies(app: &AppState, upload: &UploadRecord) {
    let copies: Result<Vec<(Uuid, Option<String>)>, _> = sqlx::query_as(
        r#"select id, multipart_id from uploads
           where sha256 = $1 and job_id = $2 and kind = $3 and uploaded_by = $4 and id <> $5
             and state = 'receiving' and (lease_until is null or lease_until < now())"#,
    )
    .bind(&upload.sha256)
    .bind(upload.job_id)
    .bind(&upload.kind)
    .bind(upload.uploaded_by)
    .bind(upload.id)
    .fetch_all(&app.db)
    .await;
    let copies = match copies {
        Ok(copies) => copies,
        Err(e) => return tracing::warn!(error = %e, "looking for copies of a stored upload"),
    };
    for (id, multipart_id) in copies {
        objects::discard(&app.blobs, id, multipart_id.as_deref()).await;
        let reason = "the same file was stored through another upload";
        if let Err(e) = record::mark(&app.db, id, "terminated", Some(reason)).await {
            tracing::warn!(error = %e, "ending a copy of a stored upload");
        }
    }
}

/// Whether finishing failed because of the file itself (it will never be stored, the tablet
/// must take it again), not because a service failed underneath.
fn is_refusal(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::ChecksumMismatch(_)
            | ApiError::BadRequest(_)
            | ApiError::UnsupportedMedia(_)
            | ApiError::Unprocessable(_)
            | ApiError::TooLarge(_)
    )
}

struct Stored {
    width: Option<i32>,
    height: Option<i32>,
    has_derivatives: bool,
}

/// Every step can be repeated after a crash at any point: an original already promoted is read
/// from its own key, a staging object already assembled is not assembled again, derivatives
/// are overwritten with the same bytes, and the row is written once (`on conflict do nothing`).
async fn verify_and_store(
    app: &AppState,
    upload: &UploadRecord,
    last: Bytes,
) -> Result<Stored, ApiError> {
    let original = objects::original_key(&upload.sha256);
    let staging = objects::staging_key(upload.id);
    let promoted = size_of(app, &original).await? == Some(upload.length);
    if !promoted && size_of(app, &staging).await? != Some(upload.length) {
        objects::finish_staging(
            &app.blobs,
            upload.id,
            &upload.content_type,
            upload.multipart_id.as_deref(),
            &upload.parts,
            last,
        )
        .await
        .map_err(ApiError::Internal)?;
    }
    let source = if promoted { &original } else { &staging };
    let (bytes, actual) = objects::read_back(&app.blobs, source)
        .await
        .map_err(ApiError::Internal)?;
    if actual != upload.sha256 || bytes.len() as i64 != upload.length {
        return Err(ApiError::ChecksumMismatch(format!(
            "the file's SHA-256 is {actual}, not the {} given in Upload-Metadata: nothing was stored",
            upload.sha256
        )));
    }
    let derived = super::derive::derivatives(app, bytes).await?;
    let already: bool = sqlx::query_scalar("select exists (select 1 from blobs where sha256 = $1)")
        .bind(&upload.sha256)
        .fetch_one(&app.db)
        .await?;
    if !already {
        for (variant, bytes) in &derived.files {
            objects::put(
                &app.blobs,
                &objects::derivative_key(&upload.sha256, variant),
                "image/jpeg",
                bytes.clone(),
            )
            .await
            .map_err(ApiError::Internal)?;
        }
        if !promoted {
            objects::promote(&app.blobs, upload.id, &upload.sha256)
                .await
                .map_err(ApiError::Internal)?;
        }
    }
    // Stored once (here or by another upload of the same bytes): what this upload left goes.
    objects::discard(&app.blobs, upload.id, upload.multipart_id.as_deref()).await;
    Ok(Stored {
        width: derived.width,
        height: derived.height,
        has_derivatives: !derived.files.is_empty(),
    })
}

async fn size_of(app: &AppState, key: &str) -> Result<Option<i64>, ApiError> {
    objects::size_of(&app.blobs, key)
        .await
        .map_err(ApiError::Internal)
}
