//! The property-level authorization check (DESIGN.md): given a document before and after a
//! peer's changes, list every modification the peer's role may not make.
//!
//! The check works on Automerge's own diff between the two sets of heads, so it sees exactly the
//! paths whose visible value changed: puts, deletes, list inserts, text edits, and conflicting
//! values a concurrent change created at a key (a write that lost the merge still counts). A
//! sync message with any violation is refused whole.

use std::collections::HashSet;
use std::fmt;

use automerge::{
    Automerge, Change, ChangeHash, ObjId, Patch, PatchAction, PatchLog, Prop, ReadDoc, Value,
};
use serde::{Deserialize, Serialize};

use super::policy::{Write, WriteKind, permit};

pub use super::policy::Role;
pub use super::policy::WriteKind as ChangeKind;

/// One modification `role` was not allowed to make.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Violation {
    pub role: Role,
    /// Where, as `/customer/name` or `/timeline/3`.
    pub path: String,
    pub change: ChangeKind,
    /// Why it is forbidden, in words for the person refused.
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.change {
            ChangeKind::Put => "set",
            ChangeKind::Delete => "delete",
            ChangeKind::Insert => "insert into",
            ChangeKind::EditText => "edit",
        };
        write!(
            f,
            "a {} may not {verb} {}: {}",
            self.role, self.path, self.reason
        )
    }
}

/// Why the check could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnershipError {
    /// `before` has changes `after` lacks, so `after` is not "before plus new changes".
    #[error("the document after the changes does not contain change {0} of the document before")]
    NotADescendant(String),
    /// The peer's changes could not be applied to the document.
    #[error("the changes could not be applied to the job document: {0}")]
    Apply(String),
}

/// Lists what `role` changed in `after` that it may not change; `after` must contain every
/// change of `before`.
pub fn check_ownership(
    before: &Automerge,
    after: &Automerge,
    role: Role,
) -> Result<Vec<Violation>, OwnershipError> {
    check_since(after, &before.get_heads(), role)
}

/// Like [`check_ownership`] for a document and the heads it had before the changes.
pub fn check_since(
    doc: &Automerge,
    before_heads: &[ChangeHash],
    role: Role,
) -> Result<Vec<Violation>, OwnershipError> {
    if let Some(missing) = before_heads
        .iter()
        .find(|head| doc.get_change_by_hash(head).is_none())
    {
        return Err(OwnershipError::NotADescendant(missing.to_string()));
    }
    let patches = doc.diff(before_heads, &doc.get_heads());
    Ok(violations(&patches, role))
}

/// Applies `changes` to a copy of `before` and checks them, from the patches logged while
/// they applied (see [`check_patches`]); `before` itself is not modified.
pub fn check_new_changes(
    before: &Automerge,
    changes: Vec<Change>,
    role: Role,
) -> Result<Vec<Violation>, OwnershipError> {
    let mut after = before.clone();
    let mut log = PatchLog::active();
    after
        .apply_changes_log_patches(changes, &mut log)
        .map_err(|e| OwnershipError::Apply(e.to_string()))?;
    Ok(check_patches(&after.make_patches(&mut log), role))
}

/// Like [`check_since`] for the patches Automerge logged while the changes applied (a
/// `PatchLog` given to `apply_changes_log_patches` or `receive_sync_message_log_patches`, read
/// with `make_patches`): the cost follows the changes, not the document.
pub fn check_patches(patches: &[Patch], role: Role) -> Vec<Violation> {
    violations(patches, role)
}

fn violations(patches: &[Patch], role: Role) -> Vec<Violation> {
    let created = created_objects(patches);
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for patch in patches {
        let (last, kind, inserts_only_maps) = touched(&patch.action);
        let mut segments: Vec<String> = patch.path.iter().map(|(_, prop)| segment(prop)).collect();
        segments.extend(last.map(|prop| segment(&prop)));
        let inside_new_object = created.contains(&patch.obj)
            || patch
                .path
                .iter()
                .skip(1)
                .any(|(obj, _)| created.contains(obj));
        let write = Write {
            segments: &segments,
            kind,
            inside_new_object,
            inserts_only_maps,
        };
        if let Err(reason) = permit(role, &write) {
            let path = format!("/{}", segments.join("/"));
            if seen.insert((path.clone(), kind)) {
                found.push(Violation {
                    role,
                    path,
                    change: kind,
                    reason: reason.to_owned(),
                });
            }
        }
    }
    // Patch order follows Automerge's internal object order; sort so reports are stable.
    found.sort_by(|a, b| (&a.path, a.change as u8).cmp(&(&b.path, b.change as u8)));
    found
}

/// Objects the changes created, so writes that fill them in are recognised as part of creation.
fn created_objects(patches: &[Patch]) -> HashSet<ObjId> {
    let mut created = HashSet::new();
    for patch in patches {
        match &patch.action {
            PatchAction::PutMap { value, .. } | PatchAction::PutSeq { value, .. } => {
                if let (Value::Object(_), id) = value {
                    created.insert(id.clone());
                }
            }
            PatchAction::Insert { values, .. } => {
                for (value, id, _) in values.iter() {
                    if matches!(value, Value::Object(_)) {
                        created.insert(id.clone());
                    }
                }
            }
            _ => {}
        }
    }
    created
}

/// The property a patch touches below its object, what kind of write it is, and for inserts
/// whether every inserted value is a map.
fn touched(action: &PatchAction) -> (Option<Prop>, WriteKind, bool) {
    match action {
        PatchAction::PutMap { key, .. } => (Some(Prop::Map(key.clone())), WriteKind::Put, false),
        PatchAction::PutSeq { index, .. } => (Some(Prop::Seq(*index)), WriteKind::Put, false),
        PatchAction::Insert { index, values } => {
            let maps = values
                .iter()
                .all(|(value, _, _)| matches!(value, Value::Object(automerge::ObjType::Map)));
            (Some(Prop::Seq(*index)), WriteKind::Insert, maps)
        }
        PatchAction::SpliceText { .. } | PatchAction::Mark { .. } => {
            (None, WriteKind::EditText, false)
        }
        PatchAction::Increment { prop, .. } | PatchAction::Conflict { prop } => {
            (Some(prop.clone()), WriteKind::Put, false)
        }
        PatchAction::DeleteMap { key } => (Some(Prop::Map(key.clone())), WriteKind::Delete, false),
        PatchAction::DeleteSeq { index, .. } => (Some(Prop::Seq(*index)), WriteKind::Delete, false),
    }
}

fn segment(prop: &Prop) -> String {
    match prop {
        Prop::Map(key) => key.clone(),
        Prop::Seq(index) => index.to_string(),
    }
}
