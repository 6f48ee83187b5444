//! Reading job documents: round trips, documents written the way a JS client writes them, and
//! typed errors that name the offending path.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ScalarValue};
use job_support::*;
use sync_protocol::job::{
    ConfirmationChannel, DebrisDecision, DispatchState, EpochMillis, JobDocument, JobError,
    JobKind, PaymentMethod,
};

#[test]
fn a_created_job_reads_back_as_booked() {
    let mut doc = JobDocument::create(&new_job()).unwrap();
    let job = JobDocument::load(&doc.save()).unwrap();
    assert_eq!(job.schema_version, 1);
    assert_eq!(job.kind, JobKind::Repair);
    assert_eq!(job.customer, new_job().customer);
    assert_eq!(job.complaint_origin, new_job().complaint_origin);
    assert_eq!(job.appointment.window_start, WINDOW_START);
    assert_eq!(job.appointment.confirmation, None);
    assert_eq!(job.assignment.technician_id.as_deref(), Some(TECHNICIAN));
    assert_eq!(job.assignment.history.len(), 1);
    assert_eq!(job.status.state, DispatchState::Open);
    assert_eq!(job.visit, Default::default());
    assert_eq!(job.timeline.len(), 1);
    assert_eq!(job.timeline[0].kind, "created");
    assert_eq!(job.timeline[0].actor, DISPATCHER);
}

#[test]
fn a_completed_visit_reads_back_with_all_evidence() {
    let doc = complete_job();
    let job = JobDocument::read(&doc).unwrap();
    let visit = &job.visit;
    assert_eq!(visit.arrival.as_ref().unwrap().by, TECHNICIAN);
    assert_eq!(visit.permissions[0].item, "move the sofa");
    assert_eq!(
        visit.work_notes,
        "Replaced the leaking valve under the sink."
    );
    assert_eq!(visit.work_items[0].quantity, 1);
    let payment = visit.payment_due.as_ref().unwrap();
    assert_eq!(payment.method, PaymentMethod::BankTransfer);
    assert_eq!(payment.amount_minor, 12_000);
    let signature = visit.signature.as_ref().unwrap();
    assert_eq!(signature.signer_name, "Wang Fang");
    assert_eq!(signature.strokes[0].len(), 3);
    assert_eq!(signature.strokes[0][2].y, 22);
    assert_eq!(visit.feedback_cards[0].rating, Some(5));
    assert_eq!(
        visit.cleanup.as_ref().unwrap().debris,
        DebrisDecision::TakenAway
    );
    assert_eq!(
        job.appointment.confirmation.as_ref().unwrap().channel,
        ConfirmationChannel::Phone
    );
    // created, confirmed, then one event per technician operation.
    assert_eq!(job.timeline.len(), 11);
}

