//! `/api/v1/revisits`: the queue, claiming, recording outcomes, the archive export, the policy.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::http::AppJson;
use crate::http::{Path, Query};
use crate::outbox;
use crate::state::AppState;

/// Who sees the revisit queue, with customers' phone numbers and colleagues' outcomes.
const QUEUE_READERS: [Role; 3] = [Role::Revisit, Role::Dispatcher, Role::Admin];

/// Who may ask to claim or record a revisit. A technician is let through only to be told the
/// reason they may not: the independence rule for their own jobs, the role for others.
const CALLERS: [Role; 4] = [
    Role::Revisit,
    Role::Dispatcher,
    Role::Admin,
    Role::Technician,
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/revisits", get(list))
        .route("/api/v1/revisits/export", get(export))
        .route("/api/v1/revisits/{id}", get(show))
        .route("/api/v1/revisits/{id}/claim", post(claim))
        .route("/api/v1/revisits/{id}/outcome", post(record_outcome))
        .route("/api/v1/revisit-policy", get(policy).put(set_policy))
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Task {
    id: Uuid,
    job_id: Uuid,
    reason: String,
    due_at: DateTime<Utc>,
    overdue: bool,
    claimed_by: Option<Uuid>,
    claimed_at: Option<DateTime<Utc>>,
    customer_id: Option<Uuid>,
    customer_name: Option<String>,
    customer_phone: Option<String>,
    customer_tier: Option<String>,
    technician_id: Option<Uuid>,
    from_complaint: bool,
    completed_at: Option<DateTime<Utc>>,
    outcomes: i64,
}

const TASK_QUERY: &str = r#"
    select t.id, t.job_id, t.reason, t.due_at, t.due_at < now() as overdue, t.claimed_by,
           t.claimed_at, t.customer_id, c.name as customer_name, c.phone as customer_phone,
           c.tier as customer_tier, j.technician_id, j.from_complaint, j.completed_at,
           (select count(*) from revisit_outcomes o where o.task_id = t.id) as outcomes
    from revisit_tasks t
    join jobs j on j.id = t.job_id
    left join customers c on c.id = t.customer_id
    where t.organisation_id = $1"#;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// open (no outcome yet, the default), mine (claimed by me, no outcome), done, all.
    status: Option<String>,
    limit: Option<i64>,
    /// The last task of the previous page: the list goes on after it (by due time).
    after: Option<Uuid>,
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&QUEUE_READERS)?;
    let status = query.status.as_deref().unwrap_or("open");
    let filter = match status {
        "open" => "and not exists (select 1 from revisit_outcomes o where o.task_id = t.id)",
        "mine" => {
            "and t.claimed_by = $2 and not exists (select 1 from revisit_outcomes o where o.task_id = t.id)"
        }
        "done" => "and exists (select 1 from revisit_outcomes o where o.task_id = t.id)",
        "all" => "",
        _ => {
            return Err(ApiError::BadRequest(
                "status must be open, mine, done or all".into(),
            ));
        }
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    if let Some(after) = query.after {
        find(&app, &caller, after).await.map_err(|_| {
            ApiError::BadRequest("`after` must be the id of a task of the previous page".into())
        })?;
    }
    let tasks: Vec<Task> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TASK_QUERY} {filter} and $2::uuid is not null
           and ($3::uuid is null or (t.due_at, t.id) >
                (select r.due_at, r.id from revisit_tasks r where r.id = $3 and r.organisation_id = $1))
         order by t.due_at, t.id limit {limit}"
    )))
    .bind(caller.organisation_id)
    .bind(caller.staff_id)
    .bind(query.after)
    .fetch_all(&app.db)
    .await?;
    Ok(crate::http::page(
        tasks,
        limit,
        |t| t.id,
        |last| format!("/api/v1/revisits?status={status}&limit={limit}&after={last}"),
    ))
}

