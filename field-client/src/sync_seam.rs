//! The seam the sync engine plugs into. The engine (async, WebSocket, tus) lives elsewhere; it
//! drives the automerge-repo protocol and calls only these methods of [`Store`]:
//!
//! 1. [`Store::documents_to_sync`]: the index document first, then every job.
//! 2. Per document, [`Store::sync_state`] to resume, and for each message received
//!    [`Store::upsert_document`] with a closure that applies it (so the new changes commit
//!    before anything is acknowledged), then [`Store::save_sync_state`].
//! 3. When the server shows it holds changes (its heads in a sync message),
//!    [`Store::record_server_heads`]: local changes after those heads stop being pending.
//!    A new index document from `/api/v1/me` is registered with [`Store::adopt_index_document`].
//! 4. For attachments, [`Store::uploads`] then [`Store::record_upload_started`],
//!    [`Store::record_upload_offset`] as tus reports progress, and
//!    [`Store::record_upload_finished`] once the server verified the SHA-256, or
//!    [`Store::record_upload_refused`] when it refused the file for good.
//! 5. [`Store::record_sync_finished`] at the end of a round.

use automerge::ChangeHash;
use rusqlite::{OptionalExtension, params};
use sync_protocol::DocumentId;

use crate::error::ClientError;
use crate::store::documents::DocumentKind;
use crate::store::events::record_event;
use crate::store::profile::{set_index_document, set_last_sync};
use crate::store::uploads::UploadState;
use crate::store::{Store, now_millis};

impl Store {
    /// Documents to sync, in order: the technician's index, then the jobs.
    pub fn documents_to_sync(&self) -> Result<Vec<(DocumentId, DocumentKind)>, ClientError> {
        let index = self.index_document_id()?;
        let jobs = self.document_ids(DocumentKind::Job)?;
        let index = index.map(|id| (id, DocumentKind::TechnicianIndex));
        Ok(index
            .into_iter()
            .chain(jobs.into_iter().map(|id| (id, DocumentKind::Job)))
            .collect())
    }