/// Builds a job the way a JS automerge-repo client would: every string as a Text object
/// (`next` API default in some apps), times as plain numbers (`Date.now()`), counts as f64,
/// `null` for absent optional fields.
fn js_style_document() -> AutoCommit {
    fn text(doc: &mut AutoCommit, obj: &automerge::ObjId, key: &str, value: &str) {
        let t = doc.put_object(obj, key, ObjType::Text).unwrap();
        doc.splice_text(&t, 0, 0, value).unwrap();
    }
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schema_version", 1.0_f64).unwrap();
    text(&mut doc, &ROOT, "kind", "installation");
    let customer = doc.put_object(ROOT, "customer", ObjType::Map).unwrap();
    text(&mut doc, &customer, "name", "Zhang Wei");
    text(&mut doc, &customer, "address", "1 Nanjing Road");
    doc.put(&customer, "phone", ScalarValue::Null).unwrap();
    let appointment = doc.put_object(ROOT, "appointment", ObjType::Map).unwrap();
    doc.put(&appointment, "window_start", 1_772_442_000_000_f64)
        .unwrap();
    doc.put(&appointment, "window_end", 1_772_449_200_000_u64)
        .unwrap();
    let confirmation = doc
        .put_object(&appointment, "confirmation", ObjType::Map)
        .unwrap();
    text(&mut doc, &confirmation, "confirmed_by", "Zhang Wei");
    text(&mut doc, &confirmation, "channel", "sms");
    doc.put(
        &confirmation,
        "confirmed_at",
        ScalarValue::Timestamp(1_772_400_000_000),
    )
    .unwrap();
    let visit = doc.put_object(ROOT, "visit", ObjType::Map).unwrap();
    let arrival = doc.put_object(&visit, "arrival", ObjType::Map).unwrap();
    doc.put(&arrival, "at", 1_772_442_300_000_i64).unwrap();
    text(&mut doc, &arrival, "by", "tech-js");
    let notes = doc.put_object(&visit, "work_notes", ObjType::Text).unwrap();
    doc.splice_text(&notes, 0, 0, "Mounted the unit").unwrap();
    let items = doc.put_object(&visit, "work_items", ObjType::List).unwrap();
    let item = doc.insert_object(&items, 0, ObjType::Map).unwrap();
    text(&mut doc, &item, "description", "wall bracket");
    doc.put(&item, "quantity", 2.0_f64).unwrap();
    let payment = doc.put_object(&visit, "payment_due", ObjType::Map).unwrap();
    doc.put(&payment, "amount_minor", 5_000_u64).unwrap();
    text(&mut doc, &payment, "currency", "CNY");
    text(&mut doc, &payment, "method", "bank_transfer");
    text(&mut doc, &payment, "transfer_reference", "JS-1");
    doc.put(&payment, "at", 1_772_442_900_000_f64).unwrap();
    let cards = doc
        .put_object(&visit, "feedback_cards", ObjType::List)
        .unwrap();
    let card = doc.insert_object(&cards, 0, ObjType::Map).unwrap();
    let photos = doc
        .put_object(&card, "photo_sha256s", ObjType::List)
        .unwrap();
    doc.insert(&photos, 0, sha("js-card").to_string().to_uppercase())
        .unwrap();
    doc.put(&card, "rating", 4.0_f64).unwrap();
    text(&mut doc, &card, "comment", "很好");
    doc.put(&card, "at", 1_772_443_000_000_i64).unwrap();
    let timeline = doc.put_object(ROOT, "timeline", ObjType::List).unwrap();
    let event = doc.insert_object(&timeline, 0, ObjType::Map).unwrap();
    text(&mut doc, &event, "kind", "arrived");
    text(&mut doc, &event, "actor", "tech-js");
    doc.put(&event, "device_time", 1_772_442_300_000_i64)
        .unwrap();
    doc.put(&event, "detail", ScalarValue::Null).unwrap();
    doc
}

#[test]
fn a_document_written_like_a_js_client_reads() {
    let mut doc = js_style_document();
    let job = JobDocument::load(&doc.save()).unwrap();
    assert_eq!(job.kind, JobKind::Installation);
    assert_eq!(job.customer.name, "Zhang Wei");
    assert_eq!(job.customer.phone, None);
    assert_eq!(job.appointment.window_start, EpochMillis(1_772_442_000_000));
    assert_eq!(job.appointment.window_end, EpochMillis(1_772_449_200_000));
    let confirmation = job.appointment.confirmation.unwrap();
    assert_eq!(confirmation.channel, ConfirmationChannel::Sms);
    assert_eq!(job.visit.arrival.unwrap().by, "tech-js");
    assert_eq!(job.visit.work_notes, "Mounted the unit");
    assert_eq!(job.visit.work_items[0].quantity, 2);
    assert_eq!(job.visit.payment_due.unwrap().amount_minor, 5_000);
    let card = &job.visit.feedback_cards[0];
    assert_eq!(card.rating, Some(4));
    assert_eq!(card.comment.as_deref(), Some("很好"));
    // Uppercase hex from the client is normalised.
    assert_eq!(card.photo_sha256s[0], sha("js-card"));
    assert_eq!(job.timeline[0].detail, None);
    // Absent containers read as empty / defaults.
    assert!(job.visit.permissions.is_empty());
    assert_eq!(job.status.state, DispatchState::Open);
    assert_eq!(job.assignment.technician_id, None);
}

