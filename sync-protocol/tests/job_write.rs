//! Writing job documents: the technician's and dispatcher's operations, and the refusals a
//! technician sees on screen.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use job_support::*;
use sync_protocol::job::{
    ConfirmationChannel, DebrisDecision, DispatchState, DispatcherActions, EpochMillis,
    JobDocument, OperationError, PaymentDueEntry, PaymentMethod, StrokePoint, TechnicianActions,
};

#[test]
fn cash_payment_is_refused_with_a_message_the_technician_understands() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    let cash = PaymentDueEntry {
        method: PaymentMethod::Cash,
        ..payment()
    };
    let error = tech.record_payment_due(&cash, at(10)).unwrap_err();
    assert_eq!(error, OperationError::CashRefused);
    assert!(error.to_string().starts_with(
        "Extra payment must go by bank transfer to the company; technicians never take cash"
    ));
    let cheque = PaymentDueEntry {
        method: PaymentMethod::Other("cheque".into()),
        ..payment()
    };
    assert!(matches!(
        tech.record_payment_due(&cheque, at(10)),
        Err(OperationError::UnsupportedPaymentMethod(_))
    ));
    assert_eq!(JobDocument::read(&doc).unwrap().visit.payment_due, None);
}

#[test]
fn payment_amount_and_currency_are_checked() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    let zero = PaymentDueEntry {
        amount_minor: 0,
        ..payment()
    };
    assert_eq!(
        tech.record_payment_due(&zero, at(1)),
        Err(OperationError::AmountNotPositive(0))
    );
    // A slip of the finger is not a bill; 100 million yuan still is one.
    let slip = PaymentDueEntry {
        amount_minor: 9_223_372_036_854_775_807,
        ..payment()
    };
    assert_eq!(
        tech.record_payment_due(&slip, at(1)),
        Err(OperationError::AmountTooLarge(9_223_372_036_854_775_807))
    );
    let largest = PaymentDueEntry {
        amount_minor: 10_000_000_000,
        ..payment()
    };
    tech.record_payment_due(&largest, at(1)).unwrap();
    let bad_currency = PaymentDueEntry {
        currency: "yuan".into(),
        ..payment()
    };
    assert!(matches!(
        tech.record_payment_due(&bad_currency, at(1)),
        Err(OperationError::InvalidCurrency(_))
    ));
    let lowercase = PaymentDueEntry {
        currency: "cny".into(),
        ..payment()
    };
    tech.record_payment_due(&lowercase, at(1)).unwrap();
    let job = JobDocument::read(&doc).unwrap();
    assert_eq!(job.visit.payment_due.unwrap().currency, "CNY");
}

#[test]
fn a_signature_needs_a_signer_name_and_strokes() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    let mut unnamed = signature();
    unnamed.signer_name = "  ".into();
    let error = tech.capture_signature(&unnamed, at(5)).unwrap_err();
    assert_eq!(
        error,
        OperationError::Empty {
            field: "name of the person signing"
        }
    );
    assert_eq!(
        error.to_string(),
        "Enter the name of the person signing; it cannot be empty"
    );
    let mut blank = signature();
    blank.strokes = vec![vec![]];
    assert_eq!(
        tech.capture_signature(&blank, at(5)),
        Err(OperationError::SignatureWithoutStrokes)
    );
    // A tap, or a mark shorter than a signature, is not one; a mark just long enough is.
    for (strokes, taken) in [
        (vec![vec![StrokePoint { x: 41, y: 40 }]], false),
        (
            vec![
                vec![StrokePoint { x: 41, y: 40 }],
                vec![StrokePoint { x: 50, y: 52 }, StrokePoint { x: 60, y: 40 }],
            ],
            false,
        ),
        (
            vec![vec![
                StrokePoint { x: 41, y: 40 },
                StrokePoint { x: 61, y: 45 },
            ]],
            true,
        ),
    ] {
        let mut mark = signature();
        mark.strokes = strokes;
        let result = tech.capture_signature(&mark, at(5));
        if taken {
            assert!(result.is_ok(), "{result:?}");
        } else {
            assert_eq!(result, Err(OperationError::SignatureTooSmall));
        }
    }
    let mut bad_image = signature();
    bad_image.image_sha256 = "not-a-hash".into();
    assert!(matches!(
        tech.capture_signature(&bad_image, at(5)),
        Err(OperationError::InvalidAttachment { .. })
    ));
}

