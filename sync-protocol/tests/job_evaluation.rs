//! Evaluating a merged job: completion per DOMAIN.md, status, and review flags.
#![allow(clippy::unwrap_used)]

mod job_support;

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc};
use job_support::*;
use sync_protocol::job::{
    CompletionCondition as C, DebrisDecision, DispatcherActions, EpochMillis, JobDocument,
    JobEvaluation, JobStatus, ReviewFlag, Sha256Hex, TechnicianActions,
};

fn evaluate(doc: &AutoCommit) -> JobEvaluation {
    JobDocument::read(doc)
        .unwrap()
        .evaluate(&all_stored(), Some(at(120)))
}

#[test]
fn a_complete_job_is_complete_with_no_flags() {
    let evaluation = evaluate(&complete_job());
    assert_eq!(evaluation.missing, []);
    assert!(evaluation.complete);
    assert_eq!(evaluation.status, JobStatus::Complete);
    assert_eq!(evaluation.review_flags, []);
    let referenced: BTreeSet<Sha256Hex> = evaluation.attachments.into_iter().collect();
    assert_eq!(referenced, all_stored());
}

#[test]
fn a_fresh_job_misses_everything_and_says_so() {
    let doc = JobDocument::create(&new_job()).unwrap();
    let evaluation = evaluate(&doc);
    assert_eq!(
        evaluation.missing,
        [
            C::AppointmentConfirmed,
            C::Arrived,
            C::Departed,
            C::Signed,
            C::FeedbackCardPhotoReferenced,
            C::CleanupConfirmed,
        ]
    );
    assert_eq!(evaluation.status, JobStatus::Scheduled);
    assert!(!evaluation.complete);
}

/// Removes `key` under `/visit` from a complete job.
fn without_visit(key: &str) -> AutoCommit {
    let mut doc = complete_job();
    let visit = doc.get(ROOT, "visit").unwrap().unwrap().1;
    doc.delete(&visit, key).unwrap();
    doc.commit();
    doc
}

#[test]
fn each_missing_condition_is_named() {
    let cases: Vec<(AutoCommit, Vec<C>)> = vec![
        (without_visit("arrival"), vec![C::Arrived]),
        (without_visit("departure"), vec![C::Departed]),
        (without_visit("signature"), vec![C::Signed]),
        (
            without_visit("feedback_cards"),
            vec![C::FeedbackCardPhotoReferenced],
        ),
        (without_visit("cleanup"), vec![C::CleanupConfirmed]),
        (
            {
                let mut doc = complete_job();
                let appointment = doc.get(ROOT, "appointment").unwrap().unwrap().1;
                doc.delete(&appointment, "confirmation").unwrap();
                doc
            },
            vec![C::AppointmentConfirmed],
        ),
    ];
    for (doc, expected) in cases {
        assert_eq!(evaluate(&doc).missing, expected);
    }
}

#[test]
fn a_card_photo_must_be_stored_and_verified() {
    let job = JobDocument::read(&complete_job()).unwrap();
    let without_card: BTreeSet<Sha256Hex> = all_stored()
        .into_iter()
        .filter(|stored| *stored != sha("card.jpg"))
        .collect();
    let evaluation = job.evaluate(&without_card, None);
    assert_eq!(evaluation.missing, [C::FeedbackCardPhotoStored]);
    assert_eq!(evaluation.status, JobStatus::AwaitingEvidence);
}

#[test]
fn incomplete_cleanup_names_each_part() {
    let mut doc = complete_job();
    let cleanup = doc
        .get(doc.get(ROOT, "visit").unwrap().unwrap().1, "cleanup")
        .unwrap()
        .unwrap()
        .1;
    doc.put(&cleanup, "site_cleaned", false).unwrap();
    doc.put(&cleanup, "departure_witnessed", false).unwrap();
    doc.delete(&cleanup, "consented_by").unwrap();
    assert_eq!(
        evaluate(&doc).missing,
        [C::SiteCleaned, C::DebrisConsented, C::DepartureWitnessed]
    );
    doc.put(&cleanup, "debris", DebrisDecision::None.as_str())
        .unwrap();
    assert_eq!(
        evaluate(&doc).missing,
        [C::SiteCleaned, C::DepartureWitnessed]
    );
}

