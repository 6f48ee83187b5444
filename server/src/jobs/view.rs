//! What dispatchers (and technicians and revisit callers, for the jobs they may see) read: the
//! projection, the timeline from the document, and the history of changes with both clocks.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::{Automerge, ObjType, ROOT, ReadDoc, Value};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use sync_protocol::DocumentId;
use sync_protocol::job::schema::root;
use sync_protocol::job::{JobDocument, TimelineEvent};
use uuid::Uuid;

use super::document_access;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A job's projection row.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: Uuid,
    /// The job's number for people (`FS-2026-00042`).
    pub number: Option<String>,
    pub customer_id: Option<Uuid>,
    pub kind: String,
    pub technician_id: Option<Uuid>,
    pub from_complaint: bool,
    pub status: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub confirmed: bool,
    pub complete: bool,
    pub review_flags: serde_json::Value,
    pub missing: serde_json::Value,
    pub evidence: serde_json::Value,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub device_updated_at: Option<DateTime<Utc>>,
    pub server_updated_at: DateTime<Utc>,
}

const JOB_COLUMNS: &str = "id, number, customer_id, kind, technician_id, from_complaint, status, \
    window_start, window_end, confirmed, complete, review_flags, missing, evidence, \
    cancelled_at, archived_at, device_updated_at, server_updated_at";

/// One Automerge change: who, with which device's clock, received when.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChangeRecord {
    pub hash: String,
    pub actor: String,
    pub staff_id: Option<Uuid>,
    pub staff_name: Option<String>,
    pub device_time: Option<DateTime<Utc>>,
    pub server_time: DateTime<Utc>,
    pub message: Option<String>,
}

/// A timeline event with both clocks (DOMAIN: every event carries the device's clock and the
/// server's receipt time; both are shown).
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub event: TimelineEvent,
    /// When the server received the change that added the event.
    pub received_at: Option<DateTime<Utc>>,
    /// That change's hash, as in `history`.
    pub change: Option<String>,
}

/// `GET /api/v1/jobs/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    #[serde(flatten)]
    pub job: JobRow,
    pub document_url: String,
    /// The visit as the technician recorded it (arrival, permissions, work notes and items,
    /// payment due, signature, feedback cards, cleanup, departure); empty parts not yet.
    pub visit: sync_protocol::job::Visit,
    pub timeline: Vec<TimelineEntry>,
    pub history: Vec<ChangeRecord>,
}

pub async fn job_view(state: &AppState, caller: &Caller, id: Uuid) -> Result<JobView, ApiError> {
    Ok(job_file(state, caller, id).await?.0)
}

/// The job view and the whole job document as read (the appointment's confirmation, the
/// assignment history, the dispatch decision), for screens that show more than the API's view;
/// the document is `None` if it no longer reads as a job.
pub async fn job_file(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<(JobView, Option<JobDocument>), ApiError> {
    if document_access(&state.db, caller, id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let job: JobRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {JOB_COLUMNS} from jobs where id = $1"
    )))
    .bind(id)
    .fetch_optional(&state.db)
    .await?
    .ok_or(ApiError::NotFound)?;
    let document = state.documents.get(id).await?.ok_or(ApiError::NotFound)?;
    let snapshot = document.snapshot().await;
    let history = history(&state.db, id).await?;
    let read = JobDocument::read(&snapshot).ok();
    let (visit, events) = read
        .as_ref()
        .map(|job| (job.visit.clone(), job.timeline.clone()))
        .unwrap_or_default();
    let view = JobView {
        job,
        document_url: DocumentId::from_uuid(id).to_url(),
        visit,
        timeline: timeline(&snapshot, events, &history),
        history,
    };
    Ok((view, read))
}

/// Customer `customer`'s jobs, newest window first (at most `limit`), for the office.
pub async fn of_customer(
    db: &sqlx::PgPool,
    caller: &Caller,
    customer: Uuid,
    limit: i64,
) -> Result<Vec<JobRow>, ApiError> {
    caller.require(&crate::directory::customers::READERS)?;
    // Revisit callers see completed jobs only, as everywhere else.
    let complete_only = caller.role == crate::directory::Role::Revisit;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {JOB_COLUMNS} from jobs where organisation_id = $1 and customer_id = $2
           and (complete or not $4)
         order by window_start desc, id limit $3"
    )))
    .bind(caller.organisation_id)
    .bind(customer)
    .bind(limit)
    .bind(complete_only)
    .fetch_all(db)
    .await?)
}

