//! End-to-end tests of the `field` binary, offline: each runs the real binary against a fresh
//! home directory and checks what a technician (and the sync engine, later) would notice.

// Test helpers panic on unexpected failure; that is what they are for.
#![allow(clippy::unwrap_used)]

mod durability;
mod output;
mod refusals;
mod support;
mod visit;
