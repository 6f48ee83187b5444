//! Automerge documents on disk: per document a full save (the snapshot) and the incremental
//! chunks appended after it by each change, folded into a new snapshot once they pile up.
//!
//! Every write loads the document inside an immediate transaction, so it builds on the latest
//! state even if the sync engine wrote in the meantime, and the new chunk commits atomically
//! with whatever else the operation records (an upload, an event).

use automerge::{ActorId, AutoCommit, ChangeHash};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sync_protocol::DocumentId;

use super::{Store, now_millis};
use crate::error::ClientError;

/// Chunks kept beside a snapshot before they are folded into a new one.
const MAX_CHUNKS: i64 = 32;

/// What a stored document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// One job's document.
    Job,
    /// The technician's index document listing their jobs.
    TechnicianIndex,
}

impl DocumentKind {
    /// The word stored in the `documents.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Job => "job",
            Self::TechnicianIndex => "technician_index",
        }
    }

    fn parse(text: &str) -> Result<Self, ClientError> {
        match text {
            "job" => Ok(Self::Job),
            "technician_index" => Ok(Self::TechnicianIndex),
            other => Err(ClientError::Corrupt(format!(
                "unknown document kind `{other}`"
            ))),
        }
    }
}

impl Store {
    /// Every stored document of `kind`.
    pub fn document_ids(&self, kind: DocumentKind) -> Result<Vec<DocumentId>, ClientError> {
        let mut statement = self
            .conn()
            .prepare("select id from documents where kind = ?1 order by id")?;
        let ids = statement.query_map([kind.as_str()], |row| row.get::<_, String>(0))?;
        ids.map(|id| parse_id(&id?)).collect()
    }

    /// The document as stored now, acting as this tablet's actor; `None` if not stored.
    pub fn load_document(&self, id: DocumentId) -> Result<Option<AutoCommit>, ClientError> {
        Ok(load(self.conn(), id, self.actor())?.map(|(doc, _)| doc))
    }

    /// The kind of a stored document.
    pub fn document_kind(&self, id: DocumentId) -> Result<Option<DocumentKind>, ClientError> {
        let kind: Option<String> = self
            .conn()
            .query_row(
                "select kind from documents where id = ?1",
                [id.to_string()],
                |row| row.get(0),
            )
            .optional()?;
        kind.as_deref().map(DocumentKind::parse).transpose()
    }

    /// Applies `change` to a stored document and commits the resulting chunk together with
    /// whatever `change` wrote through the connection. Fails with `UnknownJob` if not stored.
    pub fn update_document<T>(
        &mut self,
        id: DocumentId,
        change: impl FnOnce(&mut AutoCommit, &Connection) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        self.write_document(id, None, change)
    }

    /// Like [`Self::update_document`], starting from an empty document of `kind` when `id` is
    /// not stored yet (a document received from the server for the first time).
    pub fn upsert_document<T>(
        &mut self,
        id: DocumentId,
        kind: DocumentKind,
        change: impl FnOnce(&mut AutoCommit, &Connection) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        self.write_document(id, Some(kind), change)
    }

    fn write_document<T>(
        &mut self,
        id: DocumentId,
        create_as: Option<DocumentKind>,
        change: impl FnOnce(&mut AutoCommit, &Connection) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let actor = self.actor().clone();
        let tx = self.write()?;
        let stored = load(&tx, id, &actor)?;
        let Some((mut doc, existed)) = stored
            .map(|(doc, _)| (doc, true))
            .or_else(|| create_as.map(|_| (AutoCommit::new().with_actor(actor), false)))
        else {
            return Err(ClientError::UnknownJob(id.to_string()));
        };
        let id_text = id.to_string();
        if !existed {
            // The row exists before `change` runs, so it can record sync state or server heads.
            let kind = create_as.unwrap_or(DocumentKind::Job);
            tx.execute(
                "insert into documents (id, kind, snapshot, updated_at) values (?1, ?2, ?3, ?4)",
                params![id_text, kind.as_str(), doc.save(), now_millis()],
            )?;
        }
        let before = doc.get_heads();
        let outcome = change(&mut doc, &tx)?;
        if !existed {
            tx.execute(
                "update documents set snapshot = ?2 where id = ?1",
                params![id_text, doc.save()],
            )?;
        } else if doc.get_heads() != before {
            append_chunk(&tx, &id_text, &mut doc, &before)?;
        }
        tx.commit()?;
        Ok(outcome)
    }
}

