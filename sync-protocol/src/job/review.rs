//! Review flags: things in a job document that are allowed to merge but that a person should
//! look at (DOMAIN.md: arriving without confirmation, cash claims...).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::evaluation::AttachmentStore;
use super::model::JobDocument;
use super::schema::event_kind;
use super::values::{DispatchState, EpochMillis, PaymentMethod, Sha256Hex};

/// How far a device clock may run ahead of the server before it is flagged.
const CLOCK_AHEAD_TOLERANCE_MS: i64 = 5 * 60 * 1000;
/// How far outside the booked window an arrival may be before it is flagged.
const ARRIVAL_WINDOW_TOLERANCE_MS: i64 = 60 * 60 * 1000;

/// Timeline kinds that record visit work, whose actor must be the assigned technician.
const VISIT_EVENT_KINDS: [&str; 9] = [
    event_kind::ARRIVED,
    event_kind::PERMISSION_GRANTED,
    event_kind::WORK_NOTES_EDITED,
    event_kind::WORK_ITEM_ADDED,
    event_kind::PAYMENT_DUE_RECORDED,
    event_kind::SIGNATURE_CAPTURED,
    event_kind::FEEDBACK_CARD_ADDED,
    event_kind::CLEANUP_CONFIRMED,
    event_kind::DEPARTED,
];

/// Something for a person to review; none of these blocks a merge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum ReviewFlag {
    /// Rule 1: the technician arrived before the customer confirmed (or with no confirmation).
    ArrivedWithoutConfirmedAppointment,
    /// The summary the customer signed differs from the job content now.
    SignatureStale {
        signed: Sha256Hex,
        current: Sha256Hex,
    },
    /// Rule 7: the document claims a cash payment (a client bypassed the app's refusal).
    CashClaimed,
    /// A payment method that is neither bank transfer nor cash.
    UnsupportedPaymentMethod { method: String },
    /// Visit work recorded by someone who is not the assigned technician.
    WorkByUnassignedTechnician {
        technician_id: String,
        /// True when they were assigned earlier and have since been replaced.
        previously_assigned: bool,
    },
    /// The departure time is earlier than the arrival time.
    DepartureBeforeArrival,
    /// The customer signed before the technician arrived (by the device clock).
    SignedBeforeArrival,
    /// The arrival is more than an hour outside the booked window.
    ArrivalOutsideWindow,
    /// A device time is ahead of the server's clock by more than five minutes.
    DeviceClockAhead { ahead_ms: i64 },
    /// Visit evidence exists on a cancelled job.
    WorkOnCancelledJob,
    /// The signature image is not stored and verified in object storage.
    SignatureImageNotStored { sha256: Sha256Hex },
}

