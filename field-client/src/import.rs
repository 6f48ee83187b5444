//! Support path until the sync engine exists: load job and technician index documents from
//! Automerge save files, as if they had been received from the server. Tests build documents
//! with `sync_protocol` and import them; support staff can seed a tablet the same way.

use std::path::PathBuf;

use automerge::{AutoCommit, Automerge};
use serde::Serialize;
use sync_protocol::DocumentId;
use sync_protocol::index::TechnicianIndex;
use sync_protocol::job::JobDocument;

use crate::error::ClientError;
use crate::store::Store;
use crate::store::documents::DocumentKind;
use crate::store::events::record_event;
use crate::store::profile::set_index_document;
use crate::sync_seam::write_server_heads;

/// A document file to import and the id it has on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSource {
    pub document_id: DocumentId,
    pub path: PathBuf,
}

impl ImportSource {
    /// Parses `ID=FILE`, or `FILE` whose name (without extension) is the document id.
    pub fn parse(argument: &str) -> Result<Self, String> {
        let (id, path) = match argument.split_once('=') {
            Some((id, path)) => (id.to_owned(), PathBuf::from(path)),
            None => {
                let path = PathBuf::from(argument);
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                (stem.to_owned(), path)
            }
        };
        let document_id = DocumentId::parse(&id).map_err(|e| {
            format!("`{argument}` does not name a document id ({e}); write it as ID=FILE")
        })?;
        Ok(Self { document_id, path })
    }
}

/// One imported document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub document_id: DocumentId,
    pub kind: DocumentKind,
    /// The customer's name for a job, the technician id for an index.
    pub label: String,
}

/// Imports each file, merging into the stored copy; the last index imported becomes the
/// technician's job list. Everything imported counts as held by the server.
pub fn import_documents(
    store: &mut Store,
    sources: &[ImportSource],
) -> Result<Vec<Imported>, ClientError> {
    sources
        .iter()
        .map(|source| import_one(store, source))
        .collect()
}

fn import_one(store: &mut Store, source: &ImportSource) -> Result<Imported, ClientError> {
    let not_a_document = |reason: String| ClientError::NotADocument {
        path: source.path.clone(),
        reason,
    };
    let bytes = std::fs::read(&source.path)
        .map_err(|e| ClientError::file("read the document", &source.path, e))?;
    let incoming = Automerge::load(&bytes).map_err(|e| not_a_document(e.to_string()))?;
    let (kind, label) = match TechnicianIndex::read(&incoming) {
        Ok(index) => (DocumentKind::TechnicianIndex, index.technician_id),
        Err(index_error) => match JobDocument::read(&incoming) {
            Ok(job) => (DocumentKind::Job, job.customer.name),
            Err(job_error) => {
                return Err(not_a_document(format!(
                    "as a job: {job_error}; as a technician index: {index_error}"
                )));
            }
        },
    };
    let id = source.document_id;
    if let Some(stored) = store.document_kind(id)?
        && stored != kind
    {
        return Err(not_a_document(format!(
            "document {id} is stored as a {} document",
            stored.as_str()
        )));
    }
    store.upsert_document(id, kind, |doc, conn| {
        let mut incoming = AutoCommit::load(&bytes).map_err(|e| not_a_document(e.to_string()))?;
        doc.merge(&mut incoming)?;
        write_server_heads(conn, id, &incoming.get_heads())?;
        if kind == DocumentKind::TechnicianIndex {
            TechnicianIndex::read(&*doc)?;
            set_index_document(conn, id)?;
        } else {
            JobDocument::read(&*doc)?;
        }
        record_event(conn, Some(id), "imported", Some(kind.as_str()))?;
        Ok(())
    })?;
    Ok(Imported {
        document_id: id,
        kind,
        label,
    })
}
