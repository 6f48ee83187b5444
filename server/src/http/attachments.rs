//! Evidence downloads and the job's evidence bundle:
//! - `GET /api/v1/jobs/{id}/attachments`: what is stored for the job;
//! - `GET /api/v1/jobs/{id}/attachments/{sha256}/{variant}`: `display` and `thumbnail`
//!   (upright, no metadata) for anyone who may see the job, `original` for dispatchers and admins;
//! - `GET /api/v1/jobs/{id}/evidence`: a tar archive with the originals, the timeline, the
//!   projection and a manifest of SHA-256s, for the archive (rule 8).

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::jobs::parse_job_id;
use super::json::AppJson;
use super::json::Path;
use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::jobs::document_access;
use crate::state::AppState;
use crate::uploads::objects;

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Attachment {
    sha256: String,
    kind: String,
    content_type: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    has_derivatives: bool,
    uploaded_by: Uuid,
    created_at: DateTime<Utc>,
}

async fn attachments_of(state: &AppState, job: Uuid) -> Result<Vec<Attachment>, ApiError> {
    Ok(sqlx::query_as(
        r#"select a.sha256, a.kind, b.content_type, b.size, b.width, b.height, b.has_derivatives,
                  a.uploaded_by, a.created_at
           from attachments a join blobs b on b.sha256 = a.sha256
           where a.job_id = $1 order by a.created_at, a.sha256"#,
    )
    .bind(job)
    .fetch_all(&state.db)
    .await?)
}

async fn visible_job(state: &AppState, caller: &Caller, id: &str) -> Result<Uuid, ApiError> {
    let job = parse_job_id(id)?;
    document_access(&state.db, caller, job)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(job)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<AppJson<Vec<Attachment>>, ApiError> {
    let job = visible_job(&state, &caller, &id).await?;
    Ok(AppJson(attachments_of(&state, job).await?))
}

/// Streams a derivative (or, for the roles allowed, the original) from object storage: never
/// the whole file in memory. Content addressed, so an `If-None-Match` with its ETag gets 304.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, sha256, variant)): Path<(String, String, String)>,
    headers: header::HeaderMap,
) -> Result<Response, ApiError> {
    let job = visible_job(&state, &caller, &id).await?;
    let attachment = attachments_of(&state, job)
        .await?
        .into_iter()
        .find(|a| a.sha256 == sha256)
        .ok_or(ApiError::NotFound)?;
    let (key, content_type) = match variant.as_str() {
        "display" | "thumbnail" if attachment.has_derivatives => (
            objects::derivative_key(&sha256, &variant),
            "image/jpeg".to_owned(),
        ),
        "original" => {
            // The original keeps its metadata (GPS included): not for every role.
            caller.require(&[Role::Dispatcher, Role::Admin])?;
            (objects::original_key(&sha256), attachment.content_type)
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

async fn read(state: &AppState, key: &str) -> Result<Vec<u8>, ApiError> {
    let (mut body, _) = objects::get(&state.blobs, key)
        .await
        .map_err(ApiError::Internal)?
        .ok_or(ApiError::NotFound)?;
    let mut bytes = Vec::new();
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading {key}: {e}")))?
    {
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // The bundle holds the originals, metadata (GPS) included: the roles that may see them.
    caller.require(&[Role::Dispatcher, Role::Admin])?;
    let job = visible_job(&state, &caller, &id).await?;
    let view = crate::jobs::view::job_view(&state, &caller, job).await?;
    let attachments = attachments_of(&state, job).await?;
    let mut archive = tar::Builder::new(Vec::new());
    let mut files = Vec::new();
    for attachment in &attachments {
        let bytes = read(&state, &objects::original_key(&attachment.sha256)).await?;
        let extension = match attachment.content_type.as_str() {
            "image/png" => "png",
            "image/webp" => "webp",
            _ => "jpg",
        };
        let name = format!("{}/{}.{extension}", attachment.kind, attachment.sha256);
        append(&mut archive, &name, &bytes)?;
        files.push(json!({"path": name, "sha256": attachment.sha256, "size": bytes.len(), "kind": attachment.kind}));
    }
    let timeline =
        serde_json::to_vec_pretty(&view.timeline).map_err(|e| ApiError::Internal(e.into()))?;
    append(&mut archive, "timeline.json", &timeline)?;
    let job_json = serde_json::to_vec_pretty(&view).map_err(|e| ApiError::Internal(e.into()))?;
    append(&mut archive, "job.json", &job_json)?;
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
    append(&mut archive, "manifest.json", &manifest)?;
    let bytes = archive
        .into_inner()
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"job-{job}-evidence.tar\""),
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
}

fn append(archive: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(u64::try_from(Utc::now().timestamp()).unwrap_or_default());
    header.set_cksum();
    archive
        .append_data(&mut header, name, bytes)
        .map_err(|e| ApiError::Internal(e.into()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
