//! The delivery worker: fans out new outbox events and sends due attempts, woken by `NOTIFY`
//! (new events, replays, re-enabled endpoints), by its own attempts finishing, and by a timer
//! set to the next due attempt, never later than the poll interval.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use super::WAKE_CHANNEL;
use super::delivery::{self, Attempt};
use super::fanout::fan_out;
use super::sender::Sender;
use crate::state::AppState;

/// Attempts in flight at once per instance.
const CONCURRENCY: usize = 32;
/// How long an attempt is held beyond its timeout before another instance may retry it.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

/// Runs until the task is aborted; attempts in flight are aborted with it.
pub async fn deliver(state: AppState) {
    let settings = state.webhooks.clone();
    let sender = match Sender::new(&settings) {
        Ok(sender) => sender,
        Err(e) => {
            tracing::error!(error = %e, "webhook delivery cannot start its HTTP client");
            return;
        }
    };
    let wake = Arc::new(Notify::new());
    // Owned here so that aborting `deliver` aborts the listener and every attempt in flight.
    let mut helpers = JoinSet::new();
    helpers.spawn(listen(state.clone(), wake.clone()));
    let mut attempts = JoinSet::new();
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        if let Err(e) = fan_out(&state.db).await {
            tracing::warn!(error = %e, "fanning out outbox events failed; retrying");
        }
        start_due(&state, &sender, &slots, &mut attempts).await;
        while attempts.try_join_next().is_some() {}
        let wait = if slots.available_permits() == 0 {
            // Busy: an attempt finishing wakes us; due work would only spin the loop.
            settings.poll_interval
        } else {
            delivery::until_next_due(&state.db, settings.poll_interval)
                .await
                .unwrap_or(settings.poll_interval)
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
            Some(_) = attempts.join_next(), if !attempts.is_empty() => {}
        }
    }
}

/// Claims as many due attempts as there are free slots and starts them.
async fn start_due(
    state: &AppState,
    sender: &Sender,
    slots: &Arc<Semaphore>,
    attempts: &mut JoinSet<()>,
) {
    let free = slots.available_permits();
    if free == 0 {
        return;
    }
    let lease = state.webhooks.timeout + LEASE_MARGIN;
    let claimed = match delivery::claim(&state.db, free as i64, lease).await {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying");
            return;
        }
    };
    for attempt in claimed {
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Cannot happen (we claimed no more than the free slots); the lease expires.
            break;
        };
        let (state, sender) = (state.clone(), sender.clone());
        attempts.spawn(async move {
            run(&state, &sender, &attempt).await;
            drop(slot);
        });
    }
}

async fn run(state: &AppState, sender: &Sender, attempt: &Attempt) {
    let outcome = sender.send(attempt).await;
    tracing::debug!(?attempt, ?outcome, "webhook attempt");
    if let Err(e) = delivery::record(&state.db, attempt, &outcome, &state.webhooks.schedule).await {
        // The lease expires and the attempt is made again: at least once.
        tracing::warn!(?attempt, error = %e, "recording a webhook attempt failed");
    }
}

/// Turns notifications on both channels into wake-ups, reconnecting as needed.
async fn listen(state: AppState, wake: Arc<Notify>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen_once(&state, &wake).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(error = %e, "webhook listener lost its connection; reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn listen_once(state: &AppState, wake: &Notify) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(&state.db).await?;
    listener
        .listen_all([crate::outbox::NOTIFY_CHANNEL, WAKE_CHANNEL])
        .await?;
    // Whatever was notified while we were not listening.
    wake.notify_one();
    loop {
        // `None`: the connection was lost and is re-established; notices meanwhile are lost.
        listener.try_recv().await?;
        wake.notify_one();
    }
}
