//! The SQL of the document store. Functions take an executor so they run on the pool or inside
//! the merge's transaction.

use std::sync::atomic::{AtomicU64, Ordering};

use automerge::{Automerge, Change};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::merge::Author;

/// The channel whose notifications carry `<document id>:<seq>` after every commit.
pub const NOTIFY_CHANNEL: &str = "fieldsync_documents";

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Job,
    TechnicianIndex,
}

impl DocumentKind {
    fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Job => "job",
            DocumentKind::TechnicianIndex => "technician_index",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "job" => Ok(DocumentKind::Job),
            "technician_index" => Ok(DocumentKind::TechnicianIndex),
            other => Err(StoreError::damaged(format!(
                "unknown document kind {other}"
            ))),
        }
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored document is damaged: {0}")]
    Corrupt(String),
    #[error("the changes could not be applied: {0}")]
    Apply(String),
}

/// Reads of stored documents (in this process) that found one damaged.
static DAMAGED_READS: AtomicU64 = AtomicU64::new(0);

impl StoreError {
    /// A stored document that cannot be read as it is: counted, for `/metrics`.
    pub(super) fn damaged(reason: String) -> Self {
        DAMAGED_READS.fetch_add(1, Ordering::Relaxed);
        StoreError::Corrupt(reason)
    }

    /// Whether the document itself is damaged in storage (not the database failing under us):
    /// retrying will not help until it is restored from a backup.
    pub fn is_damaged(&self) -> bool {
        matches!(self, StoreError::Corrupt(_))
    }

    /// How many reads of stored documents found one damaged since this process started.
    pub fn damaged_reads() -> u64 {
        DAMAGED_READS.load(Ordering::Relaxed)
    }
}

impl From<automerge::AutomergeError> for StoreError {
    fn from(error: automerge::AutomergeError) -> Self {
        StoreError::damaged(error.to_string())
    }
}

/// A document as PostgreSQL has it.
#[derive(Debug)]
pub struct StoredDocument {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub kind: DocumentKind,
    pub doc: Automerge,
    pub last_seq: i64,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    organisation_id: Uuid,
    kind: DocumentKind,
    snapshot: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        r#"insert into documents (id, organisation_id, kind, snapshot) values ($1, $2, $3, $4)"#,
    )
    .bind(id)
    .bind(organisation_id)
    .bind(kind.as_str())
    .bind(snapshot)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct LoadRow {
    organisation_id: Uuid,
    kind: String,
    snapshot: Vec<u8>,
    chunks: Vec<Vec<u8>>,
    seqs: Vec<i64>,
    last_seq: i64,
}

/// Loads the snapshot and the chunks after it in one statement, so a concurrent compaction
/// cannot slip between the two reads; works on the pool or inside a caller's transaction.
pub async fn load(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<StoredDocument>, StoreError> {
    let row: Option<LoadRow> = sqlx::query_as(
        r#"select d.organisation_id, d.kind, d.snapshot,
                  coalesce(array_agg(c.data order by c.seq) filter (where c.seq is not null),
                           '{}') as chunks,
                  coalesce(array_agg(c.seq order by c.seq) filter (where c.seq is not null),
                           '{}') as seqs,
                  coalesce(max(c.seq), d.snapshot_seq) as last_seq
           from documents d
           left join document_chunks c on c.document_id = d.id and c.seq > d.snapshot_seq
           where d.id = $1
           group by d.id"#,
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut doc = Automerge::load(&row.snapshot)?;
    for (seq, chunk) in row.seqs.iter().zip(&row.chunks) {
        super::chunk::apply(&mut doc, *seq, chunk)?;
    }
    Ok(Some(StoredDocument {
        id,
        organisation_id: row.organisation_id,
        kind: DocumentKind::parse(&row.kind)?,
        doc,
        last_seq: row.last_seq,
    }))
}

/// The snapshot alone, for a copy that fell behind a compaction.
pub async fn snapshot(db: impl PgExecutor<'_>, id: Uuid) -> Result<Vec<u8>, StoreError> {
    Ok(
        sqlx::query_scalar("select snapshot from documents where id = $1")
            .bind(id)
            .fetch_one(db)
            .await?,
    )
}

pub async fn chunks_after(
    db: impl PgExecutor<'_>,
    id: Uuid,
    seq: i64,
) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(sqlx::query_as(
        "select seq, data from document_chunks where document_id = $1 and seq > $2 order by seq",
    )
    .bind(id)
    .bind(seq)
    .fetch_all(db)
    .await?)
}

/// The document's row, locked until the transaction ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedRow {
    pub id: Uuid,
    pub snapshot_seq: i64,
    pub last_seq: i64,
    pub chunk_bytes: i64,
    pub snapshot_bytes: i64,
}

pub async fn lock(db: impl PgExecutor<'_>, id: Uuid) -> Result<LockedRow, StoreError> {
    lock_all(db, &[id])
        .await?
        .pop()
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
}