async fn find(app: &AppState, caller: &Caller, id: Uuid) -> Result<Task, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{TASK_QUERY} and t.id = $2")))
        .bind(caller.organisation_id)
        .bind(id)
        .fetch_optional(&app.db)
        .await?
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Outcome {
    id: Uuid,
    task_id: Uuid,
    recorded_by: Uuid,
    recorded_by_name: String,
    reached: bool,
    problem_solved: Option<bool>,
    satisfaction: Option<i32>,
    suggestions: Option<String>,
    notes: Option<String>,
    recorded_at: DateTime<Utc>,
}

const OUTCOME_QUERY: &str = r#"
    select o.id, o.task_id, o.recorded_by, s.name as recorded_by_name, o.reached,
           o.problem_solved, o.satisfaction, o.suggestions, o.notes, o.recorded_at
    from revisit_outcomes o join staff s on s.id = o.recorded_by
    where o.organisation_id = $1"#;

async fn show(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&QUEUE_READERS)?;
    let task = find(&app, &caller, id).await?;
    let outcomes: Vec<Outcome> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OUTCOME_QUERY} and o.task_id = $2 order by o.recorded_at, o.id"
    )))
    .bind(caller.organisation_id)
    .bind(id)
    .fetch_all(&app.db)
    .await?;
    Ok(AppJson(json!({"task": task, "outcomes": outcomes})))
}

/// Independence (通常由非直接处理客户投诉的人员进行): whoever handled the job may not revisit it.
async fn check_independent(app: &AppState, caller: &Caller, task: &Task) -> Result<(), ApiError> {
    let handled: bool = sqlx::query_scalar(
        "select exists (select 1 from job_assignments where job_id = $1 and technician_id = $2)",
    )
    .bind(task.job_id)
    .bind(caller.staff_id)
    .fetch_one(&app.db)
    .await?;
    if handled || task.technician_id == Some(caller.staff_id) {
        return Err(ApiError::Forbidden(
            "you handled this job, so you cannot make its revisit: the customer must be called back by someone who did not handle the job".into(),
        ));
    }
    Ok(())
}

/// A technician never makes a revisit: for a job they handled they are told why (the
/// independence rule); for anything else, whether the task exists or not, they get the same
/// role refusal, so the answer reveals no other task.
async fn refuse_technician(app: &AppState, caller: &Caller, id: Uuid) -> ApiError {
    if let Ok(task) = find(app, caller, id).await
        && let Err(refusal) = check_independent(app, caller, &task).await
    {
        return refusal;
    }
    match caller.require(&QUEUE_READERS) {
        Err(refusal) => refusal,
        Ok(()) => ApiError::NotFound,
    }
}

