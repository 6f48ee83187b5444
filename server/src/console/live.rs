//! Live pages: `/console/events` is the organisation's event feed for a signed-in member (the
//! same feed as `GET /api/v1/events`, with the same authorization), and `console.js` refreshes
//! the page's main part in place when an event arrives, so a dispatcher's board shows a job
//! completing as the tablet syncs, without anyone reloading.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;

use super::Signed;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn events(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    crate::api::events::sse(app, &signed.0.caller, &headers, None).await
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("console.js"),
    )
        .into_response()
}