    /// The saved Automerge sync state with `server_url` for `document`, if any.
    pub fn sync_state(
        &self,
        server_url: &str,
        document: DocumentId,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        Ok(self
            .conn()
            .query_row(
                "select state from sync_states where server_url = ?1 and document_id = ?2",
                params![server_url, document.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Saves the encoded sync state (`automerge::sync::State::encode`) for the next session.
    pub fn save_sync_state(
        &mut self,
        server_url: &str,
        document: DocumentId,
        state: &[u8],
    ) -> Result<(), ClientError> {
        let tx = self.write()?;
        tx.execute(
            "insert into sync_states (server_url, document_id, state, updated_at)
             values (?1, ?2, ?3, ?4)
             on conflict (server_url, document_id)
             do update set state = excluded.state, updated_at = excluded.updated_at",
            params![server_url, document.to_string(), state, now_millis()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The heads the server is known to hold for `document`.
    pub fn server_heads(&self, document: DocumentId) -> Result<Vec<ChangeHash>, ClientError> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "select server_heads from documents where id = ?1",
                [document.to_string()],
                |row| row.get(0),
            )
            .optional()?;
        let hex: Vec<String> = match text {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| ClientError::Corrupt(format!("server heads: {e}")))?,
            None => Vec::new(),
        };
        hex.iter()
            .map(|h| {
                h.parse::<ChangeHash>()
                    .map_err(|e| ClientError::Corrupt(format!("server head `{h}`: {e}")))
            })
            .collect()
    }

    /// Records that the server holds everything up to `heads` (an acknowledgement).
    pub fn record_server_heads(
        &mut self,
        document: DocumentId,
        heads: &[ChangeHash],
    ) -> Result<(), ClientError> {
        let tx = self.write()?;
        write_server_heads(&tx, document, heads)?;
        tx.commit()?;
        Ok(())
    }

    /// Local changes to `document` that the server has not acknowledged yet.
    pub fn pending_changes(&self, document: DocumentId) -> Result<usize, ClientError> {
        let heads = self.server_heads(document)?;
        Ok(match self.load_document(document)? {
            Some(mut doc) => doc.get_changes(&heads).len(),
            None => 0,
        })
    }

    /// Makes `document` (already stored) the technician's job list.
    pub fn adopt_index_document(&mut self, document: DocumentId) -> Result<(), ClientError> {
        let tx = self.write()?;
        set_index_document(&tx, document)?;
        tx.commit()?;
        Ok(())
    }

    /// A tus upload was created for the queued upload `id` at `upload_url`.
    pub fn record_upload_started(&mut self, id: i64, upload_url: &str) -> Result<(), ClientError> {
        self.update_upload(
            "update pending_uploads set state = ?2, upload_url = ?3, upload_offset = 0,
             updated_at = ?4 where id = ?1",
            params![
                id,
                UploadState::Uploading.as_str(),
                upload_url,
                now_millis()
            ],
        )
    }

    /// The server accepted `offset` bytes of upload `id`; a resumed upload starts there.
    pub fn record_upload_offset(&mut self, id: i64, offset: u64) -> Result<(), ClientError> {
        self.update_upload(
            "update pending_uploads set upload_offset = ?2, updated_at = ?3 where id = ?1",
            params![id, i64::try_from(offset).unwrap_or(i64::MAX), now_millis()],
        )
    }

    /// The server stored and verified upload `id`; its bytes may be deleted later.
    pub fn record_upload_finished(&mut self, id: i64) -> Result<(), ClientError> {
        self.update_upload(
            "update pending_uploads set state = ?2, upload_offset = size, updated_at = ?3
             where id = ?1",
            params![id, UploadState::Uploaded.as_str(), now_millis()],
        )
    }

    /// The server refused upload `id` for good (`reason` is its message): it is not sent again
    /// until the technician attaches the file again.
    pub fn record_upload_refused(&mut self, id: i64, reason: &str) -> Result<(), ClientError> {
        let tx = self.write()?;
        let job: String = tx.query_row(
            "update pending_uploads set state = ?2, refusal = ?3, upload_url = null,
             upload_offset = 0, updated_at = ?4 where id = ?1 returning job_id",
            params![id, UploadState::Refused.as_str(), reason, now_millis()],
            |row| row.get(0),
        )?;
        let job = crate::store::documents::parse_id(&job)?;
        record_event(&tx, Some(job), "upload_refused", Some(reason))?;
        tx.commit()?;
        Ok(())
    }

    /// SQLite's `data_version`: it changes when another process commits to the store (a
    /// technician's command while a watching sync waits), never for this connection's writes.
    pub fn data_version(&self) -> Result<i64, ClientError> {
        Ok(self
            .conn()
            .query_row("pragma data_version", [], |row| row.get(0))?)
    }

    /// A sync round with the server ended at `at` (device clock, ms since the epoch).
    pub fn record_sync_finished(&mut self, at: i64) -> Result<(), ClientError> {
        let tx = self.write()?;
        set_last_sync(&tx, at)?;
        record_event(&tx, None, "synced", None)?;
        tx.commit()?;
        Ok(())
    }

    fn update_upload(
        &mut self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<(), ClientError> {
        let tx = self.write()?;
        tx.execute(sql, params)?;
        tx.commit()?;
        Ok(())
    }
}

/// Stores the server's heads for `document` in the caller's transaction.
pub(crate) fn write_server_heads(
    conn: &rusqlite::Connection,
    document: DocumentId,
    heads: &[ChangeHash],
) -> Result<(), ClientError> {
    let hex: Vec<String> = heads.iter().map(ToString::to_string).collect();
    let text = serde_json::to_string(&hex).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    conn.execute(
        "update documents set server_heads = ?2 where id = ?1",
        params![document.to_string(), text],
    )?;
    Ok(())
}
