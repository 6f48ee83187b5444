//! What the technician sees: the day's job list (`field jobs`) and one job with its evidence and
//! derived status (`field show`), both from the local documents only.

use std::collections::BTreeSet;

use serde::Serialize;
use sync_protocol::DocumentId;
use sync_protocol::index::IndexedJob;
use sync_protocol::job::{CompletionCondition, JobDocument, JobEvaluation, JobStatus, Sha256Hex};

use super::Tablet;
use crate::error::ClientError;
use crate::store::documents::DocumentKind;
use crate::store::uploads::{PendingUpload, UploadState};

/// One line of `field jobs`.
#[derive(Debug, Clone, Serialize)]
pub struct JobLine {
    #[serde(flatten)]
    pub listed: IndexedJob,
    /// Derived from the local document; `None` until the job's document is downloaded.
    pub local_status: Option<JobStatus>,
    /// Local changes the server has not acknowledged.
    pub pending_changes: usize,
}

/// Everything `field show` reports about one job.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub job_id: DocumentId,
    pub url: String,
    pub job: JobDocument,
    /// As the server would evaluate it with the uploads it has verified so far.
    pub evaluation: JobEvaluation,
    /// What would still be missing once every queued upload reaches the server.
    pub missing_once_uploaded: Vec<CompletionCondition>,
    pub uploads: Vec<PendingUpload>,
    pub pending_changes: usize,
}

impl JobView {
    /// True when only the queued uploads stand between the job and completion.
    pub fn complete_once_uploaded(&self) -> bool {
        self.missing_once_uploaded.is_empty()
    }
}

impl Tablet {
    /// The technician's jobs in window order, with their local status.
    pub fn jobs(&self) -> Result<Vec<JobLine>, ClientError> {
        self.store().require_login()?;
        let index = self.job_list()?;
        index
            .jobs
            .into_iter()
            .map(|listed| {
                let stored = self.store().load_document(listed.job_id)?;
                let local_status = match stored {
                    Some(doc) => {
                        let job = JobDocument::read(&doc)?;
                        let verified = self.verified_uploads(listed.job_id)?;
                        Some(job.evaluate(&verified, None).status)
                    }
                    None => None,
                };
                Ok(JobLine {
                    pending_changes: self.store().pending_changes(listed.job_id)?,
                    listed,
                    local_status,
                })
            })
            .collect()
    }

    /// One job with its visit evidence, uploads and derived status. Any job stored on the
    /// tablet can be shown, including one reassigned away (it is read only then).
    pub fn show(&self, input: &str) -> Result<JobView, ClientError> {
        let mut known = self.store().document_ids(DocumentKind::Job)?;
        if let Ok(index) = self.job_list() {
            known.extend(index.jobs.iter().map(|j| j.job_id));
        }
        let id = self.resolve_job(input, &known)?;
        let doc = self
            .store()
            .load_document(id)?
            .ok_or(ClientError::JobNotDownloaded(id))?;
        let job = JobDocument::read(&doc)?;
        let uploads = self.store().job_uploads(id)?;
        let verified = self.verified_uploads(id)?;
        let queued: BTreeSet<Sha256Hex> = uploads
            .iter()
            .filter(|u| u.state != UploadState::Refused)
            .map(|u| u.sha256.clone())
            .collect();
        Ok(JobView {
            job_id: id,
            url: id.to_url(),
            evaluation: job.evaluate(&verified, None),
            missing_once_uploaded: job.evaluate(&queued, None).missing,
            pending_changes: self.store().pending_changes(id)?,
            job,
            uploads,
        })
    }

    /// Attachments of `job` the server has stored and verified.
    fn verified_uploads(&self, job: DocumentId) -> Result<BTreeSet<Sha256Hex>, ClientError> {
        Ok(self
            .store()
            .job_uploads(job)?
            .into_iter()
            .filter(|u| u.state == UploadState::Uploaded)
            .map(|u| u.sha256)
            .collect())
    }
}