#[test]
fn changing_the_work_notes_after_signing_makes_the_signature_stale() {
    let mut doc = complete_job();
    let signed = JobDocument::read(&doc).unwrap().summary_sha256();
    TechnicianActions::new(&mut doc, TECHNICIAN)
        .update_work_notes("Replaced the valve. Also fixed the tap.", at(53))
        .unwrap();
    let evaluation = evaluate(&doc);
    assert_eq!(evaluation.missing, [C::SignatureMatchesContent]);
    let now = JobDocument::read(&doc).unwrap().summary_sha256();
    assert_ne!(now, signed);
    assert!(
        evaluation
            .review_flags
            .contains(&ReviewFlag::SignatureStale {
                signed,
                current: now,
            })
    );
    // Signing again on the new content completes the job again.
    TechnicianActions::new(&mut doc, TECHNICIAN)
        .capture_signature(&signature(), at(55))
        .unwrap();
    assert!(evaluate(&doc).complete);
}

#[test]
fn a_cash_claim_blocks_completion_and_is_flagged() {
    let mut doc = complete_job();
    let visit = doc.get(ROOT, "visit").unwrap().unwrap().1;
    let payment = doc.get(&visit, "payment_due").unwrap().unwrap().1;
    doc.put(&payment, "method", "cash").unwrap();
    let evaluation = evaluate(&doc);
    assert!(evaluation.missing.contains(&C::NoCashPayment));
    assert!(evaluation.review_flags.contains(&ReviewFlag::CashClaimed));
}

#[test]
fn arriving_before_confirmation_is_flagged_but_allowed() {
    let mut doc = JobDocument::create(&new_job()).unwrap();
    TechnicianActions::new(&mut doc, TECHNICIAN)
        .record_arrival(at(0))
        .unwrap();
    let evaluation = evaluate(&doc);
    assert_eq!(evaluation.status, JobStatus::InProgress);
    assert_eq!(
        evaluation.review_flags,
        [ReviewFlag::ArrivedWithoutConfirmedAppointment]
    );
}

#[test]
fn work_by_a_technician_no_longer_assigned_is_flagged() {
    let mut doc = complete_job();
    DispatcherActions::new(&mut doc, DISPATCHER)
        .reassign("tech-zhao", at(100))
        .unwrap();
    let evaluation = evaluate(&doc);
    assert_eq!(
        evaluation.review_flags,
        [ReviewFlag::WorkByUnassignedTechnician {
            technician_id: TECHNICIAN.into(),
            previously_assigned: true,
        }]
    );
}

#[test]
fn clock_and_window_anomalies_are_flagged() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    // Arrives three hours after the window ends, with a clock a day ahead of the server.
    tech.record_arrival(at(5 * 60)).unwrap();
    let job = JobDocument::read(&doc).unwrap();
    let flags = job
        .evaluate(
            &all_stored(),
            Some(EpochMillis(at(5 * 60).0 - 24 * 60 * MINUTE)),
        )
        .review_flags;
    assert!(flags.contains(&ReviewFlag::ArrivalOutsideWindow));
    assert!(flags.contains(&ReviewFlag::DeviceClockAhead {
        ahead_ms: 24 * 60 * MINUTE
    }));
}

#[test]
fn cancelled_jobs_are_never_complete() {
    let mut doc = complete_job();
    DispatcherActions::new(&mut doc, DISPATCHER)
        .cancel("duplicate booking", at(100))
        .unwrap();
    let evaluation = evaluate(&doc);
    assert_eq!(evaluation.status, JobStatus::Cancelled);
    assert_eq!(evaluation.missing, [C::NotCancelled]);
    assert!(
        evaluation
            .review_flags
            .contains(&ReviewFlag::WorkOnCancelledJob)
    );
}

#[test]
fn the_evaluation_serializes_for_the_projection() {
    let evaluation = evaluate(&complete_job());
    let json = serde_json::to_value(&evaluation).unwrap();
    assert_eq!(json["status"], "complete");
    assert_eq!(json["complete"], true);
    let back: JobEvaluation = serde_json::from_value(json).unwrap();
    assert_eq!(back, evaluation);

    let flags = serde_json::to_value(ReviewFlag::WorkByUnassignedTechnician {
        technician_id: "t".into(),
        previously_assigned: false,
    })
    .unwrap();
    assert_eq!(flags["flag"], "work_by_unassigned_technician");
    assert_eq!(
        serde_json::to_value(C::FeedbackCardPhotoStored).unwrap(),
        "feedback_card_photo_stored"
    );
    // The job document itself is serializable for export.
    let job = JobDocument::read(&complete_job()).unwrap();
    assert!(
        serde_json::to_string(&job)
            .unwrap()
            .contains("bank_transfer")
    );
}
