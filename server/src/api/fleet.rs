//! `GET /api/v1/fleet` (operators) and `POST /api/v1/fleet/report` (devices report pending work).

use axum::extract::State;
use axum::http::StatusCode;

use super::json::AppJson;
use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::state::AppState;
use crate::sync::fleet::{self, DeviceActivity, PendingWork};

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<AppJson<Vec<DeviceActivity>>, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher])?;
    Ok(AppJson(
        fleet::list(&state.db, caller.organisation_id).await?,
    ))
}

pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(work): AppJson<PendingWork>,
) -> Result<StatusCode, ApiError> {
    fleet::report(&state.db, caller.device_token_id, work).await?;
    Ok(StatusCode::NO_CONTENT)
}
