//! The tus 1.0.0 endpoints. Every response carries `Tus-Resumable`; errors are our JSON errors
//! with the status codes the protocol defines (412 version, 409 offset, 410 gone, 413 size,
//! 415 type, 460 checksum).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{options, patch};
use bytes::{Bytes, BytesMut};
use chrono::Utc;
use futures_util::StreamExt;
use uuid::Uuid;

use super::checksum::{ALGORITHMS, ChunkChecksum};
use super::record::{self, StoredPart, UploadRecord};
use super::{finish, metadata, objects};
use crate::api::Path;
use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::jobs::{DocumentAccess, document_access};
use crate::state::AppState;

pub const TUS_VERSION: &str = "1.0.0";
/// The largest file accepted: a photo of a paper card needs far less.
pub const MAX_UPLOAD_BYTES: i64 = 50 * 1024 * 1024;
/// Bytes gathered before they go to object storage as one multipart part (S3's minimum is 5 MiB).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// How long a `PATCH` body may stay silent before the request counts as cut off.
const BODY_IDLE: Duration = Duration::from_secs(60);
/// How long an unfinished upload may be resumed.
const EXPIRES_AFTER: Duration = Duration::from_secs(24 * 3600);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/uploads", options(describe).post(create))
        .route(
            "/api/v1/uploads/{id}",
            patch(append)
                .head(status)
                .delete(terminate)
                .options(describe),
        )
        .layer(axum::middleware::map_response(
            |mut response: Response| async move {
                response
                    .headers_mut()
                    .insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
                response
            },
        ))
}

async fn describe() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [
            ("tus-version", TUS_VERSION.to_owned()),
            (
                "tus-extension",
                "creation,termination,checksum,expiration".to_owned(),
            ),
            ("tus-max-size", MAX_UPLOAD_BYTES.to_string()),
            ("tus-checksum-algorithm", ALGORITHMS.to_owned()),
        ],
    )
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn require_tus(headers: &HeaderMap) -> Result<(), ApiError> {
    if header(headers, "tus-resumable") == Some(TUS_VERSION) {
        return Ok(());
    }
    Err(ApiError::PreconditionFailed(format!(
        "send `Tus-Resumable: {TUS_VERSION}`: this server speaks tus {TUS_VERSION}"
    )))
}

fn location(id: Uuid) -> String {
    format!("/api/v1/uploads/{id}")
}

fn expires_header(record: &UploadRecord) -> String {
    httpdate::fmt_http_date(record.expires_at.into())
}

async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_tus(&headers)?;
    create_upload(&app, &caller, &headers).await
}

async fn create_upload(
    app: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Technician])?;
    let length: i64 = header(headers, "upload-length")
        .ok_or_else(|| {
            ApiError::BadRequest("send Upload-Length: deferred lengths are not supported".into())
        })?
        .parse()
        .map_err(|_| {
            ApiError::BadRequest("Upload-Length must be a whole number of bytes".into())
        })?;
    if length <= 0 {
        return Err(ApiError::BadRequest(
            "an empty file cannot be evidence".into(),
        ));
    }
    if length > MAX_UPLOAD_BYTES {
        return Err(ApiError::TooLarge(format!(
            "the file is {length} bytes; the limit is {MAX_UPLOAD_BYTES} bytes"
        )));
    }
    let metadata = metadata::parse(header(headers, "upload-metadata"))?;
    match document_access(&app.db, caller, metadata.job_id).await? {
        Some(DocumentAccess::Write(_)) => {}
        _ => return Err(ApiError::NotFound),
    }
    let expires_at = Utc::now() + chrono::Duration::from_std(EXPIRES_AFTER).unwrap_or_default();
    let id = record::create(&app.db, caller, &metadata, length, expires_at).await?;
    // Bytes already stored (another tablet, an earlier attempt): done without a byte sent.
    let offset = if finish::attach_if_stored(app, id, &metadata, length, caller).await? {
        length
    } else {
        0
    };
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location(id)),
            (
                header::HeaderName::from_static("upload-expires"),
                httpdate::fmt_http_date(expires_at.into()),
            ),
            (
                header::HeaderName::from_static("upload-offset"),
                offset.to_string(),
            ),
        ],
    )
        .into_response())
}

