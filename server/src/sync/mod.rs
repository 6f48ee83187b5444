//! WebSocket sync with automerge-repo peers (`GET /sync`).

mod connection;
pub mod document;
pub mod fleet;
mod hub;

pub use connection::{MAX_FRAME_BYTES, MAX_MESSAGE_BYTES};
pub use hub::SyncHub;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;

use crate::auth::Caller;
use crate::state::AppState;

/// `GET /sync`: upgrades an authenticated request (`Authorization: Bearer` or `?token=`).
pub async fn upgrade(
    State(app): State<AppState>,
    caller: Caller,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| connection::run(app, caller, socket))
}
