//! The dispatcher's operations on a job: confirm, reschedule, reassign, cancel, archive.
//!
//! They run on the server for a dispatcher's REST request; each is one Automerge change with a
//! timeline event, and never touches the technician's visit evidence.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc};

use super::error::OperationError;
use super::model::JobDocument;
use super::schema::{appointment, assignment, event_kind, path_of, root, status};
use super::values::{ConfirmationChannel, DispatchState, EpochMillis};
use super::write::{
    TimelineEntry, change, ensure_container, existing_container, fresh_map, push_map, put_opt_str,
    put_time, required,
};

/// Operations a dispatcher performs on one job document.
#[derive(Debug)]
pub struct DispatcherActions<'d> {
    doc: &'d mut AutoCommit,
    dispatcher_id: String,
}

impl<'d> DispatcherActions<'d> {
    /// Acts on `doc` as the dispatcher `dispatcher_id`.
    pub fn new(doc: &'d mut AutoCommit, dispatcher_id: impl Into<String>) -> Self {
        Self {
            doc,
            dispatcher_id: dispatcher_id.into(),
        }
    }

    /// Records that the customer confirmed the appointment window (rule 1).
    pub fn confirm_appointment(
        &mut self,
        confirmed_by: &str,
        channel: ConfirmationChannel,
        confirmed_at: EpochMillis,
    ) -> Result<(), OperationError> {
        let who = required(confirmed_by, "name of the person who confirmed")?;
        self.open_job()?;
        let me = self.dispatcher_id.as_str();
        let detail = format!("{who} by {channel}");
        let event = TimelineEntry::new(
            event_kind::APPOINTMENT_CONFIRMED,
            me,
            confirmed_at,
            Some(&detail),
        );
        change(self.doc, event, |doc| {
            let booking = appointment_map(doc)?;
            let confirmation = fresh_map(doc, &booking, appointment::CONFIRMATION)?;
            doc.put(&confirmation, appointment::CONFIRMED_BY, who)?;
            doc.put(&confirmation, appointment::CHANNEL, channel.as_str())?;
            put_time(doc, &confirmation, appointment::CONFIRMED_AT, confirmed_at)?;
            doc.put(&confirmation, appointment::RECORDED_BY, me)?;
            Ok(())
        })
    }

    /// Moves the appointment to a new window; the customer must confirm the new window again.
    pub fn reschedule(
        &mut self,
        window_start: EpochMillis,
        window_end: EpochMillis,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        if window_end <= window_start {
            return Err(OperationError::EmptyWindow);
        }
        self.open_job()?;
        let detail = format!("{}..{}", window_start.0, window_end.0);
        let event = TimelineEntry::new(
            event_kind::RESCHEDULED,
            &self.dispatcher_id,
            at,
            Some(&detail),
        );
        change(self.doc, event, |doc| {
            let booking = appointment_map(doc)?;
            put_time(doc, &booking, appointment::WINDOW_START, window_start)?;
            put_time(doc, &booking, appointment::WINDOW_END, window_end)?;
            if doc.get(&booking, appointment::CONFIRMATION)?.is_some() {
                doc.delete(&booking, appointment::CONFIRMATION)?;
            }
            Ok(())
        })
    }

    /// Sends another technician; the previous ones stay in the assignment history.
    pub fn reassign(&mut self, technician_id: &str, at: EpochMillis) -> Result<(), OperationError> {
        let technician = required(technician_id, "technician id")?;
        self.open_job()?;
        let me = self.dispatcher_id.as_str();
        let event = TimelineEntry::new(event_kind::REASSIGNED, me, at, Some(technician));
        change(self.doc, event, |doc| {
            let path = path_of(&[root::ASSIGNMENT]);
            let assigned = ensure_container(doc, &ROOT, root::ASSIGNMENT, ObjType::Map, &path)?;
            doc.put(&assigned, assignment::TECHNICIAN_ID, technician)?;
            let path = path_of(&[root::ASSIGNMENT, assignment::HISTORY]);
            let history =
                ensure_container(doc, &assigned, assignment::HISTORY, ObjType::List, &path)?;
            let record = push_map(doc, &history)?;
            doc.put(&record, assignment::TECHNICIAN_ID, technician)?;
            doc.put(&record, assignment::ASSIGNED_BY, me)?;
            put_time(doc, &record, assignment::ASSIGNED_AT, at)
        })
    }

    /// Cancels the job; the technician's app stops accepting visit work on it.
    pub fn cancel(&mut self, reason: &str, at: EpochMillis) -> Result<(), OperationError> {
        let reason = required(reason, "reason for cancelling")?;
        let me = self.dispatcher_id.as_str();
        let event = TimelineEntry::new(event_kind::CANCELLED, me, at, Some(reason));
        change(self.doc, event, |doc| {
            set_state(doc, DispatchState::Cancelled, Some(reason), me, at)
        })
    }

    /// Archives the job: technicians no longer see it (DESIGN: authorization).
    pub fn archive(&mut self, at: EpochMillis) -> Result<(), OperationError> {
        let me = self.dispatcher_id.as_str();
        let event = TimelineEntry::new(event_kind::ARCHIVED, me, at, None);
        change(self.doc, event, |doc| {
            set_state(doc, DispatchState::Archived, None, me, at)
        })
    }

    /// Refuses changes to a cancelled or archived job.
    fn open_job(&self) -> Result<(), OperationError> {
        super::technician::open(JobDocument::read_status(&*self.doc)?.state)
    }
}

fn appointment_map(doc: &mut AutoCommit) -> Result<ObjId, OperationError> {
    let path = path_of(&[root::APPOINTMENT]);
    existing_container(doc, &ROOT, root::APPOINTMENT, ObjType::Map, &path)
}

fn set_state(
    doc: &mut AutoCommit,
    state: DispatchState,
    reason: Option<&str>,
    by: &str,
    at: EpochMillis,
) -> Result<(), OperationError> {
    let path = path_of(&[root::STATUS]);
    let current = ensure_container(doc, &ROOT, root::STATUS, ObjType::Map, &path)?;
    doc.put(&current, status::STATE, state.as_str())?;
    put_opt_str(doc, &current, status::REASON, reason)?;
    doc.put(&current, status::CHANGED_BY, by)?;
    put_time(doc, &current, status::CHANGED_AT, at)
}
