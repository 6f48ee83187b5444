//! The fault suite: the real binaries under crashes, outages and abuse, checked by what a
//! technician or the office would see: nothing acknowledged is lost, nothing is stored twice,
//! nothing is reported done that is not stored, every bad input is a clear refusal, and the
//! server recovers without a restart where it can.
//!
//! - [`crash_loop`]: `kill -9` of the server at random moments while tablets record and sync,
//!   with a ledger of every note a sync acknowledged (exit 0). `FIELDSYNC_FAULT_ROUNDS` (default
//!   6) and `FIELDSYNC_FAULT_SEED` (default fixed) set its length and kill points;
//!   `scripts/faults --rounds N` runs a long one.
//! - [`uploads`]: `kill -9` while a `PATCH` streams and between its parts, and the states a crash
//!   leaves at each step of finishing; the tablet resumes within seconds.
//! - [`database`]: PostgreSQL stopped and started under a running server with open sync
//!   connections and a tablet syncing.
//! - [`object_store`]: the object store cut off (a proxy switched off) during uploads.
//! - [`malformed`]: a corpus of broken sync frames and HTTP bodies.
//!
//! A webhook receiver that is down and then back is `e2e`'s
//! `webhooks::a_receiver_that_fails_then_recovers_gets_each_event_once_on_the_schedule`.

// Tests fail by panicking; `unwrap` on what cannot go wrong in a working system is the point.
#![allow(clippy::unwrap_used)]

mod crash_loop;
mod database;
mod malformed;
mod object_store;
mod support;
mod uploads;