/// The document's timeline `events`, each with the server time of the change that added it.
fn timeline(
    doc: &Automerge,
    events: Vec<Arc<TimelineEvent>>,
    history: &[ChangeRecord],
) -> Vec<TimelineEntry> {
    let received: HashMap<&str, DateTime<Utc>> = history
        .iter()
        .map(|c| (c.hash.as_str(), c.server_time))
        .collect();
    let list = match doc.get(ROOT, root::TIMELINE) {
        Ok(Some((Value::Object(ObjType::List), list))) => Some(list),
        _ => None,
    };
    events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            // The reader takes the list whole or not at all, so entry `index` is element `index`.
            let change = list
                .as_ref()
                .and_then(|list| doc.get(list, index).ok().flatten())
                .and_then(|(_, element)| doc.hash_for_opid(&element))
                .map(|hash| hash.to_string());
            let received_at = change
                .as_deref()
                .and_then(|hash| received.get(hash).copied());
            TimelineEntry {
                event: Arc::unwrap_or_clone(event),
                received_at,
                change,
            }
        })
        .collect()
}

async fn history(db: impl PgExecutor<'_>, id: Uuid) -> Result<Vec<ChangeRecord>, sqlx::Error> {
    sqlx::query_as(
        r#"select encode(c.hash, 'hex') as hash, c.actor, c.staff_id, s.name as staff_name,
                  c.device_time, c.server_time, c.message
           from document_changes c left join staff s on s.id = c.staff_id
           where c.document_id = $1
           order by c.server_time, c.device_time nulls first, c.hash"#,
    )
    .bind(id)
    .fetch_all(db)
    .await
}

/// One technician's column of the board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardColumn {
    pub technician_id: Option<Uuid>,
    pub technician_name: Option<String>,
    pub jobs: Vec<JobRow>,
}

/// `GET /api/v1/board?date=`: the day's jobs by technician (unassigned last).
#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub date: NaiveDate,
    pub technicians: Vec<BoardColumn>,
}

#[derive(sqlx::FromRow)]
struct BoardRow {
    technician_name: Option<String>,
    #[sqlx(flatten)]
    job: JobRow,
}

/// The jobs whose window overlaps `date`, a day in the time `offset` from UTC.
pub async fn board(
    state: &AppState,
    caller: &Caller,
    date: NaiveDate,
    offset: chrono::FixedOffset,
) -> Result<Board, ApiError> {
    caller.require(&[
        crate::directory::Role::Dispatcher,
        crate::directory::Role::Admin,
    ])?;
    use chrono::Datelike;
    if !(2000..=2100).contains(&date.year()) {
        return Err(ApiError::BadRequest(
            "the date must fall between the years 2000 and 2100".into(),
        ));
    }
    let start = date
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .map(|t| t.to_utc())
        .ok_or(ApiError::NotFound)?;
    let end = start + chrono::Duration::days(1);
    let rows: Vec<BoardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        r#"select s.name as technician_name, {columns}
           from jobs j left join staff s on s.id = j.technician_id
           where j.organisation_id = $1 and j.window_start < $3 and j.window_end > $2
             and j.archived_at is null
           order by s.name nulls last, j.technician_id, j.window_start
           limit 2000"#,
        columns = JOB_COLUMNS
            .split(", ")
            .map(|c| format!("j.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(caller.organisation_id)
    .bind(start)
    .bind(end)
    .fetch_all(&state.db)
    .await?;
    let mut technicians: Vec<BoardColumn> = Vec::new();
    for row in rows {
        match technicians.last_mut() {
            Some(column) if column.technician_id == row.job.technician_id => {
                column.jobs.push(row.job)
            }
            _ => technicians.push(BoardColumn {
                technician_id: row.job.technician_id,
                technician_name: row.technician_name,
                jobs: vec![row.job],
            }),
        }
    }
    Ok(Board { date, technicians })
}

/// `+08:00`, `-05:30` (chrono's reading), at most 14 hours either way. A `+` left unencoded in
/// a query string arrives as a space, and is read as `+`.
pub fn parse_offset(text: &str) -> Option<chrono::FixedOffset> {
    let offset: chrono::FixedOffset = match text.strip_prefix(' ') {
        Some(rest) => format!("+{rest}").parse().ok()?,
        None => text.parse().ok()?,
    };
    (offset.local_minus_utc().abs() <= 14 * 3600).then_some(offset)
}
