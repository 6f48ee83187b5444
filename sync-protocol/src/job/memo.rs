//! Reading a job again after a change without reading again what the change did not touch.
//!
//! The two lists that grow with a visit (the timeline and the work items) are kept between
//! reads, element by element, under the element's Automerge object id. A change that touches an
//! element (or anything inside it) names that element's object in its patches, and
//! [`ReadMemo::forget_touched`] drops it; an element whose object is new is read. So a read
//! after a change costs one pass over each list's ids plus the elements the change touched,
//! not a seek into every element.
//!
//! The memo is only right for the document it was filled from plus the changes whose patches it
//! was told: the caller starts a fresh one ([`ReadMemo::default`]) whenever it cannot account
//! for every change since.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::{ObjId, Patch, ReadDoc};

use super::error::JobError;
use super::model::{JobDocument, TimelineEvent};
use super::reader::{Node, Slot};
use super::visit::WorkItem;

/// Elements of a job's growing lists as last read, by object id.
#[derive(Debug, Clone, Default)]
pub struct ReadMemo {
    pub(crate) timeline: HashMap<ObjId, Arc<TimelineEvent>>,
    pub(crate) work_items: HashMap<ObjId, Arc<WorkItem>>,
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
