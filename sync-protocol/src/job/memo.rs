//! Reading a job again after a change without reading again what the change did not touch.
//!
//! The two lists that grow with a visit (the timeline and the work items) are kept between
//! reads, element by element, under the element's Automerge object id. A change that touches an
//! element (or anything inside it) names that element's object in its patches, and
//! [`ReadMemo::forget_touched`] drops it; an element whose object is new is read. So a read
//! after a change costs one pass over each list's ids plus the elements the change touched,
//! not a seek into every element.
//!
//! It also keeps the whole last read. While every change since only appended elements to those
//! two lists (a technician's edit: a work item and its timeline event; new elements filled in
//! as they are inserted), the next read is the last one with the new elements read and
//! appended, and nothing else of the document is read. Any other patch (an edit anywhere else,
//! an insert before the end, a delete) drops the last read, and the next read walks the
//! document as above.
//!
//! The memo is only right for the document it was filled from plus the changes whose patches it
//! was told: the caller starts a fresh one ([`ReadMemo::default`]) whenever it cannot account
//! for every change since.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::{ObjId, ObjType, Patch, PatchAction, ReadDoc, Value};

use super::error::JobError;
use super::model::{JobDocument, TimelineEvent};
use super::reader::{Node, Slot};
use super::visit::WorkItem;

/// Elements of a job's growing lists as last read, by object id, and the last read itself.
#[derive(Debug, Clone, Default)]
pub struct ReadMemo {
    pub(crate) timeline: HashMap<ObjId, Arc<TimelineEvent>>,
    pub(crate) work_items: HashMap<ObjId, Arc<WorkItem>>,
    last: Option<LastRead>,
}

/// The last read, and the elements appended to its lists since.
#[derive(Debug, Clone)]
struct LastRead {
    job: JobDocument,
    timeline: Appended,
    /// `None` while the visit has no list of work items (creating it is not an append).
    work_items: Option<Appended>,
}

/// One of the growing lists: its object, and the elements appended since the last read, in
/// order (the list held as many as the last read has before them).
#[derive(Debug, Clone)]
pub(crate) struct Appended {
    list: ObjId,
    since: Vec<ObjId>,
}

impl Appended {
    pub(crate) fn new(list: ObjId) -> Self {
        Self {
            list,
            since: Vec::new(),
        }
    }

