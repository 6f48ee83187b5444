//! `GET /api/v1/events`: the live feed for revisit callers' (and dispatchers') screens, as
//! Server-Sent Events. Each event carries its outbox id; reconnecting with `Last-Event-ID` (or
//! `?last_event_id=`) resumes exactly after it. Without one, the feed starts with what happens next.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use tokio::sync::broadcast;

use super::json::Query;
use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// The feed also looks by itself this often, should a wake-up be missed.
const POLL: Duration = Duration::from_secs(5);
const BATCH: i64 = 100;

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    last_event_id: Option<i64>,
}

pub async fn feed(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<FeedQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    sse(app, &caller, &headers, query.last_event_id).await
}

/// The caller's organisation's events as Server-Sent Events, from after `Last-Event-ID` (or
/// `last_event_id`), else from now on: the API's feed and the console's live pages alike.
///
/// Revisit callers read completed jobs only, so their feed carries only what concerns those:
/// completions, a completed job reopened, and revisits. The schedule (`job.changed`) and review
/// flags (`job.needs_review`, raised while a visit is under way) are the office's.
pub(crate) async fn sse(
    app: AppState,
    caller: &Caller,
    headers: &HeaderMap,
    last_event_id: Option<i64>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    caller.require(&[Role::Revisit, Role::Dispatcher, Role::Admin])?;
    let from_header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let last = match from_header.or(last_event_id) {
        Some(id) => id,
        None => crate::outbox::newest_id(&app.db, caller.organisation_id).await?,
    };
    let wake = app.sync_hub.subscribe_feed();
    let state = (app, caller.clone(), last, wake);
    let events = stream::unfold(state, |(app, caller, last, mut wake)| async move {
        loop {
            // A revoked token, an ended session or a disabled member ends the feed.
            if !caller.still_valid(&app.db).await.unwrap_or(true) {
                return None;
            }
            match crate::outbox::after(&app.db, caller.organisation_id, last, BATCH).await {
                Ok(batch) if !batch.is_empty() => {
                    let newest = batch.last().map(|(id, _, _)| *id).unwrap_or(last);
                    let events: Vec<Result<Event, Infallible>> = batch
                        .into_iter()
                        .filter(|(_, kind, _)| shown_to(caller.role, kind))
                        .map(|(id, kind, payload)| {
                            Ok(Event::default()
                                .id(id.to_string())
                                .event(kind)
                                .data(payload.to_string()))
                        })
                        .collect();
                    return Some((stream::iter(events), (app, caller, newest, wake)));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the event feed failed; retrying"),
            }
            tokio::select! {
                woken = wake.recv() => {
                    if matches!(woken, Err(broadcast::error::RecvError::Closed)) {
                        return None;
                    }
                }
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })
    .flatten();
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Whether an event of `kind` goes to a caller of `role` (see [`sse`]).
fn shown_to(role: Role, kind: &str) -> bool {
    role != Role::Revisit
        || matches!(kind, "job.completed" | "job.reopened")
        || kind.starts_with("revisit.")
}
