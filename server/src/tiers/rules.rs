//! The organisation's tier scheme and thresholds: the three default tiers (key, regular,
//! prospect) or one to five stars, by spend and completed jobs in the period.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::Caller;
use crate::directory::{Role, TierScheme};
use crate::error::ApiError;

/// The organisation's tier scheme and thresholds. Fields left out of a `PUT` take their
/// defaults, so an organisation that never uses stars need not mention them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRules {
    /// `three_tiers` (key, regular, prospect) or `stars` (one to five).
    #[serde(default)]
    pub scheme: TierScheme,
    /// A customer whose payments in the period reach this (minor units) is a key customer.
    #[serde(default = "default_key_min_spend")]
    pub key_min_spend_minor: i64,
    /// ...or who had at least this many completed jobs.
    #[serde(default = "default_key_min_jobs")]
    pub key_min_jobs: i32,
    /// At least this many completed jobs make a regular customer; fewer, a prospect.
    #[serde(default = "default_regular_min_jobs")]
    pub regular_min_jobs: i32,
    /// Stars: the spend (minor units) that earns two, three, four and five stars...
    #[serde(default = "default_star_min_spend")]
    pub star_min_spend_minor: [i64; 4],
    /// ...or the completed jobs that do; one star otherwise.
    #[serde(default = "default_star_min_jobs")]
    pub star_min_jobs: [i32; 4],
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

/// The caller's organisation's rules (the defaults where it set none).
pub async fn get(db: &PgPool, caller: &Caller) -> Result<TierRules, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher])?;
    Ok(current_rules(db, caller.organisation_id).await?)
}

pub(super) async fn current_rules(
    db: &PgPool,
    organisation: Uuid,
) -> Result<TierRules, sqlx::Error> {
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
pub async fn set(db: &PgPool, caller: &Caller, rules: &TierRules) -> Result<(), ApiError> {
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
    .execute(db)
    .await?;
    Ok(())
}