    /// Takes an insert into this list when it appends maps at its end; `read` is the list's
    /// length in the last read.
    fn take_insert(
        &mut self,
        obj: &ObjId,
        index: usize,
        values: &[(&Value<'_>, &ObjId)],
        read: usize,
    ) -> bool {
        if *obj != self.list || index != read + self.since.len() {
            return false;
        }
        for (value, id) in values {
            if !matches!(value, Value::Object(ObjType::Map | ObjType::Table)) {
                return false;
            }
            self.since.push((*id).clone());
        }
        true
    }

    fn contains(&self, obj: &ObjId) -> bool {
        self.since.contains(obj)
    }
}

impl LastRead {
    /// Follows one patch; false when it did more than append to the two lists.
    fn follow(&mut self, patch: &Patch) -> bool {
        // Anything inside an element appended since is read with that element.
        let inside_new = |obj: &ObjId, this: &Self| {
            this.timeline.contains(obj) || this.work_items.as_ref().is_some_and(|w| w.contains(obj))
        };
        if inside_new(&patch.obj, self) || patch.path.iter().any(|(obj, _)| inside_new(obj, self)) {
            return true;
        }
        let PatchAction::Insert { index, values } = &patch.action else {
            return false;
        };
        let values: Vec<(&Value<'_>, &ObjId)> = values.iter().map(|(v, id, _)| (v, id)).collect();
        let (events, items) = (self.job.timeline.len(), self.job.visit.work_items.len());
        self.timeline
            .take_insert(&patch.obj, *index, &values, events)
            || self
                .work_items
                .as_mut()
                .is_some_and(|list| list.take_insert(&patch.obj, *index, &values, items))
    }
}

impl ReadMemo {
    /// Forgets every element a change touched: give it the patches of every change applied
    /// since the memo was last used (Automerge's `PatchLog` from applying them, or its diff).
    pub fn forget_touched(&mut self, patches: &[Patch]) {
        for patch in patches {
            self.forget(&patch.obj);
            for (obj, _) in &patch.path {
                self.forget(obj);
            }
        }
        if let Some(last) = &mut self.last
            && !patches.iter().all(|patch| last.follow(patch))
        {
            self.last = None;
        }
    }

    /// Keeps `job`, just read from the document, with the two lists as they were in it.
    pub(crate) fn keep_read(
        &mut self,
        job: &JobDocument,
        timeline: Appended,
        work_items: Option<Appended>,
    ) {
        self.last = Some(LastRead {
            job: job.clone(),
            timeline,
            work_items,
        });
    }

    /// The last read with the elements appended since, when only appends happened since.
    pub(crate) fn read_appended<D: ReadDoc>(
        &mut self,
        doc: &D,
    ) -> Option<Result<JobDocument, JobError>> {
        let last = self.last.as_mut()?;
        let job = &mut last.job;
        let appended = (|| {
            for id in last.timeline.since.drain(..) {
                let index = job.timeline.len();
                let event = Arc::new(super::read::read_event(&Node::element(
                    doc,
                    &id,
                    "/timeline",
                    index,
                ))?);
                job.timeline.push(Arc::clone(&event));
                self.timeline.insert(id, event);
            }
            if let Some(items) = &mut last.work_items {
                for id in items.since.drain(..) {
                    let index = job.visit.work_items.len();
                    let item = Arc::new(super::visit_read::work_item(&Node::element(
                        doc,
                        &id,
                        "/visit/work_items",
                        index,
                    ))?);
                    job.visit.work_items.push(Arc::clone(&item));
                    self.work_items.insert(id, item);
                }
            }
            Ok(())
        })();
        match appended {
            Ok(()) => Some(Ok(job.clone())),
            // The last read is half extended: let it go (the next read walks the document).
            Err(error) => {
                self.last = None;
                Some(Err(error))
            }
        }
    }

    fn forget(&mut self, obj: &ObjId) {
        self.timeline.remove(obj);
        self.work_items.remove(obj);
    }

    /// How many elements it holds, for tests and metrics.
    pub fn len(&self) -> usize {
        self.timeline.len() + self.work_items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl JobDocument {
    /// [`JobDocument::read`], reusing the elements `memo` holds and leaving in it the elements
    /// of this read, or none if some left the lists since (see the module documentation for
    /// when a memo is right).
    pub fn read_remembering<D: ReadDoc>(
        doc: &D,
        memo: &mut ReadMemo,
    ) -> Result<JobDocument, JobError> {
        Self::read_with(doc, Some(memo))
    }
}

/// Reads a list of maps with `read_one`, reusing (and refilling) `kept` when there is one. The
/// read and the memo share the elements: reusing one copies a pointer.
pub(crate) fn remembered<'d, D: ReadDoc, T>(
    slots: Vec<Slot<'d, D>>,
    kept: Option<&mut HashMap<ObjId, Arc<T>>>,
    read_one: fn(&Node<'d, D>) -> Result<T, JobError>,
) -> Result<Vec<Arc<T>>, JobError> {
    let Some(kept) = kept else {
        return slots
            .into_iter()
            .map(|slot| read_one(&slot.map()?).map(Arc::new))
            .collect();
    };
    let mut items = Vec::with_capacity(slots.len());
    for slot in slots {
        if let Some(item) = kept.get(slot.id()) {
            items.push(Arc::clone(item));
            continue;
        }
        let id = slot.id().clone();
        let item = Arc::new(read_one(&slot.map()?)?);
        kept.insert(id, Arc::clone(&item));
        items.push(item);
    }
    // Elements no longer in the list (deleted: rare, timelines only grow) are let go, with the
    // rest: the next read reads the list afresh once.
    if kept.len() > items.len() {
        kept.clear();
    }
    Ok(items)
}
