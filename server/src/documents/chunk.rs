//! Reading a stored chunk: the bytes of whole changes one after another, as `Staged::write_all`
//! writes them. Read strictly: every change must read whole and match its checksum, and every
//! change it depends on must be in the document. Automerge's own `load_incremental` keeps the
//! changes before a damaged one and drops the rest with only a log line, so a copy could claim
//! a chunk's sequence number without its changes, and the next compaction (a snapshot of that
//! copy) would then drop them for good.

use std::collections::HashSet;

use automerge::{Automerge, Change, ChangeHash, ReadDoc};

use super::persist::StoreError;

/// The bytes that open every Automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Magic bytes, checksum (the first four bytes of the change's hash), chunk type; the length
/// follows as unsigned LEB128.
const HEADER: usize = MAGIC.len() + 4 + 1;

/// Applies chunk `seq` (`data`) to `doc`; an error, and `doc` unchanged, if any of it is damaged
/// or depends on changes `doc` lacks.
pub(super) fn apply(doc: &mut Automerge, seq: i64, data: &[u8]) -> Result<(), StoreError> {
    let changes = read(data).map_err(|e| StoreError::Corrupt(format!("chunk {seq}: {e}")))?;
    let inside: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    let outside: Vec<ChangeHash> = changes
        .iter()
        .flat_map(|c| c.deps().iter().copied())
        .filter(|dep| !inside.contains(dep))
        .collect();
    let lacking = doc.get_missing_deps(&outside);
    if let Some(first) = lacking.first() {
        return Err(StoreError::Corrupt(format!(
            "chunk {seq}: its changes depend on {} change(s) the document lacks, first {first}",
            lacking.len()
        )));
    }
    doc.apply_changes(changes)?;
    Ok(())
}

/// The changes in `data`, each read whole and checked against its checksum.
fn read(data: &[u8]) -> Result<Vec<Change>, String> {
    let mut changes = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let rest = &data[at..];
        let damaged = |what: &str| format!("damaged at byte {at}: {what}");
        if rest.len() < HEADER || rest[..MAGIC.len()] != MAGIC {
            return Err(damaged("no change starts here"));
        }
        let (length, width) =
            uleb128(&rest[HEADER..]).ok_or_else(|| damaged("unreadable length"))?;
        let end = usize::try_from(length)
            .ok()
            .and_then(|length| (HEADER + width).checked_add(length))
            .filter(|&end| end <= rest.len())
            .ok_or_else(|| damaged("cut short"))?;
        let bytes = &rest[..end];
        let change = Change::try_from(bytes).map_err(|e| damaged(&e.to_string()))?;
        if change.hash().0[..4] != bytes[MAGIC.len()..MAGIC.len() + 4] {
            return Err(damaged("checksum does not match"));
        }
        changes.push(change);
        at += end;
    }
    Ok(changes)
}

/// An unsigned LEB128 number at the start of `bytes`, and how many bytes it took.
fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        let bits = u64::from(byte & 0x7f);
        value |= bits.checked_shl(7 * u32::try_from(i).ok()?)?;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT, ReadDoc};

    use super::*;

    /// A document of one change, and a copy with two more changes than it, as a chunk.
    fn two_changes() -> (Automerge, Vec<u8>, Automerge) {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "status", "scheduled").unwrap();
        doc.commit();
        let base = doc.document().clone();
        let heads = base.get_heads();
        doc.put(ROOT, "status", "in_progress").unwrap();
        doc.commit();
        doc.put(ROOT, "note", "拆开面板，发现主板烧毁。").unwrap();
        doc.commit();
        let full = doc.document().clone();
        let data = full
            .get_changes(&heads)
            .iter()
            .flat_map(|c| c.raw_bytes().iter().copied())
            .collect();
        (base, data, full)
    }

    #[test]
    fn a_whole_chunk_applies() {
        let (mut doc, data, full) = two_changes();
        apply(&mut doc, 7, &data).unwrap();
        assert_eq!(doc.get_heads(), full.get_heads());
    }

    #[test]
    fn a_damaged_chunk_is_an_error_and_changes_nothing() {
        let (base, data, _) = two_changes();
        let second = {
            let mut doc = base.clone();
            let first_len = read(&data).unwrap()[0].raw_bytes().len();
            apply(&mut doc, 1, &data[..first_len]).unwrap();
            first_len
        };
        let mut flipped = data.clone();
        // A byte inside the second change's body.
        flipped[second + HEADER + 8] ^= 0x40;
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("cut short", data[..data.len() - 3].to_vec()),
            ("flipped", flipped),
            ("trailing", [data.clone(), vec![0x85, 0x6f]].concat()),
            ("garbage", [data.clone(), vec![0u8; 40]].concat()),
        ];
        for (what, bytes) in cases {
            let mut doc = base.clone();
            let error = apply(&mut doc, 3, &bytes).expect_err(what);
            assert!(error.to_string().contains("chunk 3"), "{what}: {error}");
            assert_eq!(doc.get_heads(), base.get_heads(), "{what}: unchanged");
        }
    }

    #[test]
    fn a_chunk_whose_changes_depend_on_missing_ones_is_an_error() {
        let (base, data, _) = two_changes();
        let changes = read(&data).unwrap();
        let second_only = changes[1].raw_bytes().to_vec();
        let mut doc = base.clone();
        let error = apply(&mut doc, 4, &second_only).unwrap_err();
        assert!(error.to_string().contains("lacks"), "{error}");
        assert_eq!(doc.get_heads(), base.get_heads());
        assert_eq!(
            doc.get(ROOT, "status").unwrap().unwrap().0.as_str(),
            Some("scheduled")
        );
    }

    #[test]
    fn lengths_read_as_leb128() {
        assert_eq!(uleb128(&[0x05]), Some((5, 1)));
        assert_eq!(uleb128(&[0xe5, 0x8e, 0x26]), Some((624_485, 3)));
        assert_eq!(uleb128(&[0x80]), None);
        assert_eq!(uleb128(&[0xff; 11]), None);
    }
}
