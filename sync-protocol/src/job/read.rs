//! Reading a job document into [`JobDocument`]: from saved bytes, an [`automerge::Automerge`]
//! or an [`automerge::AutoCommit`]. Never panics; every problem is a [`JobError`] with its path.

use automerge::{Automerge, ObjId, ReadDoc};

use super::error::JobError;
use super::memo::{Appended, ReadMemo, remembered};
use super::model::{
    Appointment, AppointmentConfirmation, Assignment, AssignmentRecord, ComplaintOrigin,
    CustomerSnapshot, DispatchStatus, JobDocument, TimelineEvent,
};
use super::reader::{Node, Slot};
use super::schema::visit as visit_key;
use super::schema::{self, appointment, assignment, complaint, customer, event, root, status};
use super::values::{ConfirmationChannel, CustomerTier, DispatchState, JobKind, Sha256Hex};
use super::visit_read::read_visit;

impl JobDocument {
    /// Loads saved document bytes (a full save, or a save followed by incremental chunks) and
    /// reads them as schema v1.
    pub fn load(bytes: &[u8]) -> Result<JobDocument, JobError> {
        let doc = Automerge::load(bytes).map_err(|e| JobError::NotAutomerge(e.to_string()))?;
        Self::read(&doc)
    }

    /// Reads the current state of a document; works on `Automerge` and `AutoCommit` alike.
    pub fn read<D: ReadDoc>(doc: &D) -> Result<JobDocument, JobError> {
        Self::read_with(doc, None)
    }

    /// The job's dispatch status alone, read without the rest of the job (whose timeline and
    /// work items grow with the visit): what an operation checks before it writes. The schema
    /// version is checked as a whole read checks it.
    pub(crate) fn read_status<D: ReadDoc>(doc: &D) -> Result<DispatchStatus, JobError> {
        let root = Node::root(doc);
        supported_schema(&root)?;
        match root.opt_map(root::STATUS)? {
            Some(node) => read_status(&node),
            None => Ok(DispatchStatus::default()),
        }
    }

    pub(crate) fn read_with<D: ReadDoc>(
        doc: &D,
        memo: Option<&mut ReadMemo>,
    ) -> Result<JobDocument, JobError> {
        let Some(memo) = memo else {
            return Self::read_walking(&Node::root(doc), None);
        };
        if let Some(read) = memo.read_appended(doc) {
            return read;
        }
        let root = Node::root(doc);
        let job = Self::read_walking(&root, Some(memo))?;
        // The lists' objects, for the next read to know an append when it sees one.
        let list = |node: &Node<'_, D>, key: &str| -> Result<Option<ObjId>, JobError> {
            Ok(node.get(key)?.map(|slot| slot.id().clone()))
        };
        let timeline = list(&root, root::TIMELINE)?;
        let work_items = match root.opt_map(root::VISIT)? {
            Some(visit) => list(&visit, visit_key::WORK_ITEMS)?,
            None => None,
        };
        if let Some(timeline) = timeline {
            memo.keep_read(&job, Appended::new(timeline), work_items.map(Appended::new));
        }
        Ok(job)
    }

    /// Reads every part of the job, the growing lists through `memo` when there is one.
    fn read_walking<D: ReadDoc>(
        root: &Node<'_, D>,
        mut memo: Option<&mut ReadMemo>,
    ) -> Result<JobDocument, JobError> {
        let schema_version = supported_schema(root)?;
        Ok(JobDocument {
            schema_version,
            kind: word(&root.require(root::KIND)?, JobKind::parse, JobKind::ALL)?,
            number: root.opt_string(root::NUMBER)?,
            customer: read_customer(&root.map(root::CUSTOMER)?)?,
            complaint_origin: match root.opt_map(root::COMPLAINT_ORIGIN)? {
                Some(node) => read_complaint(&node)?,
                None => ComplaintOrigin::default(),
            },
            appointment: read_appointment(&root.map(root::APPOINTMENT)?)?,
            assignment: match root.opt_map(root::ASSIGNMENT)? {
                Some(node) => read_assignment(&node)?,
                None => Assignment::default(),
            },
            status: match root.opt_map(root::STATUS)? {
                Some(node) => read_status(&node)?,
                None => DispatchStatus::default(),
            },
            visit: match root.opt_map(root::VISIT)? {
                Some(node) => read_visit(&node, memo.as_deref_mut().map(|m| &mut m.work_items))?,
                None => Default::default(),
            },
            timeline: remembered(
                root.list(root::TIMELINE)?,
                memo.map(|m| &mut m.timeline),
                read_event,
            )?,
        })
    }
}

