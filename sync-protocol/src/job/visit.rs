//! The technician's evidence of the visit: arrival, permissions, work, payment due, signature,
//! feedback cards, cleanup, departure.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::values::{DebrisDecision, EpochMillis, PaymentMethod, Sha256Hex};

/// Everything recorded on site. Absent parts are `None` or empty: nothing recorded yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub arrival: Option<VisitStamp>,
    pub departure: Option<VisitStamp>,
    /// Rule 3: each belonging touched with the customer's permission, in the order recorded.
    pub permissions: Vec<PermissionGrant>,
    /// Free-form notes, co-edited as Automerge Text.
    pub work_notes: String,
    /// Shared with the read memo, as the timeline is.
    pub work_items: Vec<Arc<WorkItem>>,
    pub payment_due: Option<PaymentDue>,
    pub signature: Option<Signature>,
    pub feedback_cards: Vec<FeedbackCard>,
    pub cleanup: Option<CleanupConfirmation>,
}

/// When (device clock) and by whom an arrival or departure was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitStamp {
    pub at: EpochMillis,
    /// The technician's staff id.
    pub by: String,
}

/// The customer allowed the technician to touch or use one of their belongings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionGrant {
    /// What may be touched ("move the sofa", "use the outdoor tap").
    pub item: String,
    /// The person at the site who allowed it.
    pub granted_by: String,
    pub at: EpochMillis,
    pub recorded_by: String,
}

/// One line of work done or material fitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    pub description: String,
    pub quantity: u64,
}

/// Extra payment the customer owes, to be paid by bank transfer to the company (rule 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDue {
    /// In the currency's minor unit (cents, fen).
    pub amount_minor: i64,
    /// ISO 4217 code, uppercase.
    pub currency: String,
    pub method: PaymentMethod,
    /// The reference the customer puts on the transfer so the company can match it.
    pub transfer_reference: String,
    pub recorded_by: String,
    pub at: EpochMillis,
}

/// A point of a signature stroke, in the capture pad's own units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrokePoint {
    pub x: i64,
    pub y: i64,
}

/// The customer's signature, bound to the summary they signed (rule 5).
///
/// Strokes are stored as a list of lists of integers `[x0, y0, x1, y1, ...]`, one per stroke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub strokes: Vec<Vec<StrokePoint>>,
    /// The rendered image attachment.
    pub image_sha256: Sha256Hex,
    pub signer_name: String,
    pub signed_at: EpochMillis,
    /// SHA-256 of the canonical job summary shown to the signer ([`super::summary`]).
    pub summary_sha256: Sha256Hex,
    pub captured_by: String,
}

/// A paper feedback card photographed, optionally with its rating and comment typed in (rule 5, 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackCard {
    pub photo_sha256s: Vec<Sha256Hex>,
    /// 1 to 5; a document holding another value is rejected when read.
    pub rating: Option<u8>,
    pub comment: Option<String>,
    pub recorded_by: String,
    pub at: EpochMillis,
}

/// The site was cleaned, the debris handled as the customer agreed, and they watched us leave (rule 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupConfirmation {
    pub site_cleaned: bool,
    pub debris: DebrisDecision,
    /// Who agreed to the debris decision; required unless there was no debris.
    pub consented_by: Option<String>,
    pub departure_witnessed: bool,
    pub at: EpochMillis,
    pub photo_sha256: Option<Sha256Hex>,
    pub recorded_by: String,
}

impl CleanupConfirmation {
    /// True when the debris decision needed no consent or somebody gave it.
    pub fn debris_consented(&self) -> bool {
        self.debris == DebrisDecision::None
            || self
                .consented_by
                .as_deref()
                .is_some_and(|who| !who.trim().is_empty())
    }
}