async fn claim(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<AppJson<Task>, ApiError> {
    caller.require(&CALLERS)?;
    if caller.role == Role::Technician {
        return Err(refuse_technician(&app, &caller, id).await);
    }
    let task = find(&app, &caller, id).await?;
    check_independent(&app, &caller, &task).await?;
    let claimed = sqlx::query(
        r#"update revisit_tasks set claimed_by = $2, claimed_at = now()
           where id = $1 and (claimed_by is null or claimed_by = $2)"#,
    )
    .bind(id)
    .bind(caller.staff_id)
    .execute(&app.db)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(ApiError::Conflict(
            "someone else has claimed this revisit".into(),
        ));
    }
    Ok(AppJson(find(&app, &caller, id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOutcome {
    reached: bool,
    problem_solved: Option<bool>,
    satisfaction: Option<i32>,
    suggestions: Option<String>,
    notes: Option<String>,
}

async fn record_outcome(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(outcome): AppJson<NewOutcome>,
) -> Result<(StatusCode, AppJson<serde_json::Value>), ApiError> {
    caller.require(&CALLERS)?;
    if caller.role == Role::Technician {
        return Err(refuse_technician(&app, &caller, id).await);
    }
    let task = find(&app, &caller, id).await?;
    check_independent(&app, &caller, &task).await?;
    if task.claimed_by != Some(caller.staff_id) {
        return Err(ApiError::Conflict(
            "claim this revisit before recording its outcome".into(),
        ));
    }
    if let Some(score) = outcome.satisfaction
        && !(1..=5).contains(&score)
    {
        return Err(ApiError::BadRequest("satisfaction is 1 to 5".into()));
    }
    if !outcome.reached && (outcome.problem_solved.is_some() || outcome.satisfaction.is_some()) {
        return Err(ApiError::BadRequest(
            "the customer was not reached: leave problem_solved and satisfaction empty".into(),
        ));
    }
    for (field, text) in [
        ("suggestions", &outcome.suggestions),
        ("notes", &outcome.notes),
    ] {
        if text.as_ref().is_some_and(|t| t.chars().count() > 4000) {
            return Err(ApiError::BadRequest(format!(
                "{field} may be at most 4000 characters"
            )));
        }
    }
    let outcome_id = Uuid::new_v4();
    let mut tx = app.db.begin().await?;
    sqlx::query(
        r#"insert into revisit_outcomes (id, task_id, organisation_id, recorded_by, reached,
                                         problem_solved, satisfaction, suggestions, notes)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
    )
    .bind(outcome_id)
    .bind(id)
    .bind(caller.organisation_id)
    .bind(caller.staff_id)
    .bind(outcome.reached)
    .bind(outcome.problem_solved)
    .bind(outcome.satisfaction)
    .bind(&outcome.suggestions)
    .bind(&outcome.notes)
    .execute(&mut *tx)
    .await?;
    let payload = json!({"type": "revisit.outcome_recorded", "timestamp": Utc::now(), "data": {
        "revisit_id": id, "job_id": task.job_id, "outcome_id": outcome_id, "reached": outcome.reached,
        "problem_solved": outcome.problem_solved, "satisfaction": outcome.satisfaction,
        "recorded_by": caller.staff_id,
    }});
    let key = format!("revisit.outcome_recorded:{outcome_id}");
    outbox::insert(
        &mut tx,
        caller.organisation_id,
        "revisit.outcome_recorded",
        Some(task.job_id),
        &key,
        payload,
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        AppJson(json!({"id": outcome_id, "task_id": id})),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// The archive of outcomes as CSV, for the period asked (default: everything).
async fn export(
    State(app): State<AppState>,
    caller: Caller,
    Query(range): Query<ExportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(&[Role::Revisit, Role::Dispatcher, Role::Admin])?;
    let rows: Vec<ExportRow> = sqlx::query_as(
        r#"select o.id, o.task_id, t.job_id, t.reason, c.name as customer_name,
                  c.phone as customer_phone, j.completed_at, tech.name as technician,
                  o.recorded_at, s.name as recorded_by_name, o.reached, o.problem_solved,
                  o.satisfaction, o.suggestions, o.notes
           from revisit_outcomes o
           join staff s on s.id = o.recorded_by
           join revisit_tasks t on t.id = o.task_id
           join jobs j on j.id = t.job_id
           left join customers c on c.id = t.customer_id
           left join staff tech on tech.id = j.technician_id
           where o.organisation_id = $1
             and ($2::timestamptz is null or o.recorded_at >= $2)
             and ($3::timestamptz is null or o.recorded_at < $3)
           order by o.recorded_at, o.id limit 100000"#,
    )
    .bind(caller.organisation_id)
    .bind(range.from)
    .bind(range.to)
    .fetch_all(&app.db)
    .await?;
    let mut csv = String::from(
        "outcome_id,task_id,job_id,reason,customer,customer_phone,job_completed_at,technician,\
         recorded_at,recorded_by,reached,problem_solved,satisfaction,suggestions,notes\n",
    );
    for o in &rows {
        let cells = [
            o.id.to_string(),
            o.task_id.to_string(),
            o.job_id.to_string(),
            o.reason.clone(),
            o.customer_name.clone().unwrap_or_default(),
            o.customer_phone.clone().unwrap_or_default(),
            o.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            o.technician.clone().unwrap_or_default(),
            o.recorded_at.to_rfc3339(),
            o.recorded_by_name.clone(),
            o.reached.to_string(),
            o.problem_solved.map(|b| b.to_string()).unwrap_or_default(),
            o.satisfaction.map(|s| s.to_string()).unwrap_or_default(),
            o.suggestions.clone().unwrap_or_default(),
            o.notes.clone().unwrap_or_default(),
        ];
        csv.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

/// One archived outcome with what it is about.
#[derive(sqlx::FromRow)]
struct ExportRow {
    id: Uuid,
    task_id: Uuid,
    job_id: Uuid,
    reason: String,
    customer_name: Option<String>,
    customer_phone: Option<String>,
    completed_at: Option<DateTime<Utc>>,
    technician: Option<String>,
    recorded_at: DateTime<Utc>,
    recorded_by_name: String,
    reached: bool,
    problem_solved: Option<bool>,
    satisfaction: Option<i32>,
    suggestions: Option<String>,
    notes: Option<String>,
}

/// A CSV cell: quoted when it holds a separator, and a text a spreadsheet would take for a
/// formula (`=`, `+`, `-`, `@`) starts with an apostrophe, so a note cannot run as one.
fn csv_cell(text: &str) -> String {
    let guarded;
    let text = if text.starts_with(['=', '+', '-', '@']) {
        guarded = format!("'{text}");
        guarded.as_str()
    } else {
        text
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    complaint_due_hours: i32,
    regular_due_hours: i32,
    /// The scheduled revisit of key customers (and of customers with enough stars), in days
    /// after completion.
    key_customer_extra_days: i32,
    /// Where customers are ranked with stars: the fewest stars that earn the scheduled revisit.
    #[serde(default = "default_scheduled_min_stars")]
    scheduled_min_stars: i32,
}

fn default_scheduled_min_stars() -> i32 {
    5
}

async fn policy(State(app): State<AppState>, caller: Caller) -> Result<AppJson<Policy>, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher, Role::Revisit])?;
    let policy = sqlx::query_as(
        r#"select coalesce(max(complaint_due_hours), 24) as complaint_due_hours,
                  coalesce(max(regular_due_hours), 72) as regular_due_hours,
                  coalesce(max(key_customer_extra_days), 30) as key_customer_extra_days,
                  coalesce(max(scheduled_min_stars), 5) as scheduled_min_stars
           from revisit_policies where organisation_id = $1"#,
    )
    .bind(caller.organisation_id)
    .fetch_one(&app.db)
    .await?;
    Ok(AppJson(policy))
}

async fn set_policy(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(policy): AppJson<Policy>,
) -> Result<AppJson<Policy>, ApiError> {
    caller.require(&[Role::Admin])?;
    if policy.complaint_due_hours <= 0
        || policy.regular_due_hours <= 0
        || policy.key_customer_extra_days <= 0
    {
        return Err(ApiError::BadRequest("every period must be positive".into()));
    }
    if !(1..=5).contains(&policy.scheduled_min_stars) {
        return Err(ApiError::BadRequest(
            "scheduled_min_stars is between 1 and 5".into(),
        ));
    }
    sqlx::query(
        r#"insert into revisit_policies (organisation_id, complaint_due_hours, regular_due_hours,
                                         key_customer_extra_days, scheduled_min_stars)
           values ($1, $2, $3, $4, $5)
           on conflict (organisation_id) do update set complaint_due_hours = excluded.complaint_due_hours,
               regular_due_hours = excluded.regular_due_hours,
               key_customer_extra_days = excluded.key_customer_extra_days,
               scheduled_min_stars = excluded.scheduled_min_stars"#,
    )
    .bind(caller.organisation_id)
    .bind(policy.complaint_due_hours)
    .bind(policy.regular_due_hours)
    .bind(policy.key_customer_extra_days)
    .bind(policy.scheduled_min_stars)
    .execute(&app.db)
    .await?;
    Ok(AppJson(policy))
}
