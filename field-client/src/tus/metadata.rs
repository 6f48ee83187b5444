//! `Upload-Metadata`: comma-separated `key base64(value)` pairs, carrying what the server needs
//! to file and verify the attachment.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::store::uploads::PendingUpload;

/// The header value for `upload`: its SHA-256, job, kind and content type.
pub(super) fn encode(upload: &PendingUpload) -> String {
    let job_id = upload.job_id.to_string();
    [
        ("sha256", upload.sha256.as_str()),
        ("job_id", job_id.as_str()),
        ("kind", upload.kind.as_str()),
        ("content_type", upload.content_type.as_str()),
    ]
    .iter()
    .map(|(key, value)| format!("{key} {}", STANDARD.encode(value)))
    .collect::<Vec<_>>()
    .join(",")
}
