//! A job read with a memo of the previous read (after being told each change's patches) is the
//! job read from scratch, whatever the changes did to the remembered lists.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Automerge, ObjType, PatchLog, ReadDoc};
use job_support::*;
use proptest::prelude::*;
use sync_protocol::job::{JobDocument, ReadMemo, TechnicianActions};

/// One change a peer may make to the lists a memo keeps.
fn edit(doc: &mut AutoCommit, pick: u8, seed: u32) {
    let items = find(doc, &["visit", "work_items"]);
    let timeline = obj(doc, &["timeline"]);
    let count = items.as_ref().map_or(0, |list| doc.length(list));
    let nth = |count: usize| (seed as usize) % count.max(1);
    match pick % 9 {
        // Append a work item (and its timeline event), as the tablet does.
        0 | 1 => TechnicianActions::new(doc, TECHNICIAN)
            .add_work_item(&format!("滤芯 {seed}"), 1 + u64::from(seed % 3), at(5))
            .unwrap(),
        // Change a field of a work item already read.
        2 if count > 0 => {
            let item = doc
                .get(items.as_ref().unwrap(), nth(count))
                .unwrap()
                .unwrap()
                .1;
            doc.put(&item, "quantity", u64::from(seed % 7) + 1).unwrap();
        }
        // Replace a work item's description with a text object, then edit the text.
        3 if count > 0 => {
            let item = doc
                .get(items.as_ref().unwrap(), nth(count))
                .unwrap()
                .unwrap()
                .1;
            let text = doc.put_object(&item, "description", ObjType::Text).unwrap();
            doc.splice_text(&text, 0, 0, &format!("更换 {seed}"))
                .unwrap();
        }
        // Remove a work item.
        4 if count > 0 => doc.delete(items.as_ref().unwrap(), nth(count)).unwrap(),
        // Edit outside the two lists: the work notes and the customer's name.
        6 => {
            TechnicianActions::new(doc, TECHNICIAN)
                .add_work_note(&format!("备注 {seed}"), at(6))
                .unwrap();
            let customer = obj(doc, &["customer"]);
            doc.put(&customer, "name", format!("王 {seed}")).unwrap();
        }
        // Insert a work item before the others (not an append).
        7 => {
            let list = match items {
                Some(list) => list,
                None => {
                    let visit = obj(doc, &["visit"]);
                    doc.put_object(&visit, "work_items", ObjType::List).unwrap()
                }
            };
            let item = doc.insert_object(&list, 0, ObjType::Map).unwrap();
            doc.put(&item, "description", format!("先 {seed}")).unwrap();
            doc.put(&item, "quantity", 1_u64).unwrap();
        }
        // Append a work item and, in the same change, edit one read before.
        8 if count > 0 => {
            let list = items.unwrap();
            let item = doc.insert_object(&list, count, ObjType::Map).unwrap();
            doc.put(&item, "description", format!("后 {seed}")).unwrap();
            doc.put(&item, "quantity", 2_u64).unwrap();
            let earlier = doc.get(&list, nth(count)).unwrap().unwrap().1;
            doc.put(&earlier, "quantity", u64::from(seed % 5) + 3)
                .unwrap();
        }
        // Change a timeline event's detail in place.
        _ => {
            let events = doc.length(&timeline);
            let event = doc.get(&timeline, nth(events)).unwrap().unwrap().1;
            doc.put(&event, "detail", format!("补充 {seed}")).unwrap();
        }
    }
    doc.commit();
}

/// Applies `changes` to a copy of `before`, as a sync server does, and returns the result
/// with the patches logged on the way.
fn apply_logged(
    before: &Automerge,
    changes: Vec<automerge::Change>,
) -> (Automerge, Vec<automerge::Patch>) {
    let mut after = before.clone();
    let mut log = PatchLog::active();
    after.apply_changes_log_patches(changes, &mut log).unwrap();
    let patches = after.make_patches(&mut log);
    (after, patches)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_remembering_read_equals_a_fresh_read(
        steps in prop::collection::vec((any::<u8>(), any::<u32>(), any::<bool>()), 1..12),
    ) {
        let mut server = complete_job().document().clone();
        let mut memo = ReadMemo::default();
        JobDocument::read_remembering(&server, &mut memo).unwrap();
        prop_assert!(!memo.is_empty());
        let mut tablet = AutoCommit::load(&server.save()).unwrap().with_actor(ActorId::random());
        for (pick, seed, concurrent) in steps {
            let heads = server.get_heads();
            edit(&mut tablet, pick, seed);
            if concurrent {
                // Another writer's change lands first; the tablet's arrives after it.
                let mut other = AutoCommit::load(&server.save()).unwrap().with_actor(ActorId::random());
                edit(&mut other, pick.wrapping_add(1), seed.wrapping_add(1));
                let (merged, patches) = apply_logged(&server, other.document().get_changes(&heads));
                server = merged;
                memo.forget_touched(&patches);
                prop_assert_eq!(
                    JobDocument::read_remembering(&server, &mut memo).unwrap(),
                    JobDocument::read(&server).unwrap()
                );
            }
            let theirs: Vec<automerge::Change> = tablet
                .document()
                .get_changes(&[])
                .into_iter()
                .filter(|c| server.get_change_by_hash(&c.hash()).is_none())
                .collect();
            let (merged, patches) = apply_logged(&server, theirs);
            server = merged;
            memo.forget_touched(&patches);
            let fresh = JobDocument::read(&server).unwrap();
            prop_assert_eq!(
                JobDocument::read_remembering(&server, &mut memo).unwrap(),
                fresh.clone()
            );
            // It keeps nothing the job no longer has (a deleted work item is let go).
            prop_assert!(memo.len() <= fresh.timeline.len() + fresh.visit.work_items.len());
            tablet.merge(&mut AutoCommit::load(&server.save()).unwrap()).unwrap();
        }
    }
}

/// Without being told a change's patches the memo is stale: the reason callers must start a
/// fresh memo when they cannot account for a change. (Shows the test above can fail.)
#[test]
fn a_memo_not_told_of_a_change_reads_stale_elements() {
    let mut doc = complete_job();
    TechnicianActions::new(&mut doc, TECHNICIAN)
        .add_work_item("滤芯", 1, at(5))
        .unwrap();
    doc.commit();
    let mut memo = ReadMemo::default();
    JobDocument::read_remembering(doc.document(), &mut memo).unwrap();
    let items = obj(&doc, &["visit", "work_items"]);
    let item = doc.get(&items, 0).unwrap().unwrap().1;
    doc.put(&item, "quantity", 9_u64).unwrap();
    doc.commit();
    let stale = JobDocument::read_remembering(doc.document(), &mut memo).unwrap();
    let fresh = JobDocument::read(doc.document()).unwrap();
    assert_ne!(stale, fresh);
    assert_eq!(fresh.visit.work_items[0].quantity, 9);
}
