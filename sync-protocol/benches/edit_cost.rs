//! What one technician edit costs in Automerge and in the job reader, step by step, on both
//! ends of a sync: the floor under the server's CPU per edit that no server code can go below
//! while it applies every change and projects every job.
//!
//! A tablet and the server each hold the job (the job tests' booking fixture); the tablet makes
//! an edit as the load benchmark's tablets do (a work item and its timeline event, one change),
//! sends it, the server applies it to a copy of its document with Automerge's patch log (as a
//! candidate is made before it is committed), answers with its heads, the tablet takes the
//! answer and acknowledges it, and the server takes the acknowledgement. Each step is timed on
//! its own over 50 edits (after a warm-up of 5), at two sizes of the job: its first 50 edits
//! and edits 251 to 300. Beside them, for reference: applying the same change without a patch
//! log, and the project's own reading and evaluation of the job after the edit.
//!
//! No network, no PostgreSQL: this is the work in the documents alone. Five rounds; the table
//! gives the median round's mean per edit, in microseconds.
//!
//! `cargo bench -p sync-protocol --bench edit_cost`

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, Automerge, PatchLog};
use sync_protocol::job::{JobDocument, ReadMemo, Sha256Hex};

#[path = "../tests/job_support/mod.rs"]
mod job_support;

/// Edits timed at each size, and the warm-up before them.
const TIMED: usize = 50;
const WARM_UP: usize = 5;
const ROUNDS: usize = 5;

/// The steps of one edit's round trip, in the order they happen.
const STEPS: [&str; 13] = [
    "tablet: make the edit (one change)",
    "tablet: sync message with the change",
    "server: copy the document (the candidate)",
    "server: apply the message, with patch log",
    "server: patches from the log",
    "server: answer (its heads)",
    "tablet: take the answer",
    "tablet: acknowledge",
    "server: take the acknowledgement (when there is one)",
    "reference, server: apply the change alone, no patch log",
    "reference, server: apply the message, no patch log",
    "reference, server: read the job through its memo",
    "reference, server: evaluate the job",
];

/// Edits, over every round, whose answer the tablet acknowledged with a message of its own
/// (Automerge's tablet usually has nothing more to say once the server's heads include its edit),
/// and the edits made.
static ACKNOWLEDGED: AtomicUsize = AtomicUsize::new(0);
static EDITS: AtomicUsize = AtomicUsize::new(0);

/// Both ends of one job, in sync.
struct Pair {
    tablet: AutoCommit,
    tablet_state: sync::State,
    server: Automerge,
    server_state: sync::State,
    memo: ReadMemo,
    edits: usize,
    /// Edits whose answer the tablet acknowledged with a message of its own.
    acknowledgements: usize,
}

impl Pair {
    fn new() -> Self {
        let mut booked: AutoCommit = JobDocument::create(&job_support::new_job()).expect("a job");
        let server = Automerge::load(&booked.save()).expect("loads");
        let mut pair = Self {
            tablet: AutoCommit::new(),
            tablet_state: sync::State::new(),
            server,
            server_state: sync::State::new(),
            memo: ReadMemo::default(),
            edits: 0,
            acknowledgements: 0,
        };
        pair.converge();
        JobDocument::read_remembering(&pair.server, &mut pair.memo).expect("reads");
        pair
    }

    /// Syncs both ends until neither has anything to say.
    fn converge(&mut self) {
        for _ in 0..10 {
            let from_server = self.server.generate_sync_message(&mut self.server_state);
            if let Some(message) = &from_server {
                self.tablet
                    .sync()
                    .receive_sync_message(&mut self.tablet_state, message.clone())
                    .expect("the tablet takes it");
            }
            let from_tablet = self
                .tablet
                .sync()
                .generate_sync_message(&mut self.tablet_state);
            if let Some(message) = &from_tablet {
                self.server
                    .receive_sync_message(&mut self.server_state, message.clone())
                    .expect("the server takes it");
            }
            if from_server.is_none() && from_tablet.is_none() {
                return;
            }
        }
        panic!("the tablet and the server did not converge");
    }

