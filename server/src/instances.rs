//! This server instance's heartbeat in PostgreSQL. Work that one instance holds for a while (an
//! upload's lease) names the instance; when its heartbeat stops (a crash, `kill -9`, a lost
//! machine) the work is free for any instance within [`STALE_AFTER`], instead of waiting out a
//! lease sized for the slowest upload.

use std::time::Duration;

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::state::AppState;

/// How often a running instance says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// An instance silent this long is gone: three heartbeats missed.
pub const STALE_AFTER: Duration = Duration::from_secs(6);
/// Rows of instances gone for this long are removed.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Records that `instance` is alive now.
pub async fn beat(db: impl PgExecutor<'_>, instance: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"insert into server_instances (id) values ($1)
           on conflict (id) do update set heartbeat_at = now()"#,
    )
    .bind(instance)
    .execute(db)
    .await?;
    Ok(())
}

/// Beats until the task is aborted; failures (the database away) are retried at the next beat.
pub async fn keep_alive(app: AppState) {
    let mut interval = tokio::time::interval(HEARTBEAT);
    let mut beats: u64 = 0;
    loop {
        interval.tick().await;
        if let Err(e) = beat(&app.db, app.instance_id).await {
            tracing::debug!(error = %e, "instance heartbeat failed");
            continue;
        }
        beats += 1;
        if beats % 1800 == 1 {
            let forgotten = sqlx::query(
                "delete from server_instances where heartbeat_at < now() - make_interval(secs => $1)",
            )
            .bind(FORGET_AFTER.as_secs_f64())
            .execute(&app.db)
            .await;
            if let Err(e) = forgotten {
                tracing::debug!(error = %e, "forgetting old instances failed");
            }
        }
    }
}
