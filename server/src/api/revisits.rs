//! `/api/v1/revisits` and `/api/v1/revisit-policy`, a door onto [`crate::revisits`]: the queue,
//! claiming, recording outcomes, the archive export, the policy.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::json::{AppJson, Path, Query, page};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::revisits::archive;
use crate::revisits::desk::{self, NewOutcome};
use crate::revisits::policy::{self, Policy};
use crate::revisits::queue::{self, Narrow, Task};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/revisits", get(list))
        .route("/api/v1/revisits/export", get(export))
        .route("/api/v1/revisits/{id}", get(show))
        .route("/api/v1/revisits/{id}/claim", post(claim))
        .route("/api/v1/revisits/{id}/outcome", post(record_outcome))
        .route("/api/v1/revisit-policy", get(get_policy).put(set_policy))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// open (no outcome yet, the default), mine (claimed by me, no outcome), done, all.
    status: Option<String>,
    limit: Option<i64>,
    /// The last task of the previous page: the list goes on after it (by due time).
    after: Option<Uuid>,
    /// overdue, key (key customers, four and five stars) or complaints.
    filter: Option<String>,
    /// Only tasks due at or after this instant and before `due_before` (both or neither).
    due_from: Option<DateTime<Utc>>,
    due_before: Option<DateTime<Utc>>,
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let status = query.status.as_deref().unwrap_or("open");
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let narrow = Narrow::parse(query.filter.as_deref(), query.due_from, query.due_before)?;
    let tasks = queue::list_narrowed(&app.db, &caller, status, narrow, limit, query.after).await?;
    Ok(page(
        tasks,
        limit,
        |t| t.id,
        |last| {
            let narrowed = narrow.query();
            format!("/api/v1/revisits?status={status}&limit={limit}&after={last}{narrowed}")
        },
    ))
}

async fn show(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let (task, outcomes) = queue::show(&app.db, &caller, id).await?;
    Ok(AppJson(json!({"task": task, "outcomes": outcomes})))
}

async fn claim(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<AppJson<Task>, ApiError> {
    Ok(AppJson(desk::claim(&app.db, &caller, id).await?))
}

async fn record_outcome(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(outcome): AppJson<NewOutcome>,
) -> Result<(StatusCode, AppJson<serde_json::Value>), ApiError> {
    let outcome_id = desk::record_outcome(&app.db, &caller, id, &outcome).await?;
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
    let rows = archive::outcomes(&app.db, &caller, range.from, range.to).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        archive::to_csv(&rows),
    ))
}

async fn get_policy(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<AppJson<Policy>, ApiError> {
    Ok(AppJson(policy::get(&app.db, &caller).await?))
}

async fn set_policy(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(new): AppJson<Policy>,
) -> Result<AppJson<Policy>, ApiError> {
    policy::set(&app.db, &caller, &new).await?;
    Ok(AppJson(new))
}
