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

pub use access::{DocumentAccess, document_access, document_access_all, sync_access_all};
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

/// The job `text` names for `caller`: its number (`FS-2026-00042`, any case, in the caller's
/// organisation), its UUID, or its automerge document id or URL. Anything else, or a number
/// the organisation does not have, is "not found" (whether the caller may see the job is for
/// the operation to decide, with the same answer).
pub async fn resolve(
    db: &sqlx::PgPool,
    caller: &crate::auth::Caller,
    text: &str,
) -> Result<uuid::Uuid, crate::error::ApiError> {
    let text = text.trim();
    // PostgreSQL text holds no NUL: such a "number" names nothing, and must not reach a query.
    if text.contains('\0') {
        return Err(crate::error::ApiError::NotFound);
    }
    if text.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("FS-")) {
        return sqlx::query_scalar(
            "select id from jobs where organisation_id = $1 and number = $2",
        )
        .bind(caller.organisation_id)
        .bind(text.to_ascii_uppercase())
        .fetch_optional(db)
        .await?
        .ok_or(crate::error::ApiError::NotFound);
    }
    sync_protocol::DocumentId::parse(text)
        .map(|id| id.as_uuid())
        .map_err(|_| crate::error::ApiError::NotFound)
}

/// The technician's index document, made if they have none yet.
pub async fn index_document_for(
    state: &crate::AppState,
    caller: &crate::auth::Caller,
) -> Result<uuid::Uuid, crate::error::ApiError> {
    index::ensure_index(state, caller.organisation_id, caller.staff_id).await
}