#[test]
fn the_signature_binds_the_current_summary() {
    let mut doc = confirmed_job();
    let signed = TechnicianActions::new(&mut doc, TECHNICIAN)
        .capture_signature(&signature(), at(5))
        .unwrap();
    let job = JobDocument::read(&doc).unwrap();
    assert_eq!(job.visit.signature.as_ref().unwrap().summary_sha256, signed);
    assert_eq!(job.summary_sha256(), signed);
}

#[test]
fn cleanup_with_debris_needs_consent() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    let mut no_consent = cleanup();
    no_consent.consented_by = None;
    let error = tech.confirm_cleanup(&no_consent, at(5)).unwrap_err();
    assert_eq!(error, OperationError::CleanupWithoutConsent);
    assert!(error.to_string().contains("Ask the customer"));
    no_consent.debris = DebrisDecision::LeftAtCustomerRequest;
    no_consent.consented_by = Some(" ".into());
    assert_eq!(
        tech.confirm_cleanup(&no_consent, at(5)),
        Err(OperationError::CleanupWithoutConsent)
    );
    // No debris: nothing to consent to.
    no_consent.debris = DebrisDecision::None;
    tech.confirm_cleanup(&no_consent, at(5)).unwrap();
}

#[test]
fn feedback_cards_need_a_photo_and_a_rating_from_one_to_five() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    for stars in [0, 6, -1, 300] {
        let mut bad = card();
        bad.rating = Some(stars);
        let error = tech.add_feedback_card(&bad, at(1)).unwrap_err();
        assert_eq!(error, OperationError::RatingOutOfRange(stars));
        assert!(error.to_string().contains("between 1 and 5"));
    }
    let mut no_photo = card();
    no_photo.photo_sha256s.clear();
    assert_eq!(
        tech.add_feedback_card(&no_photo, at(1)),
        Err(OperationError::FeedbackCardWithoutPhoto)
    );
    let mut unrated = card();
    unrated.rating = None;
    tech.add_feedback_card(&unrated, at(1)).unwrap();
    tech.add_feedback_card(&card(), at(2)).unwrap();
    let ratings: Vec<_> = JobDocument::read(&doc)
        .unwrap()
        .visit
        .feedback_cards
        .iter()
        .map(|c| c.rating)
        .collect();
    assert_eq!(ratings, [None, Some(5)]);
}

#[test]
fn departure_needs_an_earlier_arrival() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    assert_eq!(
        tech.record_departure(at(50)),
        Err(OperationError::DepartureBeforeArrival)
    );
    tech.record_arrival(at(10)).unwrap();
    assert_eq!(
        tech.record_departure(at(9)),
        Err(OperationError::DepartureBeforeArrival)
    );
    tech.record_departure(at(60)).unwrap();
    // Once left, the arrival stands: arriving again would put the departure before it.
    let heads = doc.get_heads();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    assert_eq!(
        tech.record_arrival(at(70)),
        Err(OperationError::ArrivalAfterDeparture)
    );
    assert_eq!(doc.get_heads(), heads);
    let visit = JobDocument::read(&doc).unwrap().visit;
    assert_eq!(visit.arrival.unwrap().at, at(10));
}

#[test]
fn a_cleanup_confirmed_again_without_a_photo_keeps_the_site_photo() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    let mut first = cleanup();
    first.photo_sha256 = Some(sha("site.jpg").to_string());
    first.departure_witnessed = false;
    tech.confirm_cleanup(&first, at(5)).unwrap();
    // The customer will watch after all: confirmed again, with no photo in hand.
    let mut again = cleanup();
    again.photo_sha256 = None;
    again.departure_witnessed = true;
    tech.confirm_cleanup(&again, at(6)).unwrap();
    let cleanup = JobDocument::read(&doc).unwrap().visit.cleanup.unwrap();
    assert!(cleanup.departure_witnessed);
    assert_eq!(
        cleanup.photo_sha256.map(|p| p.to_string()),
        Some(sha("site.jpg").to_string())
    );
}

