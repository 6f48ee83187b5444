//! The technician's tablet: their jobs and the operations of a visit, each checked against the
//! login and the technician's job list, applied with [`TechnicianActions`], and committed to
//! the local store (with its event and any queued upload) before it returns.
//!
//! - [`view`]: what `field jobs` and `field show` display.
//! - [`visit`]: arrival, permissions, work, payment due, cleanup, departure.
//! - [`evidence`]: the signature and photos, whose bytes are queued for upload.

pub mod evidence;
pub mod view;
pub mod visit;

use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;
use sync_protocol::DocumentId;
use sync_protocol::index::TechnicianIndex;
use sync_protocol::job::{EpochMillis, JobDocument, TechnicianActions};

use crate::error::ClientError;
use crate::home::Home;
use crate::job_ref;
use crate::login::{AccessToken, Login, parse_server_url};
use crate::store::documents::DocumentKind;
use crate::store::events::record_event;
use crate::store::{Store, now_millis};

/// One tablet: its home directory and local store.
#[derive(Debug)]
pub struct Tablet {
    store: Store,
}

/// What an operation recorded, for the technician's confirmation line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub job_id: DocumentId,
    /// The event kind written to the local log (`arrived`, `payment_due_recorded`...).
    pub action: &'static str,
    /// Device clock, ms since the epoch.
    pub at: i64,
    pub detail: Option<String>,
    /// Attachments queued for upload by this operation.
    pub attachments: Vec<QueuedAttachment>,
    /// For a signature: the SHA-256 of the job summary the customer signed.
    pub summary_sha256: Option<String>,
}

/// An attachment an operation copied and queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedAttachment {
    pub kind: &'static str,
    pub sha256: String,
    pub content_type: &'static str,
    pub size: u64,
}

impl Tablet {
    /// Opens the tablet whose home directory is `home`, creating it on first use.
    pub fn open(home: &Path) -> Result<Self, ClientError> {
        let home = Home::open(home)?;
        Ok(Self {
            store: Store::open(&home)?,
        })
    }

    /// The local store, for the sync engine and for inspection.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The local store, writable.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Stores the server URL and the device token; nothing is verified until the first sync.
    pub fn login(&mut self, server_url: &str, token: &str) -> Result<Login, ClientError> {
        let server_url = parse_server_url(server_url)?;
        let token = AccessToken::parse(token)?;
        self.store.save_login(&server_url, &token)
    }

    /// The technician's job list, as last synced.
    pub fn job_list(&self) -> Result<TechnicianIndex, ClientError> {
        let id = self
            .store
            .index_document_id()?
            .ok_or(ClientError::NoJobList)?;
        let doc = self
            .store
            .load_document(id)?
            .ok_or(ClientError::NoJobList)?;
        Ok(TechnicianIndex::read(&doc)?)
    }

    /// The job among `known` that `input` names: its number (looked up in the job list, then in
    /// the documents stored here), else a form of its id (see [`job_ref::resolve`]).
    pub(crate) fn resolve_job(
        &self,
        input: &str,
        known: &[DocumentId],
    ) -> Result<DocumentId, ClientError> {
        if !job_ref::looks_like_number(input) {
            return job_ref::resolve(input, known);
        }
        if let Ok(index) = self.job_list()
            && let Some(id) = job_ref::by_number(
                input,
                index
                    .jobs
                    .iter()
                    .filter_map(|j| Some((j.job_id, j.number.as_deref()?))),
            )
        {
            return Ok(id);
        }
        for id in known {
            if let Some(doc) = self.store.load_document(*id)?
                && let Ok(job) = JobDocument::read(&doc)
                && job_ref::by_number(input, job.number.as_deref().map(|n| (*id, n))).is_some()
            {
                return Ok(*id);
            }
        }
        Err(ClientError::UnknownJob(input.trim().to_owned()))
    }

    /// Resolves `input` to a job on this tablet the logged-in technician may work on;
    /// returns its id and the technician's id.
    fn my_job(&self, input: &str) -> Result<(DocumentId, String), ClientError> {
        self.store.require_login()?;
        let index = self.job_list()?;
        let mut known: Vec<DocumentId> = index.jobs.iter().map(|j| j.job_id).collect();
        known.extend(self.store.document_ids(DocumentKind::Job)?);
        let id = self.resolve_job(input, &known)?;
        let listed = index.jobs.iter().any(|j| j.job_id == id);
        let stored = self.store.load_document(id)?;
        match (listed, stored) {
            (true, Some(_)) => Ok((id, index.technician_id)),
            (true, None) => Err(ClientError::JobNotDownloaded(id)),
            (false, stored) => Err(ClientError::NotYourJob {
                job: id,
                you: index.technician_id,
                assigned_to: stored
                    .and_then(|doc| JobDocument::read(&doc).ok())
                    .and_then(|job| job.assignment.technician_id),
            }),
        }
    }

    /// Applies one visit operation to a job of the logged-in technician and commits it with
    /// its event. `operation` may also write through the connection (queued uploads).
    fn act(
        &mut self,
        input: &str,
        action: &'static str,
        operation: impl FnOnce(Visit<'_, '_>) -> Result<Outcome, ClientError>,
    ) -> Result<Recorded, ClientError> {
        let (id, me) = self.my_job(input)?;
        let home = self.store.home().clone();
        let at = now_millis();
        let outcome = self.store.update_document(id, |doc, conn| {
            let job = JobDocument::read(&*doc)?;
            if job.assignment.technician_id.as_deref() != Some(me.as_str()) {
                return Err(ClientError::NotYourJob {
                    job: id,
                    you: me.clone(),
                    assigned_to: job.assignment.technician_id,
                });
            }
            let visit = Visit {
                id,
                job,
                actions: TechnicianActions::new(doc, me.as_str()),
                conn,
                home: &home,
                at: EpochMillis(at),
            };
            let outcome = operation(visit)?;
            record_event(conn, Some(id), action, outcome.detail.as_deref())?;
            Ok(outcome)
        })?;
        Ok(Recorded {
            job_id: id,
            action,
            at,
            detail: outcome.detail,
            attachments: outcome.attachments,
            summary_sha256: outcome.summary_sha256,
        })
    }
}

/// What one operation reports back, before the job id, action and time are added.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) detail: Option<String>,
    pub(crate) attachments: Vec<QueuedAttachment>,
    pub(crate) summary_sha256: Option<String>,
}

impl Outcome {
    /// An outcome with only a detail line.
    pub(crate) fn detail(detail: impl Into<String>) -> Self {
        Self {
            detail: Some(detail.into()),
            ..Self::default()
        }
    }
}

/// Everything one visit operation works with, inside the store's write transaction.
pub(crate) struct Visit<'d, 'c> {
    pub(crate) id: DocumentId,
    /// The job as it was before this operation.
    pub(crate) job: JobDocument,
    pub(crate) actions: TechnicianActions<'d>,
    pub(crate) conn: &'c Connection,
    pub(crate) home: &'c Home,
    pub(crate) at: EpochMillis,
}
