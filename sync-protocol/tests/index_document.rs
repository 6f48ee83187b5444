//! The technician index document: written by the server, read by the tablet.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc};
use job_support::*;
use sync_protocol::DocumentId;
use sync_protocol::index::{IndexError, IndexedJob, TechnicianIndex};
use sync_protocol::job::{DispatchState, DispatcherActions, JobDocument, JobError};

fn line(job_id: DocumentId, minutes: i64) -> IndexedJob {
    let mut doc = JobDocument::create(&new_job()).unwrap();
    DispatcherActions::new(&mut doc, DISPATCHER)
        .reschedule(at(minutes), at(minutes + 120), at(-1))
        .unwrap();
    IndexedJob::from_job(job_id, &JobDocument::read(&doc).unwrap())
}

#[test]
fn jobs_are_listed_in_window_order_and_survive_save_and_load() {
    let mut doc = TechnicianIndex::create(TECHNICIAN).unwrap();
    let (first, second) = (DocumentId::random(), DocumentId::random());
    TechnicianIndex::upsert_job(&mut doc, &line(second, 240)).unwrap();
    TechnicianIndex::upsert_job(&mut doc, &line(first, 0)).unwrap();
    let index = TechnicianIndex::load(&doc.save()).unwrap();
    assert_eq!(index.technician_id, TECHNICIAN);
    let ids: Vec<_> = index.jobs.iter().map(|j| j.job_id).collect();
    assert_eq!(ids, [first, second]);
    assert_eq!(index.jobs[0].customer_name, "Wang Fang");
    assert_eq!(index.jobs[0].window_start, at(0));
    assert_eq!(index.jobs[0].state, DispatchState::Open);
}

#[test]
fn upserting_updates_in_place_and_removing_is_idempotent() {
    let mut doc = TechnicianIndex::create(TECHNICIAN).unwrap();
    let id = DocumentId::random();
    TechnicianIndex::upsert_job(&mut doc, &line(id, 0)).unwrap();
    let mut cancelled = line(id, 60);
    cancelled.state = DispatchState::Cancelled;
    TechnicianIndex::upsert_job(&mut doc, &cancelled).unwrap();
    let index = TechnicianIndex::read(&doc).unwrap();
    assert_eq!(index.jobs, [cancelled]);
    assert!(TechnicianIndex::remove_job(&mut doc, id).unwrap());
    assert!(!TechnicianIndex::remove_job(&mut doc, id).unwrap());
    assert_eq!(TechnicianIndex::read(&doc).unwrap().jobs, []);
}

#[test]
fn concurrent_server_writes_merge() {
    let mut a = TechnicianIndex::create(TECHNICIAN).unwrap();
    let mut b = a.fork();
    TechnicianIndex::upsert_job(&mut a, &line(DocumentId::random(), 0)).unwrap();
    TechnicianIndex::upsert_job(&mut b, &line(DocumentId::random(), 30)).unwrap();
    a.merge(&mut b).unwrap();
    assert_eq!(TechnicianIndex::read(&a).unwrap().jobs.len(), 2);
}

#[test]
fn malformed_indexes_are_typed_errors() {
    let mut doc = TechnicianIndex::create(TECHNICIAN).unwrap();
    let jobs = doc.get(ROOT, "jobs").unwrap().unwrap().1;
    let entry = doc.put_object(&jobs, "not-an-id", ObjType::Map).unwrap();
    doc.put(&entry, "kind", "repair").unwrap();
    let error = TechnicianIndex::read(&doc).unwrap_err();
    assert!(matches!(
        error,
        IndexError::Malformed(JobError::Invalid { ref path, .. }) if path == "/jobs/not-an-id"
    ));

    let mut doc = TechnicianIndex::create(TECHNICIAN).unwrap();
    doc.put(ROOT, "schema_version", 9_u64).unwrap();
    assert_eq!(
        TechnicianIndex::read(&doc),
        Err(IndexError::UnsupportedSchema { found: 9 })
    );
    assert!(matches!(
        TechnicianIndex::load(b"garbage"),
        Err(IndexError::NotAutomerge(_))
    ));
    assert!(matches!(
        TechnicianIndex::load(&[]),
        Err(IndexError::Malformed(JobError::Missing { .. }))
    ));
}

#[test]
fn the_index_serializes_with_document_ids_as_strings() {
    let id = DocumentId::random();
    let json = serde_json::to_value(line(id, 0)).unwrap();
    assert_eq!(json["job_id"], id.to_string());
    assert_eq!(json["state"], "open");
}
