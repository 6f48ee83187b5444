//! Tolerant, typed access to Automerge values with the path of every value at hand.
//!
//! Tolerant in what JS clients legitimately write: a string may be a `Str` scalar or a `Text`
//! object, a number an int, uint or integral f64, a time a `Timestamp` or a number, and `null`
//! means absent. Strict in everything else: a wrong type is a [`JobError`] naming the path.
//! Shared by the job document and the technician index.
//!
//! Each object is read in one pass (a map's entries on first use, a list's elements at once):
//! Automerge looks a single key up by seeking through its columns, so reading a job key by key
//! cost a seek per field, and a whole job grew quadratically with its timeline.

use std::cell::OnceCell;
use std::rc::Rc;

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::error::JobError;
use super::values::EpochMillis;

/// Largest integer an f64 (a JS number) holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A map of the document and its path.
#[derive(Debug)]
pub(crate) struct Node<'d, D: ReadDoc> {
    doc: &'d D,
    obj: ObjId,
    path: Rc<str>,
    /// The map's visible entries (each key's winning value), read on first use.
    entries: OnceCell<Vec<Entry>>,
}

#[derive(Debug)]
struct Entry {
    key: String,
    value: Value<'static>,
    obj: ObjId,
}

/// One value found in the document, not yet converted.
#[derive(Debug)]
pub(crate) struct Slot<'d, D: ReadDoc> {
    doc: &'d D,
    value: Value<'static>,
    obj: ObjId,
    place: Place,
}

/// Where a value sits: its parent's path and its key or index, spelled out as a path only when
/// something names it (an error, a map read from it), not for every value read.
#[derive(Debug)]
struct Place {
    parent: Rc<str>,
    step: Step,
}

#[derive(Debug)]
enum Step {
    Key(Box<str>),
    Index(usize),
}

impl Place {
    fn spell(&self) -> String {
        match &self.step {
            Step::Key(key) => format!("{}/{key}", self.parent),
            Step::Index(index) => format!("{}/{index}", self.parent),
        }
    }
}

impl<'d, D: ReadDoc> Node<'d, D> {
    /// The root map.
    pub(crate) fn root(doc: &'d D) -> Self {
        Self::new(doc, automerge::ROOT, Rc::from(""))
    }

    /// The map that is element `index` of the list at `list_path`, known by its object id.
    pub(crate) fn element(doc: &'d D, obj: &ObjId, list_path: &str, index: usize) -> Self {
        Self::new(doc, obj.clone(), format!("{list_path}/{index}").into())
    }

    fn new(doc: &'d D, obj: ObjId, path: Rc<str>) -> Self {
        Self {
            doc,
            obj,
            path,
            entries: OnceCell::new(),
        }
    }

    /// The value at `key` of this map, `None` when absent or `null`.
    pub(crate) fn get(&self, key: &str) -> Result<Option<Slot<'d, D>>, JobError> {
        let entries = self.entries.get_or_init(|| {
            self.doc
                .map_range(&self.obj, ..)
                .map(|item| {
                    let obj = item.id();
                    Entry {
                        key: item.key.to_string(),
                        obj,
                        value: item.value.into_value(),
                    }
                })
                .collect()
        });
        let Some(entry) = entries.iter().find(|entry| entry.key == key) else {
            return Ok(None);
        };
        if is_null(&entry.value) {
            return Ok(None);
        }
        Ok(Some(Slot {
            doc: self.doc,
            value: entry.value.clone(),
            obj: entry.obj.clone(),
            place: Place {
                parent: self.path.clone(),
                step: Step::Key(key.into()),
            },
        }))
    }

    /// The value at `key`, or a [`JobError::Missing`] naming its path.
    pub(crate) fn require(&self, key: &str) -> Result<Slot<'d, D>, JobError> {
        self.get(key)?.ok_or_else(|| JobError::Missing {
            path: format!("{}/{key}", self.path),
        })
    }

    pub(crate) fn string(&self, key: &str) -> Result<String, JobError> {
        self.require(key)?.string()
    }

    pub(crate) fn opt_string(&self, key: &str) -> Result<Option<String>, JobError> {
        self.get(key)?.map(|slot| slot.string()).transpose()
    }

    pub(crate) fn time(&self, key: &str) -> Result<EpochMillis, JobError> {
        self.require(key)?.time()
    }

    pub(crate) fn opt_time(&self, key: &str) -> Result<Option<EpochMillis>, JobError> {
        self.get(key)?.map(|slot| slot.time()).transpose()
    }

    pub(crate) fn uint(&self, key: &str) -> Result<u64, JobError> {
        self.require(key)?.uint()
    }

    pub(crate) fn opt_uint(&self, key: &str) -> Result<Option<u64>, JobError> {
        self.get(key)?.map(|slot| slot.uint()).transpose()
    }

    pub(crate) fn int(&self, key: &str) -> Result<i64, JobError> {
        self.require(key)?.int()
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, JobError> {
        self.get(key)?.map(|slot| slot.boolean()).transpose()
    }

    pub(crate) fn map(&self, key: &str) -> Result<Node<'d, D>, JobError> {
        self.require(key)?.map()
    }

    pub(crate) fn opt_map(&self, key: &str) -> Result<Option<Node<'d, D>>, JobError> {
        self.get(key)?.map(|slot| slot.map()).transpose()
    }

    /// The elements of the list at `key`; an absent list reads as empty.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<Slot<'d, D>>, JobError> {
        match self.get(key)? {
            Some(slot) => slot.list(),
            None => Ok(Vec::new()),
        }
    }

    /// The keys of this map, for maps keyed by ids (the technician index).
    pub(crate) fn keys(&self) -> Vec<String> {
        self.doc.keys(&self.obj).collect()
    }

    /// This node's path, `""` for the root.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
}

