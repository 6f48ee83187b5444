//! Tells the sync connections of this instance which documents changed, whether the change was
//! made here or arrived from another instance through PostgreSQL's LISTEN/NOTIFY.

use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// How many change notices a slow connection may fall behind before it resynchronises all its
/// documents instead.
const BACKLOG: usize = 1024;

#[derive(Debug, Clone)]
pub struct SyncHub {
    sender: broadcast::Sender<Uuid>,
    closing: watch::Sender<bool>,
    feed: broadcast::Sender<i64>,
}

impl SyncHub {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
            closing: watch::channel(false).0,
            feed: broadcast::channel(BACKLOG).0,
        }
    }

    /// Document `id` has new committed changes.
    pub fn changed(&self, id: Uuid) {
        let _ = self.sender.send(id);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.sender.subscribe()
    }

    /// A new outbox event (its id) exists, here or on another instance.
    pub fn outbox_event(&self, id: i64) {
        let _ = self.feed.send(id);
    }

    pub fn subscribe_feed(&self) -> broadcast::Receiver<i64> {
        self.feed.subscribe()
    }

    /// Tells every connection to close: the server is shutting down.
    pub fn close_all(&self) {
        let _ = self.closing.send(true);
    }

    /// Changes once, when the server starts shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

impl Default for SyncHub {
    fn default() -> Self {
        Self::new()
    }
}
