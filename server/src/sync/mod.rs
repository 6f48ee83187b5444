//! WebSocket sync with automerge-repo peers (`GET /sync`).

mod hub;

pub use hub::SyncHub;
