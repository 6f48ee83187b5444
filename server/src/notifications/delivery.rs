//! Delivery rows: claiming due attempts under a lease, and recording what the receiver said.
//! The lease, not a transaction, protects an attempt while its HTTP call runs: a claim takes
//! rows with SKIP LOCKED and stamps them with a lease id, and only that lease id may record the
//! outcome, so two instances never send the same attempt and a late answer cannot overwrite a
//! replay.

use std::fmt;
use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::schedule::next_delay;
use super::signing::WebhookSecret;

/// One attempt this worker holds the lease of, with what it needs to send it.
#[derive(Clone, sqlx::FromRow)]
pub struct Attempt {
    pub delivery_id: i64,
    pub lease_id: Uuid,
    /// 1 for the first attempt.
    pub attempt: i32,
    pub endpoint_id: Uuid,
    pub url: String,
    secret: String,
    pub event_id: Uuid,
    pub payload: Value,
}

impl Attempt {
    /// The endpoint's signing key, if the stored text is readable.
    pub fn secret(&self) -> Option<WebhookSecret> {
        WebhookSecret::parse(&self.secret)
    }

    /// `webhook-id`: the event's, so retries and replays carry the same one.
    pub fn webhook_id(&self) -> String {
        format!("msg_{}", self.event_id.simple())
    }
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the secret nor the URL (which may carry a token of the receiver's).
        f.debug_struct("Attempt")
            .field("delivery_id", &self.delivery_id)
            .field("attempt", &self.attempt)
            .field("endpoint_id", &self.endpoint_id)
            .field("event_id", &self.event_id)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// 410 Gone: the receiver wants no more; the endpoint is disabled.
    Gone,
    /// Anything else: retried on the schedule, or dead after its last step.
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// Leases up to `limit` due attempts for `lease`.
pub async fn claim(db: &PgPool, limit: i64, lease: Duration) -> Result<Vec<Attempt>, sqlx::Error> {
    sqlx::query_as(
        r#"with due as (
               select d.id from webhook_deliveries d
               join webhook_endpoints e on e.id = d.endpoint_id
               where d.state = 'pending' and d.next_attempt_at <= now() and e.enabled
                 and (d.leased_until is null or d.leased_until < now())
               order by d.next_attempt_at, d.id
               limit $1
               for update of d skip locked
           )
           update webhook_deliveries d
           set attempts = d.attempts + 1, last_attempt_at = now(),
               leased_until = now() + make_interval(secs => $2), lease_id = $3
           from due, webhook_endpoints e, outbox o
           where d.id = due.id and e.id = d.endpoint_id and o.id = d.outbox_id
           returning d.id as delivery_id, d.lease_id, d.attempts as attempt, e.id as endpoint_id,
                     e.url, e.secret, o.event_id, o.payload"#,
    )
    .bind(limit)
    .bind(lease.as_secs_f64())
    .bind(Uuid::new_v4())
    .fetch_all(db)
    .await
}

/// How long until some attempt may become due (a lease expiring counts), at most `limit`.
pub async fn until_next_due(db: &PgPool, limit: Duration) -> Result<Duration, sqlx::Error> {
    let seconds: Option<f64> = sqlx::query_scalar(
        r#"select extract(epoch from min(greatest(d.next_attempt_at,
                                                  coalesce(d.leased_until, d.next_attempt_at))) - now())::float8
           from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
           where d.state = 'pending' and e.enabled"#,
    )
    .fetch_one(db)
    .await?;
    Ok(match seconds {
        Some(seconds) if seconds > 0.0 => Duration::from_secs_f64(seconds).min(limit),
        Some(_) => Duration::ZERO,
        None => limit,
    })
}

/// Records the outcome of `attempt`, unless its lease was taken away (by a replay).
pub async fn record(
    db: &PgPool,
    attempt: &Attempt,
    outcome: &Outcome,
    schedule: &[Duration],
) -> Result<(), sqlx::Error> {
    match outcome {
        Outcome::Delivered { status } => {
            sqlx::query(
                r#"update webhook_deliveries
                   set state = 'delivered', delivered_at = now(), last_status_code = $3,
                       last_error = null, leased_until = null, lease_id = null
                   where id = $1 and lease_id = $2"#,
            )
            .bind(attempt.delivery_id)
            .bind(attempt.lease_id)
            .bind(i32::from(*status))
            .execute(db)
            .await?;
        }
        Outcome::Gone => record_gone(db, attempt).await?,
        Outcome::Failed {
            status,
            error,
            retry_after,
        } => {
            let attempts = usize::try_from(attempt.attempt).unwrap_or(usize::MAX);
            let delay = next_delay(schedule, attempts, *retry_after);
            sqlx::query(
                r#"update webhook_deliveries
                   set state = case when $3::float8 is null then 'dead' else 'pending' end,
                       next_attempt_at = case when $3::float8 is null then next_attempt_at
                                         else now() + make_interval(secs => $3::float8) end,
                       last_status_code = $4, last_error = $5, leased_until = null, lease_id = null
                   where id = $1 and lease_id = $2"#,
            )
            .bind(attempt.delivery_id)
            .bind(attempt.lease_id)
            .bind(delay.map(|d| d.as_secs_f64()))
            .bind(status.map(i32::from))
            .bind(error)
            .execute(db)
            .await?;
        }
    }
    Ok(())
}

/// 410: this delivery stops and the endpoint is disabled, with the reason shown in its listing.
async fn record_gone(db: &PgPool, attempt: &Attempt) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        r#"update webhook_deliveries
           set state = 'dead', last_status_code = 410,
               last_error = 'the endpoint answered 410 Gone, so it was disabled',
               leased_until = null, lease_id = null
           where id = $1 and lease_id = $2"#,
    )
    .bind(attempt.delivery_id)
    .bind(attempt.lease_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 1 {
        sqlx::query(
            r#"update webhook_endpoints
               set enabled = false, disabled_at = now(),
                   disabled_reason = 'the endpoint answered 410 Gone to event ' || $2::text
                       || '; enable it again once it accepts deliveries'
               where id = $1 and enabled"#,
        )
        .bind(attempt.endpoint_id)
        .bind(attempt.event_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