#[test]
fn a_refused_operation_leaves_nothing_behind() {
    let mut doc = confirmed_job();
    let heads = doc.get_heads();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    let mut bad = card();
    bad.rating = Some(9);
    tech.add_feedback_card(&bad, at(1)).unwrap_err();
    assert_eq!(doc.get_heads(), heads);
    let last = doc.get_last_local_change().unwrap();
    assert_eq!(last.message(), Some("appointment_confirmed"));
}

#[test]
fn each_operation_is_one_change_named_after_it() {
    let mut doc = confirmed_job();
    TechnicianActions::new(&mut doc, TECHNICIAN)
        .record_arrival(at(3))
        .unwrap();
    let change = doc.get_last_local_change().unwrap();
    assert_eq!(change.message(), Some("arrived"));
}

#[test]
fn dispatcher_reschedule_drops_the_confirmation() {
    let mut doc = confirmed_job();
    DispatcherActions::new(&mut doc, DISPATCHER)
        .reschedule(at(24 * 60), at(26 * 60), at(-60))
        .unwrap();
    let job = JobDocument::read(&doc).unwrap();
    assert_eq!(job.appointment.window_start, at(24 * 60));
    assert_eq!(job.appointment.confirmation, None);
    assert_eq!(job.timeline.last().unwrap().kind, "rescheduled");
    assert_eq!(
        DispatcherActions::new(&mut doc, DISPATCHER).reschedule(at(10), at(10), at(0)),
        Err(OperationError::EmptyWindow)
    );
}

#[test]
fn dispatcher_reassign_keeps_the_history() {
    let mut doc = confirmed_job();
    DispatcherActions::new(&mut doc, DISPATCHER)
        .reassign("tech-zhao", at(-30))
        .unwrap();
    let job = JobDocument::read(&doc).unwrap();
    assert_eq!(job.assignment.technician_id.as_deref(), Some("tech-zhao"));
    let history: Vec<_> = job
        .assignment
        .history
        .iter()
        .map(|r| r.technician_id.as_str())
        .collect();
    assert_eq!(history, [TECHNICIAN, "tech-zhao"]);
}

#[test]
fn a_cancelled_job_refuses_more_work() {
    let mut doc = confirmed_job();
    let mut dispatch = DispatcherActions::new(&mut doc, DISPATCHER);
    dispatch.cancel("customer moved house", at(-10)).unwrap();
    assert_eq!(
        dispatch.confirm_appointment("Wang", ConfirmationChannel::Sms, at(-5)),
        Err(OperationError::JobClosed("cancelled"))
    );
    let job = JobDocument::read(&doc).unwrap();
    assert_eq!(job.status.state, DispatchState::Cancelled);
    assert_eq!(job.status.reason.as_deref(), Some("customer moved house"));
    let error = TechnicianActions::new(&mut doc, TECHNICIAN)
        .record_arrival(at(0))
        .unwrap_err();
    assert_eq!(error, OperationError::JobClosed("cancelled"));
    assert!(error.to_string().contains("contact dispatch"));
    DispatcherActions::new(&mut doc, DISPATCHER)
        .archive(EpochMillis(at(60).0))
        .unwrap();
    assert_eq!(
        JobDocument::read(&doc).unwrap().status.state,
        DispatchState::Archived
    );
}

