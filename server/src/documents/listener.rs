//! Cross-instance convergence (and the live feed's wake-up on new outbox events): every commit sends `NOTIFY fieldsync_documents '<id>:<seq>'`;
//! each instance listens, catches up its cached copy and wakes its sync connections. A
//! notification is only a hint: after the listening connection is re-established every cached
//! document is caught up, since notices sent meanwhile are lost.

use std::time::Duration;

use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::NOTIFY_CHANNEL;
use crate::state::AppState;

/// How often idle documents are dropped from memory.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Runs until the task is aborted.
pub async fn listen(state: AppState) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen_once(&state).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(error = %e, "document change listener lost its connection; reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn listen_once(state: &AppState) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(&state.db).await?;
    listener
        .listen_all([NOTIFY_CHANNEL, crate::outbox::NOTIFY_CHANNEL])
        .await?;
    // Whatever was committed while we were not listening.
    for id in state.documents.cached_ids() {
        wake(state, id, None).await;
    }
    loop {
        let notification = listener.recv().await?;
        if notification.channel() == crate::outbox::NOTIFY_CHANNEL {
            if let Ok(id) = notification.payload().parse() {
                state.sync_hub.outbox_event(id);
            }
            continue;
        }
        let mut parts = notification.payload().split(':');
        let Some(id) = parts.next().and_then(|text| Uuid::parse_str(text).ok()) else {
            continue;
        };
        let seq = parts.next().and_then(|text| text.parse().ok());
        wake(state, id, seq).await;
    }
}

async fn wake(state: &AppState, id: Uuid, seq: Option<i64>) {
    match state.documents.catch_up(id, seq).await {
        Ok(true) => state.sync_hub.changed(id),
        Ok(false) => {}
        Err(e) => tracing::warn!(document = %id, error = %e, "catching up a document failed"),
    }
}

/// Drops idle documents from memory, forever.
pub async fn sweep(state: AppState) {
    let mut interval = tokio::time::interval(SWEEP_EVERY);
    loop {
        interval.tick().await;
        state.documents.cache().sweep();
    }
}
