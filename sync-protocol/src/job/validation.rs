//! What a technician enters for the sign-off steps, and the checks that refuse an entry with a
//! message they understand before anything is written.

use super::error::OperationError;
use super::values::{DebrisDecision, PaymentMethod, Sha256Hex};
use super::visit::StrokePoint;
use super::write::required;

/// Extra payment the customer owes (rule 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDueEntry {
    /// In the currency's minor unit (cents, fen).
    pub amount_minor: i64,
    /// ISO 4217 code; lowercase is accepted and stored uppercase.
    pub currency: String,
    /// Must be [`PaymentMethod::BankTransfer`]; anything else is refused.
    pub method: PaymentMethod,
    /// The reference the customer writes on the transfer.
    pub transfer_reference: String,
}

/// The customer's signature as captured on the tablet (rule 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCapture {
    pub strokes: Vec<Vec<StrokePoint>>,
    /// SHA-256 of the rendered image, uploaded as an attachment.
    pub image_sha256: String,
    pub signer_name: String,
}

/// A photographed paper feedback card, with what the technician typed from it (rule 5, 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackCardEntry {
    /// SHA-256s of the card's photos, uploaded as attachments.
    pub photo_sha256s: Vec<String>,
    /// Stars from 1 to 5, if the customer gave a rating.
    pub rating: Option<i64>,
    pub comment: Option<String>,
}

/// The cleanup before leaving (rule 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupEntry {
    pub site_cleaned: bool,
    pub debris: DebrisDecision,
    /// Who agreed to the debris decision; required unless there was no debris.
    pub consented_by: Option<String>,
    pub departure_witnessed: bool,
    /// SHA-256 of an optional photo of the cleaned site.
    pub photo_sha256: Option<String>,
}

/// A payment entry that passed the checks.
#[derive(Debug)]
pub(crate) struct ValidPayment<'a> {
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) transfer_reference: &'a str,
}

pub(crate) fn check_payment(entry: &PaymentDueEntry) -> Result<ValidPayment<'_>, OperationError> {
    match &entry.method {
        PaymentMethod::BankTransfer => {}
        PaymentMethod::Cash => return Err(OperationError::CashRefused),
        PaymentMethod::Other(other) => {
            return Err(OperationError::UnsupportedPaymentMethod(other.clone()));
        }
    }
    if entry.amount_minor <= 0 {
        return Err(OperationError::AmountNotPositive(entry.amount_minor));
    }
    if entry.amount_minor > MAX_AMOUNT_MINOR {
        return Err(OperationError::AmountTooLarge(entry.amount_minor));
    }
    let currency = entry.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(OperationError::InvalidCurrency(entry.currency.clone()));
    }
    Ok(ValidPayment {
        amount_minor: entry.amount_minor,
        currency,
        transfer_reference: required(&entry.transfer_reference, "bank transfer reference")?,
    })
}

/// The least a signature's strokes must span, across or down, in the pad's units (the screen's
/// pad is 600 x 240): a tap or a slip of the finger is not the customer's signature.
pub const MIN_SIGNATURE_SPAN: i64 = 20;

/// The most a visit's payment due may be, in minor units (100 million in a currency of two
/// decimals): more is a slip of the finger, not a bill.
pub const MAX_AMOUNT_MINOR: i64 = 10_000_000_000;

/// Returns the signer's name and the image reference.
pub(crate) fn check_signature(
    capture: &SignatureCapture,
) -> Result<(&str, Sha256Hex), OperationError> {
    let signer = required(&capture.signer_name, "name of the person signing")?;
    let mut points = capture.strokes.iter().flatten();
    let Some(first) = points.next() else {
        return Err(OperationError::SignatureWithoutStrokes);
    };
    let (mut low, mut high) = ((first.x, first.y), (first.x, first.y));
    for point in points {
        low = (low.0.min(point.x), low.1.min(point.y));
        high = (high.0.max(point.x), high.1.max(point.y));
    }
    let span = (high.0.saturating_sub(low.0)).max(high.1.saturating_sub(low.1));
    if span < MIN_SIGNATURE_SPAN {
        return Err(OperationError::SignatureTooSmall);
    }
    let image = attachment(&capture.image_sha256, "signature image")?;
    Ok((signer, image))
}

/// Returns the photo references and the rating as stored.
pub(crate) fn check_feedback_card(
    card: &FeedbackCardEntry,
) -> Result<(Vec<Sha256Hex>, Option<u8>), OperationError> {
    if card.photo_sha256s.is_empty() {
        return Err(OperationError::FeedbackCardWithoutPhoto);
    }
    let photos = card
        .photo_sha256s
        .iter()
        .map(|sha| attachment(sha, "feedback card photo"))
        .collect::<Result<_, _>>()?;
    let rating = match card.rating {
        None => None,
        Some(stars) => match u8::try_from(stars) {
            Ok(stars @ 1..=5) => Some(stars),
            _ => return Err(OperationError::RatingOutOfRange(stars)),
        },
    };
    Ok((photos, rating))
}

/// Returns who consented (trimmed) and the photo reference.
pub(crate) fn check_cleanup(
    entry: &CleanupEntry,
) -> Result<(Option<&str>, Option<Sha256Hex>), OperationError> {
    let consent = entry
        .consented_by
        .as_deref()
        .map(str::trim)
        .filter(|who| !who.is_empty());
    if entry.debris != DebrisDecision::None && consent.is_none() {
        return Err(OperationError::CleanupWithoutConsent);
    }
    let photo = entry
        .photo_sha256
        .as_deref()
        .map(|sha| attachment(sha, "cleanup photo"))
        .transpose()?;
    Ok((consent, photo))
}

fn attachment(sha: &str, field: &'static str) -> Result<Sha256Hex, OperationError> {
    Sha256Hex::parse(sha.trim()).ok_or_else(|| OperationError::InvalidAttachment {
        field,
        value: sha.to_owned(),
    })
}
