//! Reading a stored chunk: the bytes of whole changes one after another, as `Staged::write_all`
//! writes them. Read strictly: every change whole and matching its checksum
//! (`sync_protocol::chunk`, where the reason is told), and every change it depends on in the
//! document. Otherwise a copy could claim a chunk's sequence number without its changes, and
//! the next compaction (a snapshot of that copy) would drop them for good.

use std::collections::HashSet;

use automerge::{Automerge, Change, ChangeHash, ReadDoc};

use super::persist::StoreError;

/// Applies chunk `seq` (`data`) to `doc`; an error, and `doc` unchanged, if any of it is damaged
/// or depends on changes `doc` lacks.
pub(super) fn apply(doc: &mut Automerge, seq: i64, data: &[u8]) -> Result<(), StoreError> {
    let changes = sync_protocol::chunk::changes(data)
        .map_err(|e| StoreError::damaged(format!("chunk {seq}: {e}")))?;
    let inside: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    let outside: Vec<ChangeHash> = changes
        .iter()
        .flat_map(|c| c.deps().iter().copied())
        .filter(|dep| !inside.contains(dep))
        .collect();
    let lacking = doc.get_missing_deps(&outside);
    if let Some(first) = lacking.first() {
        return Err(StoreError::damaged(format!(
            "chunk {seq}: its changes depend on {} change(s) the document lacks, first {first}",
            lacking.len()
        )));
    }
    doc.apply_changes(changes)?;
    Ok(())
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
    fn a_damaged_chunk_is_an_error_naming_it_and_changes_nothing() {
        let (base, data, _) = two_changes();
        let mut doc = base.clone();
        let error = apply(&mut doc, 3, &data[..data.len() - 3]).unwrap_err();
        assert!(
            error.to_string().contains("chunk 3: damaged at byte"),
            "{error}"
        );
        assert_eq!(doc.get_heads(), base.get_heads());
    }

    #[test]
    fn a_chunk_whose_changes_depend_on_missing_ones_is_an_error() {
        let (base, data, _) = two_changes();
        let changes = sync_protocol::chunk::changes(&data).unwrap();
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
}
