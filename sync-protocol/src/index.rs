//! The technician index document: one Automerge document per technician listing the jobs
//! assigned to them, with enough of each job to show the day's list offline. The server writes
//! it; the tablet syncs it first, then the job documents it lists.
//!
//! Layout (schema version 1), every field written by the server only:
//!
//! | path | type |
//! |---|---|
//! | `/schema_version` | uint, 1 |
//! | `/technician_id` | str |
//! | `/jobs` | map keyed by job document id (bs58check, as in `automerge:` URLs) |
//! | `/jobs/<id>/kind` | str, a [`JobKind`] |
//! | `/jobs/<id>/number` | str, the job's number for people (`FS-2026-00042`), when it has one |
//! | `/jobs/<id>/customer_name`, `/jobs/<id>/address` | str |
//! | `/jobs/<id>/window_start`, `/jobs/<id>/window_end` | timestamp (ms since epoch) |
//! | `/jobs/<id>/state` | str, a [`DispatchState`] (cancelled jobs stay listed, struck through) |
//!
//! A map keyed by id rather than a list makes adding and removing a job idempotent and merges
//! of concurrent server writes trivially correct.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, Automerge, ObjType, ROOT, ReadDoc, ScalarValue};
use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::job::read::word;
use crate::job::reader::Node;
use crate::job::write::{ensure_container, put_time};
use crate::job::{DispatchState, EpochMillis, JobDocument, JobError, JobKind, OperationError};

/// The index schema version this crate reads and writes.
pub const INDEX_SCHEMA_VERSION: u64 = 1;

/// Keys of the index document.
pub mod keys {
    pub const SCHEMA_VERSION: &str = "schema_version";
    pub const TECHNICIAN_ID: &str = "technician_id";
    pub const JOBS: &str = "jobs";
    pub const KIND: &str = "kind";
    pub const NUMBER: &str = "number";
    pub const CUSTOMER_NAME: &str = "customer_name";
    pub const ADDRESS: &str = "address";
    pub const WINDOW_START: &str = "window_start";
    pub const WINDOW_END: &str = "window_end";
    pub const STATE: &str = "state";
}

/// Why an index document could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("the technician index bytes are not a valid Automerge document ({0}); re-sync it")]
    NotAutomerge(String),
    #[error(
        "the technician index uses schema version {found}, this software reads version 1; update it"
    )]
    UnsupportedSchema { found: u64 },
    #[error("the technician index is malformed: {0}")]
    Malformed(#[from] JobError),
    #[error("the technician index could not be updated: {0}")]
    Write(String),
}

impl From<automerge::AutomergeError> for IndexError {
    fn from(error: automerge::AutomergeError) -> Self {
        Self::Write(error.to_string())
    }
}

impl From<OperationError> for IndexError {
    fn from(error: OperationError) -> Self {
        match error {
            OperationError::Document(e) => Self::Malformed(e),
            other => Self::Write(other.to_string()),
        }
    }
}

/// The jobs assigned to one technician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechnicianIndex {
    pub technician_id: String,
    /// Sorted by window start, then id, so the tablet shows the day in order.
    pub jobs: Vec<IndexedJob>,
}

/// One line of the technician's job list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedJob {
    pub job_id: DocumentId,
    pub kind: JobKind,
    /// The job's number for people; absent for jobs booked before numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub customer_name: String,
    pub address: String,
    pub window_start: EpochMillis,
    pub window_end: EpochMillis,
    pub state: DispatchState,
}

impl IndexedJob {
    /// The index line for a job document.
    pub fn from_job(job_id: DocumentId, job: &JobDocument) -> Self {
        Self {
            job_id,
            kind: job.kind,
            number: job.number.clone(),
            customer_name: job.customer.name.clone(),
            address: job.customer.address.clone(),
            window_start: job.appointment.window_start,
            window_end: job.appointment.window_end,
            state: job.status.state,
        }
    }
}

impl TechnicianIndex {
    /// Loads saved index bytes.
    pub fn load(bytes: &[u8]) -> Result<Self, IndexError> {
        let doc = Automerge::load(bytes).map_err(|e| IndexError::NotAutomerge(e.to_string()))?;
        Self::read(&doc)
    }

