//! Field ownership: every forbidden modification a role makes is reported with its path, and
//! what a role may do passes clean.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};
use job_support::*;
use sync_protocol::job::{
    ChangeKind, ConfirmationChannel, DispatcherActions, OwnershipError, Role, TechnicianActions,
    Violation, check_new_changes, check_ownership, check_since,
};

/// Runs `edit` on a peer's replica of `base` and checks the peer's changes as `role`.
fn violations_of(
    base: &mut AutoCommit,
    role: Role,
    edit: impl FnOnce(&mut AutoCommit),
) -> Vec<Violation> {
    let mut peer = base.fork().with_actor(ActorId::random());
    edit(&mut peer);
    peer.commit();
    let mut merged = base.fork();
    merged.merge(&mut peer).unwrap();
    check_ownership(base.document(), merged.document(), role).unwrap()
}

fn paths(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.path.as_str()).collect()
}

#[test]
fn a_whole_visit_by_the_technician_is_allowed() {
    let mut base = confirmed_job();
    let before = base.get_heads();
    let mut tablet = base.fork();
    let mut tech = TechnicianActions::new(&mut tablet, TECHNICIAN);
    tech.record_arrival(at(5)).unwrap();
    tech.record_permission("move the sofa", "Wang Fang", at(7))
        .unwrap();
    tech.update_work_notes("Replaced the valve.", at(30))
        .unwrap();
    tech.add_work_item("valve DN15", 1, at(31)).unwrap();
    tech.record_payment_due(&payment(), at(40)).unwrap();
    tech.capture_signature(&signature(), at(45)).unwrap();
    tech.add_feedback_card(&card(), at(47)).unwrap();
    tech.confirm_cleanup(&cleanup(), at(50)).unwrap();
    tech.record_departure(at(52)).unwrap();
    let changes = tablet.get_changes(&before);
    assert_eq!(
        check_ownership(base.document(), tablet.document(), Role::Technician).unwrap(),
        []
    );
    assert_eq!(
        check_new_changes(base.document(), changes.clone(), Role::Technician).unwrap(),
        []
    );
    let as_dispatcher = check_new_changes(base.document(), changes, Role::Dispatcher).unwrap();
    assert!(as_dispatcher.iter().any(|v| v.path == "/visit/signature"));
}

#[test]
fn a_technician_cannot_change_dispatcher_fields() {
    let mut base = complete_job();
    let found = violations_of(&mut base, Role::Technician, |doc| {
        let customer = obj(doc, &["customer"]);
        doc.put(&customer, "name", "Someone Else").unwrap();
        let appointment = obj(doc, &["appointment"]);
        doc.delete(&appointment, "confirmation").unwrap();
        doc.put(ROOT, "status", "gone").unwrap();
    });
    assert_eq!(
        paths(&found),
        ["/appointment/confirmation", "/customer/name", "/status"]
    );
    assert_eq!(found[0].change, ChangeKind::Delete);
    assert_eq!(found[1].role, Role::Technician);
    assert!(found[1].to_string().contains("set by the dispatcher"));
}

#[test]
fn a_losing_concurrent_write_to_a_forbidden_field_is_still_caught() {
    let mut base = complete_job();
    let mut peer = base.fork().with_actor(ActorId::from(b"\x00\x00".to_vec()));
    let customer = obj(&base, &["customer"]);
    // The dispatcher's value wins the conflict (larger actor id); the technician's loses.
    base.set_actor(ActorId::from(b"\xff\xff".to_vec()));
    base.put(&customer, "name", "Dispatcher's Fix").unwrap();
    base.commit();
    peer.put(&customer, "name", "Technician's Guess").unwrap();
    peer.commit();
    let before = base.get_heads();
    base.merge(&mut peer).unwrap();
    let winner = base.get(&customer, "name").unwrap().unwrap().0;
    assert_eq!(winner.as_str(), Some("Dispatcher's Fix"));
    let found = check_since(base.document(), &before, Role::Technician).unwrap();
    assert_eq!(paths(&found), ["/customer/name"]);
}

