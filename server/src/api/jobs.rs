//! `/api/v1/jobs` and `/api/v1/board`: the dispatcher's API. Ids are accepted as job numbers
//! (`FS-2026-00042`), UUIDs or automerge document ids/URLs.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;

use super::json::AppJson;
use super::json::{Path, Query};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::view::{Board, JobView};
use crate::jobs::{self, BookJob, Cancel, Confirmation, JobCreated, Reassign, Reschedule};
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(request): AppJson<BookJob>,
) -> Result<(StatusCode, AppJson<JobCreated>), ApiError> {
    let created = jobs::book_job(&state, &caller, request).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<AppJson<JobView>, ApiError> {
    Ok(AppJson(
        jobs::view::job_view(
            &state,
            &caller,
            jobs::resolve(&state.db, &caller, &id).await?,
        )
        .await?,
    ))
}

pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(request): AppJson<Confirmation>,
) -> Result<AppJson<JobView>, ApiError> {
    let id = jobs::resolve(&state.db, &caller, &id).await?;
    jobs::confirm(&state, &caller, id, request).await?;
    Ok(AppJson(jobs::view::job_view(&state, &caller, id).await?))
}

pub async fn reschedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(request): AppJson<Reschedule>,
) -> Result<AppJson<JobView>, ApiError> {
    let id = jobs::resolve(&state.db, &caller, &id).await?;
    jobs::reschedule(&state, &caller, id, request).await?;
    Ok(AppJson(jobs::view::job_view(&state, &caller, id).await?))
}

pub async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(request): AppJson<Reassign>,
) -> Result<AppJson<JobView>, ApiError> {
    let id = jobs::resolve(&state.db, &caller, &id).await?;
    jobs::reassign(&state, &caller, id, request).await?;
    Ok(AppJson(jobs::view::job_view(&state, &caller, id).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(request): AppJson<Cancel>,
) -> Result<AppJson<JobView>, ApiError> {
    let id = jobs::resolve(&state.db, &caller, &id).await?;
    jobs::cancel(&state, &caller, id, request).await?;
    Ok(AppJson(jobs::view::job_view(&state, &caller, id).await?))
}

pub async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<AppJson<JobView>, ApiError> {
    let id = jobs::resolve(&state.db, &caller, &id).await?;
    jobs::archive(&state, &caller, id).await?;
    Ok(AppJson(jobs::view::job_view(&state, &caller, id).await?))
}

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    /// YYYY-MM-DD, a day in the dispatcher's time.
    date: String,
    /// The dispatcher's offset from UTC on that day, `+08:00` (default `+00:00`).
    utc_offset: Option<String>,
}

pub async fn board(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<BoardQuery>,
) -> Result<AppJson<Board>, ApiError> {
    let date = NaiveDate::parse_from_str(&query.date, "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest("date must be YYYY-MM-DD".into()))?;
    let offset = match query.utc_offset.as_deref() {
        None => chrono::FixedOffset::east_opt(0),
        Some(text) => jobs::view::parse_offset(text),
    }
    .ok_or_else(|| {
        ApiError::BadRequest(
            "utc_offset must be the day's offset from UTC, such as +08:00 or -05:00".into(),
        )
    })?;
    Ok(AppJson(
        jobs::view::board(&state, &caller, date, offset).await?,
    ))
}
