//! `field status`: what this tablet holds that the server does not have yet, and when it last
//! synced. Safe to show anyone: the token is never part of it.

use serde::Serialize;
use sync_protocol::DocumentId;

use crate::error::ClientError;
use crate::store::Store;
use crate::store::documents::DocumentKind;
use crate::store::uploads::PendingUpload;

/// The tablet's sync backlog.
#[derive(Debug, Clone, Serialize)]
pub struct SyncBacklog {
    pub logged_in: bool,
    pub server_url: Option<String>,
    /// Device clock, ms since the epoch; `None` if never synced.
    pub last_sync_at: Option<i64>,
    /// Documents with local changes the server has not acknowledged.
    pub pending_changes: Vec<PendingDocument>,
    /// Attachments not yet stored by the server.
    pub pending_uploads: Vec<PendingUpload>,
    /// Attachments the server refused for good, with its reason: evidence to take again.
    pub refused_uploads: Vec<PendingUpload>,
}

/// A document with unacknowledged local changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingDocument {
    pub document_id: DocumentId,
    pub kind: DocumentKind,
    pub changes: usize,
}

impl SyncBacklog {
    /// Reads the backlog from the store.
    pub fn read(store: &Store) -> Result<Self, ClientError> {
        let login = store.login()?;
        let mut pending_changes = Vec::new();
        for (document_id, kind) in store.documents_to_sync()? {
            let changes = store.pending_changes(document_id)?;
            if changes > 0 {
                pending_changes.push(PendingDocument {
                    document_id,
                    kind,
                    changes,
                });
            }
        }
        Ok(Self {
            logged_in: login.is_some(),
            server_url: login.map(|l| l.server_url),
            last_sync_at: store.last_sync_at()?,
            pending_changes,
            pending_uploads: store.uploads(false)?,
            refused_uploads: store.refused_uploads()?,
        })
    }

    /// True when everything on the tablet has reached the server (refused files never will:
    /// they are listed apart).
    pub fn is_empty(&self) -> bool {
        self.pending_changes.is_empty() && self.pending_uploads.is_empty()
    }
}
