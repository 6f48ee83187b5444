//! The upload queue's online half: each pending attachment goes to the server over tus 1.0
//! (creation, then `PATCH` in chunks), resumable across crashes and bad networks.
//!
//! - The upload URL is recorded as soon as the server creates it, and the offset after every
//!   acknowledged `PATCH`, so a killed `field sync` resumes with `HEAD` where the server is.
//! - A vanished upload (404/410: expired, terminated, failed verification) starts over.
//! - A file the server refuses for good (unreadable, wrong type, too large, corrupted) is marked
//!   refused with the server's reason and not sent again; the technician retakes it.
//! - The server stores each file once by SHA-256, so a duplicate upload costs bytes, never a
//!   second object.

mod metadata;

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};

use crate::ClientError;
use crate::store::Store;
use crate::store::uploads::{PendingUpload, UploadKind, UploadState};
use crate::sync::SyncError;
use crate::sync::api::{ServerApi, expect_success, server_message};
use crate::sync::backoff::Backoff;
use crate::sync::report::{RefusedUpload, SyncReport, UploadedFile};

/// Bytes per `PATCH`: small enough to lose little on a dropped connection.
const CHUNK: usize = 1024 * 1024;
const TUS_VERSION: &str = "1.0.0";
/// Pauses while the server finishes receiving an earlier `PATCH` of the same upload (one the
/// network cut off); then the file waits for the next run.
const BUSY_WAITS: [Duration; 4] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];
/// How often one file may start over (expired or refused uploads) within one run.
const MAX_RESTARTS: u32 = 2;

/// Sends every queued attachment; failures of one file are reported and the rest continue,
/// except a refused token or an unreachable server, which end the run.
pub async fn upload_pending(
    store: &mut Store,
    api: &ServerApi,
    backoff: &Backoff,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    for upload in store.uploads(false)? {
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            // As the store has it now: a retry resumes the upload the last attempt created
            // (HEAD, then PATCH from the server's offset) instead of starting a new one.
            let upload = store.upload(upload.id)?.unwrap_or_else(|| upload.clone());
            match send_file(store, api, &upload).await {
                Err(error) if error.is_transient() && attempt < backoff.attempts => {
                    backoff.pause(attempt).await;
                }
                other => break other,
            }
        };
        match outcome {
            Ok(bytes_sent) => report.uploaded.push(UploadedFile {
                job_id: upload.job_id,
                kind: upload.kind,
                sha256: upload.sha256.as_str().to_owned(),
                bytes_sent,
            }),
            Err(error @ (SyncError::TokenRefused | SyncError::Unreachable { .. })) => {
                return Err(error);
            }
            Err(SyncError::Server {
                status, message, ..
            }) if refuses_the_file(status) => {
                let reason = format!("{message} ({status})");
                store.record_upload_refused(upload.id, &reason)?;
                report.refused_uploads.push(RefusedUpload {
                    job_id: upload.job_id,
                    kind: upload.kind,
                    sha256: upload.sha256.as_str().to_owned(),
                    reason,
                    retake: retake_command(&upload),
                });
            }
            Err(error) => report.upload_failures.push(format!(
                "{} photo {}: {error}",
                upload.kind.as_str(),
                &upload.sha256.as_str()[..12]
            )),
        }
    }
    Ok(())
}

/// Answers about the file itself, which sending it again cannot change: a malformed or
/// unreadable image (400, 422), a type the office does not store (415), too large (413), bytes
/// that do not match their SHA-256 (460).
fn refuses_the_file(status: u16) -> bool {
    matches!(status, 400 | 413 | 415 | 422 | 460)
}

/// The command that replaces a refused file.
fn retake_command(upload: &PendingUpload) -> String {
    let job: String = upload.job_id.to_string().chars().take(8).collect();
    match upload.kind {
        UploadKind::Signature => format!("sign {job} --signer NAME --strokes FILE"),
        kind => format!("photo {job} --kind {} FILE", kind.as_str()),
    }
}

