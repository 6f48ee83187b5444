//! Technician index documents: the list of a technician's jobs that their tablet syncs first.
//! The server alone writes them, inside the same transaction as the job change behind it.

use automerge::Automerge;
use sqlx::PgConnection;
use sync_protocol::DocumentId;
use sync_protocol::index::{IndexedJob, TechnicianIndex};
use sync_protocol::job::JobDocument;
use uuid::Uuid;

use super::Edit;
use crate::documents::{Author, DocumentKind};
use crate::error::ApiError;
use crate::state::AppState;

/// The technician's index document, created (committed on its own) if they have none yet.
pub async fn ensure_index(
    state: &AppState,
    organisation_id: Uuid,
    technician: Uuid,
) -> Result<Uuid, ApiError> {
    let mut tx = state.db.begin().await?;
    if let Some(id) = find(&mut tx, technician).await? {
        return Ok(id);
    }
    let doc = TechnicianIndex::create(&technician.to_string())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("creating an index document: {e}")))?;
    let id = DocumentId::random().as_uuid();
    let author = Author::default();
    let mut doc = doc;
    state
        .documents
        .create(
            &mut tx,
            id,
            organisation_id,
            DocumentKind::TechnicianIndex,
            doc.document(),
            &author,
        )
        .await?;
    let inserted = sqlx::query(
        r#"insert into technician_indexes (technician_id, document_id) values ($1, $2)
           on conflict (technician_id) do nothing"#,
    )
    .bind(technician)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        // Another request made it first; use theirs.
        drop(tx);
        let mut conn = state.db.acquire().await?;
        return find(&mut conn, technician).await?.ok_or(ApiError::NotFound);
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn find(db: &mut PgConnection, technician: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select document_id from technician_indexes where technician_id = $1")
        .bind(technician)
        .fetch_optional(db)
        .await
}

/// The index entry for a job as the document now reads.
pub fn entry(job_id: Uuid, doc: &Automerge) -> Result<IndexedJob, ApiError> {
    let job = JobDocument::read(doc)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading job {job_id}: {e}")))?;
    Ok(IndexedJob::from_job(DocumentId::from_uuid(job_id), &job))
}

/// Adds or refreshes `entry` in `technician`'s index (which must exist).
pub async fn put(
    edit: &mut Edit<'_>,
    technician: Uuid,
    entry: &IndexedJob,
) -> Result<(), ApiError> {
    let id = find(&mut edit.tx, technician)
        .await?
        .ok_or(ApiError::NotFound)?;
    edit.change(id, |doc| TechnicianIndex::upsert_job(doc, entry))
        .await?;
    Ok(())
}

/// Removes job `job_id` from `technician`'s index, if it is there.
pub async fn remove(edit: &mut Edit<'_>, technician: Uuid, job_id: Uuid) -> Result<(), ApiError> {
    let Some(id) = find(&mut edit.tx, technician).await? else {
        return Ok(());
    };
    edit.change(id, |doc| {
        TechnicianIndex::remove_job(doc, DocumentId::from_uuid(job_id)).map(|_| ())
    })
    .await?;
    Ok(())
}
