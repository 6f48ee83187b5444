//! The revisit queue: tasks by due time, with the job and the customer to call, and each task's
//! outcomes. Read by revisit callers, dispatchers and admins of the task's organisation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;

/// Who sees the revisit queue, with customers' phone numbers and colleagues' outcomes.
pub const QUEUE_READERS: [Role; 3] = [Role::Revisit, Role::Dispatcher, Role::Admin];

/// One revisit to make.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Task {
    pub id: Uuid,
    pub job_id: Uuid,
    /// The job's number for people (`FS-2026-00042`).
    pub job_number: Option<String>,
    pub reason: String,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
    pub claimed_by: Option<Uuid>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub customer_id: Option<Uuid>,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_tier: Option<String>,
    pub technician_id: Option<Uuid>,
    pub from_complaint: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub outcomes: i64,
}

const TASK_QUERY: &str = r#"
    select t.id, t.job_id, j.number as job_number, t.reason, t.due_at, t.due_at < now() as overdue, t.claimed_by,
           t.claimed_at, t.customer_id, c.name as customer_name, c.phone as customer_phone,
           c.tier as customer_tier, j.technician_id, j.from_complaint, j.completed_at,
           (select count(*) from revisit_outcomes o where o.task_id = t.id) as outcomes
    from revisit_tasks t
    join jobs j on j.id = t.job_id
    left join customers c on c.id = t.customer_id
    where t.organisation_id = $1"#;

/// Which tasks of the queue to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
///
/// A task is open until an outcome says the customer was reached: a call nobody answered is
/// recorded (outcomes are append-only) and the task stays on the desk, to be called again.
pub enum Filter {
    /// The customer not reached yet (no outcome, or only calls that did not reach them).
    Open,
    /// Claimed by the caller, open.
    Mine,
    /// The customer reached.
    Done,
    All,
}

impl Filter {
    /// The word of the API's `status` parameter.
    pub fn parse(word: &str) -> Result<Self, ApiError> {
        match word {
            "open" => Ok(Self::Open),
            "mine" => Ok(Self::Mine),
            "done" => Ok(Self::Done),
            "all" => Ok(Self::All),
            _ => Err(ApiError::BadRequest(
                "status must be open, mine, done or all".into(),
            )),
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Open => {
                "and not exists (select 1 from revisit_outcomes o where o.task_id = t.id and o.reached)"
            }
            Self::Mine => {
                "and t.claimed_by = $2 and not exists (select 1 from revisit_outcomes o where o.task_id = t.id and o.reached)"
            }
            Self::Done => {
                "and exists (select 1 from revisit_outcomes o where o.task_id = t.id and o.reached)"
            }
            Self::All => "",
        }
    }
}

/// Which of the listed tasks to keep besides their status: the revisit desk's filters, applied
/// by the query so that a page is a page of what the caller asked for, however long the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Narrow {
    Everything,
    /// Due at or after the first instant and before the second (a day on the caller's clock).
    DueBetween(DateTime<Utc>, DateTime<Utc>),
    /// Due before now.
    Overdue,
    /// The customer is a key customer, or has four or five stars.
    KeyCustomers,
    /// The job came from a complaint.
    FromComplaints,
}

impl Narrow {
    /// The narrowing a word names, as the desk's filters and the API's `filter` say it:
    /// `overdue`, `key` (key customers and four or five stars), `complaints`.
    pub fn named(word: &str) -> Option<Self> {
        match word {
            "overdue" => Some(Self::Overdue),
            "key" => Some(Self::KeyCustomers),
            "complaints" => Some(Self::FromComplaints),
            _ => None,
        }
    }

    /// The API's narrowing: a `filter` word, or a due range (`due_from` inclusive, `due_before`
    /// exclusive, both given), or neither.
    pub fn parse(
        filter: Option<&str>,
        due_from: Option<DateTime<Utc>>,
        due_before: Option<DateTime<Utc>>,
    ) -> Result<Self, ApiError> {
        match (filter, due_from, due_before) {
            (None, None, None) => Ok(Self::Everything),
            (Some(word), None, None) => Self::named(word).ok_or_else(|| {
                ApiError::BadRequest("filter must be overdue, key or complaints".into())
            }),
            (None, Some(from), Some(before)) if from < before => Ok(Self::DueBetween(from, before)),
            (None, Some(_), Some(_)) => Err(ApiError::BadRequest(
                "due_from must be before due_before".into(),
            )),
            (None, _, _) => Err(ApiError::BadRequest(
                "due_from and due_before go together".into(),
            )),
            (Some(_), _, _) => Err(ApiError::BadRequest(
                "filter and a due range are not given together".into(),
            )),
        }
    }