async fn status(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_tus(&headers)?;
    let mut record = live(&app, &caller, id).await?;
    if record.state == "receiving" && record.received == record.length {
        // Every byte arrived but finishing was cut off (the server stopped on the way): finish
        // now, so that an offset equal to the length always means stored and verified.
        // In a task of its own, like a PATCH: a lease once taken is always given back.
        let (task_app, task_caller, length) = (app.clone(), caller.clone(), record.length);
        tokio::spawn(async move {
            // No lease: another request is finishing it right now (or just did).
            let Some(leased) = record::lease(
                &task_app.db,
                task_app.instance_id,
                &task_caller,
                id,
                Some(length),
            )
            .await?
            else {
                return Ok(());
            };
            let last = Bytes::from(leased.pending.clone());
            finish::complete_detached(&task_app, &task_caller, leased, last).await
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("finishing an upload stopped: {e}")))??;
        record = live(&app, &caller, id).await?;
        if record.state == "receiving" {
            return Err(ApiError::Unavailable);
        }
    }
    Ok((
        StatusCode::OK,
        [
            ("upload-offset", record.received.to_string()),
            ("upload-length", record.length.to_string()),
            ("upload-expires", expires_header(&record)),
            ("cache-control", "no-store".to_owned()),
        ],
    )
        .into_response())
}

/// The upload, unless it is gone: terminated, expired, or failed verification (then the message
/// says why, and the client must start a new upload).
async fn live(app: &AppState, caller: &Caller, id: Uuid) -> Result<UploadRecord, ApiError> {
    let record = record::find(&app.db, caller, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    match record.state.as_str() {
        "terminated" => Err(ApiError::Gone(
            "this upload was terminated; start a new one".into(),
        )),
        "failed" => Err(ApiError::Gone(format!(
            "this upload failed ({}); start a new one",
            record.failure.as_deref().unwrap_or("unknown reason")
        ))),
        "receiving" if record.expires_at < Utc::now() => Err(ApiError::Gone(
            "this upload expired; start a new one".into(),
        )),
        _ => Ok(record),
    }
}

async fn terminate(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_tus(&headers)?;
    let record = live(&app, &caller, id).await?;
    if record.state == "receiving" {
        objects::discard(&app.blobs, id, record.multipart_id.as_deref()).await;
    }
    record::mark(&app.db, id, "terminated", None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn append(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_tus(&headers)?;
    receive(&app, &caller, id, &headers, body).await
}

async fn receive(
    app: &AppState,
    caller: &Caller,
    id: Uuid,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if header(headers, "content-type") != Some("application/offset+octet-stream") {
        return Err(ApiError::UnsupportedMedia(
            "a PATCH must have Content-Type: application/offset+octet-stream".into(),
        ));
    }
    let offset: i64 = header(headers, "upload-offset")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::BadRequest("send Upload-Offset: the number of bytes the server has".into())
        })?;
    let checksum = header(headers, "upload-checksum")
        .map(ChunkChecksum::parse)
        .transpose()?;
    let current = live(app, caller, id).await?;
    if current.state == "complete" {
        // The bytes were already stored (another tablet sent them): read and drop what the
        // client sends anyway, so it sees a clean success. Clients that ask with HEAD first
        // (every resume) send nothing at all.
        drain(body, current.length).await;
        return offset_response(current.length);
    }
    if offset != current.received {
        return Err(ApiError::Conflict(format!(
            "Upload-Offset is {offset} but the server has {} bytes; ask with HEAD and resume from there",
            current.received
        )));
    }
    // A body announced longer than what is left is refused before a byte is stored; a body
    // without Content-Length is cut off while streaming, at the same bound.
    let left = current.length - current.received;
    if let Some(declared) = header(headers, "content-length").and_then(|v| v.parse::<i64>().ok())
        && declared > left
    {
        return Err(ApiError::TooLarge(format!(
            "this PATCH carries {declared} bytes but only {left} are left of Upload-Length ({}); \
             nothing of it was stored",
            current.length
        )));
    }
    // From here the request runs in a task of its own. A client that hangs up once its body
    // is sent makes hyper drop this handler; were the work done here, it could stop between
    // taking the upload's lease and giving it back (the tablet would then wait out the lease)
    // or before recording bytes that arrived. The task always records and releases.
    let (app, caller) = (app.clone(), caller.clone());
    tokio::spawn(async move {
        let _slot = app
            .upload_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        match record::lease(&app.db, app.instance_id, &caller, id, Some(offset)).await? {
            Some(record) => receive_leased(&app, &caller, record, body, checksum).await,
            None => Err(lease_refused(&app, &caller, id, offset).await),
        }
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("receiving an upload stopped: {e}")))?
}

/// Why a `PATCH` that passed the first look could not take the lease: the upload moved on
/// meanwhile (an earlier request recorded its bytes, or it ended), or a request holds it.
async fn lease_refused(app: &AppState, caller: &Caller, id: Uuid, offset: i64) -> ApiError {
    let current = match live(app, caller, id).await {
        Ok(current) => current,
        Err(error) => return error,
    };
    if current.received != offset {
        ApiError::Conflict(format!(
            "Upload-Offset is {offset} but the server now has {} bytes; ask with HEAD and resume from there",
            current.received
        ))
    } else {
        ApiError::Conflict(
            "another request is uploading to this upload right now; ask with HEAD and resume \
             when it has finished"
                .into(),
        )
    }
}

/// Streams one `PATCH` body into the leased upload, records how far it got, and releases the
/// lease; finishes the upload when this was its last byte.
async fn receive_leased(
    app: &AppState,
    caller: &Caller,
    mut record: UploadRecord,
    body: Body,
    mut checksum: Option<ChunkChecksum>,
) -> Result<Response, ApiError> {
    let outcome = stream_into_parts(app, &mut record, body, checksum.as_mut()).await;
    let progress = match outcome {
        Ok(progress) => progress,
        Err(e) => {
            record::release(&app.db, &record).await?;
            return Err(e);
        }
    };
    if let Some(checksum) = checksum
        && (progress.interrupted || !checksum.matches())
    {
        // Nothing of this request is kept; the parts it sent are overwritten by the retry.
        record::release(&app.db, &record).await?;
        return Err(ApiError::ChecksumMismatch(
            "the body does not match Upload-Checksum; nothing of it was kept, resend it".into(),
        ));
    }
    let received = record.received + progress.bytes;
    let pending = if progress.new_parts.is_empty() {
        // Only this PATCH's bytes are new; what was pending before is stored already.
        let brought = &progress.pending[record.pending.len()..];
        record::Pending::Append {
            at: record.received,
            bytes: brought,
        }
    } else {
        record::Pending::Replace {
            at: received - progress.pending.len() as i64,
            bytes: &progress.pending,
        }
    };
    let mut parts = record.parts.clone();
    parts.extend(progress.new_parts);
    if !record::progress(&app.db, &record, received, pending, &parts).await? {
        return Err(ApiError::Conflict(
            "this upload changed while the request was received (it ended, or the request \
             outlasted its lease and another took over); ask with HEAD and resume from there"
                .into(),
        ));
    }
    if received == record.length {
        record.received = received;
        record.parts = parts;
        finish::complete_detached(app, caller, record, Bytes::from(progress.pending)).await?;
    }
    offset_response(received)
}

async fn drain(body: Body, limit: i64) {
    let mut stream = body.into_data_stream();
    let mut seen: i64 = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len() as i64;
        if seen > limit {
            break;
        }
    }
}

