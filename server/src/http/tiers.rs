//! Customer tiers (客户分类管理): recomputed per statistical period (a calendar year) from
//! objective data only — the customer's completed jobs and the extra payments due on them — by
//! thresholds the organisation sets. Every period's result is kept.
//!
//! - `GET/PUT /api/v1/tier-rules` (admin sets; dispatchers read)
//! - `POST /api/v1/tiers/recompute` `{"period": "2026"}` (admin)
//! - `GET /api/v1/customers/{id}/tiers` (the customer's history)

use axum::extract::{Path, State};
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::json::AppJson;
use crate::auth::Caller;
use crate::directory::{Customer, Role};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct TierRules {
    /// A customer whose payments in the period reach this (minor units) is a key customer.
    key_min_spend_minor: i64,
    /// ...or who had at least this many completed jobs.
    key_min_jobs: i32,
    /// At least this many completed jobs make a regular customer; fewer, a prospect.
    regular_min_jobs: i32,
}

pub async fn rules(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<AppJson<TierRules>, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher])?;
    Ok(AppJson(current_rules(&app, caller.organisation_id).await?))
}

async fn current_rules(app: &AppState, organisation: Uuid) -> Result<TierRules, sqlx::Error> {
    sqlx::query_as(
        r#"select coalesce(max(key_min_spend_minor), 1000000) as key_min_spend_minor,
                  coalesce(max(key_min_jobs), 10) as key_min_jobs,
                  coalesce(max(regular_min_jobs), 1) as regular_min_jobs
           from tier_rules where organisation_id = $1"#,
    )
    .bind(organisation)
    .fetch_one(&app.db)
    .await
}

pub async fn set_rules(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(rules): AppJson<TierRules>,
) -> Result<AppJson<TierRules>, ApiError> {
    caller.require(&[Role::Admin])?;
    if rules.key_min_spend_minor <= 0 || rules.key_min_jobs <= 0 || rules.regular_min_jobs <= 0 {
        return Err(ApiError::BadRequest(
            "every threshold must be positive".into(),
        ));
    }
    sqlx::query(
        r#"insert into tier_rules (organisation_id, key_min_spend_minor, key_min_jobs, regular_min_jobs)
           values ($1, $2, $3, $4)
           on conflict (organisation_id) do update set key_min_spend_minor = excluded.key_min_spend_minor,
               key_min_jobs = excluded.key_min_jobs, regular_min_jobs = excluded.regular_min_jobs"#,
    )
    .bind(caller.organisation_id)
    .bind(rules.key_min_spend_minor)
    .bind(rules.key_min_jobs)
    .bind(rules.regular_min_jobs)
    .execute(&app.db)
    .await?;
    Ok(AppJson(rules))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recompute {
    /// The calendar year, e.g. "2026".
    period: String,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct PeriodTier {
    customer_id: Uuid,
    period: String,
    tier: String,
    spend_minor: i64,
    completed_jobs: i32,
    computed_at: chrono::DateTime<chrono::Utc>,
}

/// Recomputes every customer's tier for the period; the customers' current tier follows the
/// latest period. Recomputing a period replaces only that period's rows.
pub async fn recompute(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(request): AppJson<Recompute>,
) -> Result<AppJson<Vec<PeriodTier>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let year: i32 = request
        .period
        .parse()
        .ok()
        .filter(|y| (2000..=chrono::Utc::now().year() + 1).contains(y) && request.period.len() == 4)
        .ok_or_else(|| ApiError::BadRequest("period is a calendar year such as \"2026\"".into()))?;
    let rules = current_rules(&app, caller.organisation_id).await?;
    let mut tx = app.db.begin().await?;
    let rows: Vec<PeriodTier> = sqlx::query_as(
        r#"insert into customer_tiers (customer_id, organisation_id, period, tier, spend_minor, completed_jobs)
           select c.id, c.organisation_id, $2,
                  case when coalesce(s.spend, 0) >= $3 or coalesce(s.jobs, 0) >= $4 then 'key'
                       when coalesce(s.jobs, 0) >= $5 then 'regular'
                       else 'prospect' end,
                  coalesce(s.spend, 0), coalesce(s.jobs, 0)
           from customers c
           left join (select customer_id, sum(coalesce(payment_due_minor, 0))::bigint as spend,
                             count(*)::int as jobs
                      from jobs
                      where organisation_id = $1 and complete
                        and extract(year from completed_at) = $6
                      group by customer_id) s on s.customer_id = c.id
           where c.organisation_id = $1
           on conflict (customer_id, period) do update set tier = excluded.tier,
               spend_minor = excluded.spend_minor, completed_jobs = excluded.completed_jobs,
               computed_at = now()
           returning customer_id, period, tier, spend_minor, completed_jobs, computed_at"#,
    )
    .bind(caller.organisation_id)
    .bind(&request.period)
    .bind(rules.key_min_spend_minor)
    .bind(rules.key_min_jobs)
    .bind(rules.regular_min_jobs)
    .bind(f64::from(year))
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        r#"update customers c set tier = t.tier
           from customer_tiers t
           where t.customer_id = c.id and c.organisation_id = $1
             and t.period = (select max(period) from customer_tiers where customer_id = c.id)"#,
    )
    .bind(caller.organisation_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(AppJson(rows))
}

pub async fn history(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<AppJson<Vec<PeriodTier>>, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher, Role::Revisit])?;
    Customer::find(&app.db, caller.organisation_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(AppJson(
        sqlx::query_as(
            r#"select customer_id, period, tier, spend_minor, completed_jobs, computed_at
               from customer_tiers where customer_id = $1 order by period"#,
        )
        .bind(id)
        .fetch_all(&app.db)
        .await?,
    ))
}
