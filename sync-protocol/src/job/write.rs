//! Low-level writing shared by the dispatcher's and the technician's operations: finding or
//! creating containers, timestamps, timeline events, and committing with a message.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::error::{JobError, OperationError};
use super::reader::describe;
use super::schema::{event, root};
use super::values::EpochMillis;

/// Writes a time as an Automerge `Timestamp` (a JS `Date`).
pub(crate) fn put_time(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    at: EpochMillis,
) -> Result<(), OperationError> {
    doc.put(obj, key, ScalarValue::Timestamp(at.0))?;
    Ok(())
}

/// Writes an optional string; `None` deletes the key so the field reads as absent.
pub(crate) fn put_opt_str(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: Option<&str>,
) -> Result<(), OperationError> {
    match value {
        Some(text) => doc.put(obj, key, text)?,
        None => {
            if doc.get(obj, key)?.is_some() {
                doc.delete(obj, key)?;
            }
        }
    }
    Ok(())
}

/// The container of type `kind` at `parent[key]`, created when absent.
///
/// Containers are created by the server with the document; creating one here only happens for
/// documents from other clients. Two devices creating the same container concurrently would
/// conflict and one side's content would be hidden, which is why the server creates them first.
pub(crate) fn ensure_container(
    doc: &mut AutoCommit,
    parent: &ObjId,
    key: &str,
    kind: ObjType,
    path: &str,
) -> Result<ObjId, OperationError> {
    match doc.get(parent, key)? {
        Some((Value::Object(found), id)) if same_container(found, kind) => Ok(id),
        Some((value, _)) => Err(JobError::WrongType {
            path: path.to_owned(),
            expected: container_name(kind),
            found: describe(&value).to_owned(),
        }
        .into()),
        None => Ok(doc.put_object(parent, key, kind)?),
    }
}

/// The existing container at `parent[key]`; absent is a [`JobError::Missing`].
pub(crate) fn existing_container(
    doc: &AutoCommit,
    parent: &ObjId,
    key: &str,
    kind: ObjType,
    path: &str,
) -> Result<ObjId, OperationError> {
    match doc.get(parent, key)? {
        Some((Value::Object(found), id)) if same_container(found, kind) => Ok(id),
        Some((value, _)) => Err(JobError::WrongType {
            path: path.to_owned(),
            expected: container_name(kind),
            found: describe(&value).to_owned(),
        }
        .into()),
        None => Err(JobError::Missing {
            path: path.to_owned(),
        }
        .into()),
    }
}

/// Replaces `parent[key]` with a fresh map, for records written whole (arrival, signature...).
pub(crate) fn fresh_map(
    doc: &mut AutoCommit,
    parent: &ObjId,
    key: &str,
) -> Result<ObjId, OperationError> {
    Ok(doc.put_object(parent, key, ObjType::Map)?)
}

/// Appends a new map at the end of `list`.
pub(crate) fn push_map(doc: &mut AutoCommit, list: &ObjId) -> Result<ObjId, OperationError> {
    let end = doc.length(list);
    Ok(doc.insert_object(list, end, ObjType::Map)?)
}

/// Appends an event to `/timeline`. The timeline is append-only: nothing here edits old events.
pub(crate) fn append_event(
    doc: &mut AutoCommit,
    kind: &str,
    actor: &str,
    device_time: EpochMillis,
    detail: Option<&str>,
) -> Result<(), OperationError> {
    let path = format!("/{}", root::TIMELINE);
    let timeline = existing_container(doc, &automerge::ROOT, root::TIMELINE, ObjType::List, &path)?;
    let entry = push_map(doc, &timeline)?;
    doc.put(&entry, event::KIND, kind)?;
    doc.put(&entry, event::ACTOR, actor)?;
    put_time(doc, &entry, event::DEVICE_TIME, device_time)?;
    if let Some(detail) = detail {
        doc.put(&entry, event::DETAIL, detail)?;
    }
    Ok(())
}

/// Runs `write` as one change: the domain operation's writes plus its timeline event, committed
/// with the event kind as message so the document's history reads as an audit trail. On error
/// nothing of the operation stays in the document.
pub(crate) fn change<T>(
    doc: &mut AutoCommit,
    event: TimelineEntry<'_>,
    write: impl FnOnce(&mut AutoCommit) -> Result<T, OperationError>,
) -> Result<T, OperationError> {
    // Operations the caller left pending are theirs, not part of this change.
    doc.commit();
    let result = write(doc).and_then(|value| {
        append_event(doc, event.kind, event.actor, event.at, event.detail)?;
        Ok(value)
    });
    match result {
        Ok(value) => {
            doc.commit_with(CommitOptions::default().with_message(event.kind));
            Ok(value)
        }
        Err(error) => {
            doc.rollback();
            Err(error)
        }
    }
}

/// The timeline event a [`change`] appends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimelineEntry<'a> {
    pub(crate) kind: &'a str,
    pub(crate) actor: &'a str,
    pub(crate) at: EpochMillis,
    pub(crate) detail: Option<&'a str>,
}

impl<'a> TimelineEntry<'a> {
    pub(crate) fn new(
        kind: &'a str,
        actor: &'a str,
        at: EpochMillis,
        detail: Option<&'a str>,
    ) -> Self {
        Self {
            kind,
            actor,
            at,
            detail,
        }
    }
}

/// Refuses empty (or blank) required text, naming the field as the form does.
pub(crate) fn required<'t>(text: &'t str, field: &'static str) -> Result<&'t str, OperationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err(OperationError::Empty { field })
    } else {
        Ok(trimmed)
    }
}

fn same_container(found: ObjType, wanted: ObjType) -> bool {
    found == wanted || (wanted == ObjType::Map && found == ObjType::Table)
}

fn container_name(kind: ObjType) -> &'static str {
    match kind {
        ObjType::Map | ObjType::Table => "a map",
        ObjType::List => "a list",
        ObjType::Text => "text",
    }
}