/// The rows of `ids` (those that exist), locked until the transaction ends, in id order (so
/// two transactions locking overlapping sets cannot wait on each other in a cycle).
pub async fn lock_all(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<LockedRow>, StoreError> {
    Ok(sqlx::query_as(
        r#"select id, snapshot_seq, last_seq, chunk_bytes,
                  length(snapshot)::bigint as snapshot_bytes
           from documents where id = any($1) order by id for update"#,
    )
    .bind(ids)
    .fetch_all(db)
    .await?)
}

/// The same row without a lock, for catching up a cached copy.
pub async fn row(db: impl PgExecutor<'_>, id: Uuid) -> Result<LockedRow, StoreError> {
    Ok(sqlx::query_as(
        r#"select id, snapshot_seq, last_seq, chunk_bytes,
                  length(snapshot)::bigint as snapshot_bytes
           from documents where id = $1"#,
    )
    .bind(id)
    .fetch_one(db)
    .await?)
}

/// A chunk to append: the changes `data` holds become chunk `seq` of document `id`.
#[derive(Debug)]
pub struct Chunk {
    pub id: Uuid,
    pub seq: i64,
    pub data: Vec<u8>,
}

/// Replaces the snapshot with one that includes every chunk up to `seq`, and drops them.
pub async fn compact(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    snapshot: &[u8],
    seq: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        r#"update documents set snapshot = $2, snapshot_seq = $3, chunk_bytes = 0 where id = $1"#,
    )
    .bind(id)
    .bind(snapshot)
    .bind(seq)
    .execute(&mut *db)
    .await?;
    sqlx::query("delete from document_chunks where document_id = $1 and seq <= $2")
        .bind(id)
        .bind(seq)
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// What one commit writes of its documents' new changes, in one statement however many
/// documents there are: each chunk appended to its document (its row's `last_seq` and size
/// moved on), who made each change with both clocks (the history dispatchers read), and the
/// announcement at commit that each document `id` now has chunk `seq`.
#[derive(Debug, Default)]
pub struct Writes<'a> {
    pub chunks: Vec<Chunk>,
    pub history: Vec<(Uuid, &'a [Change], &'a Author)>,
    pub announce: Vec<(Uuid, i64)>,
}

pub async fn write(db: impl PgExecutor<'_>, writes: &Writes<'_>) -> Result<(), StoreError> {
    let count = writes.history.iter().map(|(_, c, _)| c.len()).sum();
    if writes.chunks.is_empty() && count == 0 && writes.announce.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = writes.chunks.iter().map(|c| c.id).collect();
    let seqs: Vec<i64> = writes.chunks.iter().map(|c| c.seq).collect();
    let data: Vec<&[u8]> = writes.chunks.iter().map(|c| c.data.as_slice()).collect();
    let mut documents = Vec::with_capacity(count);
    let mut staff = Vec::with_capacity(count);
    let mut devices = Vec::with_capacity(count);
    let mut hashes = Vec::with_capacity(count);
    let mut actors = Vec::with_capacity(count);
    let mut times = Vec::with_capacity(count);
    let mut messages = Vec::with_capacity(count);
    for (id, changes, author) in &writes.history {
        for change in changes.iter() {
            documents.push(*id);
            staff.push(author.staff_id);
            devices.push(author.device_token_id);
            hashes.push(change.hash().0.to_vec());
            actors.push(change.actor_id().to_hex_string());
            times.push(device_time(change.timestamp()));
            messages.push(change.message().map(str::to_owned));
        }
    }
    let payloads: Vec<String> = writes
        .announce
        .iter()
        .map(|(id, seq)| format!("{id}:{seq}"))
        .collect();
    // Data-modifying parts of a WITH run once and to completion whether or not the outer
    // query reads them.
    sqlx::query(
        r#"with chunk as (insert into document_chunks (document_id, seq, data)
                          select * from unnest($1::uuid[], $2::bigint[], $3::bytea[])),
                moved as (update documents d set last_seq = t.seq,
                                 chunk_bytes = d.chunk_bytes + length(t.data), updated_at = now()
                          from unnest($1::uuid[], $2::bigint[], $3::bytea[]) as t(id, seq, data)
                          where d.id = t.id),
                history as (insert into document_changes
                                (document_id, hash, actor, staff_id, device_token_id, device_time,
                                 message)
                            select * from unnest($4::uuid[], $5::bytea[], $6::text[], $7::uuid[],
                                                 $8::uuid[], $9::timestamptz[], $10::text[])
                            on conflict do nothing)
           select pg_notify($11, payload) from unnest($12::text[]) as payload"#,
    )
    .bind(&ids)
    .bind(&seqs)
    .bind(&data)
    .bind(&documents)
    .bind(&hashes)
    .bind(&actors)
    .bind(&staff)
    .bind(&devices)
    .bind(&times)
    .bind(&messages)
    .bind(NOTIFY_CHANNEL)
    .bind(&payloads)
    .execute(db)
    .await?;
    Ok(())
}

/// Automerge change times are whatever the writer's clock said: JS writes seconds, some writers
/// milliseconds, some nothing (0).
fn device_time(timestamp: i64) -> Option<DateTime<Utc>> {
    match timestamp {
        t if t <= 0 => None,
        t if t > 100_000_000_000 => DateTime::from_timestamp_millis(t),
        t => DateTime::from_timestamp(t, 0),
    }
}
