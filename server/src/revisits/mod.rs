//! Revisits (客户回访): every completed job gets a call back, complaint jobs sooner, key
//! customers also on a schedule. Made by someone who did not handle the job; outcomes are
//! recorded and archived, append-only.

mod http;
mod schedule;

pub use http::routes;
pub use schedule::schedule_revisits;
