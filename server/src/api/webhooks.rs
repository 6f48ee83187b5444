//! `/api/v1/webhooks`, a door onto [`crate::notifications`]: admins register endpoints, see their delivery log and replay events.
//! Another organisation's endpoint answers 404, exactly like a missing one.

use std::fmt;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::JSON_BODY_LIMIT;
use super::json::{AppJson, Path, Query};
use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::notifications::deliveries::{self, DeliveryRecord, Replay};
use crate::notifications::endpoints::{Endpoint, NewEndpoint};
use crate::state::AppState;

/// The webhook routes, to merge into the server's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(create))
        .route("/api/v1/webhooks/{id}", delete(remove))
        .route("/api/v1/webhooks/{id}/disable", post(disable))
        .route("/api/v1/webhooks/{id}/enable", post(enable))
        .route("/api/v1/webhooks/{id}/replay", post(replay))
        .route("/api/v1/webhooks/{id}/deliveries", get(log))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
}

/// An endpoint as created: the only answer that carries its secret.
#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    endpoint: Endpoint,
    secret: String,
}

impl fmt::Debug for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Created")
            .field("endpoint", &self.endpoint)
            .field("secret", &"[redacted]")
            .finish()
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(request): AppJson<NewEndpoint>,
) -> Result<(StatusCode, AppJson<Created>), ApiError> {
    let (endpoint, secret) = Endpoint::register(
        &state.db,
        &caller,
        state.webhooks.allow_private_targets,
        request,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        AppJson(Created {
            endpoint,
            secret: secret.expose(),
        }),
    ))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<AppJson<Vec<Endpoint>>, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(AppJson(
        Endpoint::list(&state.db, caller.organisation_id).await?,
    ))
}

async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<AppJson<Endpoint>, ApiError> {
    Ok(AppJson(
        Endpoint::switch(&state.db, &caller, id, false).await?,
    ))
}

/// Enabling resumes the endpoint's pending deliveries; events raised while it was disabled
/// were not queued for it (replay them with `since`).
async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<AppJson<Endpoint>, ApiError> {
    Ok(AppJson(
        Endpoint::switch(&state.db, &caller, id, true).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin])?;
    if Endpoint::delete(&state.db, caller.organisation_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// `{"event_id": ...}` or `{"since": ...}`, not both.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayRequest {
    event_id: Option<Uuid>,
    since: Option<DateTime<Utc>>,
}

async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    AppJson(request): AppJson<ReplayRequest>,
) -> Result<(StatusCode, AppJson<Value>), ApiError> {
    caller.require(&[Role::Admin])?;
    let which = match (request.event_id, request.since) {
        (Some(event), None) => Replay::Event(event),
        (None, Some(since)) => Replay::Since(since),
        _ => {
            return Err(ApiError::BadRequest(
                "send either `event_id` (one event) or `since` (an RFC 3339 time), not both"
                    .to_owned(),
            ));
        }
    };
    let queued = Endpoint::replay(&state.db, &caller, id, which).await?;
    Ok((StatusCode::ACCEPTED, AppJson(json!({ "queued": queued }))))
}

/// `?state=pending|delivered|dead&limit=N` (newest first, at most 1000).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    state: Option<String>,
    limit: Option<i64>,
}

async fn log(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(query): Query<LogQuery>,
) -> Result<AppJson<Vec<DeliveryRecord>>, ApiError> {
    caller.require(&[Role::Admin])?;
    if let Some(wanted) = &query.state
        && !matches!(wanted.as_str(), "pending" | "delivered" | "dead")
    {
        return Err(ApiError::BadRequest(
            "state must be pending, delivered or dead".to_owned(),
        ));
    }
    Endpoint::find(&state.db, caller.organisation_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    Ok(AppJson(
        deliveries::log(&state.db, id, query.state.as_deref(), limit).await?,
    ))
}
