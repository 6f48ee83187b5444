//! Creating a job document, as the server does when a dispatcher books a job.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjType, ROOT};

use super::error::OperationError;
use super::model::{ComplaintOrigin, CustomerSnapshot, JobDocument};
use super::schema::{
    self, appointment, assignment, complaint, customer, event_kind, root, status, visit,
};
use super::values::{DispatchState, EpochMillis, JobKind};
use super::write::{append_event, push_map, put_opt_str, put_time, required};

/// What a dispatcher enters to book a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    /// The job's number for people, given by the server (`FS-2026-00042`).
    pub number: Option<String>,
    pub customer: CustomerSnapshot,
    pub complaint_origin: ComplaintOrigin,
    pub window_start: EpochMillis,
    pub window_end: EpochMillis,
    /// The technician to send, if already chosen.
    pub technician_id: Option<String>,
    /// The dispatcher booking the job.
    pub created_by: String,
    /// The server's clock at booking.
    pub created_at: EpochMillis,
}

impl JobDocument {
    /// Builds a new schema-v1 job document with every container in place.
    ///
    /// All maps, lists and the notes Text are created here, once, by the server: if two tablets
    /// each created `/visit/permissions` offline, one list would hide the other after the merge.
    pub fn create(new_job: &NewJob) -> Result<AutoCommit, OperationError> {
        let name = required(&new_job.customer.name, "customer's name")?;
        let address = required(&new_job.customer.address, "customer's address")?;
        let booked_by = required(&new_job.created_by, "dispatcher id")?;
        if new_job.window_end <= new_job.window_start {
            return Err(OperationError::EmptyWindow);
        }

        let mut doc = AutoCommit::new();
        doc.put(ROOT, root::SCHEMA_VERSION, schema::SCHEMA_VERSION)?;
        doc.put(ROOT, root::KIND, new_job.kind.as_str())?;
        if let Some(number) = &new_job.number {
            doc.put(ROOT, root::NUMBER, number.as_str())?;
        }

        let snapshot = doc.put_object(ROOT, root::CUSTOMER, ObjType::Map)?;
        put_opt_str(
            &mut doc,
            &snapshot,
            customer::ID,
            new_job.customer.id.as_deref(),
        )?;
        doc.put(&snapshot, customer::NAME, name)?;
        put_opt_str(
            &mut doc,
            &snapshot,
            customer::PHONE,
            new_job.customer.phone.as_deref(),
        )?;
        doc.put(&snapshot, customer::ADDRESS, address)?;
        let tier = new_job.customer.tier.map(|t| t.as_str());
        put_opt_str(&mut doc, &snapshot, customer::TIER, tier)?;

        let origin = doc.put_object(ROOT, root::COMPLAINT_ORIGIN, ObjType::Map)?;
        let from_complaint = new_job.complaint_origin.from_complaint;
        doc.put(&origin, complaint::FROM_COMPLAINT, from_complaint)?;
        let reference = new_job.complaint_origin.reference.as_deref();
        put_opt_str(&mut doc, &origin, complaint::REFERENCE, reference)?;

        let booking = doc.put_object(ROOT, root::APPOINTMENT, ObjType::Map)?;
        put_time(
            &mut doc,
            &booking,
            appointment::WINDOW_START,
            new_job.window_start,
        )?;
        put_time(
            &mut doc,
            &booking,
            appointment::WINDOW_END,
            new_job.window_end,
        )?;

        let assigned = doc.put_object(ROOT, root::ASSIGNMENT, ObjType::Map)?;
        let history = doc.put_object(&assigned, assignment::HISTORY, ObjType::List)?;
        if let Some(technician) = new_job.technician_id.as_deref() {
            let technician = required(technician, "technician id")?;
            doc.put(&assigned, assignment::TECHNICIAN_ID, technician)?;
            let record = push_map(&mut doc, &history)?;
            doc.put(&record, assignment::TECHNICIAN_ID, technician)?;
            doc.put(&record, assignment::ASSIGNED_BY, booked_by)?;
            put_time(
                &mut doc,
                &record,
                assignment::ASSIGNED_AT,
                new_job.created_at,
            )?;
        }

        let state = doc.put_object(ROOT, root::STATUS, ObjType::Map)?;
        doc.put(&state, status::STATE, DispatchState::Open.as_str())?;

        let evidence = doc.put_object(ROOT, root::VISIT, ObjType::Map)?;
        for list in [visit::PERMISSIONS, visit::WORK_ITEMS, visit::FEEDBACK_CARDS] {
            doc.put_object(&evidence, list, ObjType::List)?;
        }
        doc.put_object(&evidence, visit::WORK_NOTES, ObjType::Text)?;

        doc.put_object(ROOT, root::TIMELINE, ObjType::List)?;
        append_event(
            &mut doc,
            event_kind::CREATED,
            booked_by,
            new_job.created_at,
            None,
        )?;
        doc.commit_with(CommitOptions::default().with_message(event_kind::CREATED));
        Ok(doc)
    }
}
