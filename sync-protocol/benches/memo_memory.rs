//! Memory a job's read memo holds beside its document.
//!
//! The server keeps, with each job it has in its document cache and has taken a sync change
//! for, a `ReadMemo`: the timeline and work items as last read, so the next read reads only
//! what a change touched. The cache is bounded by a number of documents, not bytes, so what a
//! memo weighs against its document says how much the bound really holds. This counts the bytes
//! live on the heap (a counting allocator around the system one) for a job as booked and after
//! 50, 300 and 1,200 technician edits (a work item and its timeline event each, as the load
//! benchmark makes them): the document as loaded from its save, the memo after one read, and
//! the read job itself (what a projection holds while it is written).
//!
//! `cargo bench -p sync-protocol --bench memo_memory`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use automerge::Automerge;
use sync_protocol::job::{JobDocument, ReadMemo};

#[path = "../tests/job_support/mod.rs"]
mod job_support;

/// Bytes live on the heap now.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is passed to the system allocator unchanged; the counter only observes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the system allocator's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What `make` leaves live on the heap, with what it made.
fn weigh<T>(make: impl FnOnce() -> T) -> (T, isize) {
    let before = LIVE.load(Ordering::Relaxed);
    let made = make();
    (made, LIVE.load(Ordering::Relaxed) - before)
}

fn main() {
    println!("| edits | saved | document in memory | read memo | read job |");
    println!("|---|---|---|---|---|");
    for edits in [0, 50, 300, 1200] {
        let saved = job_support::worked_job(edits).save();
        let (doc, document) = weigh(|| Automerge::load(&saved).expect("loads"));
        let (memo, memo_bytes) = weigh(|| {
            let mut memo = ReadMemo::default();
            JobDocument::read_remembering(&doc, &mut memo).expect("reads");
            memo
        });
        let (job, job_bytes) = weigh(|| JobDocument::read(&doc).expect("reads"));
        println!(
            "| {edits} | {:.1} KiB | {:.1} KiB | {:.1} KiB ({} elements) | {:.1} KiB |",
            saved.len() as f64 / 1024.0,
            document as f64 / 1024.0,
            memo_bytes as f64 / 1024.0,
            memo.len(),
            job_bytes as f64 / 1024.0,
        );
        drop((job, memo, doc));
    }
}
