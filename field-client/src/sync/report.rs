//! What a sync run did, for the technician (text) and for scripts (`--json`).

use serde::Serialize;
use sync_protocol::DocumentId;

use crate::status::SyncBacklog;
use crate::store::uploads::UploadKind;

/// The outcome of one `field sync`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub server_url: String,
    /// Documents exchanged with the server (the job list included).
    pub documents: usize,
    /// Local changes sent to the server.
    pub changes_sent: usize,
    /// Changes received from the server and stored here.
    pub changes_received: usize,
    /// Changes the server refused: they stay on this tablet, still pending.
    pub refused: Vec<Refusal>,
    /// Jobs the server no longer shares with this tablet (reassigned, archived); the local
    /// copy stays readable.
    pub unavailable: Vec<DocumentId>,
    /// Files the server now holds.
    pub uploaded: Vec<UploadedFile>,
    /// Files that could not be sent this time (they stay queued).
    pub upload_failures: Vec<String>,
    /// Files the server refused for good in this run: not sent again, to be taken again.
    pub refused_uploads: Vec<RefusedUpload>,
    /// Local changes the server has not acknowledged after this run.
    pub pending_changes: usize,
    /// Files still waiting for upload after this run.
    pub pending_uploads: usize,
    /// Anything else worth knowing.
    pub notes: Vec<String>,
}

/// Changes the server would not take, with its reason.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub document_id: Option<DocumentId>,
    pub message: String,
}

/// A file the server will never store (unreadable, wrong type, too large, corrupted).
#[derive(Debug, Clone, Serialize)]
pub struct RefusedUpload {
    pub job_id: DocumentId,
    pub kind: UploadKind,
    pub sha256: String,
    /// The server's reason and status.
    pub reason: String,
    /// The `field` command that replaces it.
    pub retake: String,
}

/// One file the server stored.
#[derive(Debug, Clone, Serialize)]
pub struct UploadedFile {
    pub job_id: DocumentId,
    pub kind: UploadKind,
    pub sha256: String,
    /// Bytes sent in this run (0 when the server already had them).
    pub bytes_sent: u64,
}

impl SyncReport {
    pub(crate) fn new(server_url: &str) -> Self {
        Self {
            server_url: server_url.to_owned(),
            ..Self::default()
        }
    }

    /// Takes the remaining backlog into the report.
    pub(crate) fn finish(&mut self, backlog: &SyncBacklog) {
        self.pending_changes = backlog.pending_changes.iter().map(|d| d.changes).sum();
        self.pending_uploads = backlog.pending_uploads.len();
    }

    /// The short text shown without `--json`.
    pub fn text(&self) -> String {
        let mut lines = vec![format!(
            "Synced with {}: {} documents, {} changes sent, {} received, {} files uploaded.",
            self.server_url,
            self.documents,
            self.changes_sent,
            self.changes_received,
            self.uploaded.len()
        )];
        for refusal in &self.refused {
            let job = refusal
                .document_id
                .map(|id| format!(" (job {})", short(&id)))
                .unwrap_or_default();
            lines.push(format!(
                "The office refused a change{job}: {}. It stays on this tablet; ask dispatch.",
                refusal.message
            ));
        }
        for id in &self.unavailable {
            lines.push(format!(
                "Job {} is no longer shared with you (reassigned or archived); \
                 your copy stays readable here.",
                short(id)
            ));
        }
        for refused in &self.refused_uploads {
            lines.push(format!(
                "The office refused the {} of job {}: {}. It will not be sent again; take it \
                 again and attach it with `field {}`.",
                refused.kind.as_str().replace('_', " "),
                short(&refused.job_id),
                refused.reason,
                refused.retake
            ));
        }
        lines.extend(
            self.upload_failures
                .iter()
                .map(|f| format!("Not uploaded: {f}")),
        );
        lines.extend(self.notes.iter().cloned());
        if self.pending_changes == 0 && self.pending_uploads == 0 {
            lines.push("Everything on this tablet has reached the office.".to_owned());
        } else {
            lines.push(format!(
                "Still pending: {} changes, {} files; run `field sync` again.",
                self.pending_changes, self.pending_uploads
            ));
        }
        lines.join("\n")
    }
}

fn short(id: &DocumentId) -> String {
    id.to_string().chars().take(8).collect()
}
