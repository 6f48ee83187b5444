//! The upload queue: attachment bytes copied under the home directory, waiting to reach the
//! server's object storage by tus. A row is written in the same transaction as the document
//! change that references its SHA-256, after the bytes are on disk.

use rusqlite::{Connection, Row, params};
use serde::Serialize;
use sync_protocol::DocumentId;
use sync_protocol::job::Sha256Hex;

use super::{Store, now_millis};
use crate::error::ClientError;

/// What an attachment is evidence of; the words are the server's `kind` upload metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadKind {
    Signature,
    FeedbackCard,
    Cleanup,
}

impl UploadKind {
    /// The stored and transmitted word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::FeedbackCard => "feedback_card",
            Self::Cleanup => "cleanup",
        }
    }

    fn parse(text: &str) -> Result<Self, ClientError> {
        match text {
            "signature" => Ok(Self::Signature),
            "feedback_card" => Ok(Self::FeedbackCard),
            "cleanup" => Ok(Self::Cleanup),
            other => Err(ClientError::Corrupt(format!(
                "unknown upload kind `{other}`"
            ))),
        }
    }
}

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Waiting; no tus upload created yet.
    Queued,
    /// A tus upload exists at `upload_url`; `upload_offset` bytes were accepted.
    Uploading,
    /// The server stored and verified the bytes.
    Uploaded,
}

impl UploadState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Uploading => "uploading",
            Self::Uploaded => "uploaded",
        }
    }

    fn parse(text: &str) -> Result<Self, ClientError> {
        match text {
            "queued" => Ok(Self::Queued),
            "uploading" => Ok(Self::Uploading),
            "uploaded" => Ok(Self::Uploaded),
            other => Err(ClientError::Corrupt(format!(
                "unknown upload state `{other}`"
            ))),
        }
    }
}

/// One attachment in the queue, with everything tus needs to create or resume its upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingUpload {
    pub id: i64,
    pub job_id: DocumentId,
    pub kind: UploadKind,
    pub sha256: Sha256Hex,
    pub content_type: String,
    pub size: u64,
    /// The bytes, relative to the home directory.
    pub file: String,
    pub state: UploadState,
    pub upload_url: Option<String>,
    pub upload_offset: u64,
    pub created_at: i64,
}

/// An attachment about to be queued.
#[derive(Debug, Clone)]
pub(crate) struct NewUpload<'a> {
    pub job_id: DocumentId,
    pub kind: UploadKind,
    pub sha256: &'a Sha256Hex,
    pub content_type: &'static str,
    pub size: u64,
    pub file: &'a str,
}

/// Queues an upload in the caller's transaction; the same bytes for the same job and kind are
/// queued once.
pub(crate) fn queue_upload(conn: &Connection, upload: &NewUpload<'_>) -> Result<(), ClientError> {
    let now = now_millis();
    conn.execute(
        "insert into pending_uploads
             (job_id, kind, sha256, content_type, size, file, created_at, updated_at)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         on conflict (job_id, kind, sha256) do nothing",
        params![
            upload.job_id.to_string(),
            upload.kind.as_str(),
            upload.sha256.as_str(),
            upload.content_type,
            i64::try_from(upload.size).unwrap_or(i64::MAX),
            upload.file,
            now
        ],
    )?;
    Ok(())
}

const COLUMNS: &str = "id, job_id, kind, sha256, content_type, size, file, state, upload_url, \
                       upload_offset, created_at";

impl Store {
    /// Uploads not yet stored by the server, oldest first; all of them with `include_uploaded`.
    pub fn uploads(&self, include_uploaded: bool) -> Result<Vec<PendingUpload>, ClientError> {
        let filter = if include_uploaded {
            ""
        } else {
            "where state != 'uploaded'"
        };
        let sql = format!("select {COLUMNS} from pending_uploads {filter} order by id");
        self.select_uploads(&sql, [])
    }

    /// Every upload of one job, whatever its state, oldest first.
    pub fn job_uploads(&self, job_id: DocumentId) -> Result<Vec<PendingUpload>, ClientError> {
        let sql = format!("select {COLUMNS} from pending_uploads where job_id = ?1 order by id");
        self.select_uploads(&sql, [job_id.to_string()])
    }

    fn select_uploads(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<PendingUpload>, ClientError> {
        let mut statement = self.conn().prepare(sql)?;
        let rows = statement.query_map(params, raw_upload)?;
        rows.map(|row| row?.parse()).collect()
    }
}

/// A row as stored, before its words are checked.
struct RawUpload {
    id: i64,
    job_id: String,
    kind: String,
    sha256: String,
    content_type: String,
    size: i64,
    file: String,
    state: String,
    upload_url: Option<String>,
    upload_offset: i64,
    created_at: i64,
}

fn raw_upload(row: &Row<'_>) -> rusqlite::Result<RawUpload> {
    Ok(RawUpload {
        id: row.get(0)?,
        job_id: row.get(1)?,
        kind: row.get(2)?,
        sha256: row.get(3)?,
        content_type: row.get(4)?,
        size: row.get(5)?,
        file: row.get(6)?,
        state: row.get(7)?,
        upload_url: row.get(8)?,
        upload_offset: row.get(9)?,
        created_at: row.get(10)?,
    })
}

impl RawUpload {
    fn parse(self) -> Result<PendingUpload, ClientError> {
        Ok(PendingUpload {
            id: self.id,
            job_id: super::documents::parse_id(&self.job_id)?,
            kind: UploadKind::parse(&self.kind)?,
            sha256: Sha256Hex::parse(&self.sha256)
                .ok_or_else(|| ClientError::Corrupt(format!("upload sha256 `{}`", self.sha256)))?,
            content_type: self.content_type,
            size: u64::try_from(self.size).unwrap_or_default(),
            file: self.file,
            state: UploadState::parse(&self.state)?,
            upload_url: self.upload_url,
            upload_offset: u64::try_from(self.upload_offset).unwrap_or_default(),
            created_at: self.created_at,
        })
    }
}
