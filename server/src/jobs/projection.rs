//! The job projection: what dispatchers and revisit callers query, derived from the merged
//! document and written in the same transaction as the merge.

use std::collections::{BTreeSet, HashMap};

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

/// Reads job `doc` for [`write_all`] with `memo` (see `sync_protocol::job::ReadMemo`: it must
/// hold the previous read of this document, told the patches of every change since). A
/// document that no longer reads as a job is refused with the reason for the writer.
pub fn read_remembering(doc: &Automerge, memo: &mut ReadMemo) -> Result<JobDocument, String> {
    JobDocument::read_remembering(doc, memo).map_err(unreadable_reason)
}

fn unreadable(error: sync_protocol::job::JobError) -> ApiError {
    ApiError::BadRequest(unreadable_reason(error))
}

fn unreadable_reason(error: sync_protocol::job::JobError) -> String {
    format!("these changes would leave the job unreadable: {error}")
}

async fn write(
    tx: &mut PgConnection,
    id: Uuid,
    job: JobDocument,
) -> Result<JobEvaluation, ApiError> {
    let mut evaluations = write_all(tx, vec![(id, job)]).await?;
    Ok(evaluations.remove(0))
}

/// One job's row as the projection writes it.
struct Row {
    id: Uuid,
    customer: Option<Uuid>,
    kind: &'static str,
    technician: Option<Uuid>,
    from_complaint: bool,
    status: String,
    window_start: Option<chrono::DateTime<Utc>>,
    window_end: Option<chrono::DateTime<Utc>>,
    confirmed: bool,
    complete: bool,
    review_flags: serde_json::Value,
    missing: serde_json::Value,
    evidence: serde_json::Value,
    cancelled_at: Option<chrono::DateTime<Utc>>,
    archived_at: Option<chrono::DateTime<Utc>>,
    device_updated_at: Option<chrono::DateTime<Utc>>,
    payment_due_minor: Option<i64>,
}

impl Row {
    fn new(
        id: Uuid,
        job: &JobDocument,
        evaluation: &JobEvaluation,
        stored: &BTreeSet<Sha256Hex>,
    ) -> Self {
        let parse = |text: Option<&str>| text.and_then(|text| Uuid::parse_str(text).ok());
        let changed_at = job
            .status
            .changed_at
            .and_then(from_millis)
            .unwrap_or_else(Utc::now);
        let visit = &job.visit;
        Self {
            id,
            customer: parse(job.customer.id.as_deref()),
            kind: job.kind.as_str(),
            technician: parse(job.assignment.technician_id.as_deref()),
            from_complaint: job.complaint_origin.from_complaint,
            status: word(&evaluation.status),
            window_start: from_millis(job.appointment.window_start),
            window_end: from_millis(job.appointment.window_end),
            confirmed: job.appointment.confirmation.is_some(),
            complete: evaluation.complete,
            review_flags: json!(evaluation.review_flags),
            missing: json!(evaluation.missing),
            evidence: json!({
                "arrived": visit.arrival.is_some(),
                "departed": visit.departure.is_some(),
                "signed": visit.signature.is_some(),
                "feedback_cards": visit.feedback_cards.len(),
                "cleanup_confirmed": visit.cleanup.is_some(),
                "attachments": evaluation.attachments,
                "attachments_stored": evaluation.attachments.iter().filter(|a| stored.contains(*a)).count(),
            }),
            cancelled_at: (job.status.state == DispatchState::Cancelled).then_some(changed_at),
            archived_at: (job.status.state == DispatchState::Archived).then_some(changed_at),
            device_updated_at: job
                .timeline
                .iter()
                .map(|e| e.device_time)
                .max()
                .and_then(from_millis),
            payment_due_minor: job.visit.payment_due.as_ref().map(|p| p.amount_minor),
        }
    }
}

