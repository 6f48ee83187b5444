//! The job's derived state, computed by the server after each merge: status, completion per
//! DOMAIN.md "Job completion", and flags for a human to review. Serializable so the server
//! stores it as JSON in its projection.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::model::JobDocument;
use super::review::review_flags;
use super::values::{DispatchState, EpochMillis, PaymentMethod, Sha256Hex};

pub use super::review::ReviewFlag;

/// Which attachments have their bytes stored in object storage with a verified SHA-256.
pub trait AttachmentStore {
    /// True when the bytes of `sha256` are stored and verified.
    fn is_verified(&self, sha256: &Sha256Hex) -> bool;
}

impl AttachmentStore for BTreeSet<Sha256Hex> {
    fn is_verified(&self, sha256: &Sha256Hex) -> bool {
        self.contains(sha256)
    }
}

impl AttachmentStore for HashSet<Sha256Hex> {
    fn is_verified(&self, sha256: &Sha256Hex) -> bool {
        self.contains(sha256)
    }
}

impl AttachmentStore for [Sha256Hex] {
    fn is_verified(&self, sha256: &Sha256Hex) -> bool {
        self.contains(sha256)
    }
}

/// Where the job stands, for lists and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Booked, the customer has not confirmed the window yet.
    Scheduled,
    /// The customer confirmed the window.
    Confirmed,
    /// The technician arrived and has not left.
    InProgress,
    /// The technician left but some completion condition is not met.
    AwaitingEvidence,
    /// Every completion condition is met.
    Complete,
    Cancelled,
    Archived,
}

/// A completion condition of DOMAIN.md that the job does not meet yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionCondition {
    NotCancelled,
    AppointmentConfirmed,
    Arrived,
    Departed,
    Signed,
    SignatureMatchesContent,
    FeedbackCardPhotoReferenced,
    FeedbackCardPhotoStored,
    CleanupConfirmed,
    SiteCleaned,
    DebrisConsented,
    DepartureWitnessed,
    NoCashPayment,
}

impl CompletionCondition {
    /// What is missing, in a sentence for the dispatcher's screen.
    pub fn description(self) -> &'static str {
        match self {
            Self::NotCancelled => "the job was cancelled",
            Self::AppointmentConfirmed => "the appointment was not confirmed with the customer",
            Self::Arrived => "the technician's arrival is not recorded",
            Self::Departed => "the technician's departure is not recorded",
            Self::Signed => "the customer has not signed",
            Self::SignatureMatchesContent => "the job changed after the customer signed",
            Self::FeedbackCardPhotoReferenced => "no photo of the feedback card is attached",
            Self::FeedbackCardPhotoStored => "no feedback card photo is stored and verified yet",
            Self::CleanupConfirmed => "cleanup is not confirmed",
            Self::SiteCleaned => "the site was not cleaned",
            Self::DebrisConsented => "nobody consented to the debris decision",
            Self::DepartureWitnessed => "the customer did not witness the departure",
            Self::NoCashPayment => "a payment other than bank transfer (cash) is recorded",
        }
    }
}

/// Everything the server derives from one merged job document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvaluation {
    pub status: JobStatus,
    /// True exactly when `missing` is empty.
    pub complete: bool,
    /// Conditions not met, in DOMAIN.md order.
    pub missing: Vec<CompletionCondition>,
    pub review_flags: Vec<ReviewFlag>,
    /// Every attachment the document references, for the server to check against storage.
    pub attachments: Vec<Sha256Hex>,
}

impl JobDocument {
    /// Derives status, completion and review flags. `server_time` (the merge time) lets device
    /// clocks that run ahead be flagged; pass `None` to skip that check.
    pub fn evaluate(
        &self,
        stored: &(impl AttachmentStore + ?Sized),
        server_time: Option<EpochMillis>,
    ) -> JobEvaluation {
        // The summary covers every work item and photo, so it grows with the visit: hashed
        // once, and only when a signature is there to be compared with it.
        let stale = self.stale_signature();
        let missing = self.missing_conditions(stored, stale.as_ref());
        let complete = missing.is_empty();
        JobEvaluation {
            status: self.status(complete),
            complete,
            missing,
            review_flags: review_flags(self, stored, server_time, stale),
            attachments: self.attachment_refs(),
        }
    }

    /// The summary of the job as it is now, if the customer signed a different one.
    fn stale_signature(&self) -> Option<Sha256Hex> {
        let signature = self.visit.signature.as_ref()?;
        let now = self.summary_sha256();
        (now != signature.summary_sha256).then_some(now)
    }

    /// Every attachment referenced: signature image, feedback card photos, cleanup photo.
    pub fn attachment_refs(&self) -> Vec<Sha256Hex> {
        let visit = &self.visit;
        let signature = visit.signature.iter().map(|s| s.image_sha256.clone());
        let cards = visit
            .feedback_cards
            .iter()
            .flat_map(|c| c.photo_sha256s.clone());
        let cleanup = visit.cleanup.iter().filter_map(|c| c.photo_sha256.clone());
        let unique: BTreeSet<Sha256Hex> = signature.chain(cards).chain(cleanup).collect();
        unique.into_iter().collect()
    }

    /// `stale` as [`Self::stale_signature`] gives it.
    fn missing_conditions(
        &self,
        stored: &(impl AttachmentStore + ?Sized),
        stale: Option<&Sha256Hex>,
    ) -> Vec<CompletionCondition> {
        use CompletionCondition as C;
        let visit = &self.visit;
        let mut missing = Vec::new();
        if self.status.state == DispatchState::Cancelled {
            missing.push(C::NotCancelled);
        }
        if self.appointment.confirmation.is_none() {
            missing.push(C::AppointmentConfirmed);
        }
        if visit.arrival.is_none() {
            missing.push(C::Arrived);
        }
        if visit.departure.is_none() {
            missing.push(C::Departed);
        }
        if visit.signature.is_none() {
            missing.push(C::Signed);
        } else if stale.is_some() {
            missing.push(C::SignatureMatchesContent);
        }
        let mut photos = visit
            .feedback_cards
            .iter()
            .flat_map(|c| &c.photo_sha256s)
            .peekable();
        if photos.peek().is_none() {
            missing.push(C::FeedbackCardPhotoReferenced);
        } else if !photos.any(|sha| stored.is_verified(sha)) {
            missing.push(C::FeedbackCardPhotoStored);
        }
        match &visit.cleanup {
            None => missing.push(C::CleanupConfirmed),
            Some(cleanup) => {
                if !cleanup.site_cleaned {
                    missing.push(C::SiteCleaned);
                }
                if !cleanup.debris_consented() {
                    missing.push(C::DebrisConsented);
                }
                if !cleanup.departure_witnessed {
                    missing.push(C::DepartureWitnessed);
                }
            }
        }
        let cash = visit
            .payment_due
            .as_ref()
            .is_some_and(|p| p.method != PaymentMethod::BankTransfer);
        if cash {
            missing.push(C::NoCashPayment);
        }
        missing
    }

    fn status(&self, complete: bool) -> JobStatus {
        let visit = &self.visit;
        match self.status.state {
            DispatchState::Archived => JobStatus::Archived,
            DispatchState::Cancelled => JobStatus::Cancelled,
            DispatchState::Open if complete => JobStatus::Complete,
            DispatchState::Open if visit.departure.is_some() => JobStatus::AwaitingEvidence,
            DispatchState::Open if visit.arrival.is_some() => JobStatus::InProgress,
            DispatchState::Open if self.appointment.confirmation.is_some() => JobStatus::Confirmed,
            DispatchState::Open => JobStatus::Scheduled,
        }
    }
}
