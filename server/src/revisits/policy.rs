//! The organisation's revisit policy: how soon after completion complaint and other jobs are
//! called back, and the scheduled revisit of key customers.

use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub complaint_due_hours: i32,
    pub regular_due_hours: i32,
    /// The scheduled revisit of key customers (and of customers with enough stars), in days
    /// after completion.
    pub key_customer_extra_days: i32,
    /// Where customers are ranked with stars: the fewest stars that earn the scheduled revisit.
    #[serde(default = "default_scheduled_min_stars")]
    pub scheduled_min_stars: i32,
}

fn default_scheduled_min_stars() -> i32 {
    5
}

/// The caller's organisation's policy (the defaults where it set none).
pub async fn get(db: &sqlx::PgPool, caller: &Caller) -> Result<Policy, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher, Role::Revisit])?;
    Ok(sqlx::query_as(
        r#"select coalesce(max(complaint_due_hours), 24) as complaint_due_hours,
                  coalesce(max(regular_due_hours), 72) as regular_due_hours,
                  coalesce(max(key_customer_extra_days), 30) as key_customer_extra_days,
                  coalesce(max(scheduled_min_stars), 5) as scheduled_min_stars
           from revisit_policies where organisation_id = $1"#,
    )
    .bind(caller.organisation_id)
    .fetch_one(db)
    .await?)
}

/// Sets the caller's organisation's policy (admins only).
pub async fn set(db: &sqlx::PgPool, caller: &Caller, policy: &Policy) -> Result<(), ApiError> {
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
    .execute(db)
    .await?;
    Ok(())
}
