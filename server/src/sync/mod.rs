//! WebSocket sync with automerge-repo peers (`GET /sync`).

mod access;
mod batch;
mod commit;
mod connection;
pub mod document;
pub mod fleet;
mod hub;

pub use access::{AccessChecks, AccessStats};
pub use commit::GroupCommit;
pub use connection::{MAX_FRAME_BYTES, MAX_MESSAGE_BYTES};
pub use hub::SyncHub;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;

use crate::auth::Caller;
use crate::state::AppState;

/// Initial read buffer of a sync connection.
const READ_BUFFER_BYTES: usize = 1024;

/// `GET /sync`: upgrades an authenticated request (`Authorization: Bearer` or `?token=`).
pub async fn upgrade(
    State(app): State<AppState>,
    caller: Caller,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        // Job documents are small: start the buffers small (they grow for a large message)
        // rather than at tungstenite's 128 KiB each, which idle connections paid for nothing.
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| connection::run(app, caller, socket))
}
