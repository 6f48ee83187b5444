//! Customer tiers (客户分类管理): recomputed per statistical period (a calendar year) from
//! objective data only — the customer's completed jobs and the extra payments due on them — by
//! thresholds the organisation sets: the three default tiers (key, regular, prospect), or one to
//! five stars. Every period's result is kept.
//!
//! - `GET/PUT /api/v1/tier-rules` (admin sets; dispatchers read)
//! - `POST /api/v1/tiers/recompute` `{"period": "2026"}` (admin)
//! - `GET /api/v1/customers/{id}/tiers` (the customer's history)

use axum::extract::State;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::json::AppJson;
use super::json::Path;
use crate::auth::Caller;
use crate::directory::{Customer, Role, TierScheme};
use crate::error::ApiError;
use crate::state::AppState;

/// The organisation's tier scheme and thresholds. Fields left out of a `PUT` take their
/// defaults, so an organisation that never uses stars need not mention them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRules {
    /// `three_tiers` (key, regular, prospect) or `stars` (one to five).
    #[serde(default)]
    scheme: TierScheme,
    /// A customer whose payments in the period reach this (minor units) is a key customer.
    #[serde(default = "default_key_min_spend")]
    key_min_spend_minor: i64,
    /// ...or who had at least this many completed jobs.
    #[serde(default = "default_key_min_jobs")]
    key_min_jobs: i32,
    /// At least this many completed jobs make a regular customer; fewer, a prospect.
    #[serde(default = "default_regular_min_jobs")]
    regular_min_jobs: i32,
    /// Stars: the spend (minor units) that earns two, three, four and five stars...
    #[serde(default = "default_star_min_spend")]
    star_min_spend_minor: [i64; 4],
    /// ...or the completed jobs that do; one star otherwise.
    #[serde(default = "default_star_min_jobs")]
    star_min_jobs: [i32; 4],
}

fn default_key_min_spend() -> i64 {
    1_000_000
}
fn default_key_min_jobs() -> i32 {
    10
}
fn default_regular_min_jobs() -> i32 {
    1
}
fn default_star_min_spend() -> [i64; 4] {
    [100_000, 300_000, 600_000, 1_000_000]
}
fn default_star_min_jobs() -> [i32; 4] {
    [1, 3, 6, 10]
}

impl Default for TierRules {
    fn default() -> Self {
        Self {
            scheme: TierScheme::default(),
            key_min_spend_minor: default_key_min_spend(),
            key_min_jobs: default_key_min_jobs(),
            regular_min_jobs: default_regular_min_jobs(),
            star_min_spend_minor: default_star_min_spend(),
            star_min_jobs: default_star_min_jobs(),
        }
    }
}

impl TierRules {
    fn check(&self) -> Result<(), ApiError> {
        if self.key_min_spend_minor <= 0 || self.key_min_jobs <= 0 || self.regular_min_jobs <= 0 {
            return Err(ApiError::BadRequest(
                "every threshold must be positive".into(),
            ));
        }
        let rising = |name: &str, ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(ApiError::BadRequest(format!(
                    "{name} lists the thresholds for 2, 3, 4 and 5 stars: positive and never falling"
                )))
            }
        };
        rising(
            "star_min_spend_minor",
            self.star_min_spend_minor[0] > 0 && self.star_min_spend_minor.is_sorted(),
        )?;
        rising(
            "star_min_jobs",
            self.star_min_jobs[0] > 0 && self.star_min_jobs.is_sorted(),
        )
    }
}

pub async fn rules(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<AppJson<TierRules>, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher])?;
    Ok(AppJson(
        current_rules(&app.db, caller.organisation_id).await?,
    ))
}

async fn current_rules(db: &PgPool, organisation: Uuid) -> Result<TierRules, sqlx::Error> {
    type Row = (String, i64, i32, i32, Vec<i64>, Vec<i32>);
    let row: Option<Row> = sqlx::query_as(
        r#"select scheme, key_min_spend_minor, key_min_jobs, regular_min_jobs,
                  star_min_spend_minor, star_min_jobs
           from tier_rules where organisation_id = $1"#,
    )
    .bind(organisation)
    .fetch_optional(db)
    .await?;
    let Some((scheme, key_spend, key_jobs, regular_jobs, star_spend, star_jobs)) = row else {
        return Ok(TierRules::default());
    };
    let four =
        |what: &str| sqlx::Error::Decode(format!("{what} does not hold four thresholds").into());
    Ok(TierRules {
        scheme: TierScheme::from_word(&scheme),
        key_min_spend_minor: key_spend,
        key_min_jobs: key_jobs,
        regular_min_jobs: regular_jobs,
        star_min_spend_minor: star_spend
            .try_into()
            .map_err(|_| four("star_min_spend_minor"))?,
        star_min_jobs: star_jobs.try_into().map_err(|_| four("star_min_jobs"))?,
    })
}