pub(crate) fn review_flags(
    job: &JobDocument,
    stored: &(impl AttachmentStore + ?Sized),
    server_time: Option<EpochMillis>,
    stale: Option<Sha256Hex>,
) -> Vec<ReviewFlag> {
    let visit = &job.visit;
    let mut flags = Vec::new();

    if let Some(arrival) = &visit.arrival {
        let confirmed_in_time = job
            .appointment
            .confirmation
            .as_ref()
            .is_some_and(|c| c.confirmed_at <= arrival.at);
        if !confirmed_in_time {
            flags.push(ReviewFlag::ArrivedWithoutConfirmedAppointment);
        }
        let early = arrival.at.millis_until(job.appointment.window_start);
        let late = job.appointment.window_end.millis_until(arrival.at);
        if early > ARRIVAL_WINDOW_TOLERANCE_MS || late > ARRIVAL_WINDOW_TOLERANCE_MS {
            flags.push(ReviewFlag::ArrivalOutsideWindow);
        }
        if visit.departure.as_ref().is_some_and(|d| d.at < arrival.at) {
            flags.push(ReviewFlag::DepartureBeforeArrival);
        }
        if visit
            .signature
            .as_ref()
            .is_some_and(|s| s.signed_at < arrival.at)
        {
            flags.push(ReviewFlag::SignedBeforeArrival);
        }
    }

    if let Some(signature) = &visit.signature {
        if let Some(current) = stale {
            flags.push(ReviewFlag::SignatureStale {
                signed: signature.summary_sha256.clone(),
                current,
            });
        }
        if !stored.is_verified(&signature.image_sha256) {
            flags.push(ReviewFlag::SignatureImageNotStored {
                sha256: signature.image_sha256.clone(),
            });
        }
    }

    match visit.payment_due.as_ref().map(|p| &p.method) {
        Some(PaymentMethod::Cash) => flags.push(ReviewFlag::CashClaimed),
        Some(PaymentMethod::Other(method)) => flags.push(ReviewFlag::UnsupportedPaymentMethod {
            method: method.clone(),
        }),
        Some(PaymentMethod::BankTransfer) | None => {}
    }

    flags.extend(unassigned_workers(job));

    if job.status.state == DispatchState::Cancelled && !visit_authors(job).is_empty() {
        flags.push(ReviewFlag::WorkOnCancelledJob);
    }

    if let Some(now) = server_time {
        let latest = device_times(job).max();
        if let Some(ahead_ms) = latest
            .map(|t| now.millis_until(t))
            .filter(|ahead| *ahead > CLOCK_AHEAD_TOLERANCE_MS)
        {
            flags.push(ReviewFlag::DeviceClockAhead { ahead_ms });
        }
    }
    flags
}

/// One flag per person who recorded visit work without being the assigned technician.
fn unassigned_workers(job: &JobDocument) -> impl Iterator<Item = ReviewFlag> + '_ {
    let current = job.assignment.technician_id.as_deref();
    visit_authors(job)
        .into_iter()
        .filter(move |author| Some(*author) != current)
        .map(|technician_id| {
            let previously_assigned = job
                .assignment
                .history
                .iter()
                .any(|record| record.technician_id == technician_id);
            ReviewFlag::WorkByUnassignedTechnician {
                technician_id: technician_id.to_owned(),
                previously_assigned,
            }
        })
}

/// Everyone named as author of visit evidence or of a visit timeline event. Borrowed: the
/// timeline grows with the visit and is walked for every evaluation, so names are copied only
/// for the flags raised.
fn visit_authors(job: &JobDocument) -> BTreeSet<&str> {
    let visit = &job.visit;
    let stamps = [&visit.arrival, &visit.departure];
    let authors = stamps
        .into_iter()
        .flatten()
        .map(|s| s.by.as_str())
        .chain(visit.permissions.iter().map(|p| p.recorded_by.as_str()))
        .chain(visit.payment_due.iter().map(|p| p.recorded_by.as_str()))
        .chain(visit.signature.iter().map(|s| s.captured_by.as_str()))
        .chain(visit.feedback_cards.iter().map(|c| c.recorded_by.as_str()))
        .chain(visit.cleanup.iter().map(|c| c.recorded_by.as_str()))
        .chain(
            job.timeline
                .iter()
                .filter(|e| VISIT_EVENT_KINDS.contains(&e.kind.as_str()))
                .map(|e| e.actor.as_str()),
        );
    authors.filter(|author| !author.is_empty()).collect()
}

/// Every device-clock time in the visit and the timeline.
fn device_times(job: &JobDocument) -> impl Iterator<Item = EpochMillis> + '_ {
    let visit = &job.visit;
    [&visit.arrival, &visit.departure]
        .into_iter()
        .flatten()
        .map(|s| s.at)
        .chain(visit.permissions.iter().map(|p| p.at))
        .chain(visit.signature.iter().map(|s| s.signed_at))
        .chain(visit.feedback_cards.iter().map(|c| c.at))
        .chain(visit.cleanup.iter().map(|c| c.at))
        .chain(job.timeline.iter().map(|e| e.device_time))
}