#[test]
fn an_operation_checks_the_status_and_schema_and_writes_nothing_when_refused() {
    // Archived: refused, whatever the rest of the job holds.
    let mut doc = confirmed_job();
    TechnicianActions::new(&mut doc, TECHNICIAN)
        .add_work_item("滤芯", 1, at(5))
        .unwrap();
    DispatcherActions::new(&mut doc, DISPATCHER)
        .archive(at(60))
        .unwrap();
    let heads = doc.get_heads();
    assert_eq!(
        TechnicianActions::new(&mut doc, TECHNICIAN).add_work_item("另一个", 1, at(70)),
        Err(OperationError::JobClosed("archived"))
    );
    assert_eq!(doc.get_heads(), heads, "nothing written");

    // A status this code does not know, or a newer schema: the document cannot be read.
    for (obj, key, value) in [("status", "state", "paused"), ("", "schema_version", "")] {
        let mut doc = confirmed_job();
        if obj.is_empty() {
            doc.put(ROOT, key, 2_u64).unwrap();
        } else {
            let status = match doc.get(ROOT, obj).unwrap() {
                Some((_, id)) => id,
                None => doc.put_object(ROOT, obj, automerge::ObjType::Map).unwrap(),
            };
            doc.put(&status, key, value).unwrap();
        }
        doc.commit();
        let heads = doc.get_heads();
        let refused = TechnicianActions::new(&mut doc, TECHNICIAN)
            .add_work_item("滤芯", 1, at(5))
            .unwrap_err();
        assert!(
            matches!(refused, OperationError::Document(_)),
            "{key}: {refused:?}"
        );
        assert_eq!(doc.get_heads(), heads, "{key}: nothing written");
    }
}

#[test]
fn work_notes_edits_from_two_devices_merge() {
    let mut tablet = confirmed_job();
    TechnicianActions::new(&mut tablet, TECHNICIAN)
        .update_work_notes("Valve replaced.", at(1))
        .unwrap();
    let mut phone = tablet.fork();
    TechnicianActions::new(&mut tablet, TECHNICIAN)
        .update_work_notes("Valve replaced. Tested for 10 minutes.", at(2))
        .unwrap();
    TechnicianActions::new(&mut phone, TECHNICIAN)
        .update_work_notes("Old valve replaced.", at(2))
        .unwrap();
    tablet.merge(&mut phone).unwrap();
    let notes = JobDocument::read(&tablet).unwrap().visit.work_notes;
    assert_eq!(notes, "Old valve replaced. Tested for 10 minutes.");
}

#[test]
fn creating_a_job_checks_what_the_dispatcher_entered() {
    let mut job = new_job();
    job.customer.name = String::new();
    assert!(matches!(
        JobDocument::create(&job),
        Err(OperationError::Empty { .. })
    ));
    let mut job = new_job();
    job.window_end = job.window_start;
    assert_eq!(
        JobDocument::create(&job).map(|_| ()),
        Err(OperationError::EmptyWindow)
    );
}

#[test]
fn first_notes_written_on_two_devices_stay_separate_lines_in_either_merge_order() {
    let base = confirmed_job();
    let mut tablet = base.clone().with_actor(automerge::ActorId::random());
    let mut phone = base.clone().with_actor(automerge::ActorId::random());
    TechnicianActions::new(&mut tablet, TECHNICIAN)
        .add_work_note("检查了漏水", at(5))
        .unwrap();
    TechnicianActions::new(&mut phone, TECHNICIAN)
        .add_work_note("更换了进水阀", at(6))
        .unwrap();
    for (mut first, mut second) in [
        (tablet.clone(), phone.clone()),
        (phone.clone(), tablet.clone()),
    ] {
        first.merge(&mut second).unwrap();
        let notes = JobDocument::read(&first).unwrap().visit.work_notes;
        let mut lines: Vec<&str> = notes.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["更换了进水阀", "检查了漏水"], "{notes:?}");
    }
    // A later note on one device follows both, on a line of its own.
    tablet.merge(&mut phone).unwrap();
    TechnicianActions::new(&mut tablet, TECHNICIAN)
        .add_work_note("  试水正常 ", at(7))
        .unwrap();
    let notes = JobDocument::read(&tablet).unwrap().visit.work_notes;
    assert_eq!(notes.lines().count(), 3, "{notes:?}");
    assert_eq!(notes.lines().last(), Some("试水正常"));
    assert_eq!(
        TechnicianActions::new(&mut tablet, TECHNICIAN).add_work_note(" ", at(8)),
        Err(OperationError::Empty { field: "work note" })
    );
}