/// Loads a stored document (snapshot then chunks), acting as `actor`.
fn load(
    conn: &Connection,
    id: DocumentId,
    actor: &ActorId,
) -> Result<Option<(AutoCommit, DocumentKind)>, ClientError> {
    let id_text = id.to_string();
    let row: Option<(Vec<u8>, String)> = conn
        .query_row(
            "select snapshot, kind from documents where id = ?1",
            [&id_text],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((mut bytes, kind)) = row else {
        return Ok(None);
    };
    let mut statement =
        conn.prepare("select bytes from document_chunks where document_id = ?1 order by seq")?;
    for chunk in statement.query_map([&id_text], |row| row.get::<_, Vec<u8>>(0))? {
        bytes.extend_from_slice(&chunk?);
    }
    let mut doc = AutoCommit::load(&bytes)
        .map_err(|e| ClientError::Corrupt(format!("document {id_text}: {e}")))?;
    doc.set_actor(actor.clone());
    Ok(Some((doc, DocumentKind::parse(&kind)?)))
}

/// Appends the changes made since `before` as one chunk; folds the chunks into a new snapshot
/// when there are too many, in the same transaction.
fn append_chunk(
    conn: &Connection,
    id: &str,
    doc: &mut AutoCommit,
    before: &[ChangeHash],
) -> Result<(), ClientError> {
    let chunk = doc.save_after(before);
    conn.execute(
        "insert into document_chunks (document_id, bytes) values (?1, ?2)",
        params![id, chunk],
    )?;
    let chunks: i64 = conn.query_row(
        "select count(*) from document_chunks where document_id = ?1",
        [id],
        |row| row.get(0),
    )?;
    if chunks > MAX_CHUNKS {
        conn.execute(
            "update documents set snapshot = ?2 where id = ?1",
            params![id, doc.save()],
        )?;
        conn.execute("delete from document_chunks where document_id = ?1", [id])?;
    }
    conn.execute(
        "update documents set updated_at = ?2 where id = ?1",
        params![id, now_millis()],
    )?;
    Ok(())
}

pub(crate) fn parse_id(text: &str) -> Result<DocumentId, ClientError> {
    DocumentId::parse(text).map_err(|e| ClientError::Corrupt(format!("document id `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use automerge::ReadDoc;
    use automerge::transaction::Transactable;

    use super::*;
    use crate::home::Home;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(&Home::open(dir.path().join("home")).unwrap()).unwrap();
        (dir, store)
    }

    fn chunk_count(store: &Store) -> i64 {
        store
            .conn()
            .query_row("select count(*) from document_chunks", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn chunks_fold_into_a_snapshot_and_nothing_is_lost() {
        let (_dir, mut store) = store();
        let id = DocumentId::random();
        store
            .upsert_document(id, DocumentKind::Job, |doc, _| {
                Ok(doc.put(automerge::ROOT, "n", 0_i64)?)
            })
            .unwrap();
        for n in 1..=40_i64 {
            store
                .update_document(id, |doc, _| Ok(doc.put(automerge::ROOT, "n", n)?))
                .unwrap();
        }
        assert!(chunk_count(&store) <= MAX_CHUNKS);
        let mut doc = store.load_document(id).unwrap().unwrap();
        let (value, _) = doc.get(automerge::ROOT, "n").unwrap().unwrap();
        assert_eq!(value.as_i64(), Some(40));
        assert_eq!(doc.get_changes(&[]).len(), 41);
    }

    #[test]
    fn a_refused_change_writes_nothing() {
        let (_dir, mut store) = store();
        let id = DocumentId::random();
        store
            .upsert_document(id, DocumentKind::Job, |doc, _| {
                Ok(doc.put(automerge::ROOT, "n", 1_i64)?)
            })
            .unwrap();
        let refused = store.update_document(id, |doc, conn| {
            doc.put(automerge::ROOT, "n", 2_i64)?;
            crate::store::events::record_event(conn, Some(id), "half_done", None)?;
            Err::<(), _>(ClientError::CleanupNotConfirmed)
        });
        assert!(matches!(refused, Err(ClientError::CleanupNotConfirmed)));
        assert_eq!(chunk_count(&store), 0);
        assert!(store.recent_events(10).unwrap().is_empty());
        let doc = store.load_document(id).unwrap().unwrap();
        let (value, _) = doc.get(automerge::ROOT, "n").unwrap().unwrap();
        assert_eq!(value.as_i64(), Some(1));
        let missing = store.update_document(DocumentId::random(), |_, _| Ok(()));
        assert!(matches!(missing, Err(ClientError::UnknownJob(_))));
    }
}
