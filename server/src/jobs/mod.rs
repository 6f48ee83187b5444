//! Jobs: who may see and change which document, the projection dispatchers and revisit callers
//! query, and the dispatcher's operations, each written into the job's Automerge document as
//! the server's actor so tablets receive it by sync.

pub mod access;
pub mod attachments;
mod booking;
mod dispatch;
mod edit;
mod events;
mod index;
pub mod projection;
pub mod view;

pub use access::{DocumentAccess, document_access};
pub use booking::{BookJob, JobCreated, book_job};
pub use dispatch::{
    Cancel, Confirmation, Reassign, Reschedule, archive, cancel, confirm, reassign, reschedule,
};
pub use edit::Edit;

use chrono::{DateTime, Utc};
use sync_protocol::job::EpochMillis;

pub(crate) fn millis(time: DateTime<Utc>) -> EpochMillis {
    EpochMillis(time.timestamp_millis())
}

pub(crate) fn from_millis(time: EpochMillis) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(time.0)
}

/// The technician's index document, made if they have none yet.
pub async fn index_document_for(
    state: &crate::AppState,
    caller: &crate::auth::Caller,
) -> Result<uuid::Uuid, crate::error::ApiError> {
    index::ensure_index(state, caller.organisation_id, caller.staff_id).await
}
