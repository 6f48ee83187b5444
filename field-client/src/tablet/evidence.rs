//! Evidence with bytes: the customer's signature (rendered to PNG) and photos of the feedback
//! card or the cleaned site. The document references each file by SHA-256; the bytes are kept
//! under the home directory and queued for upload in the same transaction.

use std::path::Path;

use serde::Serialize;
use sync_protocol::job::{CleanupEntry, FeedbackCardEntry, SignatureCapture};

use super::{Outcome, QueuedAttachment, Recorded, Tablet, Visit};
use crate::attachment::EvidenceFile;
use crate::error::ClientError;
use crate::signature_image::{read_strokes, render_png};
use crate::store::uploads::{NewUpload, UploadKind, queue_upload};

/// What a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoKind {
    /// The paper feedback card the customer filled in (rules 5 and 8).
    FeedbackCard,
    /// The cleaned site (rule 6).
    Cleanup,
}

/// What the technician typed in from a feedback card.
#[derive(Debug, Clone, Default)]
pub struct CardNotes<'a> {
    pub rating: Option<i64>,
    pub comment: Option<&'a str>,
}

impl Tablet {
    /// Captures the customer's signature from a strokes file, bound to the job as it is now.
    pub fn sign(
        &mut self,
        job: &str,
        signer_name: &str,
        strokes: &Path,
    ) -> Result<Recorded, ClientError> {
        let strokes = read_strokes(strokes)?;
        let image = EvidenceFile::from_bytes(render_png(&strokes)?, "image/png");
        let capture = SignatureCapture {
            strokes,
            image_sha256: image.sha256.to_string(),
            signer_name: signer_name.to_owned(),
        };
        self.act(job, "signature_captured", |mut visit| {
            let summary = visit.actions.capture_signature(&capture, visit.at)?;
            let queued = keep_and_queue(&visit, &image, UploadKind::Signature)?;
            Ok(Outcome {
                detail: Some(format!("signed by {}", signer_name.trim())),
                attachments: vec![queued],
                summary_sha256: Some(summary.to_string()),
            })
        })
    }

    /// Attaches photos: several of one feedback card, or one of the cleaned site (which needs
    /// the cleanup confirmed first, since the photo belongs to that confirmation).
    pub fn attach_photos(
        &mut self,
        job: &str,
        kind: PhotoKind,
        files: &[&Path],
        card: &CardNotes<'_>,
    ) -> Result<Recorded, ClientError> {
        if kind == PhotoKind::Cleanup && (card.rating.is_some() || card.comment.is_some()) {
            return Err(ClientError::RatingOutsideFeedbackCard);
        }
        if kind == PhotoKind::Cleanup && files.len() != 1 {
            return Err(ClientError::OneCleanupPhoto);
        }
        let photos = files
            .iter()
            .map(|path| EvidenceFile::read_photo(path))
            .collect::<Result<Vec<_>, _>>()?;
        match kind {
            PhotoKind::FeedbackCard => self.add_feedback_card(job, &photos, card),
            PhotoKind::Cleanup => self.add_cleanup_photo(job, &photos),
        }
    }

    fn add_feedback_card(
        &mut self,
        job: &str,
        photos: &[EvidenceFile],
        card: &CardNotes<'_>,
    ) -> Result<Recorded, ClientError> {
        let entry = FeedbackCardEntry {
            photo_sha256s: photos.iter().map(|p| p.sha256.to_string()).collect(),
            rating: card.rating,
            comment: card.comment.map(str::to_owned),
        };
        self.act(job, "feedback_card_added", |mut visit| {
            visit.actions.add_feedback_card(&entry, visit.at)?;
            let attachments = photos
                .iter()
                .map(|photo| keep_and_queue(&visit, photo, UploadKind::FeedbackCard))
                .collect::<Result<_, _>>()?;
            let detail = match card.rating {
                Some(stars) => format!("{} photo(s), {stars} stars", photos.len()),
                None => format!("{} photo(s)", photos.len()),
            };
            Ok(Outcome {
                detail: Some(detail),
                attachments,
                summary_sha256: None,
            })
        })
    }

    fn add_cleanup_photo(
        &mut self,
        job: &str,
        photos: &[EvidenceFile],
    ) -> Result<Recorded, ClientError> {
        let [photo] = photos else {
            return Err(ClientError::OneCleanupPhoto);
        };
        self.act(job, "cleanup_confirmed", |mut visit| {
            let Some(cleanup) = visit.job.visit.cleanup.clone() else {
                return Err(ClientError::CleanupNotConfirmed);
            };
            // The photo is part of the confirmation: write it again, unchanged but for the
            // photo, at its original time.
            let entry = CleanupEntry {
                site_cleaned: cleanup.site_cleaned,
                debris: cleanup.debris,
                consented_by: cleanup.consented_by,
                departure_witnessed: cleanup.departure_witnessed,
                photo_sha256: Some(photo.sha256.to_string()),
            };
            visit.actions.confirm_cleanup(&entry, cleanup.at)?;
            let queued = keep_and_queue(&visit, photo, UploadKind::Cleanup)?;
            Ok(Outcome {
                detail: Some("cleanup photo".to_owned()),
                attachments: vec![queued],
                summary_sha256: None,
            })
        })
    }
}

/// Keeps the bytes on disk (fsynced) and queues their upload in the visit's transaction.
pub(super) fn keep_and_queue(
    visit: &Visit<'_, '_>,
    file: &EvidenceFile,
    kind: UploadKind,
) -> Result<QueuedAttachment, ClientError> {
    let name = file.keep(visit.home)?;
    let size = file.bytes.len() as u64;
    queue_upload(
        visit.conn,
        &NewUpload {
            job_id: visit.id,
            kind,
            sha256: &file.sha256,
            content_type: file.content_type,
            size,
            file: &name,
        },
    )?;
    Ok(QueuedAttachment {
        kind: kind.as_str(),
        sha256: file.sha256.to_string(),
        content_type: file.content_type,
        size,
    })
}
