//! Shared fixtures for the job document tests: a booked job and a fully completed visit.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use automerge::{AutoCommit, ObjId, ROOT, ReadDoc};
use sync_protocol::job::{
    CleanupEntry, ComplaintOrigin, ConfirmationChannel, CustomerSnapshot, CustomerTier,
    DebrisDecision, DispatcherActions, EpochMillis, FeedbackCardEntry, JobDocument, JobKind,
    NewJob, PaymentDueEntry, PaymentMethod, Sha256Hex, SignatureCapture, StrokePoint,
    TechnicianActions,
};

pub const DISPATCHER: &str = "dispatcher-ana";
pub const TECHNICIAN: &str = "tech-li";
/// 2026-03-02 09:00 UTC.
pub const WINDOW_START: EpochMillis = EpochMillis(1_772_442_000_000);
pub const WINDOW_END: EpochMillis = EpochMillis(1_772_449_200_000);
pub const MINUTE: i64 = 60_000;

pub fn at(minutes_after_window_start: i64) -> EpochMillis {
    EpochMillis(WINDOW_START.0 + minutes_after_window_start * MINUTE)
}

pub fn sha(tag: &str) -> Sha256Hex {
    Sha256Hex::digest(tag.as_bytes())
}

/// The technician's `n`th edit as the benchmarks make it (and the load driver's tablets): one
/// work item and its timeline event, one change.
pub fn technician_edit(doc: &mut AutoCommit, n: usize) {
    TechnicianActions::new(doc, TECHNICIAN)
        .add_work_item(&format!("更换滤芯 {n}"), 1, at(n as i64))
        .expect("an edit");
}

/// A job as booked ([`new_job`]), then `edits` technician edits.
pub fn worked_job(edits: usize) -> AutoCommit {
    let mut doc: AutoCommit = JobDocument::create(&new_job()).expect("a job");
    for n in 0..edits {
        technician_edit(&mut doc, n);
    }
    doc
}

pub fn new_job() -> NewJob {
    NewJob {
        kind: JobKind::Repair,
        number: Some("FS-2026-00042".into()),
        customer: CustomerSnapshot {
            id: Some("cust-42".into()),
            name: "Wang Fang".into(),
            phone: Some("+86 21 5555 0101".into()),
            address: "88 Century Avenue, Shanghai".into(),
            tier: Some(CustomerTier::Key),
        },
        complaint_origin: ComplaintOrigin {
            from_complaint: true,
            reference: Some("CMP-2026-0007".into()),
        },
        window_start: WINDOW_START,
        window_end: WINDOW_END,
        technician_id: Some(TECHNICIAN.into()),
        created_by: DISPATCHER.into(),
        created_at: at(-3 * 24 * 60),
    }
}

/// A booked and confirmed job, nothing recorded on site yet.
pub fn confirmed_job() -> AutoCommit {
    let mut doc = JobDocument::create(&new_job()).unwrap();
    DispatcherActions::new(&mut doc, DISPATCHER)
        .confirm_appointment("Wang Fang", ConfirmationChannel::Phone, at(-24 * 60))
        .unwrap();
    doc
}

pub fn payment() -> PaymentDueEntry {
    PaymentDueEntry {
        amount_minor: 12_000,
        currency: "CNY".into(),
        method: PaymentMethod::BankTransfer,
        transfer_reference: "FS-2026-0042".into(),
    }
}

pub fn signature() -> SignatureCapture {
    SignatureCapture {
        strokes: vec![vec![
            StrokePoint { x: 10, y: 20 },
            StrokePoint { x: 45, y: 35 },
            StrokePoint { x: 80, y: 22 },
        ]],
        image_sha256: sha("signature.png").to_string(),
        signer_name: "Wang Fang".into(),
    }
}

pub fn card() -> FeedbackCardEntry {
    FeedbackCardEntry {
        photo_sha256s: vec![sha("card.jpg").to_string()],
        rating: Some(5),
        comment: Some("Quick and tidy".into()),
    }
}

pub fn cleanup() -> CleanupEntry {
    CleanupEntry {
        site_cleaned: true,
        debris: DebrisDecision::TakenAway,
        consented_by: Some("Wang Fang".into()),
        departure_witnessed: true,
        photo_sha256: Some(sha("site.jpg").to_string()),
    }
}

/// A job with every completion condition met.
pub fn complete_job() -> AutoCommit {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    tech.record_arrival(at(5)).unwrap();
    tech.record_permission("move the sofa", "Wang Fang", at(7))
        .unwrap();
    tech.update_work_notes("Replaced the leaking valve under the sink.", at(30))
        .unwrap();
    tech.add_work_item("valve DN15", 1, at(31)).unwrap();
    tech.record_payment_due(&payment(), at(40)).unwrap();
    tech.capture_signature(&signature(), at(45)).unwrap();
    tech.add_feedback_card(&card(), at(47)).unwrap();
    tech.confirm_cleanup(&cleanup(), at(50)).unwrap();
    tech.record_departure(at(52)).unwrap();
    doc
}

/// Every attachment of [`complete_job`], stored and verified.
pub fn all_stored() -> BTreeSet<Sha256Hex> {
    ["signature.png", "card.jpg", "site.jpg"]
        .into_iter()
        .map(sha)
        .collect()
}

/// The value at a path of map keys and list indexes, if it is there.
pub fn find(doc: &AutoCommit, path: &[&str]) -> Option<ObjId> {
    let mut obj = ROOT;
    for segment in path {
        let found = match segment.parse::<usize>() {
            Ok(index) => doc.get(&obj, index),
            Err(_) => doc.get(&obj, *segment),
        };
        obj = found.ok()??.1;
    }
    Some(obj)
}

pub fn obj(doc: &AutoCommit, path: &[&str]) -> ObjId {
    find(doc, path).unwrap()
}
