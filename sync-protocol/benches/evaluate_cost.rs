//! What evaluating a long job costs: the server evaluates a job (completion and review flags;
//! once the customer has signed, also the canonical summary's SHA-256, to compare with the
//! signed one) for every edit it projects, and both grow with the visit.
//!
//! A job as booked (the job tests' fixture) with 300 technician edits (a work item and its
//! timeline event each), and the same job signed after them, each read once; then five rounds
//! of 2,000 calls each of `summary_sha256` and of `evaluate` on each, each round's mean per call
//! in microseconds.
//!
//! `cargo bench -p sync-protocol --bench evaluate_cost`

use std::collections::BTreeSet;
use std::time::Instant;

use sync_protocol::job::{JobDocument, Sha256Hex, TechnicianActions};

#[path = "../tests/job_support/mod.rs"]
mod job_support;

const EDITS: usize = 300;
const CALLS: u32 = 2_000;
const ROUNDS: usize = 5;

fn main() {
    let mut doc = job_support::worked_job(EDITS);
    let job = JobDocument::read(&doc).expect("reads");
    TechnicianActions::new(&mut doc, job_support::TECHNICIAN)
        .capture_signature(&job_support::signature(), job_support::at(EDITS as i64))
        .expect("signs");
    let signed = JobDocument::read(&doc).expect("reads");
    let stored = BTreeSet::<Sha256Hex>::new();
    println!(
        "| round ({EDITS} work items) | summary_sha256 | evaluate, not signed | evaluate, signed (summary included) |"
    );
    println!("|---|---|---|---|");
    for round in 1..=ROUNDS {
        let started = Instant::now();
        for _ in 0..CALLS {
            std::hint::black_box(job.summary_sha256());
        }
        let summary = started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS);
        let started = Instant::now();
        for _ in 0..CALLS {
            std::hint::black_box(job.evaluate(&stored, None));
        }
        let evaluate = started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS);
        let started = Instant::now();
        for _ in 0..CALLS {
            std::hint::black_box(signed.evaluate(&stored, None));
        }
        let evaluate_signed = started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS);
        println!("| {round} | {summary:.1} µs | {evaluate:.1} µs | {evaluate_signed:.1} µs |");
    }
}