/// Sends one file, resuming a recorded upload when the server still has it; the bytes sent.
async fn send_file(
    store: &mut Store,
    api: &ServerApi,
    upload: &PendingUpload,
) -> Result<u64, SyncError> {
    let path = store.home().attachment_path(&upload.file);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ClientError::file("read", path, e))?;
    let mut resume = match (&upload.state, &upload.upload_url) {
        (UploadState::Uploading, Some(url)) => Some(url.clone()),
        _ => None,
    };
    let mut sent = 0;
    for _ in 0..=MAX_RESTARTS {
        let existing = match resume.take() {
            Some(url) => offset_of(api, &url).await?.map(|offset| (url, offset)),
            None => None,
        };
        let (url, offset) = match existing {
            Some(found) => found,
            None => create(store, api, upload).await?,
        };
        match patch_from(store, api, upload, &url, offset, &bytes).await? {
            Patched::Complete(bytes_sent) => {
                store.record_upload_finished(upload.id)?;
                return Ok(sent + bytes_sent);
            }
            Patched::Gone(bytes_sent) => sent += bytes_sent,
        }
    }
    Err(SyncError::Server {
        what: "the upload",
        status: 410,
        message: "the server kept discarding it".to_owned(),
    })
}

/// How a run of `PATCH`es ended.
enum Patched {
    /// The server has every byte (and verified the SHA-256); bytes sent.
    Complete(u64),
    /// The upload vanished (expired, terminated, refused): start a new one; bytes sent.
    Gone(u64),
}

/// `POST /api/v1/uploads`: a new upload, recorded before any byte is sent.
async fn create(
    store: &mut Store,
    api: &ServerApi,
    upload: &PendingUpload,
) -> Result<(String, u64), SyncError> {
    let request = api
        .request(Method::POST, "/api/v1/uploads")
        .header("tus-resumable", TUS_VERSION)
        .header("upload-length", upload.size.to_string())
        .header("upload-metadata", metadata::encode(upload));
    let response = expect_success(api.send(request).await?, "the upload").await?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            SyncError::Protocol("the server created an upload without a Location".into())
        })?;
    let url = api.url(location);
    let offset = upload_offset(&response).unwrap_or(0);
    store.record_upload_started(upload.id, &url)?;
    if offset > 0 {
        store.record_upload_offset(upload.id, offset)?;
    }
    Ok((url, offset))
}

/// `HEAD`: where the server's copy of an upload ends, or `None` if it is gone.
async fn offset_of(api: &ServerApi, url: &str) -> Result<Option<u64>, SyncError> {
    let request = api
        .request(Method::HEAD, url)
        .header("tus-resumable", TUS_VERSION);
    let response = api.send(request).await?;
    if matches!(response.status(), StatusCode::NOT_FOUND | StatusCode::GONE) {
        return Ok(None);
    }
    let response = expect_success(response, "the upload's progress").await?;
    upload_offset(&response)
        .map(Some)
        .ok_or_else(|| SyncError::Protocol("the server did not say where to resume".into()))
}

/// `PATCH`es the rest of `bytes` from `offset`, recording each acknowledged offset.
async fn patch_from(
    store: &mut Store,
    api: &ServerApi,
    upload: &PendingUpload,
    url: &str,
    mut offset: u64,
    bytes: &[u8],
) -> Result<Patched, SyncError> {
    let mut sent = 0;
    let mut busy = 0;
    let total = bytes.len() as u64;
    while offset < total {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let chunk = &bytes[start..(start + CHUNK).min(bytes.len())];
        let request = api
            .request(Method::PATCH, url)
            .header("tus-resumable", TUS_VERSION)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .timeout(Duration::from_secs(120))
            .body(chunk.to_vec());
        let response = api.send(request).await?;
        match response.status() {
            StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(Patched::Gone(sent)),
            // Our offset is stale (an earlier PATCH landed after all): ask and go on. The same
            // offset means the server is still receiving an earlier, cut-off PATCH: wait for it.
            StatusCode::CONFLICT => match offset_of(api, url).await? {
                Some(now) if now != offset => offset = now,
                Some(_) if busy < BUSY_WAITS.len() => {
                    tokio::time::sleep(BUSY_WAITS[busy]).await;
                    busy += 1;
                }
                Some(_) => {
                    return Err(SyncError::Server {
                        what: "the upload",
                        status: 409,
                        message: "the server is still receiving an earlier attempt".to_owned(),
                    });
                }
                None => return Ok(Patched::Gone(sent)),
            },
            status if status.is_success() => {
                let now = upload_offset(&response).unwrap_or(offset + chunk.len() as u64);
                sent += now.saturating_sub(offset);
                offset = now;
                store.record_upload_offset(upload.id, offset)?;
            }
            status => {
                return Err(SyncError::Server {
                    what: "the upload",
                    status: status.as_u16(),
                    message: server_message(response).await,
                });
            }
        }
    }
    Ok(Patched::Complete(sent))
}

fn upload_offset(response: &Response) -> Option<u64> {
    response
        .headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}
