//! Automerge documents kept in PostgreSQL: per document a snapshot plus incremental chunks,
//! compacted in the transaction that writes the new snapshot; a bounded in-memory cache that
//! loads on demand and evicts idle documents; and the merge that makes a change durable before
//! anything in memory (and so any sync message) reflects it.

mod cache;
mod chunk;
pub mod listener;
mod merge;
mod persist;

pub use cache::{CacheStats, DocumentCache, LoadedDocument};
pub use merge::{Author, Current, Rebased, Staged};
pub use persist::{DocumentKind, LockedRow, NOTIFY_CHANNEL, StoreError};

use std::sync::Arc;
use std::time::Duration;

use automerge::{ActorId, Automerge};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The document store of one server instance.
#[derive(Debug, Clone)]
pub struct Documents {
    db: PgPool,
    cache: Arc<DocumentCache>,
    actor: ActorId,
}

/// How many documents stay in memory, and for how long unused.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    pub capacity: usize,
    pub idle: Duration,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            capacity: 1_000,
            idle: Duration::from_secs(300),
        }
    }
}

impl Documents {
    pub fn new(db: PgPool, limits: CacheLimits) -> Self {
        Self {
            db,
            cache: Arc::new(DocumentCache::new(limits)),
            // One actor per server process: concurrent instances never share a sequence.
            actor: ActorId::random(),
        }
    }

    /// The actor this instance writes server-side changes as.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Ids of the documents in memory now.
    pub fn cached_ids(&self) -> Vec<Uuid> {
        self.cache.ids()
    }

    pub fn cache(&self) -> &DocumentCache {
        &self.cache
    }

    /// The document, from memory or loaded from PostgreSQL; `None` if it does not exist.
    pub async fn get(&self, id: Uuid) -> Result<Option<Arc<LoadedDocument>>, StoreError> {
        if let Some(found) = self.cache.get(id) {
            return Ok(Some(found));
        }
        let Some(stored) = persist::load(&self.db, id).await? else {
            return Ok(None);
        };
        Ok(Some(self.cache.insert(stored)))
    }

    /// Like [`Documents::get`], loading through `conn` on a cache miss: for callers that hold a
    /// transaction and must not wait for a second pool connection.
    pub async fn get_in(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
    ) -> Result<Option<Arc<LoadedDocument>>, StoreError> {
        if let Some(found) = self.cache.get(id) {
            return Ok(Some(found));
        }
        let Some(stored) = persist::load(&mut *conn, id).await? else {
            return Ok(None);
        };
        Ok(Some(self.cache.insert(stored)))
    }

    /// Stores a new document in `tx`; it becomes visible when the transaction commits.
    pub async fn create(
        &self,
        tx: &mut PgConnection,
        id: Uuid,
        organisation_id: Uuid,
        kind: DocumentKind,
        doc: &Automerge,
        author: &Author,
    ) -> Result<(), StoreError> {
        persist::insert(&mut *tx, id, organisation_id, kind, &doc.save()).await?;
        let changes = doc.get_changes(&[]);
        let writes = persist::Writes {
            history: vec![(id, changes.as_slice(), author)],
            announce: vec![(id, 0)],
            ..persist::Writes::default()
        };
        persist::write(&mut *tx, &writes).await
    }

    /// Stages `changes` to `document` (whose lock the caller holds as `current`) in `tx`:
    /// see [`Staged`].
    pub async fn stage(
        &self,
        tx: &mut PgConnection,
        document: &LoadedDocument,
        current: &mut Current,
        changes: Vec<automerge::Change>,
        author: &Author,
    ) -> Result<Staged, StoreError> {
        Staged::stage(tx, document.id, current, changes, author).await
    }

    /// Locks the rows of `ids` in `tx`, in id order, for staging several documents' changes in
    /// one transaction (see [`Rebased`] and [`Staged::write_all`]).
    pub async fn lock_all(
        &self,
        tx: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<Vec<LockedRow>, StoreError> {
        persist::lock_all(&mut *tx, ids).await
    }

    /// Brings a cached document up to date with chunks other instances committed.
    /// `seq`, when known, is the chunk the notice announced: a copy that already has it (this
    /// instance's own commits) needs no query.
    pub async fn catch_up(&self, id: Uuid, seq: Option<i64>) -> Result<bool, StoreError> {
        let Some(document) = self.cache.get(id) else {
            return Ok(false);
        };
        let mut current = document.lock().await;
        if seq.is_some_and(|seq| seq <= current.last_seq) {
            return Ok(false);
        }
        let mut conn = self.db.acquire().await?;
        let row = persist::row(&mut *conn, id).await?;
        let before = current.last_seq;
        current.catch_up(&mut conn, id, &row).await?;
        Ok(current.last_seq != before)
    }
}
