//! Tells the sync connections of this instance which documents changed, whether the change was
//! made here or arrived from another instance through PostgreSQL's LISTEN/NOTIFY.
//!
//! A change wakes only the connections that opened that document: each connection has a
//! [`Watch`], registered per document it opens, so a commit costs one notice per interested
//! connection rather than a wake-up of every connection of the instance.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

/// How many change notices a slow connection may fall behind before it resynchronises all its
/// documents instead.
const BACKLOG: usize = 256;

#[derive(Debug, Clone)]
pub struct SyncHub {
    watchers: Arc<Mutex<HashMap<Uuid, Vec<Watcher>>>>,
    next_watch: Arc<AtomicU64>,
    closing: watch::Sender<bool>,
    feed: broadcast::Sender<i64>,
}

/// One connection's registration for one document.
#[derive(Debug)]
struct Watcher {
    watch: u64,
    sender: mpsc::Sender<Uuid>,
    lagged: Arc<AtomicBool>,
}

/// A connection's notices of changes to the documents it watches.
#[derive(Debug)]
pub struct Watch {
    id: u64,
    hub: SyncHub,
    sender: mpsc::Sender<Uuid>,
    receiver: mpsc::Receiver<Uuid>,
    lagged: Arc<AtomicBool>,
    documents: Vec<Uuid>,
}

/// What [`Watch::recv`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Notice {
    Changed(Uuid),
    /// Notices were dropped while this connection was slow: resynchronise everything.
    Lagged,
}

impl SyncHub {
    pub fn new() -> Self {
        Self {
            watchers: Arc::default(),
            next_watch: Arc::new(AtomicU64::new(1)),
            closing: watch::channel(false).0,
            feed: broadcast::channel(1024).0,
        }
    }

    /// Document `id` has new committed changes.
    pub fn changed(&self, id: Uuid) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = watchers.get_mut(&id) else {
            return;
        };
        list.retain(|watcher| match watcher.sender.try_send(id) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                watcher.lagged.store(true, Ordering::Release);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if list.is_empty() {
            watchers.remove(&id);
        }
    }

    /// A connection's watch; it hears of no document until [`Watch::add`].
    pub fn watch(&self) -> Watch {
        let (sender, receiver) = mpsc::channel(BACKLOG);
        Watch {
            id: self.next_watch.fetch_add(1, Ordering::Relaxed),
            hub: self.clone(),
            sender,
            receiver,
            lagged: Arc::new(AtomicBool::new(false)),
            documents: Vec::new(),
        }
    }

    /// How many (connection, document) registrations exist.
    #[cfg(test)]
    fn watched(&self) -> usize {
        let watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        watchers.values().map(Vec::len).sum()
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

impl Watch {
    /// Hears of changes to `document` from now on (once, however often it is added).
    pub fn add(&mut self, document: Uuid) {
        if self.documents.contains(&document) {
            return;
        }
        self.documents.push(document);
        let mut watchers = self.hub.watchers.lock().unwrap_or_else(|e| e.into_inner());
        watchers.entry(document).or_default().push(Watcher {
            watch: self.id,
            sender: self.sender.clone(),
            lagged: self.lagged.clone(),
        });
    }

    /// The next notice; waits until there is one.
    pub async fn recv(&mut self) -> Notice {
        if self.lagged.swap(false, Ordering::AcqRel) {
            return Notice::Lagged;
        }
        // The watch holds a sender itself, so the channel never closes under it.
        match self.receiver.recv().await {
            Some(id) => Notice::Changed(id),
            None => Notice::Lagged,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut watchers = self.hub.watchers.lock().unwrap_or_else(|e| e.into_inner());
        for document in &self.documents {
            if let Some(list) = watchers.get_mut(document) {
                list.retain(|watcher| watcher.watch != self.id);
                if list.is_empty() {
                    watchers.remove(document);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_reaches_only_the_connections_watching_its_document() {
        let hub = SyncHub::new();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut first = hub.watch();
        let mut second = hub.watch();
        first.add(a);
        first.add(a);
        second.add(b);
        assert_eq!(hub.watched(), 2);
        hub.changed(a);
        assert_eq!(first.recv().await, Notice::Changed(a));
        assert!(second.receiver.try_recv().is_err());
        hub.changed(b);
        assert_eq!(second.recv().await, Notice::Changed(b));
        drop(first);
        assert_eq!(hub.watched(), 1);
        hub.changed(a);
        drop(second);
        assert_eq!(hub.watched(), 0);
    }

    #[tokio::test]
    async fn a_connection_that_falls_behind_is_told_to_resynchronise() {
        let hub = SyncHub::new();
        let id = Uuid::new_v4();
        let mut slow = hub.watch();
        slow.add(id);
        for _ in 0..BACKLOG + 5 {
            hub.changed(id);
        }
        assert_eq!(slow.recv().await, Notice::Lagged);
        assert_eq!(slow.recv().await, Notice::Changed(id));
    }
}
