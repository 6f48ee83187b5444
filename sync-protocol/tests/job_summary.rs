//! The canonical job summary a signature binds: exact bytes, stability, and which edits
//! change it.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use job_support::*;
use sync_protocol::job::{CustomerTier, DispatcherActions, JobDocument, TechnicianActions};

const GOLDEN: &str = "fieldsync-job-summary 1
kind 6:repair
customer.name 9:Wang Fang
customer.phone 16:+86 21 5555 0101
customer.address 27:88 Century Avenue, Shanghai
appointment.window_start 13:1772442000000
appointment.window_end 13:1772449200000
work_notes 42:Replaced the leaking valve under the sink.
work_items.count 1:1
work_items.0.description 10:valve DN15
work_items.0.quantity 1:1
payment_due 1:1
payment_due.amount_minor 5:12000
payment_due.currency 3:CNY
payment_due.method 13:bank_transfer
payment_due.transfer_reference 12:FS-2026-0042
permissions.count 1:1
permissions.0.item 13:move the sofa
permissions.0.granted_by 9:Wang Fang
permissions.0.at 13:1772442420000
";

#[test]
fn the_summary_bytes_are_exactly_the_documented_format() {
    let job = JobDocument::read(&complete_job()).unwrap();
    assert_eq!(String::from_utf8(job.canonical_summary()).unwrap(), GOLDEN);
    let expected = sync_protocol::job::Sha256Hex::digest(GOLDEN.as_bytes());
    assert_eq!(job.summary_sha256(), expected);
    assert_eq!(job.visit.signature.unwrap().summary_sha256, expected);
}

#[test]
fn lengths_count_utf8_bytes_and_absent_fields_are_a_dash() {
    let mut job = JobDocument::read(&confirmed_job()).unwrap();
    job.customer.name = "王芳".into();
    job.customer.phone = None;
    let text = String::from_utf8(job.canonical_summary()).unwrap();
    assert!(text.contains("customer.name 6:王芳\n"));
    assert!(text.contains("customer.phone -\n"));
    assert!(text.contains("payment_due -\n"));
    assert!(text.contains("work_notes 0:\n"));
}

#[test]
fn the_hash_is_the_hash_of_the_summary_bytes_however_long_the_visit() {
    let mut doc = complete_job();
    for n in 0..12 {
        TechnicianActions::new(&mut doc, TECHNICIAN)
            .add_work_item(&format!("滤芯 {n}"), n + 1, at(10 + n as i64))
            .unwrap();
    }
    let job = JobDocument::read(&doc).unwrap();
    let bytes = job.canonical_summary();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("work_items.count 2:13\n"));
    assert!(text.contains("work_items.12.description 9:滤芯 11\n"));
    assert!(text.contains("work_items.12.quantity 2:12\n"));
    assert_eq!(
        job.summary_sha256(),
        sync_protocol::job::Sha256Hex::digest(&bytes)
    );
}

#[test]
fn the_summary_is_the_same_after_a_save_load_round_trip_and_a_merge() {
    let mut doc = complete_job();
    let direct = JobDocument::read(&doc).unwrap().summary_sha256();
    let loaded = JobDocument::load(&doc.save()).unwrap().summary_sha256();
    let mut other = doc.fork();
    other.merge(&mut doc).unwrap();
    let merged = JobDocument::read(&other).unwrap().summary_sha256();
    assert_eq!(direct, loaded);
    assert_eq!(direct, merged);
}

#[test]
fn evidence_recorded_after_signing_does_not_change_the_summary() {
    let mut doc = confirmed_job();
    let mut tech = TechnicianActions::new(&mut doc, TECHNICIAN);
    tech.record_arrival(at(1)).unwrap();
    let signed = tech.capture_signature(&signature(), at(10)).unwrap();
    tech.add_feedback_card(&card(), at(11)).unwrap();
    tech.confirm_cleanup(&cleanup(), at(12)).unwrap();
    tech.record_departure(at(13)).unwrap();
    let mut dispatch = DispatcherActions::new(&mut doc, DISPATCHER);
    dispatch.reassign("tech-zhao", at(14)).unwrap();
    let customer = doc.get(ROOT, "customer").unwrap().unwrap().1;
    doc.put(&customer, "tier", CustomerTier::Regular.as_str())
        .unwrap();
    assert_eq!(JobDocument::read(&doc).unwrap().summary_sha256(), signed);
}

#[test]
fn every_signed_field_changes_the_summary() {
    let base = JobDocument::read(&complete_job()).unwrap();
    let edits: Vec<fn(&mut JobDocument)> = vec![
        |j| j.customer.name.push('!'),
        |j| j.customer.phone = None,
        |j| j.customer.address.push('!'),
        |j| j.kind = sync_protocol::job::JobKind::Inspection,
        |j| j.appointment.window_start.0 += 1,
        |j| j.appointment.window_end.0 += 1,
        |j| j.visit.work_notes.push(' '),
        |j| std::sync::Arc::make_mut(&mut j.visit.work_items[0]).quantity = 2,
        |j| {
            std::sync::Arc::make_mut(&mut j.visit.work_items[0])
                .description
                .push('!')
        },
        |j| j.visit.work_items.clear(),
        |j| j.visit.payment_due.as_mut().unwrap().amount_minor += 1,
        |j| j.visit.payment_due.as_mut().unwrap().currency = "EUR".into(),
        |j| {
            j.visit
                .payment_due
                .as_mut()
                .unwrap()
                .transfer_reference
                .push('1')
        },
        |j| j.visit.payment_due = None,
        |j| j.visit.permissions[0].granted_by.push('!'),
        |j| j.visit.permissions[0].at.0 += 1,
        |j| j.visit.permissions.clear(),
    ];
    for (i, edit) in edits.into_iter().enumerate() {
        let mut job = base.clone();
        edit(&mut job);
        assert_ne!(job.summary_sha256(), base.summary_sha256(), "edit {i}");
    }
}

#[test]
fn fields_cannot_bleed_into_each_other() {
    // Without length prefixes these two would serialise alike.
    let mut a = JobDocument::read(&confirmed_job()).unwrap();
    let mut b = a.clone();
    a.customer.name = "Wang\ncustomer.phone 3:abc".into();
    a.customer.phone = None;
    b.customer.name = "Wang".into();
    b.customer.phone = Some("abc".into());
    assert_ne!(a.canonical_summary(), b.canonical_summary());
}
