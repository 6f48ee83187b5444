//! The typed job document: what the dispatcher books and what everyone appends to the timeline.
//! The technician's evidence lives in [`super::visit`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::values::{ConfirmationChannel, CustomerTier, DispatchState, EpochMillis, JobKind};
use super::visit::Visit;

/// One job document (schema version 1), read into plain Rust values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDocument {
    /// Always 1 for documents this crate reads.
    pub schema_version: u64,
    pub kind: JobKind,
    /// The job's number for people (`FS-2026-00042`); `None` in documents booked before numbers.
    pub number: Option<String>,
    pub customer: CustomerSnapshot,
    pub complaint_origin: ComplaintOrigin,
    pub appointment: Appointment,
    pub assignment: Assignment,
    pub status: DispatchStatus,
    pub visit: Visit,
    /// Oldest first, in document order (concurrent appends interleave deterministically).
    /// Shared with the read memo (see [`super::memo`]): a read after an edit copies pointers,
    /// not the events.
    pub timeline: Vec<Arc<TimelineEvent>>,
}

/// The customer as they were when the job was booked; later directory edits do not rewrite it,
/// so the signed summary keeps meaning what the customer saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSnapshot {
    /// The server's customer id, if the job was booked for a directory customer.
    pub id: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub address: String,
    pub tier: Option<CustomerTier>,
}

/// Whether the job handles a customer complaint; such jobs must be revisited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintOrigin {
    pub from_complaint: bool,
    /// The complaint's reference in the company's records.
    pub reference: Option<String>,
}

/// The booked time window and, once the customer agreed, their confirmation (rule 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub window_start: EpochMillis,
    pub window_end: EpochMillis,
    /// Absent until confirmed; a reschedule removes it, the new window must be confirmed again.
    pub confirmation: Option<AppointmentConfirmation>,
}

/// Who on the customer's side confirmed the appointment, how and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentConfirmation {
    /// The person who confirmed (the customer or someone at the site).
    pub confirmed_by: String,
    pub channel: ConfirmationChannel,
    pub confirmed_at: EpochMillis,
    /// The dispatcher who recorded it.
    pub recorded_by: String,
}

/// The technician currently responsible for the job and everyone who was before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// `None` while the job is not assigned yet.
    pub technician_id: Option<String>,
    /// Every assignment in order, the current one last.
    pub history: Vec<AssignmentRecord>,
}

/// One (re)assignment of the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentRecord {
    pub technician_id: String,
    pub assigned_by: String,
    pub assigned_at: EpochMillis,
}

/// The dispatcher's decision on the whole job, with who took it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchStatus {
    pub state: DispatchState,
    pub reason: Option<String>,
    pub changed_by: Option<String>,
    pub changed_at: Option<EpochMillis>,
}

impl Default for DispatchStatus {
    fn default() -> Self {
        Self {
            state: DispatchState::Open,
            reason: None,
            changed_by: None,
            changed_at: None,
        }
    }
}

/// One entry of the append-only timeline: what happened, who did it, the device's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// One of [`super::schema::event_kind`], or a kind from a newer client kept as written.
    pub kind: String,
    /// The staff id of whoever caused the event.
    pub actor: String,
    /// The clock of the device that wrote the event; the server's receipt time is kept by the server.
    pub device_time: EpochMillis,
    pub detail: Option<String>,
}
