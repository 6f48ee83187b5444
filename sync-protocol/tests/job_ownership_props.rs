//! Property tests of field ownership: random sequences of edits by a peer, with and without a
//! concurrent dispatcher change, are reported exactly when they hold a forbidden edit.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue};
use job_support::*;
use proptest::prelude::*;
use sync_protocol::job::{DispatcherActions, Role, check_new_changes, check_since};

/// One modification a peer may try, with who may make it.
struct Edit {
    /// Root key the change lands under, when it is visible.
    root: &'static str,
    technician: bool,
    dispatcher: bool,
    /// Applies the edit; false when it could not apply (its target is gone).
    apply: fn(&mut AutoCommit, u32) -> bool,
}

fn put_under(doc: &mut AutoCommit, path: &[&str], key: &str, value: ScalarValue) -> bool {
    match find(doc, path) {
        Some(parent) => doc.put(&parent, key, value).is_ok(),
        None => false,
    }
}

fn delete_under(doc: &mut AutoCommit, path: &[&str], key: &str) -> bool {
    match find(doc, path) {
        Some(parent) if doc.get(&parent, key).ok().flatten().is_some() => {
            doc.delete(&parent, key).is_ok()
        }
        _ => false,
    }
}

fn fresh(seed: u32) -> ScalarValue {
    ScalarValue::from(format!("value-{seed}"))
}

const EDITS: &[Edit] = &[
    Edit {
        root: "customer",
        technician: false,
        dispatcher: true,
        apply: |d, s| put_under(d, &["customer"], "name", fresh(s)),
    },
    Edit {
        root: "customer",
        technician: false,
        dispatcher: true,
        apply: |d, _| delete_under(d, &["customer"], "phone"),
    },
    Edit {
        root: "customer",
        technician: false,
        dispatcher: true,
        apply: |d, _| delete_under(d, &[], "customer"),
    },
    Edit {
        root: "appointment",
        technician: false,
        dispatcher: true,
        apply: |d, s| {
            put_under(
                d,
                &["appointment"],
                "window_start",
                ScalarValue::Timestamp(i64::from(s) + 7),
            )
        },
    },
    Edit {
        root: "appointment",
        technician: false,
        dispatcher: true,
        apply: |d, _| delete_under(d, &["appointment"], "confirmation"),
    },
    Edit {
        root: "assignment",
        technician: false,
        dispatcher: true,
        apply: |d, s| put_under(d, &["assignment"], "technician_id", fresh(s)),
    },
    Edit {
        root: "status",
        technician: false,
        dispatcher: true,
        apply: |d, _| put_under(d, &["status"], "state", "cancelled".into()),
    },
    Edit {
        root: "kind",
        technician: false,
        dispatcher: true,
        apply: |d, s| put_under(d, &[], "kind", fresh(s)),
    },
    Edit {
        root: "complaint_origin",
        technician: false,
        dispatcher: true,
        apply: |d, _| put_under(d, &["complaint_origin"], "from_complaint", false.into()),
    },
    Edit {
        root: "visit",
        technician: true,
        dispatcher: false,
        apply: |d, s| {
            put_under(
                d,
                &["visit", "arrival"],
                "at",
                ScalarValue::Timestamp(i64::from(s) + 3),
            )
        },
    },
    Edit {
        root: "visit",
        technician: true,
        dispatcher: false,
        apply: |d, s| match find(d, &["visit", "work_notes"]) {
            Some(notes) => d.splice_text(&notes, 0, 0, &format!("{s} ")).is_ok(),
            None => false,
        },
    },
    Edit {
        root: "visit",
        technician: true,
        dispatcher: false,
        apply: |d, s| match find(d, &["visit", "permissions"]) {
            Some(list) => {
                let grant = d.insert_object(&list, 0, ObjType::Map).unwrap();
                d.put(&grant, "item", fresh(s)).is_ok()
            }
            None => false,
        },
    },
    Edit {
        root: "visit",
        technician: true,
        dispatcher: false,
        apply: |d, _| delete_under(d, &["visit"], "signature"),
    },
    Edit {
        root: "visit",
        technician: true,
        dispatcher: false,
        apply: |d, s| {
            put_under(
                d,
                &["visit", "feedback_cards", "0"],
                "rating",
                ScalarValue::Uint(u64::from(s % 5) + 10),
            )
        },
    },
    Edit {
        root: "visit",
        technician: true,
        dispatcher: false,
        apply: |d, _| match find(d, &["visit"]) {
            Some(visit) => d.put_object(&visit, "cleanup", ObjType::Map).is_ok(),
            None => false,
        },
    },
    Edit {
        root: "visit",
        technician: true,
        dispatcher: false,
        apply: |d, _| delete_under(d, &[], "visit"),
    },
    Edit {
        root: "timeline",
        technician: true,
        dispatcher: true,
        apply: |d, s| match find(d, &["timeline"]) {
            Some(list) => {
                let end = d.length(&list);
                let event = d.insert_object(&list, end, ObjType::Map).unwrap();
                d.put(&event, "kind", fresh(s)).is_ok()
            }
            None => false,
        },
    },
    Edit {
        root: "timeline",
        technician: false,
        dispatcher: false,
        apply: |d, s| put_under(d, &["timeline", "0"], "kind", fresh(s)),
    },
    Edit {
        root: "timeline",
        technician: false,
        dispatcher: false,
        apply: |d, _| match find(d, &["timeline"]) {
            Some(list) if d.length(&list) > 0 => d.delete(&list, 0).is_ok(),
            _ => false,
        },
    },
    Edit {
        root: "timeline",
        technician: false,
        dispatcher: false,
        apply: |d, s| match find(d, &["timeline"]) {
            // At the end, so the "delete event 0" edit cannot undo it within one batch.
            Some(list) => {
                let end = d.length(&list);
                d.insert(&list, end, fresh(s)).is_ok()
            }
            None => false,
        },
    },
    Edit {
        root: "schema_version",
        technician: false,
        dispatcher: false,
        apply: |d, s| {
            put_under(
                d,
                &[],
                "schema_version",
                ScalarValue::Uint(u64::from(s) + 2),
            )
        },
    },
    Edit {
        root: "extra",
        technician: false,
        dispatcher: false,
        apply: |d, s| put_under(d, &[], "extra", fresh(s)),
    },
];

