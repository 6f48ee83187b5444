//! The transactional outbox: events are rows written with their cause; deliveries (webhooks, the
//! live feed) read them afterwards, so an event exists if and only if its cause committed.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// The channel that wakes deliveries (payload: the outbox id).
pub const NOTIFY_CHANNEL: &str = "fieldsync_outbox";

/// Adds an event unless one with the same `dedupe_key` exists; returns its id if added.
///
/// An organisation's events get their ids in the order they commit: the live feed resumes after
/// the last id a caller saw, so an event committing with a lower id than one already streamed
/// would never reach them. A transaction-scoped advisory lock per organisation, taken before
/// the id is drawn and held until commit, orders them; events are few (completions, reviews,
/// outcomes), so the wait is short. Nothing takes another lock after an outbox insert (the
/// document locks are taken before the transaction writes), so no cycle can form.
pub async fn insert(
    tx: &mut PgConnection,
    organisation: Uuid,
    event_type: &str,
    job: Option<Uuid>,
    dedupe_key: &str,
    payload: Value,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended('fieldsync-outbox:' || $1::text, 0))",
    )
    .bind(organisation)
    .execute(&mut *tx)
    .await?;
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

/// Where a live feed of `organisation`'s events starts when the reader names no last event:
/// after the newest one (the feed shows what happens from now on).
pub async fn newest_id(db: &sqlx::PgPool, organisation: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select coalesce(max(id), 0) from outbox where organisation_id = $1")
        .bind(organisation)
        .fetch_one(db)
        .await
}

/// Up to `limit` of `organisation`'s events after id `after`, in id (commit) order: id, type,
/// payload.
pub async fn after(
    db: &sqlx::PgPool,
    organisation: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String, Value)>, sqlx::Error> {
    sqlx::query_as(
        r#"select id, event_type, payload from outbox
           where organisation_id = $1 and id > $2 order by id limit $3"#,
    )
    .bind(organisation)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}