/// The document's schema version, when it is the one this code reads.
fn supported_schema<D: ReadDoc>(root: &Node<'_, D>) -> Result<u64, JobError> {
    let found = root.uint(root::SCHEMA_VERSION)?;
    if found == schema::SCHEMA_VERSION {
        Ok(found)
    } else {
        Err(JobError::UnsupportedSchema { found })
    }
}

/// Parses one of the closed word sets, naming the accepted words when it fails.
pub(crate) fn word<D: ReadDoc, W: std::fmt::Display + Copy>(
    slot: &Slot<'_, D>,
    parse: fn(&str) -> Option<W>,
    all: &[W],
) -> Result<W, JobError> {
    let text = slot.string()?;
    parse(&text).ok_or_else(|| {
        let accepted: Vec<String> = all.iter().map(ToString::to_string).collect();
        slot.invalid(format!("`{text}` is not one of {}", accepted.join(", ")))
    })
}

/// A SHA-256 reference: 64 hex digits.
pub(crate) fn sha256<D: ReadDoc>(slot: &Slot<'_, D>) -> Result<Sha256Hex, JobError> {
    let text = slot.string()?;
    Sha256Hex::parse(&text).ok_or_else(|| slot.invalid(format!("`{text}` is not a SHA-256")))
}

fn read_customer<D: ReadDoc>(node: &Node<'_, D>) -> Result<CustomerSnapshot, JobError> {
    Ok(CustomerSnapshot {
        id: node.opt_string(customer::ID)?,
        name: node.string(customer::NAME)?,
        phone: node.opt_string(customer::PHONE)?,
        address: node.string(customer::ADDRESS)?,
        tier: node
            .get(customer::TIER)?
            .map(|slot| word(&slot, CustomerTier::parse, CustomerTier::ALL))
            .transpose()?,
    })
}

fn read_complaint<D: ReadDoc>(node: &Node<'_, D>) -> Result<ComplaintOrigin, JobError> {
    Ok(ComplaintOrigin {
        from_complaint: node.opt_bool(complaint::FROM_COMPLAINT)?.unwrap_or(false),
        reference: node.opt_string(complaint::REFERENCE)?,
    })
}

fn read_appointment<D: ReadDoc>(node: &Node<'_, D>) -> Result<Appointment, JobError> {
    let confirmation = match node.opt_map(appointment::CONFIRMATION)? {
        Some(c) => Some(AppointmentConfirmation {
            confirmed_by: c.string(appointment::CONFIRMED_BY)?,
            channel: word(
                &c.require(appointment::CHANNEL)?,
                ConfirmationChannel::parse,
                ConfirmationChannel::ALL,
            )?,
            confirmed_at: c.time(appointment::CONFIRMED_AT)?,
            recorded_by: c.opt_string(appointment::RECORDED_BY)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Appointment {
        window_start: node.time(appointment::WINDOW_START)?,
        window_end: node.time(appointment::WINDOW_END)?,
        confirmation,
    })
}

fn read_assignment<D: ReadDoc>(node: &Node<'_, D>) -> Result<Assignment, JobError> {
    let history = node
        .list(assignment::HISTORY)?
        .into_iter()
        .map(|slot| {
            let entry = slot.map()?;
            Ok(AssignmentRecord {
                technician_id: entry.string(assignment::TECHNICIAN_ID)?,
                assigned_by: entry.string(assignment::ASSIGNED_BY)?,
                assigned_at: entry.time(assignment::ASSIGNED_AT)?,
            })
        })
        .collect::<Result<_, JobError>>()?;
    Ok(Assignment {
        technician_id: node
            .opt_string(assignment::TECHNICIAN_ID)?
            .filter(|id| !id.is_empty()),
        history,
    })
}

fn read_status<D: ReadDoc>(node: &Node<'_, D>) -> Result<DispatchStatus, JobError> {
    Ok(DispatchStatus {
        state: match node.get(status::STATE)? {
            Some(slot) => word(&slot, DispatchState::parse, DispatchState::ALL)?,
            None => DispatchState::Open,
        },
        reason: node.opt_string(status::REASON)?,
        changed_by: node.opt_string(status::CHANGED_BY)?,
        changed_at: node.opt_time(status::CHANGED_AT)?,
    })
}

pub(crate) fn read_event<D: ReadDoc>(node: &Node<'_, D>) -> Result<TimelineEvent, JobError> {
    Ok(TimelineEvent {
        kind: node.string(event::KIND)?,
        actor: node.string(event::ACTOR)?,
        device_time: node.time(event::DEVICE_TIME)?,
        detail: node.opt_string(event::DETAIL)?,
    })
}