/// Sets the scheme and thresholds. Customers keep their tier until the next recomputation, which
/// ranks them by the new rules.
pub async fn set_rules(
    State(app): State<AppState>,
    caller: Caller,
    AppJson(rules): AppJson<TierRules>,
) -> Result<AppJson<TierRules>, ApiError> {
    caller.require(&[Role::Admin])?;
    rules.check()?;
    sqlx::query(
        r#"insert into tier_rules (organisation_id, key_min_spend_minor, key_min_jobs, regular_min_jobs,
                                   scheme, star_min_spend_minor, star_min_jobs)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (organisation_id) do update set key_min_spend_minor = excluded.key_min_spend_minor,
               key_min_jobs = excluded.key_min_jobs, regular_min_jobs = excluded.regular_min_jobs,
               scheme = excluded.scheme, star_min_spend_minor = excluded.star_min_spend_minor,
               star_min_jobs = excluded.star_min_jobs"#,
    )
    .bind(caller.organisation_id)
    .bind(rules.key_min_spend_minor)
    .bind(rules.key_min_jobs)
    .bind(rules.regular_min_jobs)
    .bind(rules.scheme.as_str())
    .bind(&rules.star_min_spend_minor[..])
    .bind(&rules.star_min_jobs[..])
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
    Ok(AppJson(
        recompute_period(&app.db, caller.organisation_id, year, Utc::now()).await?,
    ))
}

/// Computes every customer's tier of `organisation` for the calendar year `year`, stamped
/// `at`, and moves the customers' current tier to their latest period; in one transaction.
pub async fn recompute_period(
    db: &PgPool,
    organisation: Uuid,
    year: i32,
    at: DateTime<Utc>,
) -> Result<Vec<PeriodTier>, sqlx::Error> {
    let period = year.to_string();
    let rules = current_rules(db, organisation).await?;
    let mut tx = db.begin().await?;
    let rows: Vec<PeriodTier> = sqlx::query_as(
        r#"insert into customer_tiers (customer_id, organisation_id, period, tier, spend_minor,
                                       completed_jobs, computed_at)
           select c.id, c.organisation_id, $2,
                  case when $7 = 'stars' then
                           -- Thresholds never fall, so the levels reached form a prefix: the
                           -- count of levels reached by spend or by jobs is the stars above one.
                           'stars_' || (1 + (select count(*) from unnest($8::bigint[], $9::int[]) as t(spend, jobs)
                                             where coalesce(s.spend, 0) >= t.spend
                                                or coalesce(s.jobs, 0) >= t.jobs))
                       when coalesce(s.spend, 0) >= $3 or coalesce(s.jobs, 0) >= $4 then 'key'
                       when coalesce(s.jobs, 0) >= $5 then 'regular'
                       else 'prospect' end,
                  coalesce(s.spend, 0), coalesce(s.jobs, 0), $10
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
               computed_at = excluded.computed_at
           returning customer_id, period, tier, spend_minor, completed_jobs, computed_at"#,
    )
    .bind(organisation)
    .bind(&period)
    .bind(rules.key_min_spend_minor)
    .bind(rules.key_min_jobs)
    .bind(rules.regular_min_jobs)
    .bind(f64::from(year))
    .bind(rules.scheme.as_str())
    .bind(&rules.star_min_spend_minor[..])
    .bind(&rules.star_min_jobs[..])
    .bind(at)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        r#"update customers c set tier = t.tier
           from customer_tiers t
           where t.customer_id = c.id and c.organisation_id = $1
             and t.period = (select max(period) from customer_tiers where customer_id = c.id)"#,
    )
    .bind(organisation)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// How often to look for a period that closed.
const CLOSE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs until aborted: each period that closes is computed at the start of the next, for every
/// organisation that computes tiers at all (has computed at least one period), so no one has to
/// remember the yearly adjustment (档案每年至少调整一次). Idempotent: several instances may do
/// it at once.
pub async fn close_periods(app: AppState) {
    let mut interval = tokio::time::interval(CLOSE_CHECK_EVERY);
    loop {
        interval.tick().await;
        if let Err(e) = close_periods_once(&app.db, Utc::now()).await {
            tracing::warn!(error = %e, "computing the closed period's tiers failed");
        }
    }
}

/// Computes the period closed before `now` for each organisation that computes tiers and has
/// not computed it since the period closed; returns those organisations.
pub async fn close_periods_once(db: &PgPool, now: DateTime<Utc>) -> Result<Vec<Uuid>, sqlx::Error> {
    let closed = now.year() - 1;
    let closed_at = chrono::NaiveDate::from_ymd_opt(now.year(), 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let due: Vec<Uuid> = sqlx::query_scalar(
        r#"select o.id from organisations o
           where exists (select 1 from customer_tiers t where t.organisation_id = o.id)
             and not exists (select 1 from customer_tiers t
                             where t.organisation_id = o.id and t.period = $1
                               and t.computed_at >= $2)
           order by o.id"#,
    )
    .bind(closed.to_string())
    .bind(closed_at)
    .fetch_all(db)
    .await?;
    for organisation in &due {
        let rows = recompute_period(db, *organisation, closed, now).await?;
        tracing::info!(%organisation, period = closed, customers = rows.len(), "tiers of the closed period computed");
    }
    Ok(due)
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
