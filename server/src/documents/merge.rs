//! The merge: new changes become durable (chunk, history, projection, notification, all in one
//! transaction) before the in-memory document, and so any sync message, reflects them.

use automerge::{Automerge, Change};
use sqlx::PgConnection;
use sync_protocol::job::ReadMemo;
use uuid::Uuid;

use super::persist::{self, LockedRow, StoreError};

/// Compact when there are this many chunks after the snapshot, or when the chunks would
/// outweigh both the snapshot and [`COMPACT_AFTER_BYTES`]. A young job's compressed snapshot
/// is a few KiB, so comparing with the snapshot alone compacted every five edits or so: a full
/// save of the document and a rewrite of its snapshot for a handful of raw changes.
const COMPACT_AFTER_CHUNKS: i64 = 64;
/// See [`COMPACT_AFTER_CHUNKS`]: raw chunks kept at most (unless they are fewer than the
/// snapshot's size) before a compaction folds them in.
const COMPACT_AFTER_BYTES: i64 = 256 * 1024;

/// A document's committed state in memory.
#[derive(Debug)]
pub struct Current {
    /// Private to the store: every change to it goes through here, which forgets `memo` when
    /// the change's patches are not known. Read it with [`Current::doc`].
    pub(super) doc: Automerge,
    /// The last chunk sequence number this copy includes.
    pub(super) last_seq: i64,
    /// The job's last read, for reading it again after the next change from a sync peer
    /// (whose patches are known); `None` after any other change. Set only with the document
    /// it was read from ([`Staged::apply`]).
    pub(super) memo: Option<ReadMemo>,
}

impl Current {
    /// The document as committed.
    pub fn doc(&self) -> &Automerge {
        &self.doc
    }

    /// The last chunk sequence number this copy includes.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Takes the job's last read, to read it again after a change whose patches the caller
    /// knows (then [`Staged::apply`] gives it back with the new document).
    pub fn take_memo(&mut self) -> Option<ReadMemo> {
        self.memo.take()
    }

    /// Lends the document mutably to `receive` for something that must leave it as it is (a
    /// sync message without changes: Automerge's API takes the document mutably even then).
    /// Debug builds check the heads did not move.
    pub fn unchanged<R>(&mut self, receive: impl FnOnce(&mut Automerge) -> R) -> R {
        #[cfg(debug_assertions)]
        let heads = self.doc.get_heads();
        let result = receive(&mut self.doc);
        #[cfg(debug_assertions)]
        assert_eq!(
            heads,
            self.doc.get_heads(),
            "a document lent unchanged was changed"
        );
        result
    }

    pub(super) fn apply_chunk(&mut self, seq: i64, data: &[u8]) -> Result<(), StoreError> {
        self.memo = None;
        super::chunk::apply(&mut self.doc, seq, data)?;
        self.last_seq = seq;
        Ok(())
    }

    /// Applies what other instances committed since this copy was loaded.
    pub(super) async fn catch_up(
        &mut self,
        db: &mut PgConnection,
        id: Uuid,
        row: &LockedRow,
    ) -> Result<(), StoreError> {
        if row.last_seq == self.last_seq {
            return Ok(());
        }
        if row.snapshot_seq > self.last_seq {
            // The chunks we lack were compacted away: merge the snapshot that absorbed them.
            self.memo = None;
            let mut snapshot = Automerge::load(&persist::snapshot(&mut *db, id).await?)?;
            self.doc.merge(&mut snapshot)?;
            self.last_seq = row.snapshot_seq;
        }
        for (seq, data) in persist::chunks_after(&mut *db, id, self.last_seq).await? {
            self.apply_chunk(seq, &data)?;
        }
        Ok(())
    }
}

/// `doc` plus `changes`, as a copy, and the changes it did not have yet.
fn apply_copy(
    doc: &Automerge,
    changes: Vec<Change>,
) -> Result<(Automerge, Vec<Change>), StoreError> {
    let before_heads = doc.get_heads();
    let mut after = doc.clone();
    after
        .apply_changes(changes)
        .map_err(|e| StoreError::Apply(e.to_string()))?;
    let new = after.get_changes(&before_heads);
    Ok((after, new))
}

/// Who is behind a merge: a staff member on a device, or the server acting for a staff member.
#[derive(Debug, Clone, Copy, Default)]
pub struct Author {
    pub staff_id: Option<Uuid>,
    pub device_token_id: Option<Uuid>,
}

/// Changes on top of a document's locked row, ready to be written: the document as it will be
/// and exactly the changes that are new to it.
#[derive(Debug)]
pub struct Rebased {
    row: LockedRow,
    pub after: Automerge,
    new: Vec<Change>,
    /// Whether `after` was made here, by applying the changes to the cached copy caught up with
    /// other instances' commits, rather than being the caller's copy: then patches the caller
    /// logged need not describe everything since the cached copy.
    pub replayed: bool,
}

