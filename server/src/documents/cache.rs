//! The bounded in-memory cache of documents. Memory must not grow with the number of jobs ever
//! seen: past its capacity the least recently used documents nobody holds are dropped, and a
//! sweep drops those idle for longer than the idle limit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use automerge::Automerge;
use uuid::Uuid;

use super::CacheLimits;
use super::merge::Current;
use super::persist::{DocumentKind, StoredDocument};

/// A document in memory. Its contents sit behind an async mutex: merges into one document are
/// serialised within an instance (and across instances by a row lock).
#[derive(Debug)]
pub struct LoadedDocument {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub kind: DocumentKind,
    current: Arc<tokio::sync::Mutex<Current>>,
    last_used: AtomicU64,
}

impl LoadedDocument {
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, Current> {
        self.current.lock().await
    }

    /// A guard that can be kept beside the document's `Arc`, e.g. across several documents
    /// staged in one transaction.
    pub async fn lock_owned(&self) -> tokio::sync::OwnedMutexGuard<Current> {
        self.current.clone().lock_owned().await
    }

    /// A copy of the document as committed now.
    pub async fn snapshot(&self) -> Automerge {
        self.current.lock().await.doc.clone()
    }
}

/// Counters for the operator and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    pub resident: usize,
    pub capacity: usize,
    pub loads: u64,
    pub evictions: u64,
}

#[derive(Debug)]
pub struct DocumentCache {
    limits: CacheLimits,
    epoch: Instant,
    entries: Mutex<HashMap<Uuid, Arc<LoadedDocument>>>,
    loads: AtomicU64,
    evictions: AtomicU64,
}

impl DocumentCache {
    pub fn new(limits: CacheLimits) -> Self {
        Self {
            limits,
            epoch: Instant::now(),
            entries: Mutex::new(HashMap::new()),
            loads: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<LoadedDocument>>> {
        // A panic while holding this lock leaves the map itself consistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, id: Uuid) -> Option<Arc<LoadedDocument>> {
        let found = self.entries().get(&id).cloned()?;
        found.last_used.store(self.now(), Ordering::Relaxed);
        Some(found)
    }

    /// Adds a freshly loaded document, unless another task loaded it first (then that one
    /// wins, so there is only ever one copy to merge into).
    pub(super) fn insert(&self, stored: StoredDocument) -> Arc<LoadedDocument> {
        let document = Arc::new(LoadedDocument {
            id: stored.id,
            organisation_id: stored.organisation_id,
            kind: stored.kind,
            current: Arc::new(tokio::sync::Mutex::new(Current {
                doc: stored.doc,
                last_seq: stored.last_seq,
                memo: None,
            })),
            last_used: AtomicU64::new(self.now()),
        });
        let mut entries = self.entries();
        let kept = entries.entry(stored.id).or_insert(document).clone();
        self.loads.fetch_add(1, Ordering::Relaxed);
        if entries.len() > self.limits.capacity {
            self.evict(&mut entries, self.limits.capacity * 9 / 10);
        }
        kept
    }

    /// Drops documents idle longer than the idle limit; run periodically.
    pub fn sweep(&self) {
        let cutoff = self
            .now()
            .saturating_sub(u64::try_from(self.limits.idle.as_millis()).unwrap_or(u64::MAX));
        let mut entries = self.entries();
        let before = entries.len();
        entries.retain(|_, doc| {
            Arc::strong_count(doc) > 1 || doc.last_used.load(Ordering::Relaxed) > cutoff
        });
        let dropped = before - entries.len();
        self.evictions.fetch_add(dropped as u64, Ordering::Relaxed);
    }

    /// Evicts least recently used, unheld documents until at most `target` remain.
    fn evict(&self, entries: &mut HashMap<Uuid, Arc<LoadedDocument>>, target: usize) {
        let mut idle: Vec<(u64, Uuid)> = entries
            .iter()
            .filter(|(_, doc)| Arc::strong_count(doc) == 1)
            .map(|(id, doc)| (doc.last_used.load(Ordering::Relaxed), *id))
            .collect();
        idle.sort_unstable();
        let excess = entries.len().saturating_sub(target);
        for (_, id) in idle.into_iter().take(excess) {
            entries.remove(&id);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn ids(&self) -> Vec<Uuid> {
        self.entries().keys().copied().collect()
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            resident: self.entries().len(),
            capacity: self.limits.capacity,
            loads: self.loads.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }
}
