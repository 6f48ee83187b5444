//! The local event log: what the technician did on this tablet and when (device clock), kept
//! beside the documents for support and for `field status`. Never holds the token.

use rusqlite::{Connection, params};
use serde::Serialize;
use sync_protocol::DocumentId;

use super::{Store, now_millis};
use crate::error::ClientError;

/// One entry of the local event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalEvent {
    pub at: i64,
    pub job_id: Option<String>,
    pub kind: String,
    pub detail: Option<String>,
}

/// Appends an event in the caller's transaction, so it commits with the change it describes.
pub(crate) fn record_event(
    conn: &Connection,
    job_id: Option<DocumentId>,
    kind: &str,
    detail: Option<&str>,
) -> Result<(), ClientError> {
    conn.execute(
        "insert into events (at, job_id, kind, detail) values (?1, ?2, ?3, ?4)",
        params![now_millis(), job_id.map(|id| id.to_string()), kind, detail],
    )?;
    Ok(())
}

impl Store {
    /// The latest `limit` events, newest first.
    pub fn recent_events(&self, limit: u32) -> Result<Vec<LocalEvent>, ClientError> {
        let mut statement = self
            .conn()
            .prepare("select at, job_id, kind, detail from events order by id desc limit ?1")?;
        let rows = statement.query_map([limit], |row| {
            Ok(LocalEvent {
                at: row.get(0)?,
                job_id: row.get(1)?,
                kind: row.get(2)?,
                detail: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