fn offset_response(offset: i64) -> Result<Response, ApiError> {
    Ok((
        StatusCode::NO_CONTENT,
        [("upload-offset", offset.to_string())],
    )
        .into_response())
}

struct Progress {
    bytes: i64,
    pending: Vec<u8>,
    new_parts: Vec<StoredPart>,
    interrupted: bool,
}

/// Streams the body: full parts go to object storage as they fill, the rest is returned to be
/// kept with the upload. Memory stays within one part plus one network chunk.
async fn stream_into_parts(
    app: &AppState,
    record: &mut UploadRecord,
    body: Body,
    mut checksum: Option<&mut ChunkChecksum>,
) -> Result<Progress, ApiError> {
    let remaining = record.length - record.received;
    let mut buffer = BytesMut::from(&record.pending[..]);
    let mut bytes: i64 = 0;
    let mut new_parts = Vec::new();
    let mut stream = body.into_data_stream();
    let interrupted = loop {
        // A tablet that vanished without closing its connection sends nothing more: after a
        // quiet minute the request ends as if it had hung up, and the lease is given back.
        let next = tokio::time::timeout(BODY_IDLE, stream.next()).await;
        let Ok(Some(Ok(chunk))) = next else {
            // The connection broke or went quiet: keep what arrived, the client resumes from
            // there. (`Ok(None)` is the body's end, complete or cut short: the count tells.)
            break !matches!(next, Ok(None));
        };
        bytes += chunk.len() as i64;
        if bytes > remaining {
            return Err(ApiError::TooLarge(format!(
                "more bytes than Upload-Length ({}) allows",
                record.length
            )));
        }
        if let Some(checksum) = checksum.as_deref_mut() {
            checksum.update(&chunk);
        }
        buffer.extend_from_slice(&chunk);
        while buffer.len() >= PART_BYTES {
            let part = buffer.split_to(PART_BYTES).freeze();
            let multipart_id = match &record.multipart_id {
                Some(existing) => existing.clone(),
                None => {
                    let created =
                        objects::start_multipart(&app.blobs, record.id, &record.content_type)
                            .await
                            .map_err(ApiError::Internal)?;
                    record::set_multipart(&app.db, record.id, &created).await?;
                    record.multipart_id = Some(created.clone());
                    created
                }
            };
            let number = (record.parts.len() + new_parts.len() + 1) as i32;
            let stored = objects::put_part(&app.blobs, record.id, &multipart_id, number, part)
                .await
                .map_err(ApiError::Internal)?;
            new_parts.push(stored);
        }
    };
    Ok(Progress {
        bytes,
        pending: buffer.to_vec(),
        new_parts,
        interrupted,
    })
}
