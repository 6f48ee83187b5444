//! The tablet's local store: one SQLite database under the home directory, in WAL mode with
//! `synchronous=FULL`, so a change is on disk when the operation that made it returns.
//!
//! FULL rather than NORMAL: in WAL mode NORMAL may lose the last transactions on a power cut,
//! and a tablet whose battery dies at a customer's site is the common case, not the corner one.
//! The cost is one extra fsync per commit, a few per command.
//!
//! - [`documents`]: Automerge snapshots and incremental chunks per document.
//! - [`uploads`]: the queue of attachments waiting to reach object storage.
//! - [`events`]: the local event log.
//! - [`profile`]: the login, the technician's index document, the last sync.
//! - [`crate::sync_seam`]: what the sync engine reads and records.

pub mod documents;
pub mod events;
pub mod profile;
mod schema;
pub mod uploads;

use std::time::Duration;

use automerge::ActorId;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::ClientError;
use crate::home::Home;

/// An open local store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    home: Home,
    actor: ActorId,
}

impl Store {
    /// Opens (creating and migrating if needed) the store in `home`.
    pub fn open(home: &Home) -> Result<Self, ClientError> {
        let mut conn = Connection::open(home.database())?;
        // The CLI and, later, the sync engine may write at once: wait rather than fail.
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", "full")?;
        conn.pragma_update(None, "foreign_keys", "on")?;
        migrate(&mut conn)?;
        let actor = device_actor(&mut conn)?;
        Ok(Self {
            conn,
            home: home.clone(),
            actor,
        })
    }

    /// The home directory this store lives in.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The Automerge actor of every change this tablet makes.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Read access for queries.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A write transaction that takes the write lock at once, so what it reads stays current
    /// until it commits (no other writer can slip a change in between).
    pub(crate) fn write(&mut self) -> Result<Transaction<'_>, ClientError> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

/// The time now on the device's clock, in ms since the epoch.
pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn migrate(conn: &mut Connection) -> Result<(), ClientError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("pragma user_version", [], |row| row.get(0))?;
    let known = i64::try_from(schema::MIGRATIONS.len()).unwrap_or(i64::MAX);
    if found > known {
        return Err(ClientError::StoreTooNew { found });
    }
    for (index, migration) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

fn device_actor(conn: &mut Connection) -> Result<ActorId, ClientError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing: Option<Vec<u8>> = tx
        .query_row(
            "select device_actor from tablet_profile where id = 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let bytes = match existing {
        Some(bytes) => bytes,
        None => {
            let bytes = uuid::Uuid::new_v4().as_bytes().to_vec();
            tx.execute(
                "insert into tablet_profile (id, device_actor) values (1, ?1)",
                [&bytes],
            )?;
            bytes
        }
    };
    tx.commit()?;
    Ok(ActorId::from(bytes))
}
