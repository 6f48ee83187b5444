//! The SQL of the document store. Functions take an executor so they run on the pool or inside
//! the merge's transaction.

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
            other => Err(StoreError::Corrupt(format!(
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

impl From<automerge::AutomergeError> for StoreError {
    fn from(error: automerge::AutomergeError) -> Self {
        StoreError::Corrupt(error.to_string())
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
    last_seq: i64,
}

/// Loads the snapshot and the chunks after it in one statement, so a concurrent compaction
/// cannot slip between the two reads; works on the pool or inside a caller's transaction.
pub async fn load(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<StoredDocument>, StoreError> {
    let row: Option<LoadRow> = sqlx::query_as(
        r#"select d.organisation_id, d.kind, d.snapshot,
                  coalesce(array_agg(c.data order by c.seq) filter (where c.seq is not null),
                           '{}') as chunks,
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
    for chunk in &row.chunks {
        doc.load_incremental(chunk)?;
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
#[derive(Debug, sqlx::FromRow)]
pub struct LockedRow {
    pub snapshot_seq: i64,
    pub last_seq: i64,
    pub chunk_bytes: i64,
    pub snapshot_bytes: i64,
}

pub async fn lock(db: impl PgExecutor<'_>, id: Uuid) -> Result<LockedRow, StoreError> {
    Ok(sqlx::query_as(
        r#"select snapshot_seq, last_seq, chunk_bytes, length(snapshot)::bigint as snapshot_bytes
           from documents where id = $1 for update"#,
    )
    .bind(id)
    .fetch_one(db)
    .await?)
}

/// The same row without a lock, for catching up a cached copy.
pub async fn row(db: impl PgExecutor<'_>, id: Uuid) -> Result<LockedRow, StoreError> {
    Ok(sqlx::query_as(
        r#"select snapshot_seq, last_seq, chunk_bytes, length(snapshot)::bigint as snapshot_bytes
           from documents where id = $1"#,
    )
    .bind(id)
    .fetch_one(db)
    .await?)
}

pub async fn append(
    db: impl PgExecutor<'_>,
    id: Uuid,
    seq: i64,
    data: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        r#"with chunk as (insert into document_chunks (document_id, seq, data) values ($1, $2, $3))
           update documents set last_seq = $2, chunk_bytes = chunk_bytes + length($3),
                  updated_at = now()
           where id = $1"#,
    )
    .bind(id)
    .bind(seq)
    .bind(data)
    .execute(db)
    .await?;
    Ok(())
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

/// Keeps who made each change and both clocks: the history dispatchers read.
pub async fn record_changes(
    db: impl PgExecutor<'_>,
    id: Uuid,
    changes: &[Change],
    author: &Author,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let hashes: Vec<Vec<u8>> = changes.iter().map(|c| c.hash().0.to_vec()).collect();
    let actors: Vec<String> = changes
        .iter()
        .map(|c| c.actor_id().to_hex_string())
        .collect();
    let times: Vec<Option<DateTime<Utc>>> =
        changes.iter().map(|c| device_time(c.timestamp())).collect();
    let messages: Vec<Option<String>> = changes
        .iter()
        .map(|c| c.message().map(str::to_owned))
        .collect();
    sqlx::query(
        r#"insert into document_changes
               (document_id, hash, actor, staff_id, device_token_id, device_time, message)
           select $1, hash, actor, $2, $3, device_time, message
           from unnest($4::bytea[], $5::text[], $6::timestamptz[], $7::text[])
                as t(hash, actor, device_time, message)
           on conflict do nothing"#,
    )
    .bind(id)
    .bind(author.staff_id)
    .bind(author.device_token_id)
    .bind(&hashes)
    .bind(&actors)
    .bind(&times)
    .bind(&messages)
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

pub async fn notify(db: impl PgExecutor<'_>, id: Uuid, seq: i64) -> Result<(), StoreError> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(format!("{id}:{seq}"))
        .execute(db)
        .await?;
    Ok(())
}
