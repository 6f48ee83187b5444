//! Proof that a received sync message really applied.
//!
//! `receive_sync_message` (through `load_incremental`) stops at the first unparsable chunk and
//! still returns Ok, and it queues changes whose dependencies are missing without applying them.
//! So before applying we split the carried bytes into Automerge storage chunks ourselves (every
//! byte must belong to a well-formed chunk), note the change hashes they carry, and after
//! applying we require every one of them to be in the document.

use automerge::sync;
use automerge::{Automerge, Change, ChangeHash, LoadOptions, OnPartialLoad, VerificationMode};

use super::error::SyncRefusal;

/// Every Automerge storage chunk starts with these bytes.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT_CHUNK: u8 = 0;
const CHANGE_CHUNK: u8 = 1;
const COMPRESSED_CHANGE_CHUNK: u8 = 2;

/// What a sync message carries, read from its chunks.
#[derive(Debug, Default)]
pub(super) struct Carried {
    /// The hashes a document must contain once the message has applied: each carried change's
    /// hash, and the heads of each carried whole document (which imply their history).
    pub hashes: Vec<ChangeHash>,
    /// What the carried changes depend on.
    pub deps: Vec<ChangeHash>,
}

impl Carried {
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
    for (index, item) in message.changes.iter().enumerate() {
        let mut rest = item;
        while !rest.is_empty() {
            let (chunk_type, chunk, after) =
                split_chunk(rest).map_err(|reason| SyncRefusal::MalformedChanges {
                    chunk: index,
                    reason,
                })?;
            let malformed = |e: &dyn std::fmt::Display| SyncRefusal::MalformedChanges {
                chunk: index,
                reason: e.to_string(),
            };
            match chunk_type {
                CHANGE_CHUNK | COMPRESSED_CHANGE_CHUNK => {
                    let change = Change::try_from(chunk).map_err(|e| malformed(&e))?;
                    hashes.push(change.hash());
                    deps.extend(change.deps().iter().copied());
                }
                DOCUMENT_CHUNK => {
                    let options = LoadOptions::new()
                        .on_partial_load(OnPartialLoad::Error)
                        .verification_mode(VerificationMode::Check);
                    let doc =
                        Automerge::load_with_options(chunk, options).map_err(|e| malformed(&e))?;
                    hashes.extend(doc.get_heads());
                }
                other => return Err(SyncRefusal::UnsupportedChunk { chunk_type: other }),
            }
            rest = after;
        }
    }
    Ok(Carried { hashes, deps })
}

/// How many of `hashes` the document lacks after applying.
pub(super) fn count_missing(doc: &Automerge, hashes: &[ChangeHash]) -> usize {
    hashes
        .iter()
        .filter(|hash| doc.get_change_meta_by_hash(hash).is_none())
        .count()
}

/// Splits one chunk off the front: (type, the whole chunk with its header, the rest).
fn split_chunk(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let header = input
        .get(..9)
        .ok_or_else(|| "a chunk header is cut short".to_owned())?;
    if header[..4] != MAGIC {
        return Err("bytes that are not an Automerge chunk".to_owned());
    }
    let chunk_type = header[8];
    let (length, length_bytes) = read_uleb(&input[9..])?;
    let body_start = 9 + length_bytes;
    let end = usize::try_from(length)
        .ok()
        .and_then(|n| body_start.checked_add(n))
        .filter(|end| *end <= input.len())
        .ok_or_else(|| format!("a chunk declares {length} bytes but fewer remain"))?;
    Ok((chunk_type, &input[..end], &input[end..]))
}

/// An unsigned LEB128 number and how many bytes it took.
fn read_uleb(input: &[u8]) -> Result<(u64, usize), String> {
    let mut value: u64 = 0;
    for (i, byte) in input.iter().take(10).enumerate() {
        let bits = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        if shift == 63 && bits > 1 {
            break;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err("a chunk length is not a valid LEB128 number".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uleb_lengths() {
        assert_eq!(read_uleb(&[0x05]), Ok((5, 1)));
        assert_eq!(read_uleb(&[0xe5, 0x8e, 0x26]), Ok((624_485, 3)));
        assert!(read_uleb(&[0x80; 11]).is_err());
        assert!(read_uleb(&[]).is_err());
    }

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
