//! The transactional outbox: events are rows written with their cause; deliveries (webhooks, the
//! live feed) read them afterwards, so an event exists if and only if its cause committed.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// The channel that wakes deliveries (payload: the outbox id).
pub const NOTIFY_CHANNEL: &str = "fieldsync_outbox";

/// Adds an event unless one with the same `dedupe_key` exists; returns its id if added.
pub async fn insert(
    tx: &mut PgConnection,
    organisation: Uuid,
    event_type: &str,
    job: Option<Uuid>,
    dedupe_key: &str,
    payload: Value,
) -> Result<Option<i64>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        r#"insert into outbox (event_id, organisation_id, event_type, job_id, dedupe_key, payload)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (dedupe_key) do nothing
           returning id"#,
    )
    .bind(Uuid::new_v4())
    .bind(organisation)
    .bind(event_type)
    .bind(job)
    .bind(dedupe_key)
    .bind(payload)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        sqlx::query("select pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
    }
    Ok(id)
}
