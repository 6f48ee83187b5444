//! The technician's operations during a visit, as the tablet performs them offline.
//!
//! Each operation checks its entry ([`super::validation`]), writes only under `/visit`, appends
//! a timeline event stamped with the device's clock, and commits one change.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

use super::error::OperationError;
use super::model::JobDocument;
use super::schema::{event_kind, path_of, root, visit as key};
use super::validation::{
    CleanupEntry, FeedbackCardEntry, PaymentDueEntry, SignatureCapture, check_cleanup,
    check_feedback_card, check_payment, check_signature,
};
use super::values::{DispatchState, EpochMillis, PaymentMethod, Sha256Hex};
use super::write::{
    TimelineEntry, change, ensure_container, fresh_map, push_map, put_time, required,
};

/// Operations a technician performs on one job document.
#[derive(Debug)]
pub struct TechnicianActions<'d> {
    doc: &'d mut AutoCommit,
    technician_id: String,
}

impl<'d> TechnicianActions<'d> {
    /// Acts on `doc` as the technician `technician_id`.
    pub fn new(doc: &'d mut AutoCommit, technician_id: impl Into<String>) -> Self {
        Self {
            doc,
            technician_id: technician_id.into(),
        }
    }

    /// Records arrival at the customer's site. Once the technician has left, the arrival
    /// stands: a second one would put the departure before it.
    pub fn record_arrival(&mut self, at: EpochMillis) -> Result<(), OperationError> {
        let job = self.open_job_read()?;
        if job.visit.departure.is_some() {
            return Err(OperationError::ArrivalAfterDeparture);
        }
        self.stamp(key::ARRIVAL, event_kind::ARRIVED, at)
    }

    /// Records leaving the site; arrival must be recorded first and be earlier.
    pub fn record_departure(&mut self, at: EpochMillis) -> Result<(), OperationError> {
        let job = self.open_job_read()?;
        match job.visit.arrival {
            Some(arrival) if arrival.at <= at => {}
            _ => return Err(OperationError::DepartureBeforeArrival),
        }
        self.stamp(key::DEPARTURE, event_kind::DEPARTED, at)
    }

