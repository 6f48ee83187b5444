//! The tablet's profile: who it syncs as (server URL; the token is in its own 0600 file), which
//! document is the technician's job list, and when it last synced.

use rusqlite::{Connection, OptionalExtension, params};
use sync_protocol::DocumentId;

use super::events::record_event;
use super::{Store, now_millis};
use crate::error::ClientError;
use crate::login::{AccessToken, Login, store_token};

impl Store {
    /// Stores the server and token (offline: nothing is verified until the first sync).
    pub fn save_login(
        &mut self,
        server_url: &str,
        token: &AccessToken,
    ) -> Result<Login, ClientError> {
        store_token(self.home(), token)?;
        let login = Login {
            server_url: server_url.to_owned(),
            logged_in_at: now_millis(),
        };
        let tx = self.write()?;
        tx.execute(
            "update tablet_profile set server_url = ?1, logged_in_at = ?2 where id = 1",
            params![login.server_url, login.logged_in_at],
        )?;
        record_event(&tx, None, "logged_in", Some(server_url))?;
        tx.commit()?;
        Ok(login)
    }

    /// The stored login, if `field login` ran and its token file is still there.
    pub fn login(&self) -> Result<Option<Login>, ClientError> {
        let row: Option<(Option<String>, Option<i64>)> = self
            .conn()
            .query_row(
                "select server_url, logged_in_at from tablet_profile where id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let has_token = self.home().token_file().exists();
        Ok(match row {
            Some((Some(server_url), Some(logged_in_at))) if has_token => Some(Login {
                server_url,
                logged_in_at,
            }),
            _ => None,
        })
    }

    /// The stored login, or the error telling the technician to log in.
    pub fn require_login(&self) -> Result<Login, ClientError> {
        self.login()?.ok_or(ClientError::NotLoggedIn)
    }

    /// The technician's index document (their job list), once synced or imported.
    pub fn index_document_id(&self) -> Result<Option<DocumentId>, ClientError> {
        let text: Option<String> = self.conn().query_row(
            "select index_document_id from tablet_profile where id = 1",
            [],
            |row| row.get(0),
        )?;
        text.map(|t| DocumentId::parse(&t).map_err(|e| ClientError::Corrupt(e.to_string())))
            .transpose()
    }

    /// When the last sync with the server finished (device clock), if ever.
    pub fn last_sync_at(&self) -> Result<Option<i64>, ClientError> {
        Ok(self.conn().query_row(
            "select last_sync_at from tablet_profile where id = 1",
            [],
            |row| row.get(0),
        )?)
    }
}

/// Makes `id` the technician's index document, in the caller's transaction.
pub(crate) fn set_index_document(conn: &Connection, id: DocumentId) -> Result<(), ClientError> {
    conn.execute(
        "update tablet_profile set index_document_id = ?1 where id = 1",
        [id.to_string()],
    )?;
    Ok(())
}

/// Records the end of a sync, in the caller's transaction.
pub(crate) fn set_last_sync(conn: &Connection, at: i64) -> Result<(), ClientError> {
    conn.execute(
        "update tablet_profile set last_sync_at = ?1 where id = 1",
        [at],
    )?;
    Ok(())
}