fn read_error(edit: impl FnOnce(&mut AutoCommit)) -> JobError {
    let mut doc = complete_job();
    edit(&mut doc);
    JobDocument::load(&doc.save()).unwrap_err()
}

fn obj(doc: &AutoCommit, path: &[&str]) -> automerge::ObjId {
    use automerge::ReadDoc;
    path.iter().fold(ROOT, |parent, key| {
        doc.get(&parent, *key).unwrap().unwrap().1
    })
}

#[test]
fn wrong_types_name_the_path() {
    let error = read_error(|doc| {
        let customer = obj(doc, &["customer"]);
        doc.put(&customer, "name", 42_i64).unwrap();
    });
    assert_eq!(
        error,
        JobError::WrongType {
            path: "/customer/name".into(),
            expected: "a string",
            found: "an integer".into(),
        }
    );
    assert!(error.to_string().contains("/customer/name"));

    let error = read_error(|doc| {
        doc.put(ROOT, "visit", "not a map").unwrap();
    });
    assert!(
        matches!(error, JobError::WrongType { ref path, expected: "a map", .. } if path == "/visit")
    );

    let error = read_error(|doc| {
        let signature = obj(doc, &["visit", "signature"]);
        doc.put(&signature, "signed_at", true).unwrap();
    });
    assert!(
        matches!(error, JobError::WrongType { ref path, .. } if path == "/visit/signature/signed_at")
    );

    let error = read_error(|doc| {
        let cards = obj(doc, &["visit", "feedback_cards"]);
        doc.insert(&cards, 1, "a card").unwrap();
    });
    assert!(
        matches!(error, JobError::WrongType { ref path, .. } if path == "/visit/feedback_cards/1")
    );
}

#[test]
fn missing_required_fields_name_the_path() {
    let error = read_error(|doc| {
        let signature = obj(doc, &["visit", "signature"]);
        doc.delete(&signature, "signer_name").unwrap();
    });
    assert_eq!(
        error,
        JobError::Missing {
            path: "/visit/signature/signer_name".into()
        }
    );
    let error = read_error(|doc| doc.delete(ROOT, "customer").unwrap());
    assert_eq!(
        error,
        JobError::Missing {
            path: "/customer".into()
        }
    );
}

#[test]
fn invalid_values_are_refused_with_the_path() {
    let error = read_error(|doc| {
        let card = obj(doc, &["visit", "feedback_cards"]);
        let first = {
            use automerge::ReadDoc;
            doc.get(&card, 0).unwrap().unwrap().1
        };
        doc.put(&first, "rating", 9_i64).unwrap();
    });
    assert!(
        matches!(error, JobError::Invalid { ref path, .. } if path == "/visit/feedback_cards/0/rating")
    );

    let error = read_error(|doc| doc.put(ROOT, "kind", "demolition").unwrap());
    assert!(
        matches!(error, JobError::Invalid { ref path, ref reason } if path == "/kind" && reason.contains("repair"))
    );

    let error = read_error(|doc| {
        let signature = obj(doc, &["visit", "signature"]);
        doc.put(&signature, "image_sha256", "abc").unwrap();
    });
    assert!(
        matches!(error, JobError::Invalid { ref path, .. } if path == "/visit/signature/image_sha256")
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let error = read_error(|doc| doc.put(ROOT, "schema_version", 2_u64).unwrap());
    assert_eq!(error, JobError::UnsupportedSchema { found: 2 });
}

#[test]
fn a_cash_claim_still_reads_so_it_can_be_flagged() {
    let mut doc = complete_job();
    let payment = obj(&doc, &["visit", "payment_due"]);
    doc.put(&payment, "method", "Cash").unwrap();
    let job = JobDocument::read(&doc).unwrap();
    assert_eq!(job.visit.payment_due.unwrap().method, PaymentMethod::Cash);
}

#[test]
fn reading_from_automerge_and_autocommit_agree() {
    let mut doc = complete_job();
    let from_autocommit = JobDocument::read(&doc).unwrap();
    let from_automerge = JobDocument::read(doc.document()).unwrap();
    assert_eq!(from_autocommit, from_automerge);
}