    /// Records that someone at the site allowed the technician to touch a belonging (rule 3).
    pub fn record_permission(
        &mut self,
        item: &str,
        granted_by: &str,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        let item = required(item, "item you were allowed to touch")?;
        let granted_by = required(granted_by, "name of the person who allowed it")?;
        self.open_job()?;
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::PERMISSION_GRANTED, me, at, Some(item));
        change(self.doc, event, |doc| {
            let permissions = visit_child(doc, key::PERMISSIONS, ObjType::List)?;
            let grant = push_map(doc, &permissions)?;
            doc.put(&grant, key::ITEM, item)?;
            doc.put(&grant, key::GRANTED_BY, granted_by)?;
            put_time(doc, &grant, key::AT, at)?;
            doc.put(&grant, key::RECORDED_BY, me)?;
            Ok(())
        })
    }

    /// Replaces the work notes with `notes`, as a minimal text edit so concurrent edits by
    /// another device survive the merge. Call it when the technician saves the notes, not per
    /// keystroke: each call is one change and one timeline event.
    pub fn update_work_notes(
        &mut self,
        notes: &str,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        self.open_job()?;
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::WORK_NOTES_EDITED, me, at, None);
        change(self.doc, event, |doc| {
            let text = visit_child(doc, key::WORK_NOTES, ObjType::Text)?;
            doc.update_text(&text, notes)?;
            Ok(())
        })
    }

    /// Appends `note` to the work notes as a line of its own. The note carries its own line
    /// end, so notes that two devices add at the same time (the first note of a job on both,
    /// say) stay separate lines whichever order the merge puts them in.
    pub fn add_work_note(&mut self, note: &str, at: EpochMillis) -> Result<(), OperationError> {
        let note = required(note, "work note")?;
        self.open_job()?;
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::WORK_NOTES_EDITED, me, at, None);
        change(self.doc, event, |doc| {
            let text = visit_child(doc, key::WORK_NOTES, ObjType::Text)?;
            let existing = doc.text(&text)?;
            let mut line = String::with_capacity(note.len() + 2);
            // Notes written before each carried its line end.
            if !existing.is_empty() && !existing.ends_with('\n') {
                line.push('\n');
            }
            line.push_str(note);
            line.push('\n');
            let end = doc.length(&text);
            doc.splice_text(&text, end, 0, &line)?;
            Ok(())
        })
    }

    /// Adds a line of work done or material fitted.
    pub fn add_work_item(
        &mut self,
        description: &str,
        quantity: u64,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        let description = required(description, "description of the work")?;
        if quantity == 0 {
            return Err(OperationError::ZeroQuantity);
        }
        self.open_job()?;
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::WORK_ITEM_ADDED, me, at, Some(description));
        change(self.doc, event, |doc| {
            let items = visit_child(doc, key::WORK_ITEMS, ObjType::List)?;
            let item = push_map(doc, &items)?;
            doc.put(&item, key::DESCRIPTION, description)?;
            doc.put(&item, key::QUANTITY, quantity)?;
            Ok(())
        })
    }

    /// Records the extra amount the customer will pay by bank transfer; cash is refused (rule 7).
    pub fn record_payment_due(
        &mut self,
        entry: &PaymentDueEntry,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        let payment = check_payment(entry)?;
        self.open_job()?;
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::PAYMENT_DUE_RECORDED, me, at, None);
        change(self.doc, event, |doc| {
            let visit = visit_map(doc)?;
            let due = fresh_map(doc, &visit, key::PAYMENT_DUE)?;
            doc.put(&due, key::AMOUNT_MINOR, payment.amount_minor)?;
            doc.put(&due, key::CURRENCY, payment.currency.as_str())?;
            doc.put(&due, key::METHOD, PaymentMethod::BANK_TRANSFER)?;
            doc.put(&due, key::TRANSFER_REFERENCE, payment.transfer_reference)?;
            doc.put(&due, key::RECORDED_BY, me)?;
            put_time(doc, &due, key::AT, at)
        })
    }

    /// Stores the customer's signature bound to the job summary as it is now; returns the
    /// summary's SHA-256. Any later change to the summarised content makes the signature stale.
    pub fn capture_signature(
        &mut self,
        capture: &SignatureCapture,
        signed_at: EpochMillis,
    ) -> Result<Sha256Hex, OperationError> {
        let (signer, image) = check_signature(capture)?;
        let summary = self.open_job_read()?.summary_sha256();
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::SIGNATURE_CAPTURED, me, signed_at, Some(signer));
        change(self.doc, event, |doc| {
            let visit = visit_map(doc)?;
            let signature = fresh_map(doc, &visit, key::SIGNATURE)?;
            let strokes = doc.put_object(&signature, key::STROKES, ObjType::List)?;
            for (index, points) in capture.strokes.iter().filter(|s| !s.is_empty()).enumerate() {
                let stroke = doc.insert_object(&strokes, index, ObjType::List)?;
                let flat = points.iter().flat_map(|p| [p.x, p.y]);
                doc.splice(&stroke, 0, 0, flat.map(ScalarValue::Int))?;
            }
            doc.put(&signature, key::IMAGE_SHA256, image.as_str())?;
            doc.put(&signature, key::SIGNER_NAME, signer)?;
            put_time(doc, &signature, key::SIGNED_AT, signed_at)?;
            doc.put(&signature, key::SUMMARY_SHA256, summary.as_str())?;
            doc.put(&signature, key::CAPTURED_BY, me)?;
            Ok(())
        })?;
        Ok(summary)
    }

    /// Adds a photographed feedback card, with its rating and comment if typed in (rule 5, 8).
    pub fn add_feedback_card(
        &mut self,
        card: &FeedbackCardEntry,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        let (photos, rating) = check_feedback_card(card)?;
        self.open_job()?;
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::FEEDBACK_CARD_ADDED, me, at, None);
        change(self.doc, event, |doc| {
            let cards = visit_child(doc, key::FEEDBACK_CARDS, ObjType::List)?;
            let entry = push_map(doc, &cards)?;
            let list = doc.put_object(&entry, key::PHOTO_SHA256S, ObjType::List)?;
            doc.splice(
                &list,
                0,
                0,
                photos.iter().map(|p| ScalarValue::from(p.as_str())),
            )?;
            if let Some(stars) = rating {
                doc.put(&entry, key::RATING, u64::from(stars))?;
            }
            if let Some(comment) = card.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                doc.put(&entry, key::COMMENT, comment)?;
            }
            doc.put(&entry, key::RECORDED_BY, me)?;
            put_time(doc, &entry, key::AT, at)
        })
    }

    /// Confirms the cleanup; debris handling needs the customer's consent (rule 6).
    pub fn confirm_cleanup(
        &mut self,
        entry: &CleanupEntry,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        let (consent, photo) = check_cleanup(entry)?;
        let job = self.open_job_read()?;
        // Confirmed again without a photo: the site photo of the confirmation it replaces
        // stays (it was taken and uploaded; dropping it would lose the evidence).
        let photo = photo.or_else(|| job.visit.cleanup.and_then(|c| c.photo_sha256));
        let me = self.technician_id.as_str();
        let event = TimelineEntry::new(event_kind::CLEANUP_CONFIRMED, me, at, None);
        change(self.doc, event, |doc| {
            let visit = visit_map(doc)?;
            let cleanup = fresh_map(doc, &visit, key::CLEANUP)?;
            doc.put(&cleanup, key::SITE_CLEANED, entry.site_cleaned)?;
            doc.put(&cleanup, key::DEBRIS, entry.debris.as_str())?;
            if let Some(who) = consent {
                doc.put(&cleanup, key::CONSENTED_BY, who)?;
            }
            doc.put(
                &cleanup,
                key::DEPARTURE_WITNESSED,
                entry.departure_witnessed,
            )?;
            put_time(doc, &cleanup, key::AT, at)?;
            if let Some(photo) = &photo {
                doc.put(&cleanup, key::PHOTO_SHA256, photo.as_str())?;
            }
            doc.put(&cleanup, key::RECORDED_BY, me)?;
            Ok(())
        })
    }

    /// Writes an arrival or departure stamp.
    fn stamp(
        &mut self,
        stamp_key: &str,
        kind: &str,
        at: EpochMillis,
    ) -> Result<(), OperationError> {
        let me = self.technician_id.as_str();
        change(self.doc, TimelineEntry::new(kind, me, at, None), |doc| {
            let visit = visit_map(doc)?;
            let stamp = fresh_map(doc, &visit, stamp_key)?;
            put_time(doc, &stamp, key::AT, at)?;
            doc.put(&stamp, key::BY, me)?;
            Ok(())
        })
    }

    /// Reads the job and refuses work on a job the dispatcher cancelled or archived.
    /// Refuses work on a cancelled or archived job. Only the status is read: the rest of the
    /// job grows with the visit, and most operations need none of it.
    fn open_job(&self) -> Result<(), OperationError> {
        open(JobDocument::read_status(&*self.doc)?.state)
    }

    /// [`Self::open_job`], reading the whole job for an operation that needs it.
    fn open_job_read(&self) -> Result<JobDocument, OperationError> {
        let job = JobDocument::read(&*self.doc)?;
        open(job.status.state)?;
        Ok(job)
    }
}

/// Work is recorded only on a job the dispatcher has not cancelled or archived.
pub(crate) fn open(state: DispatchState) -> Result<(), OperationError> {
    match state {
        DispatchState::Open => Ok(()),
        DispatchState::Cancelled => Err(OperationError::JobClosed("cancelled")),
        DispatchState::Archived => Err(OperationError::JobClosed("archived")),
    }
}

fn visit_map(doc: &mut AutoCommit) -> Result<ObjId, OperationError> {
    ensure_container(
        doc,
        &ROOT,
        root::VISIT,
        ObjType::Map,
        &path_of(&[root::VISIT]),
    )
}

fn visit_child(doc: &mut AutoCommit, child: &str, kind: ObjType) -> Result<ObjId, OperationError> {
    let visit = visit_map(doc)?;
    ensure_container(doc, &visit, child, kind, &path_of(&[root::VISIT, child]))
}