    /// Reads an index document (`Automerge` or `AutoCommit`).
    pub fn read<D: ReadDoc>(doc: &D) -> Result<Self, IndexError> {
        let root = Node::root(doc);
        let found = root.uint(keys::SCHEMA_VERSION)?;
        if found != INDEX_SCHEMA_VERSION {
            return Err(IndexError::UnsupportedSchema { found });
        }
        let technician_id = root.string(keys::TECHNICIAN_ID)?;
        let mut jobs = Vec::new();
        if let Some(listed) = root.opt_map(keys::JOBS)? {
            for key in listed.keys() {
                let entry = listed.map(&key)?;
                let job_id = DocumentId::parse(&key).map_err(|e| JobError::Invalid {
                    path: entry.path().to_owned(),
                    reason: format!("the key is not a document id: {e}"),
                })?;
                jobs.push(read_entry(job_id, &entry)?);
            }
        }
        jobs.sort_by(|a, b| {
            (a.window_start, a.job_id.as_uuid()).cmp(&(b.window_start, b.job_id.as_uuid()))
        });
        Ok(Self {
            technician_id,
            jobs,
        })
    }

    /// A new, empty index for `technician_id`.
    pub fn create(technician_id: &str) -> Result<AutoCommit, IndexError> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, keys::SCHEMA_VERSION, INDEX_SCHEMA_VERSION)?;
        doc.put(ROOT, keys::TECHNICIAN_ID, technician_id)?;
        doc.put_object(ROOT, keys::JOBS, ObjType::Map)?;
        doc.commit();
        Ok(doc)
    }

    /// Adds the job, or updates its line in place (field by field, so concurrent updates merge).
    pub fn upsert_job(doc: &mut AutoCommit, job: &IndexedJob) -> Result<(), IndexError> {
        let jobs = ensure_container(doc, &ROOT, keys::JOBS, ObjType::Map, "/jobs")?;
        let id = job.job_id.to_string();
        let path = format!("/jobs/{id}");
        let line = ensure_container(doc, &jobs, &id, ObjType::Map, &path)?;
        doc.put(&line, keys::KIND, job.kind.as_str())?;
        if let Some(number) = &job.number {
            doc.put(&line, keys::NUMBER, number.as_str())?;
        }
        doc.put(&line, keys::CUSTOMER_NAME, job.customer_name.as_str())?;
        doc.put(&line, keys::ADDRESS, job.address.as_str())?;
        put_time(doc, &line, keys::WINDOW_START, job.window_start)?;
        put_time(doc, &line, keys::WINDOW_END, job.window_end)?;
        doc.put(&line, keys::STATE, ScalarValue::from(job.state.as_str()))?;
        doc.commit();
        Ok(())
    }

    /// Removes the job (reassigned elsewhere or archived); false when it was not listed.
    pub fn remove_job(doc: &mut AutoCommit, job_id: DocumentId) -> Result<bool, IndexError> {
        let jobs = ensure_container(doc, &ROOT, keys::JOBS, ObjType::Map, "/jobs")?;
        let id = job_id.to_string();
        if doc.get(&jobs, id.as_str())?.is_none() {
            return Ok(false);
        }
        doc.delete(&jobs, id.as_str())?;
        doc.commit();
        Ok(true)
    }
}

fn read_entry<D: ReadDoc>(job_id: DocumentId, entry: &Node<'_, D>) -> Result<IndexedJob, JobError> {
    Ok(IndexedJob {
        job_id,
        kind: word(&entry.require(keys::KIND)?, JobKind::parse, JobKind::ALL)?,
        number: entry.opt_string(keys::NUMBER)?,
        customer_name: entry.string(keys::CUSTOMER_NAME)?,
        address: entry.opt_string(keys::ADDRESS)?.unwrap_or_default(),
        window_start: entry.time(keys::WINDOW_START)?,
        window_end: entry.time(keys::WINDOW_END)?,
        state: match entry.get(keys::STATE)? {
            Some(slot) => word(&slot, DispatchState::parse, DispatchState::ALL)?,
            None => DispatchState::Open,
        },
    })
}
