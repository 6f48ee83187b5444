//! The delivery log of an endpoint, and replay: past events queued again to one endpoint, with
//! their original `webhook-id`, so receivers that dedupe keep doing so.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::WAKE_CHANNEL;

/// One line of the delivery log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub event_id: Uuid,
    pub event_type: String,
    #[sqlx(skip)]
    pub webhook_id: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The newest `limit` deliveries of an endpoint, optionally in one state.
pub async fn log(
    db: &PgPool,
    endpoint: Uuid,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, sqlx::Error> {
    let mut records: Vec<DeliveryRecord> = sqlx::query_as(
        r#"select o.event_id, o.event_type, d.state, d.attempts, d.last_status_code, d.last_error,
                  d.last_attempt_at,
                  case when d.state = 'pending' then d.next_attempt_at end as next_attempt_at,
                  d.delivered_at, d.created_at
           from webhook_deliveries d join outbox o on o.id = d.outbox_id
           where d.endpoint_id = $1 and ($2::text is null or d.state = $2)
           order by d.id desc
           limit $3"#,
    )
    .bind(endpoint)
    .bind(state)
    .bind(limit)
    .fetch_all(db)
    .await?;
    for record in &mut records {
        record.webhook_id = format!("msg_{}", record.event_id.simple());
    }
    Ok(records)
}

/// Which past events to send again.
#[derive(Debug, Clone, Copy)]
pub enum Replay {
    /// One event, by its id.
    Event(Uuid),
    /// Every event the endpoint subscribes to, created at or after this time.
    Since(DateTime<Utc>),
}

/// Queues the chosen events to `endpoint` as fresh deliveries (attempts start over); returns
/// how many were queued. An attempt in flight loses its lease: its answer is not recorded.
pub async fn replay(
    db: &PgPool,
    organisation: Uuid,
    endpoint: Uuid,
    which: Replay,
) -> Result<u64, sqlx::Error> {
    let (event, since) = match which {
        Replay::Event(id) => (Some(id), None),
        Replay::Since(at) => (None, Some(at)),
    };
    let mut tx = db.begin().await?;
    let queued = sqlx::query(
        r#"insert into webhook_deliveries (endpoint_id, outbox_id)
           select e.id, o.id
           from webhook_endpoints e
           join outbox o on o.organisation_id = e.organisation_id and o.event_type = any (e.events)
           where e.id = $1 and e.organisation_id = $2
             and ($3::uuid is null or o.event_id = $3)
             and ($4::timestamptz is null or o.created_at >= $4)
           order by o.id
           on conflict (endpoint_id, outbox_id) do update
           set state = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = null,
               leased_until = null, lease_id = null"#,
    )
    .bind(endpoint)
    .bind(organisation)
    .bind(event)
    .bind(since)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("select pg_notify($1, $2)")
        .bind(WAKE_CHANNEL)
        .bind(endpoint.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(queued)
}

/// Wakes every instance's worker (after an endpoint is enabled again).
pub async fn wake_workers(db: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify($1, '')")
        .bind(WAKE_CHANNEL)
        .execute(db)
        .await
        .map(|_| ())
}