#[test]
fn a_dispatcher_cannot_write_visit_evidence_but_can_dispatch() {
    let mut base = complete_job();
    let found = violations_of(&mut base, Role::Dispatcher, |doc| {
        let signature = obj(doc, &["visit", "signature"]);
        doc.put(&signature, "signer_name", "Forged").unwrap();
        let visit = obj(doc, &["visit"]);
        doc.delete(&visit, "cleanup").unwrap();
        let notes = obj(doc, &["visit", "work_notes"]);
        doc.splice_text(&notes, 0, 0, "Dispatch: ").unwrap();
    });
    assert_eq!(
        paths(&found),
        [
            "/visit/cleanup",
            "/visit/signature/signer_name",
            "/visit/work_notes"
        ]
    );
    assert_eq!(found[2].change, ChangeKind::EditText);

    let found = violations_of(&mut base, Role::Dispatcher, |doc| {
        let mut dispatch = DispatcherActions::new(doc, DISPATCHER);
        dispatch
            .confirm_appointment("Wang", ConfirmationChannel::InPerson, at(1))
            .unwrap();
        dispatch.reschedule(at(60), at(120), at(2)).unwrap();
        dispatch.reassign("tech-zhao", at(3)).unwrap();
        dispatch.cancel("customer asked", at(4)).unwrap();
    });
    assert_eq!(found, []);
}

#[test]
fn the_timeline_is_append_only_for_everyone() {
    let mut base = complete_job();
    for role in [Role::Technician, Role::Dispatcher] {
        let appended = violations_of(&mut base, role, |doc| {
            let timeline = obj(doc, &["timeline"]);
            let event = doc.insert_object(&timeline, 3, ObjType::Map).unwrap();
            doc.put(&event, "kind", "note").unwrap();
            let detail = doc.put_object(&event, "detail", ObjType::Text).unwrap();
            doc.splice_text(&detail, 0, 0, "called the office").unwrap();
        });
        assert_eq!(appended, [], "{role} appends");

        let edited = violations_of(&mut base, role, |doc| {
            let first = obj(doc, &["timeline", "0"]);
            doc.put(&first, "actor", "nobody").unwrap();
            let timeline = obj(doc, &["timeline"]);
            doc.delete(&timeline, 1).unwrap();
            doc.insert(&timeline, 2, "a bare string").unwrap();
        });
        assert_eq!(
            paths(&edited),
            ["/timeline/0/actor", "/timeline/1", "/timeline/2"],
            "{role} edits"
        );

        let replaced = violations_of(&mut base, role, |doc| {
            doc.put_object(ROOT, "timeline", ObjType::List).unwrap();
        });
        assert_eq!(paths(&replaced), ["/timeline"]);
    }
}

#[test]
fn concurrent_appends_are_allowed_wherever_they_land() {
    let mut base = complete_job();
    let mut tablet = base.fork();
    TechnicianActions::new(&mut tablet, TECHNICIAN)
        .record_permission("use the ladder", "Wang Fang", at(60))
        .unwrap();
    DispatcherActions::new(&mut base, DISPATCHER)
        .reassign("tech-zhao", at(60))
        .unwrap();
    let before = base.get_heads();
    base.merge(&mut tablet).unwrap();
    assert_eq!(
        check_since(base.document(), &before, Role::Technician).unwrap(),
        []
    );
}

#[test]
fn unknown_fields_schema_and_read_only_roles_are_refused() {
    let mut base = complete_job();
    let found = violations_of(&mut base, Role::Technician, |doc| {
        doc.put(ROOT, "discount", 50_i64).unwrap();
        doc.put(ROOT, "schema_version", 2_u64).unwrap();
    });
    assert_eq!(paths(&found), ["/discount", "/schema_version"]);
    assert!(found[0].reason.contains("not part of the job document"));

    let found = violations_of(&mut base, Role::RevisitCaller, |doc| {
        let timeline = obj(doc, &["timeline"]);
        let event = doc.insert_object(&timeline, 0, ObjType::Map).unwrap();
        doc.put(&event, "kind", "revisit").unwrap();
    });
    assert!(!found.is_empty());
    assert!(found.iter().all(|v| v.reason.contains("read-only")));

    let found = violations_of(&mut base, Role::Server, |doc| {
        doc.put(ROOT, "schema_version", 1_u64).unwrap();
        doc.delete(ROOT, "visit").unwrap();
    });
    assert_eq!(found, []);
}

#[test]
fn a_document_that_is_not_a_descendant_is_an_error() {
    let mut base = complete_job();
    let mut unrelated = confirmed_job();
    assert!(matches!(
        check_ownership(base.document(), unrelated.document(), Role::Technician),
        Err(OwnershipError::NotADescendant(_))
    ));
}
