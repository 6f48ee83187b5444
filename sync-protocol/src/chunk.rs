//! Automerge storage chunks read strictly: split one at a time (every byte must belong to a
//! well-formed chunk) and changes checked against their checksum. Automerge's own readers
//! (`load_incremental`, `receive_sync_message`) stop at the first bad chunk and still return
//! `Ok`, keeping what came before; a sync message checked here is refused whole instead, and a
//! stored chunk is never taken as shorter than it is.

use automerge::Change;

/// Every Automerge storage chunk starts with these bytes.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
pub const DOCUMENT_CHUNK: u8 = 0;
pub const CHANGE_CHUNK: u8 = 1;
pub const COMPRESSED_CHANGE_CHUNK: u8 = 2;
/// Magic bytes, checksum (the first four bytes of the chunk's hash), chunk type; the body's
/// length follows as unsigned LEB128.
const HEADER: usize = MAGIC.len() + 4 + 1;

/// Splits one chunk off the front of `input`: (type, the whole chunk with its header, the rest).
pub fn split(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let header = input
        .get(..HEADER)
        .ok_or_else(|| "a chunk header is cut short".to_owned())?;
    if header[..MAGIC.len()] != MAGIC {
        return Err("bytes that are not an Automerge chunk".to_owned());
    }
    let chunk_type = header[HEADER - 1];
    let (length, length_bytes) = read_uleb(&input[HEADER..])?;
    let body_start = HEADER + length_bytes;
    let end = usize::try_from(length)
        .ok()
        .and_then(|n| body_start.checked_add(n))
        .filter(|end| *end <= input.len())
        .ok_or_else(|| format!("a chunk declares {length} bytes but fewer remain"))?;
    Ok((chunk_type, &input[..end], &input[end..]))
}

/// One change chunk (as [`split`] gives it), parsed and checked against its checksum.
pub fn change(chunk: &[u8]) -> Result<Change, String> {
    let change = Change::try_from(chunk).map_err(|e| e.to_string())?;
    if change.hash().0[..4] != chunk[MAGIC.len()..MAGIC.len() + 4] {
        return Err("a change does not match its checksum".to_owned());
    }
    Ok(change)
}

/// The changes in `data`, a run of change chunks one after another (what
/// `Change::raw_bytes` of each, concatenated, gives); an error naming the byte where it goes
/// wrong if any part of it is not a whole, intact change.
pub fn changes(data: &[u8]) -> Result<Vec<Change>, String> {
    let mut changes = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let at = data.len() - rest.len();
        let damaged = |what: String| format!("damaged at byte {at}: {what}");
        let (chunk_type, chunk, after) = split(rest).map_err(damaged)?;
        if !matches!(chunk_type, CHANGE_CHUNK | COMPRESSED_CHANGE_CHUNK) {
            return Err(damaged(format!(
                "a chunk of type {chunk_type}, not a change"
            )));
        }
        changes.push(change(chunk).map_err(damaged)?);
        rest = after;
    }
    Ok(changes)
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
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    #[test]
    fn uleb_lengths() {
        assert_eq!(read_uleb(&[0x05]), Ok((5, 1)));
        assert_eq!(read_uleb(&[0xe5, 0x8e, 0x26]), Ok((624_485, 3)));
        assert!(read_uleb(&[0x80; 11]).is_err());
        assert!(read_uleb(&[]).is_err());
    }

    /// Two changes' bytes one after another.
    fn two_changes() -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "status", "in_progress").unwrap();
        doc.commit();
        doc.put(ROOT, "note", "拆开面板，发现主板烧毁。").unwrap();
        doc.commit();
        doc.get_changes(&[])
            .iter()
            .flat_map(|c| c.raw_bytes().iter().copied())
            .collect()
    }

    #[test]
    fn whole_changes_read_and_damaged_ones_are_named() {
        let data = two_changes();
        let read = changes(&data).unwrap();
        assert_eq!(read.len(), 2);
        let second = read[0].raw_bytes().len();

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
            let error = changes(&bytes).expect_err(what);
            assert!(error.starts_with("damaged at byte "), "{what}: {error}");
        }
        let error = changes(&[data.clone(), AutoCommit::new().save()].concat()).unwrap_err();
        assert!(error.contains("not a change"), "{error}");
    }
}
