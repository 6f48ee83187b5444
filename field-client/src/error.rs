//! The one error type of the tablet core. Every message is shown to a technician as it is,
//! so each says what went wrong in their words and what to do next.

use std::io;
use std::path::PathBuf;

use sync_protocol::DocumentId;
use sync_protocol::index::IndexError;
use sync_protocol::job::{JobError, OperationError};

use crate::login::LoginError;

/// Why a tablet operation did not happen. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("This tablet is not logged in; run `field login --server URL --token TOKEN` first")]
    NotLoggedIn,
    #[error(
        "Your job list is not on this tablet yet; sync to download it \
         (or import it with `field import-docs`)"
    )]
    NoJobList,
    #[error(
        "There is no job `{0}` on this tablet; run `field jobs` to see your jobs, \
         or sync to download new ones"
    )]
    UnknownJob(String),
    #[error("`{input}` matches {count} jobs; type more of the job id")]
    AmbiguousJob { input: String, count: usize },
    #[error(
        "Job {job} is not assigned to you ({you}){}; ask dispatch before doing any work on it",
        assigned_to.as_deref().map(|t| format!(" but to {t}")).unwrap_or_default()
    )]
    NotYourJob {
        job: DocumentId,
        you: String,
        assigned_to: Option<String>,
    },
    #[error(
        "Job {0} is on your list but its details are not on this tablet yet; sync to download it"
    )]
    JobNotDownloaded(DocumentId),
    /// The job document library refused the entry (cash, empty names, missing consent...).
    #[error(transparent)]
    Refused(#[from] OperationError),
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error(transparent)]
    Document(#[from] JobError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(
        "`{path}` is {found}, not a JPEG, PNG or WebP photo; take the photo again or convert it to JPEG"
    )]
    UnsupportedPhoto { path: PathBuf, found: &'static str },
    #[error(
        "`{path}` is a HEIC photo, which the office cannot store: set the camera to \
         'Most Compatible' (JPEG) or convert the photo to JPEG"
    )]
    HeicPhoto { path: PathBuf },
    #[error(
        "`{path}` is {size} bytes; photos may be at most {limit} bytes, take it at a lower resolution"
    )]
    PhotoTooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error(
        "The signature strokes in `{path}` cannot be used ({reason}); they must be a JSON list \
         of strokes, each a list of [x, y] points"
    )]
    Strokes { path: PathBuf, reason: String },
    #[error(
        "The amount `{input}` is not an amount like 120.50; enter digits with at most \
         {decimals} decimals"
    )]
    InvalidAmount { input: String, decimals: u32 },
    #[error("A rating or comment belongs to a feedback card; use `--kind feedback_card`")]
    RatingOutsideFeedbackCard,
    #[error("A cleanup photo is one photo; attach one file")]
    OneCleanupPhoto,
    #[error(
        "Confirm the cleanup first with `field cleanup`, or give the photo there with `--photo FILE`"
    )]
    CleanupNotConfirmed,
    #[error("`{path}` is not a Fieldsync job or technician index document: {reason}")]
    NotADocument { path: PathBuf, reason: String },
    #[error(
        "The local store was written by a newer version of `field` (schema {found}); update it"
    )]
    StoreTooNew { found: i64 },
    #[error("The local store is damaged ({0}); contact support before doing anything else")]
    Corrupt(String),
    #[error("The local store failed ({0}); check the tablet's free space and try again")]
    Storage(#[from] rusqlite::Error),
    /// The system's reason is said in the message, not chained after it (which printed it twice).
    #[error("Could not {action} `{path}`: {reason}")]
    File {
        action: &'static str,
        path: PathBuf,
        reason: io::Error,
    },
}

impl ClientError {
    /// A file-system failure on `path` while trying to `action` it.
    pub(crate) fn file(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::File {
            action,
            path: path.into(),
            reason: source,
        }
    }
}

impl From<automerge::AutomergeError> for ClientError {
    fn from(error: automerge::AutomergeError) -> Self {
        Self::Corrupt(error.to_string())
    }
}
