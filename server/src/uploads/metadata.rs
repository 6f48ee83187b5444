//! `Upload-Metadata`: comma-separated `key base64(value)` pairs. Ours must carry the whole
//! file's SHA-256, the job, the kind of evidence and the content type.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use uuid::Uuid;

use crate::error::ApiError;

/// What the evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    Signature,
    FeedbackCard,
    Cleanup,
    Other,
}

impl AttachmentKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "signature" => Some(Self::Signature),
            "feedback_card" => Some(Self::FeedbackCard),
            "cleanup" => Some(Self::Cleanup),
            "other" => Some(Self::Other),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::FeedbackCard => "feedback_card",
            Self::Cleanup => "cleanup",
            Self::Other => "other",
        }
    }
}

/// Content types we store: photos and rendered signatures.
pub const ACCEPTED_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// The validated metadata of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMetadata {
    pub sha256: String,
    pub job_id: Uuid,
    pub kind: AttachmentKind,
    pub content_type: String,
}

pub fn parse(header: Option<&str>) -> Result<UploadMetadata, ApiError> {
    let pairs = decode_pairs(header.unwrap_or_default())?;
    let field = |name: &str| {
        pairs.get(name).cloned().ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Upload-Metadata must carry `{name}` (sha256, job_id, kind and content_type are required)"
            ))
        })
    };
    let sha256 = field("sha256")?.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(
            "sha256 must be the whole file's SHA-256 as 64 hexadecimal digits".into(),
        ));
    }
    let job_id = sync_protocol::DocumentId::parse(&field("job_id")?)
        .map(|id| id.as_uuid())
        .map_err(|_| ApiError::BadRequest("job_id is not a job id".into()))?;
    let kind = AttachmentKind::parse(&field("kind")?).ok_or_else(|| {
        ApiError::BadRequest("kind must be one of signature, feedback_card, cleanup, other".into())
    })?;
    let content_type = field("content_type")?.to_ascii_lowercase();
    if content_type.contains("heic") || content_type.contains("heif") {
        return Err(ApiError::UnsupportedMedia(
            "HEIC photos are not accepted: set the camera to 'Most Compatible' (JPEG) or convert the photo to JPEG".into(),
        ));
    }
    if !ACCEPTED_TYPES.contains(&content_type.as_str()) {
        return Err(ApiError::UnsupportedMedia(format!(
            "content_type {content_type} is not accepted: send JPEG, PNG or WebP"
        )));
    }
    Ok(UploadMetadata {
        sha256,
        job_id,
        kind,
        content_type,
    })
}

fn decode_pairs(header: &str) -> Result<HashMap<String, String>, ApiError> {
    let mut pairs = HashMap::new();
    for pair in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = STANDARD.decode(value.trim()).map_err(|_| {
            ApiError::BadRequest(format!("Upload-Metadata value of `{key}` is not base64"))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ApiError::BadRequest(format!("Upload-Metadata value of `{key}` is not UTF-8"))
        })?;
        pairs.insert(key.to_owned(), text);
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(pairs: &[(&str, &str)]) -> String {
        pairs
            .iter()
            .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn parses_our_metadata_and_refuses_what_is_missing_or_wrong() {
        let job = Uuid::new_v4();
        let sha = "a".repeat(64);
        let ok = header(&[
            ("sha256", &sha),
            ("job_id", &job.to_string()),
            ("kind", "feedback_card"),
            ("content_type", "image/jpeg"),
            ("filename", "card.jpg"),
        ]);
        let parsed = parse(Some(&ok)).unwrap();
        assert_eq!(parsed.job_id, job);
        assert_eq!(parsed.kind, AttachmentKind::FeedbackCard);
        let heic = header(&[
            ("sha256", &sha),
            ("job_id", &job.to_string()),
            ("kind", "cleanup"),
            ("content_type", "image/heic"),
        ]);
        assert!(
            matches!(parse(Some(&heic)), Err(ApiError::UnsupportedMedia(m)) if m.contains("JPEG"))
        );
        assert!(matches!(parse(None), Err(ApiError::BadRequest(_))));
        assert!(matches!(
            parse(Some("sha256 !!!")),
            Err(ApiError::BadRequest(_))
        ));
        let short = header(&[
            ("sha256", "abc"),
            ("job_id", &job.to_string()),
            ("kind", "cleanup"),
            ("content_type", "image/png"),
        ]);
        assert!(matches!(parse(Some(&short)), Err(ApiError::BadRequest(m)) if m.contains("64")));
    }
}