#[derive(sqlx::FromRow)]
struct BeforeRow {
    id: Uuid,
    #[sqlx(flatten)]
    before: super::events::Before,
    /// The job's attachments whose bytes are stored (verified on upload).
    stored: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ShownRow {
    id: Uuid,
    #[sqlx(flatten)]
    shown: super::events::Shown,
}

/// Recomputes the rows of several jobs in a few statements however many there are (the merge
/// of a group commit), then raises each job's events; evaluations in the order given. The
/// ids must be distinct.
pub async fn write_all(
    tx: &mut PgConnection,
    jobs: Vec<(Uuid, JobDocument)>,
) -> Result<Vec<JobEvaluation>, ApiError> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| *id).collect();
    // The rows as they were, locked, with their stored attachments (a job just booked has
    // neither a row nor attachments yet).
    let mut before = HashMap::with_capacity(ids.len());
    let mut stored: HashMap<Uuid, BTreeSet<Sha256Hex>> = HashMap::with_capacity(ids.len());
    for row in sqlx::query_as::<_, BeforeRow>(
        r#"select id, organisation_id, complete, review_flags, completions, status,
                  technician_id, window_start, window_end, confirmed, evidence,
                  array(select a.sha256 from attachments a where a.job_id = jobs.id) as stored
           from jobs where id = any($1) order by id for update"#,
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    {
        let hashes = row.stored.iter().filter_map(|hex| Sha256Hex::parse(hex));
        stored.insert(row.id, hashes.collect());
        before.insert(row.id, row.before);
    }
    let now = EpochMillis(Utc::now().timestamp_millis());
    let mut evaluated = Vec::with_capacity(jobs.len());
    for (id, job) in jobs {
        let stored = stored.remove(&id).unwrap_or_default();
        let evaluation = job.evaluate(&stored, Some(now));
        let row = Row::new(id, &job, &evaluation, &stored);
        evaluated.push((row, job, evaluation));
    }
    let rows: Vec<&Row> = evaluated.iter().map(|(row, _, _)| row).collect();
    let mut shown: HashMap<Uuid, super::events::Shown> = upsert(&mut *tx, &rows)
        .await?
        .into_iter()
        .map(|row| (row.id, row.shown))
        .collect();
    let mut evaluations = Vec::with_capacity(evaluated.len());
    for (row, job, evaluation) in evaluated {
        let before = before.remove(&row.id);
        let Some(shown) = shown.remove(&row.id) else {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "job {} has no document to project",
                row.id
            )));
        };
        // The assignment list changes only when the technician does (it was written when this
        // technician was set), so an edit that keeps the technician skips both statements.
        if before
            .as_ref()
            .is_none_or(|before| before.technician_id != row.technician)
        {
            record_assignment(&mut *tx, row.id, row.technician).await?;
        }
        super::events::raise(&mut *tx, row.id, before.as_ref(), &evaluation, &job).await?;
        super::events::announce_change(&mut *tx, row.id, before.as_ref(), &shown).await?;
        evaluations.push(evaluation);
    }
    Ok(evaluations)
}

/// Inserts or updates `rows` in one statement; what screens show of each, as written.
async fn upsert(tx: &mut PgConnection, rows: &[&Row]) -> Result<Vec<ShownRow>, sqlx::Error> {
    fn column<T>(rows: &[&Row], get: impl Fn(&Row) -> T) -> Vec<T> {
        rows.iter().map(|row| get(row)).collect()
    }
    sqlx::query_as(
        r#"insert into jobs (id, organisation_id, customer_id, kind, technician_id, from_complaint,
                             status, window_start, window_end, confirmed, complete, review_flags,
                             missing, evidence, cancelled_at, archived_at, device_updated_at,
                             payment_due_minor)
           select t.id, d.organisation_id, t.customer_id, t.kind, t.technician_id,
                  t.from_complaint, t.status, t.window_start, t.window_end, t.confirmed,
                  t.complete, t.review_flags, t.missing, t.evidence, t.cancelled_at,
                  t.archived_at, t.device_updated_at, t.payment_due_minor
           from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::bool[], $6::text[],
                       $7::timestamptz[], $8::timestamptz[], $9::bool[], $10::bool[],
                       $11::jsonb[], $12::jsonb[], $13::jsonb[], $14::timestamptz[],
                       $15::timestamptz[], $16::timestamptz[], $17::bigint[])
                as t(id, customer_id, kind, technician_id, from_complaint, status, window_start,
                     window_end, confirmed, complete, review_flags, missing, evidence,
                     cancelled_at, archived_at, device_updated_at, payment_due_minor)
           join documents d on d.id = t.id
           on conflict (id) do update set
               kind = excluded.kind, technician_id = excluded.technician_id,
               from_complaint = excluded.from_complaint, status = excluded.status,
               window_start = excluded.window_start, window_end = excluded.window_end,
               confirmed = excluded.confirmed, complete = excluded.complete,
               review_flags = excluded.review_flags, missing = excluded.missing,
               evidence = excluded.evidence, cancelled_at = excluded.cancelled_at,
               archived_at = excluded.archived_at, device_updated_at = excluded.device_updated_at,
               payment_due_minor = excluded.payment_due_minor, server_updated_at = now()
           returning id, organisation_id, status, technician_id, window_start, window_end,
                     confirmed, evidence, review_flags"#,
    )
    .bind(column(rows, |r| r.id))
    .bind(column(rows, |r| r.customer))
    .bind(column(rows, |r| r.kind))
    .bind(column(rows, |r| r.technician))
    .bind(column(rows, |r| r.from_complaint))
    .bind(column(rows, |r| r.status.clone()))
    .bind(column(rows, |r| r.window_start))
    .bind(column(rows, |r| r.window_end))
    .bind(column(rows, |r| r.confirmed))
    .bind(column(rows, |r| r.complete))
    .bind(column(rows, |r| r.review_flags.clone()))
    .bind(column(rows, |r| r.missing.clone()))
    .bind(column(rows, |r| r.evidence.clone()))
    .bind(column(rows, |r| r.cancelled_at))
    .bind(column(rows, |r| r.archived_at))
    .bind(column(rows, |r| r.device_updated_at))
    .bind(column(rows, |r| r.payment_due_minor))
    .fetch_all(&mut *tx)
    .await
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

fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => format!("{other:?}"),
    }
}
