//! The job projection: what dispatchers and revisit callers query, derived from the merged
//! document and written in the same transaction as the merge.

use std::collections::BTreeSet;

use automerge::Automerge;
use chrono::Utc;
use serde_json::json;
use sqlx::PgConnection;
use sync_protocol::job::{
    DispatchState, EpochMillis, JobDocument, JobEvaluation, ReadMemo, Sha256Hex,
};
use uuid::Uuid;

use super::from_millis;
use crate::error::ApiError;

/// Recomputes job `id`'s row from `doc`. A document that no longer reads as a job is refused:
/// whatever produced it is not written.
pub async fn project(
    tx: &mut PgConnection,
    id: Uuid,
    doc: &Automerge,
) -> Result<JobEvaluation, ApiError> {
    let job = JobDocument::read(doc).map_err(unreadable)?;
    write(tx, id, job).await
}

/// [`project`] reading the document with `memo` (see `sync_protocol::job::ReadMemo`: it must
/// hold the previous read of this document, told the patches of every change since).
pub async fn project_remembering(
    tx: &mut PgConnection,
    id: Uuid,
    doc: &Automerge,
    memo: &mut ReadMemo,
) -> Result<JobEvaluation, ApiError> {
    let job = JobDocument::read_remembering(doc, memo).map_err(unreadable)?;
    write(tx, id, job).await
}

fn unreadable(error: sync_protocol::job::JobError) -> ApiError {
    ApiError::BadRequest(format!(
        "these changes would leave the job unreadable: {error}"
    ))
}

async fn write(
    tx: &mut PgConnection,
    id: Uuid,
    job: JobDocument,
) -> Result<JobEvaluation, ApiError> {
    let before: Option<super::events::Before> = sqlx::query_as(
        r#"select organisation_id, complete, review_flags, completions, status, technician_id,
                  window_start, window_end, confirmed, evidence
           from jobs where id = $1 for update"#,
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let stored = verified_attachments(&mut *tx, id).await?;
    let evaluation = job.evaluate(&stored, Some(EpochMillis(Utc::now().timestamp_millis())));
    let technician = job
        .assignment
        .technician_id
        .as_deref()
        .and_then(|text| Uuid::parse_str(text).ok());
    let customer = job
        .customer
        .id
        .as_deref()
        .and_then(|text| Uuid::parse_str(text).ok());
    let device_updated_at = job
        .timeline
        .iter()
        .map(|e| e.device_time)
        .max()
        .and_then(from_millis);
    let changed_at = job
        .status
        .changed_at
        .and_then(from_millis)
        .unwrap_or_else(Utc::now);
    let cancelled_at = (job.status.state == DispatchState::Cancelled).then_some(changed_at);
    let archived_at = (job.status.state == DispatchState::Archived).then_some(changed_at);
    let visit = &job.visit;
    let evidence = json!({
        "arrived": visit.arrival.is_some(),
        "departed": visit.departure.is_some(),
        "signed": visit.signature.is_some(),
        "feedback_cards": visit.feedback_cards.len(),
        "cleanup_confirmed": visit.cleanup.is_some(),
        "attachments": evaluation.attachments,
        "attachments_stored": evaluation.attachments.iter().filter(|a| stored.contains(*a)).count(),
    });
    let shown: super::events::Shown = sqlx::query_as(
        r#"insert into jobs (id, organisation_id, customer_id, kind, technician_id, from_complaint,
                             status, window_start, window_end, confirmed, complete, review_flags,
                             missing, evidence, cancelled_at, archived_at, device_updated_at,
                             payment_due_minor)
           select $1, d.organisation_id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                  $15, $16, $17
           from documents d where d.id = $1
           on conflict (id) do update set
               kind = excluded.kind, technician_id = excluded.technician_id,
               from_complaint = excluded.from_complaint, status = excluded.status,
               window_start = excluded.window_start, window_end = excluded.window_end,
               confirmed = excluded.confirmed, complete = excluded.complete,
               review_flags = excluded.review_flags, missing = excluded.missing,
               evidence = excluded.evidence, cancelled_at = excluded.cancelled_at,
               archived_at = excluded.archived_at, device_updated_at = excluded.device_updated_at,
               payment_due_minor = excluded.payment_due_minor, server_updated_at = now()
           returning organisation_id, status, technician_id, window_start, window_end, confirmed,
                     evidence, review_flags"#,
    )
    .bind(id)
    .bind(customer)
    .bind(job.kind.as_str())
    .bind(technician)
    .bind(job.complaint_origin.from_complaint)
    .bind(word(&evaluation.status))
    .bind(from_millis(job.appointment.window_start))
    .bind(from_millis(job.appointment.window_end))
    .bind(job.appointment.confirmation.is_some())
    .bind(evaluation.complete)
    .bind(json!(evaluation.review_flags))
    .bind(json!(evaluation.missing))
    .bind(evidence)
    .bind(cancelled_at)
    .bind(archived_at)
    .bind(device_updated_at)
    .bind(job.visit.payment_due.as_ref().map(|p| p.amount_minor))
    .fetch_one(&mut *tx)
    .await?;
    // The assignment list changes only when the technician does (it was written when this
    // technician was set), so an edit that keeps the technician skips both statements.
    if before
        .as_ref()
        .is_none_or(|before| before.technician_id != technician)
    {
        record_assignment(&mut *tx, id, technician).await?;
    }
    super::events::raise(&mut *tx, id, before.as_ref(), &evaluation, &job).await?;
    super::events::announce_change(&mut *tx, id, before.as_ref(), &shown).await?;
    Ok(evaluation)
}

/// Keeps the list of everyone ever assigned, which decides who may still sync the job.
async fn record_assignment(
    tx: &mut PgConnection,
    job: Uuid,
    technician: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    if let Some(technician) = technician {
        sqlx::query(
            r#"insert into job_assignments (job_id, technician_id)
               select $1, s.id from staff s
               join jobs j on j.id = $1 and j.organisation_id = s.organisation_id
               where s.id = $2 and s.role = 'technician'
               on conflict (job_id, technician_id) do update set unassigned_at = null"#,
        )
        .bind(job)
        .bind(technician)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        r#"update job_assignments set unassigned_at = now()
           where job_id = $1 and technician_id is distinct from $2 and unassigned_at is null"#,
    )
    .bind(job)
    .bind(technician)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The attachments of the job whose bytes are stored and verified in object storage.
async fn verified_attachments(
    tx: &mut PgConnection,
    job: Uuid,
) -> Result<BTreeSet<Sha256Hex>, sqlx::Error> {
    let stored: Vec<String> =
        sqlx::query_scalar("select sha256 from attachments where job_id = $1")
            .bind(job)
            .fetch_all(&mut *tx)
            .await?;
    Ok(stored
        .iter()
        .filter_map(|hex| Sha256Hex::parse(hex))
        .collect())
}

fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => format!("{other:?}"),
    }
}