    /// One edit's round trip; the time of each step in `STEPS`.
    fn edit(&mut self) -> [Duration; STEPS.len()] {
        let mut took = [Duration::ZERO; STEPS.len()];
        let mut step = 0;
        let mut time = |f: &mut dyn FnMut()| {
            let started = Instant::now();
            f();
            took[step] += started.elapsed();
            step += 1;
        };
        let n = self.edits;
        self.edits += 1;

        let tablet = &mut self.tablet;
        time(&mut || job_support::technician_edit(tablet, n));
        let mut message = None;
        let tablet_state = &mut self.tablet_state;
        time(&mut || message = tablet.sync().generate_sync_message(tablet_state));
        let message = message.expect("the edit goes out");
        let change = tablet.get_last_local_change().expect("the edit").clone();

        let before = (self.server.clone(), self.server_state.clone());
        let server = &self.server;
        let mut candidate = None;
        time(&mut || candidate = Some(server.clone()));
        let mut candidate = candidate.expect("a copy");
        let mut log = PatchLog::active();
        let server_state = &mut self.server_state;
        time(&mut || {
            candidate
                .receive_sync_message_log_patches(server_state, message.clone(), &mut log)
                .expect("the server applies it");
        });
        let mut patches = Vec::new();
        time(&mut || patches = candidate.make_patches(&mut log));
        assert!(!patches.is_empty(), "the edit made patches");
        self.server = candidate;

        let mut answer = None;
        let server = &self.server;
        time(&mut || answer = server.generate_sync_message(server_state));
        let answer = answer.expect("the server answers");
        time(&mut || {
            tablet
                .sync()
                .receive_sync_message(tablet_state, answer.clone())
                .expect("the tablet takes the answer");
        });
        let mut ack = None;
        time(&mut || ack = tablet.sync().generate_sync_message(tablet_state));
        let server = &mut self.server;
        if let Some(ack) = ack {
            self.acknowledgements += 1;
            time(&mut || {
                server
                    .receive_sync_message(server_state, ack.clone())
                    .expect("the server takes the acknowledgement");
            });
        } else {
            time(&mut || {});
        }
        assert!(
            server.generate_sync_message(server_state).is_none() || n < WARM_UP,
            "nothing more to say after an acknowledged edit"
        );

        let mut applied = before.0.clone();
        time(&mut || {
            applied.apply_changes([change.clone()]).expect("applies");
        });
        assert_eq!(applied.get_heads(), server.get_heads());
        let (mut applied, mut state) = before;
        time(&mut || {
            applied
                .receive_sync_message(&mut state, message.clone())
                .expect("applies");
        });
        assert_eq!(applied.get_heads(), server.get_heads());

        self.memo.forget_touched(&patches);
        let memo = &mut self.memo;
        let mut job = None;
        time(&mut || job = Some(JobDocument::read_remembering(&*server, memo).expect("reads")));
        let job = job.expect("read");
        let stored = BTreeSet::<Sha256Hex>::new();
        time(&mut || {
            std::hint::black_box(job.evaluate(&stored, Some(job_support::at(n as i64))));
        });
        took
    }
}

/// Mean per edit of each step over `TIMED` edits, starting after `skip` edits (untimed).
fn round(skip: usize) -> [f64; STEPS.len()] {
    let mut pair = Pair::new();
    for _ in 0..skip.max(WARM_UP) {
        pair.edit();
    }
    let mut sum = [Duration::ZERO; STEPS.len()];
    for _ in 0..TIMED {
        for (total, took) in sum.iter_mut().zip(pair.edit()) {
            *total += took;
        }
    }
    ACKNOWLEDGED.fetch_add(pair.acknowledgements, Ordering::Relaxed);
    EDITS.fetch_add(pair.edits, Ordering::Relaxed);
    sum.map(|total| total.as_secs_f64() * 1e6 / TIMED as f64)
}

fn main() {
    let sizes = [0, 250];
    // medians[size][step]
    let medians: Vec<[f64; STEPS.len()]> = sizes
        .iter()
        .map(|&skip| {
            let rounds: Vec<[f64; STEPS.len()]> = (0..ROUNDS).map(|_| round(skip)).collect();
            std::array::from_fn(|step| {
                let mut values: Vec<f64> = rounds.iter().map(|r| r[step]).collect();
                values.sort_by(f64::total_cmp);
                values[ROUNDS / 2]
            })
        })
        .collect();
    println!("| step (µs per edit) | edits 1–50 | edits 251–300 |");
    println!("|---|---|---|");
    for (step, name) in STEPS.iter().enumerate() {
        println!(
            "| {name} | {:.1} | {:.1} |",
            medians[0][step], medians[1][step]
        );
    }
    println!(
        "\nThe tablet acknowledged the answer with a message of its own after {} of {} edits.\n",
        ACKNOWLEDGED.load(Ordering::Relaxed),
        EDITS.load(Ordering::Relaxed),
    );
    for (label, range) in [
        ("tablet, all its steps", [0, 1, 6, 7].as_slice()),
        (
            "server, Automerge alone (copy, apply, patches, answer, acknowledgement)",
            &[2, 3, 4, 5, 8],
        ),
        (
            "server, Automerge plus reading and evaluating the job",
            &[2, 3, 4, 5, 8, 11, 12],
        ),
    ] {
        let total = |m: &[f64; STEPS.len()]| range.iter().map(|&s| m[s]).sum::<f64>();
        println!(
            "| **{label}** | **{:.1}** | **{:.1}** |",
            total(&medians[0]),
            total(&medians[1])
        );
    }
}