impl Rebased {
    /// `after`, if given, is `current.doc` plus `changes` (a sync candidate), `changes` exactly
    /// the changes it adds. Unless another instance committed since `current` was read, that
    /// copy is what will be written, without copying and applying again; otherwise (or without
    /// `after`) the changes are applied to a copy of `current`.
    pub async fn onto(
        db: &mut PgConnection,
        current: &mut Current,
        row: LockedRow,
        after: Option<Automerge>,
        changes: Vec<Change>,
    ) -> Result<Self, StoreError> {
        if let Some(after) = after
            && row.last_seq == current.last_seq
        {
            return Ok(Self {
                row,
                after,
                new: changes,
                replayed: false,
            });
        }
        // Another instance committed first: apply on top of what it committed.
        Self::replay(db, current, row, changes).await
    }

    /// Catches `current` up with the locked row and applies `changes` to a copy of it.
    async fn replay(
        db: &mut PgConnection,
        current: &mut Current,
        row: LockedRow,
        changes: Vec<Change>,
    ) -> Result<Self, StoreError> {
        current.catch_up(&mut *db, row.id, &row).await?;
        let (after, new) = apply_copy(&current.doc, changes)?;
        Ok(Self {
            row,
            after,
            new,
            replayed: true,
        })
    }
}

/// Changes staged in a transaction: the chunk, the history and the notification are written,
/// the row is locked. The caller writes its projection from `after` into the same transaction,
/// commits, and only then [`Staged::apply`]s it to memory; if the transaction is dropped
/// instead, nothing was written and memory is as it was.
#[derive(Debug)]
pub struct Staged {
    /// The document as it will be once committed.
    pub after: Automerge,
    /// How many of the changes were new to the document.
    pub new_changes: usize,
    seq: i64,
}

impl Staged {
    pub(super) async fn stage(
        db: &mut PgConnection,
        id: Uuid,
        current: &mut Current,
        changes: Vec<Change>,
        author: &Author,
    ) -> Result<Self, StoreError> {
        let row = persist::lock(&mut *db, id).await?;
        let rebased = Rebased::replay(db, current, row, changes).await?;
        let mut staged = Self::write_all(db, vec![(rebased, *author)]).await?;
        Ok(staged.remove(0))
    }

    /// Writes each document's new changes (chunk, history, compaction when due, notification),
    /// in a few statements however many documents there are; in the order given.
    pub async fn write_all(
        db: &mut PgConnection,
        writes: Vec<(Rebased, Author)>,
    ) -> Result<Vec<Self>, StoreError> {
        let mut chunks = Vec::new();
        let mut compactions = Vec::new();
        let mut staged = Vec::with_capacity(writes.len());
        for (rebased, _) in &writes {
            let row = &rebased.row;
            let mut seq = row.last_seq;
            if !rebased.new.is_empty() {
                let data: Vec<u8> = rebased
                    .new
                    .iter()
                    .flat_map(|c| c.raw_bytes().iter().copied())
                    .collect();
                seq += 1;
                let chunk_bytes = row.chunk_bytes + i64::try_from(data.len()).unwrap_or(i64::MAX);
                if chunk_bytes > row.snapshot_bytes.max(COMPACT_AFTER_BYTES)
                    || seq - row.snapshot_seq >= COMPACT_AFTER_CHUNKS
                {
                    compactions.push((row.id, rebased.after.save(), seq));
                }
                chunks.push(persist::Chunk {
                    id: row.id,
                    seq,
                    data,
                });
            }
            staged.push(seq);
        }
        let announce: Vec<(Uuid, i64)> = chunks.iter().map(|c| (c.id, c.seq)).collect();
        let history: Vec<(Uuid, &[Change], &Author)> = writes
            .iter()
            .map(|(rebased, author)| (rebased.row.id, rebased.new.as_slice(), author))
            .collect();
        let written = persist::Writes {
            chunks,
            history,
            announce,
        };
        persist::write(&mut *db, &written).await?;
        for (id, snapshot, seq) in &compactions {
            persist::compact(&mut *db, *id, snapshot, *seq).await?;
        }
        Ok(writes
            .into_iter()
            .zip(staged)
            .map(|((rebased, _), seq)| Self {
                new_changes: rebased.new.len(),
                after: rebased.after,
                seq,
            })
            .collect())
    }

    /// Makes the committed changes visible in memory. Call only after the commit succeeded.
    /// `memo` is what reading [`Staged::after`] left in a memo (the caller's read of the new
    /// state), or `None`: nothing else may be kept beside the new document.
    pub fn apply(self, current: &mut Current, memo: Option<ReadMemo>) {
        current.doc = self.after;
        current.last_seq = self.seq;
        current.memo = memo;
    }
}
