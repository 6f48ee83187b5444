//! Evidence downloads and the job's evidence bundle:
//! - `GET /api/v1/jobs/{id}/attachments`: what is stored for the job;
//! - `GET /api/v1/jobs/{id}/attachments/{sha256}/{variant}`: `display` and `thumbnail`
//!   (upright, no metadata) for anyone who may see the job, `original` for dispatchers and admins;
//! - `GET /api/v1/jobs/{id}/evidence`: a tar archive with the originals, the timeline, the
//!   projection and a manifest of SHA-256s, for the archive (rule 8).

use aws_sdk_s3::primitives::ByteStream;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde_json::json;

use super::json::AppJson;
use super::json::Path;
use crate::auth::Caller;
use crate::blob::BlobStore;
use crate::directory::Role;
use crate::error::ApiError;
use crate::jobs::attachments::{self, Attachment};
use crate::state::AppState;
use crate::uploads::objects;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<AppJson<Vec<Attachment>>, ApiError> {
    let job = crate::jobs::resolve(&state.db, &caller, &id).await?;
    Ok(AppJson(attachments::list(&state.db, &caller, job).await?))
}

/// Streams a derivative (or, for the roles allowed, the original) from object storage: never
/// the whole file in memory. Content addressed, so an `If-None-Match` with its ETag gets 304.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, sha256, variant)): Path<(String, String, String)>,
    headers: header::HeaderMap,
) -> Result<Response, ApiError> {
    let job = crate::jobs::resolve(&state.db, &caller, &id).await?;
    send_file(&state, &caller, job, &sha256, &variant, &headers).await
}

/// A stored file of `job` as a response, for any door that has authenticated `caller`.
pub(crate) async fn send_file(
    state: &AppState,
    caller: &Caller,
    job: uuid::Uuid,
    sha256: &str,
    variant: &str,
    headers: &header::HeaderMap,
) -> Result<Response, ApiError> {
    let attachment = attachments::list(&state.db, caller, job)
        .await?
        .into_iter()
        .find(|a| a.sha256 == sha256)
        .ok_or(ApiError::NotFound)?;
    let (key, content_type) = match variant {
        "display" | "thumbnail" if attachment.has_derivatives => (
            objects::derivative_key(sha256, variant),
            "image/jpeg".to_owned(),
        ),
        "original" => {
            // The original keeps its metadata (GPS included): not for every role.
            caller.require(&[Role::Dispatcher, Role::Admin])?;
            (objects::original_key(sha256), attachment.content_type)
        }
        _ => return Err(ApiError::NotFound),
    };
    let etag = format!("\"{sha256}-{variant}\"");
    let cache = "private, max-age=3600".to_owned();
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|wanted| {
            wanted
                .split(',')
                .any(|t| t.trim() == etag || t.trim() == "*")
        })
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let (body, length) = objects::get(&state.blobs, &key)
        .await
        .map_err(ApiError::Internal)?
        .ok_or(ApiError::NotFound)?;
    let chunks = futures_util::stream::unfold(Some(body), |body| async move {
        let mut body = body?;
        match body.try_next().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(body))),
            Ok(None) => None,
            // The client sees the response cut short; nothing more is read.
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    });
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::ETAG, etag),
        ],
        Body::from_stream(chunks),
    )
        .into_response();
    if let Some(length) = length.filter(|l| *l >= 0) {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, header::HeaderValue::from(length));
    }
    Ok(response)
}

/// The evidence bundle: a tar of the originals, the timeline, the job and a manifest of
/// SHA-256s. Streamed: each original goes from object storage to the client as it is read, so
/// the bundle of a job with many large photos never sits in memory. The originals' sizes are
/// known (verified at upload), so the length is sent up front; an original that turns out
/// missing or of another length cuts the response short rather than send a wrong archive.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = crate::jobs::resolve(&state.db, &caller, &id).await?;
    evidence_bundle(&state, &caller, job).await
}

