//! WebSocket sync with automerge-repo peers (`GET /sync`).

pub mod fleet;
mod hub;

pub use hub::SyncHub;