fn is_null(value: &Value<'_>) -> bool {
    matches!(value, Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Null))
}

impl<'d, D: ReadDoc> Slot<'d, D> {
    /// The Automerge id of the value (the object's id for a map, list or text).
    pub(crate) fn id(&self) -> &ObjId {
        &self.obj
    }

    pub(crate) fn path(&self) -> String {
        self.place.spell()
    }

    fn wrong_type(&self, expected: &'static str) -> JobError {
        JobError::WrongType {
            path: self.path(),
            expected,
            found: describe(&self.value).to_owned(),
        }
    }

    /// An invalid-value error at this slot's path.
    pub(crate) fn invalid(&self, reason: impl Into<String>) -> JobError {
        JobError::Invalid {
            path: self.path(),
            reason: reason.into(),
        }
    }

    /// A `Str` scalar or the content of a `Text` object.
    pub(crate) fn string(&self) -> Result<String, JobError> {
        match &self.value {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(text) => Ok(text.to_string()),
                _ => Err(self.wrong_type("a string")),
            },
            Value::Object(ObjType::Text) => self
                .doc
                .text(&self.obj)
                .map_err(|e| JobError::automerge(&self.path(), &e)),
            Value::Object(_) => Err(self.wrong_type("a string")),
        }
    }

    pub(crate) fn time(&self) -> Result<EpochMillis, JobError> {
        match self.scalar() {
            Some(ScalarValue::Timestamp(ms)) => Ok(EpochMillis(*ms)),
            Some(_) => self
                .integer()
                .map(EpochMillis)
                .ok_or_else(|| self.wrong_type("a timestamp (milliseconds since 1970)")),
            None => Err(self.wrong_type("a timestamp (milliseconds since 1970)")),
        }
    }

    pub(crate) fn int(&self) -> Result<i64, JobError> {
        self.integer().ok_or_else(|| self.wrong_type("an integer"))
    }

    pub(crate) fn uint(&self) -> Result<u64, JobError> {
        match self.scalar() {
            Some(ScalarValue::Uint(n)) => Ok(*n),
            _ => {
                let n = self
                    .integer()
                    .ok_or_else(|| self.wrong_type("a whole number"))?;
                u64::try_from(n).map_err(|_| self.invalid(format!("{n} is negative")))
            }
        }
    }

    pub(crate) fn boolean(&self) -> Result<bool, JobError> {
        match self.scalar() {
            Some(ScalarValue::Boolean(b)) => Ok(*b),
            _ => Err(self.wrong_type("true or false")),
        }
    }

    pub(crate) fn map(self) -> Result<Node<'d, D>, JobError> {
        match self.value {
            Value::Object(ObjType::Map | ObjType::Table) => {
                Ok(Node::new(self.doc, self.obj, self.place.spell().into()))
            }
            _ => Err(self.wrong_type("a map")),
        }
    }

    pub(crate) fn list(self) -> Result<Vec<Slot<'d, D>>, JobError> {
        if !matches!(self.value, Value::Object(ObjType::List)) {
            return Err(self.wrong_type("a list"));
        }
        let mut items = Vec::new();
        let parent: Rc<str> = self.place.spell().into();
        for item in self.doc.list_range(&self.obj, ..) {
            let place = Place {
                parent: parent.clone(),
                step: Step::Index(item.index),
            };
            let obj = item.id();
            let value = item.value.into_value();
            // A null inside a list is refused: callers count on indexes being true.
            if is_null(&value) {
                return Err(JobError::WrongType {
                    path: place.spell(),
                    expected: "a value",
                    found: "null".to_owned(),
                });
            }
            items.push(Slot {
                doc: self.doc,
                value,
                obj,
                place,
            });
        }
        Ok(items)
    }

    fn scalar(&self) -> Option<&ScalarValue> {
        match &self.value {
            Value::Scalar(s) => Some(s.as_ref()),
            Value::Object(_) => None,
        }
    }

    /// Any integral number a client may have written, within i64 (and f64's exact range).
    fn integer(&self) -> Option<i64> {
        match self.scalar()? {
            ScalarValue::Int(n) => Some(*n),
            ScalarValue::Uint(n) => i64::try_from(*n).ok(),
            ScalarValue::F64(f) if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER => {
                // Exact: |f| is an integer below 2^53, so the cast neither rounds nor saturates.
                Some(*f as i64)
            }
            _ => None,
        }
    }
}

/// How a value is named in "should be X but is Y" messages.
pub(crate) fn describe(value: &Value<'_>) -> &'static str {
    match value {
        Value::Object(ObjType::Map | ObjType::Table) => "a map",
        Value::Object(ObjType::List) => "a list",
        Value::Object(ObjType::Text) => "text",
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Bytes(_) => "bytes",
            ScalarValue::Str(_) => "a string",
            ScalarValue::Int(_) | ScalarValue::Uint(_) => "an integer",
            ScalarValue::F64(_) => "a number with a fraction",
            ScalarValue::Counter(_) => "a counter",
            ScalarValue::Timestamp(_) => "a timestamp",
            ScalarValue::Boolean(_) => "a boolean",
            ScalarValue::Unknown { .. } => "a value of an unknown type",
            ScalarValue::Null => "null",
        },
    }
}
