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
    /// The server refused the file for good (see `refusal`); it is not sent again unless the
    /// technician attaches the same file again.
    Refused,
}

impl UploadState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Uploading => "uploading",
            Self::Uploaded => "uploaded",
            Self::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Result<Self, ClientError> {
        match text {
            "queued" => Ok(Self::Queued),
            "uploading" => Ok(Self::Uploading),
            "uploaded" => Ok(Self::Uploaded),
            "refused" => Ok(Self::Refused),
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
    /// Why the server refused it, when `state` is `Refused`.
    pub refusal: Option<String>,
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
/// queued once. Attaching a refused file again queues it again: the technician asks for a retry.
pub(crate) fn queue_upload(conn: &Connection, upload: &NewUpload<'_>) -> Result<(), ClientError> {
    let now = now_millis();
    conn.execute(
        "insert into pending_uploads
             (job_id, kind, sha256, content_type, size, file, created_at, updated_at)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         on conflict (job_id, kind, sha256) do update
             set state = 'queued', refusal = null, upload_url = null, upload_offset = 0,
                 updated_at = excluded.updated_at
             where pending_uploads.state = 'refused'",
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
                       upload_offset, refusal, created_at";

impl Store {
    /// Uploads still to send (queued or interrupted), oldest first; every upload whatever its
    /// state with `include_all`.
    pub fn uploads(&self, include_all: bool) -> Result<Vec<PendingUpload>, ClientError> {
        let filter = if include_all {
            ""
        } else {
            "where state in ('queued', 'uploading')"
        };
        let sql = format!("select {COLUMNS} from pending_uploads {filter} order by id");
        self.select_uploads(&sql, [])
    }

    /// One upload as the store has it now (its URL and offset move on while it is sent).
    pub fn upload(&self, id: i64) -> Result<Option<PendingUpload>, ClientError> {
        let sql = format!("select {COLUMNS} from pending_uploads where id = ?1");
        Ok(self.select_uploads(&sql, [id])?.pop())
    }

    /// Uploads the server refused for good, oldest first: evidence to retake.
    pub fn refused_uploads(&self) -> Result<Vec<PendingUpload>, ClientError> {
        let sql =
            format!("select {COLUMNS} from pending_uploads where state = 'refused' order by id");
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
    refusal: Option<String>,
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
        refusal: row.get(10)?,
        created_at: row.get(11)?,
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
            refusal: self.refusal,
            created_at: self.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::home::Home;

    fn card(job_id: DocumentId, sha256: &Sha256Hex) -> NewUpload<'_> {
        NewUpload {
            job_id,
            kind: UploadKind::FeedbackCard,
            sha256,
            content_type: "image/jpeg",
            size: 10,
            file: "attachments/x",
        }
    }

    #[test]
    fn a_store_made_before_refusals_keeps_its_queue_when_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path()).unwrap();
        let job = DocumentId::random();
        {
            // A tablet still on schema 1, with a half-sent upload.
            let conn = Connection::open(home.database()).unwrap();
            conn.execute_batch(super::super::schema::MIGRATIONS[0])
                .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "insert into pending_uploads (job_id, kind, sha256, content_type, size, file,
                     state, upload_url, upload_offset, created_at, updated_at)
                 values (?1, 'cleanup', ?2, 'image/png', 2048, 'attachments/a', 'uploading',
                     'http://office/api/v1/uploads/1', 1024, 1, 1)",
                params![job.to_string(), "ab".repeat(32)],
            )
            .unwrap();
        }
        let mut store = Store::open(&home).unwrap();
        let kept = store.uploads(false).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].state, UploadState::Uploading);
        assert_eq!(kept[0].upload_offset, 1024);
        assert_eq!(
            kept[0].upload_url.as_deref(),
            Some("http://office/api/v1/uploads/1")
        );

        store
            .record_upload_refused(kept[0].id, "not a readable image (422)")
            .unwrap();
        assert!(store.uploads(false).unwrap().is_empty());
        let refused = store.refused_uploads().unwrap();
        assert_eq!(refused[0].state, UploadState::Refused);
        assert_eq!(
            refused[0].refusal.as_deref(),
            Some("not a readable image (422)")
        );
        assert_eq!(refused[0].upload_url, None);
    }

    #[test]
    fn attaching_a_refused_file_again_queues_it_again() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path()).unwrap();
        let mut store = Store::open(&home).unwrap();
        let job = DocumentId::random();
        let sha = Sha256Hex::parse(&"cd".repeat(32)).unwrap();
        queue_upload(store.conn(), &card(job, &sha)).unwrap();
        let id = store.uploads(false).unwrap()[0].id;
        store.record_upload_refused(id, "too large (413)").unwrap();

        queue_upload(store.conn(), &card(job, &sha)).unwrap();
        let again = store.uploads(false).unwrap();
        assert_eq!(again.len(), 1, "the same row, queued again");
        assert_eq!(again[0].id, id);
        assert_eq!(again[0].state, UploadState::Queued);
        assert_eq!(again[0].refusal, None);
        assert!(store.refused_uploads().unwrap().is_empty());
    }
}
