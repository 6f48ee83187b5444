//! The fleet view: per device, when it last connected and synced, with which protocol, and the
//! pending work its client reported. Operators use it to find tablets that stopped syncing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

/// One device in the fleet view.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeviceActivity {
    pub device_token_id: Uuid,
    pub device_name: String,
    pub staff_id: Uuid,
    pub staff_name: String,
    pub role: String,
    pub revoked: bool,
    pub peer_id: Option<String>,
    pub protocol: Option<String>,
    pub last_connected_at: Option<DateTime<Utc>>,
    pub last_disconnected_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub pending_changes: Option<i32>,
    pub pending_uploads: Option<i32>,
    pub reported_at: Option<DateTime<Utc>>,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> Result<Vec<DeviceActivity>, sqlx::Error> {
    sqlx::query_as(
        r#"select t.id as device_token_id, t.device_name, s.id as staff_id, s.name as staff_name,
                  s.role, t.revoked_at is not null as revoked, a.peer_id, a.protocol,
                  a.last_connected_at, a.last_disconnected_at, a.last_synced_at,
                  a.pending_changes, a.pending_uploads, a.reported_at
           from device_tokens t
           join staff s on s.id = t.staff_id
           left join device_activity a on a.device_token_id = t.id
           where s.organisation_id = $1
           order by a.last_synced_at desc nulls last, s.name, t.device_name
           limit 1000"#,
    )
    .bind(organisation_id)
    .fetch_all(db)
    .await
}

pub async fn connected(
    db: impl PgExecutor<'_>,
    device: Uuid,
    peer_id: &str,
    protocol: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"insert into device_activity (device_token_id, peer_id, protocol, last_connected_at)
           values ($1, $2, $3, now())
           on conflict (device_token_id) do update
           set peer_id = excluded.peer_id, protocol = excluded.protocol,
               last_connected_at = excluded.last_connected_at"#,
    )
    .bind(device)
    .bind(peer_id)
    .bind(protocol)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn synced(db: impl PgExecutor<'_>, device: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update device_activity set last_synced_at = now() where device_token_id = $1")
        .bind(device)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn disconnected(db: impl PgExecutor<'_>, device: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update device_activity set last_disconnected_at = now() where device_token_id = $1",
    )
    .bind(device)
    .execute(db)
    .await?;
    Ok(())
}

/// What the client says it still has to send.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct PendingWork {
    pub pending_changes: u32,
    pub pending_uploads: u32,
}

pub async fn report(
    db: impl PgExecutor<'_>,
    device: Uuid,
    work: PendingWork,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"insert into device_activity (device_token_id, pending_changes, pending_uploads, reported_at)
           values ($1, $2, $3, now())
           on conflict (device_token_id) do update
           set pending_changes = excluded.pending_changes,
               pending_uploads = excluded.pending_uploads, reported_at = now()"#,
    )
    .bind(device)
    .bind(i32::try_from(work.pending_changes).unwrap_or(i32::MAX))
    .bind(i32::try_from(work.pending_uploads).unwrap_or(i32::MAX))
    .execute(db)
    .await?;
    Ok(())
}
