//! Customer tiers over HTTP, a door onto [`crate::tiers`]:
//!
//! - `GET/PUT /api/v1/tier-rules` (admin sets; dispatchers read)
//! - `POST /api/v1/tiers/recompute` `{"period": "2026"}` (admin)
//! - `GET /api/v1/customers/{id}/tiers` (the customer's history)

use axum::extract::State;
use serde::Deserialize;
use uuid::Uuid;

use super::json::{AppJson, Path};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tiers::{self, PeriodTier, TierRules};

pub async fn rules(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<AppJson<TierRules>, ApiError> {
    Ok(AppJson(tiers::rules::get(&app.db, &caller).await?))
}

/// Sets the scheme and thresholds; customers keep their tier until the next recomputation.
pub async fn set_rules(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(rules): AppJson<TierRules>,
) -> Result<AppJson<TierRules>, ApiError> {
    tiers::rules::set(&app.db, &caller, &rules).await?;
    Ok(AppJson(rules))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recompute {
    /// The calendar year, e.g. "2026".
    period: String,
}

pub async fn recompute(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(request): AppJson<Recompute>,
) -> Result<AppJson<Vec<PeriodTier>>, ApiError> {
    Ok(AppJson(
        tiers::recompute(&app.db, &caller, &request.period).await?,
    ))
}

pub async fn history(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<AppJson<Vec<PeriodTier>>, ApiError> {
    Ok(AppJson(tiers::history(&app.db, &caller, id).await?))
}
