//! Each customer's tier per statistical period (a calendar year), computed from objective data
//! only and kept period by period (档案每年至少调整一次，调整目录也要保存).

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::rules::current_rules;
use crate::auth::Caller;
use crate::directory::{Customer, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// One customer's tier in one period, with the figures it follows from.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct PeriodTier {
    pub customer_id: Uuid,
    pub period: String,
    pub tier: String,
    pub spend_minor: i64,
    pub completed_jobs: i32,
    pub computed_at: chrono::DateTime<chrono::Utc>,
}

/// Recomputes every customer's tier for the period; the customers' current tier follows the
/// latest period. Recomputing a period replaces only that period's rows.
pub async fn recompute(
    db: &PgPool,
    caller: &Caller,
    period: &str,
) -> Result<Vec<PeriodTier>, ApiError> {
    caller.require(&[Role::Admin])?;
    let year: i32 = period
        .parse()
        .ok()
        .filter(|y| (2000..=chrono::Utc::now().year() + 1).contains(y) && period.len() == 4)
        .ok_or_else(|| ApiError::BadRequest("period is a calendar year such as \"2026\"".into()))?;
    Ok(recompute_period(db, caller.organisation_id, year, Utc::now()).await?)
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

/// Customer `id`'s tier in every period computed, oldest first.
pub async fn history(db: &PgPool, caller: &Caller, id: Uuid) -> Result<Vec<PeriodTier>, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher, Role::Revisit])?;
    Customer::find(db, caller.organisation_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(sqlx::query_as(
        r#"select customer_id, period, tier, spend_minor, completed_jobs, computed_at
           from customer_tiers where customer_id = $1 order by period"#,
    )
    .bind(id)
    .fetch_all(db)
    .await?)
}
