//! Revisits (客户回访): every completed job gets a call back, complaint jobs sooner, key
//! customers also on a schedule. Made by someone who did not handle the job; outcomes are
//! recorded and archived, append-only.

pub mod analysis;
pub mod archive;
pub mod desk;
pub mod policy;
pub mod queue;
mod schedule;

pub use schedule::schedule_revisits;
