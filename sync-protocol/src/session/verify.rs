//! Proof that a received sync message really applied.
//!
//! `receive_sync_message` (through `load_incremental`) stops at the first unparsable chunk and
//! still returns Ok, and it queues changes whose dependencies are missing without applying them.
//! So before applying we split the carried bytes into Automerge storage chunks ourselves (every
//! byte must belong to a well-formed chunk), note the change hashes they carry, and after
//! applying we require every one of them to be in the document.

use std::collections::HashSet;

use automerge::sync;
use automerge::{Automerge, Change, ChangeHash, LoadOptions, OnPartialLoad, VerificationMode};

use super::error::SyncRefusal;
use crate::chunk::{CHANGE_CHUNK, COMPRESSED_CHANGE_CHUNK, DOCUMENT_CHUNK, change, split};

/// What a sync message carries, read from its chunks.
#[derive(Debug, Default)]
pub(super) struct Carried {
    /// The hashes a document must contain once the message has applied: each carried change's
    /// hash, and the heads of each carried whole document (which imply their history).
    pub hashes: Vec<ChangeHash>,
    /// What the carried changes depend on.
    pub deps: Vec<ChangeHash>,
    /// The carried changes, in the order carried.
    pub changes: Vec<Change>,
    /// Whether a whole document was carried (its changes are not in `changes`).
    pub whole_document: bool,
}

impl Carried {
    /// The carried changes `before` lacks, each once, in the order carried, if that order is
    /// one they can be applied in (each change's dependencies in `before` or earlier in the
    /// list) and no whole document was carried; otherwise `None` (ask the document instead).
    /// What a message adds, found without walking the document's history.
    pub fn new_in_order(&self, before: &Automerge) -> Option<Vec<Change>> {
        if self.whole_document {
            return None;
        }
        let mut new: Vec<Change> = Vec::with_capacity(self.changes.len());
        let mut taken = HashSet::with_capacity(self.changes.len());
        for change in &self.changes {
            let hash = change.hash();
            if taken.contains(&hash) || before.get_change_meta_by_hash(&hash).is_some() {
                continue;
            }
            let applicable = change
                .deps()
                .iter()
                .all(|dep| taken.contains(dep) || before.get_change_meta_by_hash(dep).is_some());
            if !applicable {
                return None;
            }
            taken.insert(hash);
            new.push(change.clone());
        }
        Some(new)
    }

    /// The dependencies neither carried nor in `document`: what to ask the peer for when the
    /// message could not apply.
    pub fn lacking(&self, document: &Automerge) -> Vec<ChangeHash> {
        let mut lacking: Vec<ChangeHash> = self
            .deps
            .iter()
            .filter(|hash| {
                !self.hashes.contains(hash) && document.get_change_meta_by_hash(hash).is_none()
            })
            .copied()
            .collect();
        lacking.sort();
        lacking.dedup();
        lacking
    }
}

pub(super) fn carried(message: &sync::Message) -> Result<Carried, SyncRefusal> {
    let mut hashes = Vec::new();
    let mut deps = Vec::new();
    let mut changes = Vec::new();
    let mut whole_document = false;
    for (index, item) in message.changes.iter().enumerate() {
        let mut rest = item;
        while !rest.is_empty() {
            let (chunk_type, chunk, after) =
                split(rest).map_err(|reason| SyncRefusal::MalformedChanges {
                    chunk: index,
                    reason,
                })?;
            let malformed = |e: &dyn std::fmt::Display| SyncRefusal::MalformedChanges {
                chunk: index,
                reason: e.to_string(),
            };
            match chunk_type {
                CHANGE_CHUNK | COMPRESSED_CHANGE_CHUNK => {
                    let change = change(chunk).map_err(|e| malformed(&e))?;
                    hashes.push(change.hash());
                    deps.extend(change.deps().iter().copied());
                    changes.push(change);
                }
                DOCUMENT_CHUNK => {
                    let options = LoadOptions::new()
                        .on_partial_load(OnPartialLoad::Error)
                        .verification_mode(VerificationMode::Check);
                    let doc =
                        Automerge::load_with_options(chunk, options).map_err(|e| malformed(&e))?;
                    hashes.extend(doc.get_heads());
                    whole_document = true;
                }
                other => return Err(SyncRefusal::UnsupportedChunk { chunk_type: other }),
            }
            rest = after;
        }
    }
    Ok(Carried {
        hashes,
        deps,
        changes,
        whole_document,
    })
}

/// How many of `hashes` the document lacks after applying.
pub(super) fn count_missing(doc: &Automerge, hashes: &[ChangeHash]) -> usize {
    hashes
        .iter()
        .filter(|hash| doc.get_change_meta_by_hash(hash).is_none())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_after_a_chunk_is_refused() {
        let mut doc = automerge::AutoCommit::new();
        use automerge::transaction::Transactable;
        doc.put(automerge::ROOT, "k", 1).expect("put");
        let mut bytes = doc.save();
        bytes.extend_from_slice(b"junk");
        let message = sync::Message {
            heads: vec![],
            need: vec![],
            have: vec![],
            changes: vec![bytes].into(),
            flags: None,
            version: sync::MessageVersion::V2,
        };
        assert!(matches!(
            carried(&message),
            Err(SyncRefusal::MalformedChanges { chunk: 0, .. })
        ));
    }
}