    /// This narrowing as the API's query parameters (`&filter=…`, `&due_from=…&due_before=…`),
    /// for the link to the next page.
    pub fn query(self) -> String {
        let stamp = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        match self {
            Self::Everything => String::new(),
            Self::DueBetween(from, before) => {
                format!("&due_from={}&due_before={}", stamp(from), stamp(before))
            }
            Self::Overdue => "&filter=overdue".into(),
            Self::KeyCustomers => "&filter=key".into(),
            Self::FromComplaints => "&filter=complaints".into(),
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Everything => "",
            Self::DueBetween(..) => "and t.due_at >= $4 and t.due_at < $5",
            Self::Overdue => "and t.due_at < now()",
            Self::KeyCustomers => "and c.tier in ('key', 'stars_4', 'stars_5')",
            Self::FromComplaints => "and j.from_complaint",
        }
    }

    fn due_between(self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self {
            Self::DueBetween(from, to) => (Some(from), Some(to)),
            _ => (None, None),
        }
    }
}

/// One page of the queue by due time: at most `limit` tasks after task `after`, of those that
/// `status` (`open`, `mine`, `done`, `all`) names.
pub async fn list(
    db: &sqlx::PgPool,
    caller: &Caller,
    status: &str,
    limit: i64,
    after: Option<Uuid>,
) -> Result<Vec<Task>, ApiError> {
    list_narrowed(db, caller, status, Narrow::Everything, limit, after).await
}

/// [`list`] of the tasks `narrow` keeps.
pub async fn list_narrowed(
    db: &sqlx::PgPool,
    caller: &Caller,
    status: &str,
    narrow: Narrow,
    limit: i64,
    after: Option<Uuid>,
) -> Result<Vec<Task>, ApiError> {
    caller.require(&QUEUE_READERS)?;
    let filter = Filter::parse(status)?;
    if let Some(after) = after {
        find(db, caller, after).await.map_err(|_| {
            ApiError::BadRequest("`after` must be the id of a task of the previous page".into())
        })?;
    }
    let filter = filter.sql();
    let narrowed = narrow.sql();
    let (from, to) = narrow.due_between();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TASK_QUERY} {filter} {narrowed} and $2::uuid is not null
           and ($3::uuid is null or (t.due_at, t.id) >
                (select r.due_at, r.id from revisit_tasks r where r.id = $3 and r.organisation_id = $1))
         order by t.due_at, t.id limit {limit}"
    )))
    .bind(caller.organisation_id)
    .bind(caller.staff_id)
    .bind(after)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?)
}

/// Task `id` of the caller's organisation (no role check: callers of this check their own).
pub async fn find(db: impl PgExecutor<'_>, caller: &Caller, id: Uuid) -> Result<Task, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{TASK_QUERY} and t.id = $2")))
        .bind(caller.organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// A recorded outcome, with who recorded it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Outcome {
    pub id: Uuid,
    pub task_id: Uuid,
    pub recorded_by: Uuid,
    pub recorded_by_name: String,
    pub reached: bool,
    pub problem_solved: Option<bool>,
    pub satisfaction: Option<i32>,
    pub suggestions: Option<String>,
    pub notes: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// Task `id` and its outcomes, oldest first.
pub async fn show(
    db: &sqlx::PgPool,
    caller: &Caller,
    id: Uuid,
) -> Result<(Task, Vec<Outcome>), ApiError> {
    caller.require(&QUEUE_READERS)?;
    let task = find(db, caller, id).await?;
    let outcomes = sqlx::query_as(
        r#"select o.id, o.task_id, o.recorded_by, s.name as recorded_by_name, o.reached,
                  o.problem_solved, o.satisfaction, o.suggestions, o.notes, o.recorded_at
           from revisit_outcomes o join staff s on s.id = o.recorded_by
           where o.organisation_id = $1 and o.task_id = $2
           order by o.recorded_at, o.id"#,
    )
    .bind(caller.organisation_id)
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok((task, outcomes))
}
