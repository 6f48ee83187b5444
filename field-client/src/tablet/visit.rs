//! The visit steps that write no attachment: arrival, permissions, work, payment due, cleanup
//! confirmation and departure (DOMAIN.md rules 3, 6 and 7).

use std::path::Path;

use sync_protocol::job::{CleanupEntry, DebrisDecision, PaymentDueEntry, PaymentMethod};

use super::evidence::keep_and_queue;
use super::{Outcome, Recorded, Tablet};
use crate::attachment::EvidenceFile;
use crate::error::ClientError;
use crate::money::{format_amount, parse_amount};
use crate::store::uploads::UploadKind;

/// The extra payment as the technician enters it.
#[derive(Debug, Clone)]
pub struct PaymentDueInput<'a> {
    /// As typed, in major units ("120.50").
    pub amount: &'a str,
    pub currency: &'a str,
    /// As typed; anything but bank transfer is refused by the job document.
    pub method: &'a str,
    pub transfer_reference: &'a str,
}

/// The cleanup confirmation as the technician enters it.
#[derive(Debug, Clone)]
pub struct CleanupInput<'a> {
    pub debris: DebrisDecision,
    pub consented_by: Option<&'a str>,
    pub departure_witnessed: bool,
    /// An optional photo of the cleaned site.
    pub photo: Option<&'a Path>,
}

impl Tablet {
    /// Records arrival at the customer's site now.
    pub fn arrive(&mut self, job: &str) -> Result<Recorded, ClientError> {
        self.act(job, "arrived", |mut visit| {
            visit.actions.record_arrival(visit.at)?;
            Ok(Outcome::default())
        })
    }

    /// Records that `granted_by` allowed touching `item` (rule 3).
    pub fn permit(
        &mut self,
        job: &str,
        item: &str,
        granted_by: &str,
    ) -> Result<Recorded, ClientError> {
        self.act(job, "permission_granted", |mut visit| {
            visit
                .actions
                .record_permission(item, granted_by, visit.at)?;
            Ok(Outcome::detail(format!(
                "{} allowed: {}",
                granted_by.trim(),
                item.trim()
            )))
        })
    }

    /// Adds `note` as a new line of the work notes.
    pub fn add_work_note(&mut self, job: &str, note: &str) -> Result<Recorded, ClientError> {
        if note.trim().is_empty() {
            return Err(sync_protocol::job::OperationError::Empty { field: "work note" }.into());
        }
        self.act(job, "work_notes_edited", |mut visit| {
            visit.actions.add_work_note(note, visit.at)?;
            Ok(Outcome::detail(note.trim()))
        })
    }

    /// Adds a line of work done or material fitted.
    pub fn add_work_item(
        &mut self,
        job: &str,
        description: &str,
        quantity: u64,
    ) -> Result<Recorded, ClientError> {
        self.act(job, "work_item_added", |mut visit| {
            visit
                .actions
                .add_work_item(description, quantity, visit.at)?;
            Ok(Outcome::detail(format!(
                "{quantity} × {}",
                description.trim()
            )))
        })
    }

    /// Records the extra amount due by bank transfer; cash is refused (rule 7).
    pub fn record_payment_due(
        &mut self,
        job: &str,
        input: &PaymentDueInput<'_>,
    ) -> Result<Recorded, ClientError> {
        let method = PaymentMethod::parse(input.method);
        let currency = input.currency.trim().to_ascii_uppercase();
        // Refuse the method before looking at the amount: cash is the message that matters.
        let amount_minor = match method {
            PaymentMethod::BankTransfer => parse_amount(input.amount, &currency)?,
            _ => parse_amount(input.amount, &currency).unwrap_or(1),
        };
        let entry = PaymentDueEntry {
            amount_minor,
            currency: currency.clone(),
            method,
            transfer_reference: input.transfer_reference.to_owned(),
        };
        self.act(job, "payment_due_recorded", |mut visit| {
            visit.actions.record_payment_due(&entry, visit.at)?;
            Ok(Outcome::detail(format!(
                "{} by bank transfer, reference {}",
                format_amount(amount_minor, &currency),
                input.transfer_reference.trim()
            )))
        })
    }

    /// Confirms the site was cleaned, the debris handled as the customer agreed, and the
    /// departure witnessed (rule 6), with an optional photo queued for upload.
    pub fn confirm_cleanup(
        &mut self,
        job: &str,
        input: &CleanupInput<'_>,
    ) -> Result<Recorded, ClientError> {
        let photo = input.photo.map(EvidenceFile::read_photo).transpose()?;
        let entry = CleanupEntry {
            site_cleaned: true,
            debris: input.debris,
            consented_by: input.consented_by.map(str::to_owned),
            departure_witnessed: input.departure_witnessed,
            photo_sha256: photo.as_ref().map(|p| p.sha256.to_string()),
        };
        self.act(job, "cleanup_confirmed", |mut visit| {
            visit.actions.confirm_cleanup(&entry, visit.at)?;
            let mut outcome = Outcome::detail(format!("debris: {}", input.debris));
            if let Some(photo) = &photo {
                outcome
                    .attachments
                    .push(keep_and_queue(&visit, photo, UploadKind::Cleanup)?);
            }
            Ok(outcome)
        })
    }

    /// Records leaving the site now.
    pub fn depart(&mut self, job: &str) -> Result<Recorded, ClientError> {
        self.act(job, "departed", |mut visit| {
            visit.actions.record_departure(visit.at)?;
            Ok(Outcome::default())
        })
    }
}