/// Job `job`'s evidence bundle as a response, for any door that has authenticated `caller`.
pub(crate) async fn evidence_bundle(
    state: &AppState,
    caller: &Caller,
    job: uuid::Uuid,
) -> Result<Response, ApiError> {
    // The bundle holds the originals, metadata (GPS) included: the roles that may see them.
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let attachments = attachments::list(&state.db, caller, job).await?;
    let view = crate::jobs::view::job_view(state, caller, job).await?;
    let mut parts = Vec::new();
    let mut files = Vec::new();
    for attachment in &attachments {
        let extension = match attachment.content_type.as_str() {
            "image/png" => "png",
            "image/webp" => "webp",
            _ => "jpg",
        };
        let name = format!("{}/{}.{extension}", attachment.kind, attachment.sha256);
        let size = u64::try_from(attachment.size).unwrap_or_default();
        parts.push(Part::Data(tar_header(&name, size)?));
        parts.push(Part::Object {
            key: objects::original_key(&attachment.sha256),
            size,
        });
        parts.push(Part::Data(padding(size)));
        files.push(json!({"path": name, "sha256": attachment.sha256, "size": size, "kind": attachment.kind}));
    }
    let timeline =
        serde_json::to_vec_pretty(&view.timeline).map_err(|e| ApiError::Internal(e.into()))?;
    let job_json = serde_json::to_vec_pretty(&view).map_err(|e| ApiError::Internal(e.into()))?;
    for (name, bytes) in [("timeline.json", &timeline), ("job.json", &job_json)] {
        files.push(json!({"path": name, "sha256": sha256_hex(bytes), "size": bytes.len()}));
    }
    let manifest = json!({
        "job_id": job,
        "document_url": view.document_url,
        "exported_at": Utc::now(),
        "exported_by": caller.staff_id,
        "files": files,
    });
    let manifest =
        serde_json::to_vec_pretty(&manifest).map_err(|e| ApiError::Internal(e.into()))?;
    for (name, bytes) in [
        ("timeline.json", timeline),
        ("job.json", job_json),
        ("manifest.json", manifest),
    ] {
        let size = bytes.len() as u64;
        parts.push(Part::Data(tar_header(name, size)?));
        parts.push(Part::Data(Bytes::from(bytes)));
        parts.push(Part::Data(padding(size)));
    }
    // The end of the archive: two empty blocks.
    parts.push(Part::Data(Bytes::from(vec![0; 1024])));
    let length: u64 = parts
        .iter()
        .map(|part| match part {
            Part::Data(bytes) => bytes.len() as u64,
            Part::Object { size, .. } => *size,
        })
        .sum();
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"job-{job}-evidence.tar\""),
            ),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        Body::from_stream(tar_stream(state.blobs.clone(), parts)),
    )
        .into_response())
}

/// A piece of the bundle: bytes at hand, or an object to stream of a known size.
enum Part {
    Data(Bytes),
    Object { key: String, size: u64 },
}

fn tar_header(name: &str, size: u64) -> Result<Bytes, ApiError> {
    let mut header = tar::Header::new_gnu();
    header
        .set_path(name)
        .map_err(|e| ApiError::Internal(e.into()))?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(u64::try_from(Utc::now().timestamp()).unwrap_or_default());
    header.set_cksum();
    Ok(Bytes::copy_from_slice(header.as_bytes()))
}

/// Zeros up to the next 512-byte block.
fn padding(size: u64) -> Bytes {
    Bytes::from(vec![0; ((512 - size % 512) % 512) as usize])
}

/// The bundle's bytes in order, objects read from storage as they are sent.
fn tar_stream(
    blobs: BlobStore,
    parts: Vec<Part>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    struct Cursor {
        blobs: BlobStore,
        parts: std::vec::IntoIter<Part>,
        /// The object being sent, the bytes it still owes, and its key.
        current: Option<(ByteStream, u64, String)>,
    }
    let cut = |why: String| Some((Err(std::io::Error::other(why)), None));
    let start = Cursor {
        blobs,
        parts: parts.into_iter(),
        current: None,
    };
    futures_util::stream::unfold(Some(start), move |cursor| async move {
        let mut cursor = cursor?;
        loop {
            if let Some((body, owed, key)) = cursor.current.as_mut() {
                match body.try_next().await {
                    Ok(Some(chunk)) if chunk.len() as u64 <= *owed => {
                        *owed -= chunk.len() as u64;
                        return Some((Ok(chunk), Some(cursor)));
                    }
                    Ok(Some(_)) => return cut(format!("{key} is longer than recorded")),
                    Ok(None) if *owed == 0 => cursor.current = None,
                    Ok(None) => return cut(format!("{key} is shorter than recorded")),
                    Err(e) => return cut(format!("reading {key}: {e}")),
                }
                continue;
            }
            match cursor.parts.next()? {
                Part::Data(bytes) => return Some((Ok(bytes), Some(cursor))),
                Part::Object { key, size } => match objects::get(&cursor.blobs, &key).await {
                    Ok(Some((body, _))) => cursor.current = Some((body, size, key)),
                    Ok(None) => return cut(format!("{key} is missing from the bucket")),
                    Err(e) => return cut(format!("reading {key}: {e:#}")),
                },
            }
        }
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