fn allowed(edit: &Edit, role: Role) -> bool {
    match role {
        Role::Technician => edit.technician,
        Role::Dispatcher => edit.dispatcher,
        Role::RevisitCaller => false,
        Role::Server => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Any sequence of edits is reported exactly when it holds an edit the role may not make,
    /// and only under root keys of such edits; with or without a concurrent dispatcher change
    /// (so forbidden writes may lose a conflict and still be caught).
    #[test]
    fn forbidden_edits_are_caught_and_allowed_ones_pass(
        picks in prop::collection::vec((0..EDITS.len(), any::<u32>()), 1..6),
        concurrent in any::<bool>(),
    ) {
        let mut base = complete_job();
        let mut peer = base.fork().with_actor(ActorId::random());
        if concurrent {
            // Only puts and appends: a peer deleting what the dispatcher also deleted changes
            // nothing in the merged document, and the check (rightly) reports nothing for it.
            DispatcherActions::new(&mut base, DISPATCHER).reassign("tech-zhao", at(1)).unwrap();
            let customer = obj(&base, &["customer"]);
            base.put(&customer, "name", "Concurrent Name").unwrap();
            let appointment = obj(&base, &["appointment"]);
            base.put(&appointment, "window_start", ScalarValue::Timestamp(1)).unwrap();
            base.commit();
        }
        let applied: Vec<&Edit> = picks
            .iter()
            .filter(|(index, seed)| (EDITS[*index].apply)(&mut peer, *seed))
            .map(|(index, _)| &EDITS[*index])
            .collect();
        peer.commit();
        let before = base.get_heads();
        let unmerged = base.document().clone();
        let peer_changes: Vec<automerge::Change> = peer
            .document()
            .get_changes(&[])
            .into_iter()
            .filter(|c| unmerged.get_change_by_hash(&c.hash()).is_none())
            .collect();
        base.merge(&mut peer).unwrap();
        for role in [Role::Technician, Role::Dispatcher, Role::RevisitCaller, Role::Server] {
            let found = check_since(base.document(), &before, role).unwrap();
            // The patches logged while applying (what a sync server uses) say the same as the
            // diff between the heads.
            let logged = check_new_changes(&unmerged, peer_changes.clone(), role).unwrap();
            prop_assert_eq!(&logged, &found, "{}: logged patches and diff disagree", role);
            let forbidden: Vec<&str> = applied
                .iter()
                .filter(|edit| !allowed(edit, role))
                .map(|edit| edit.root)
                .collect();
            prop_assert_eq!(found.is_empty(), forbidden.is_empty(), "{} {:?}", role, found);
            for violation in &found {
                let root = violation.path.split('/').nth(1).unwrap_or_default();
                prop_assert!(forbidden.contains(&root), "{} reported {}", role, violation);
            }
        }
    }
}
