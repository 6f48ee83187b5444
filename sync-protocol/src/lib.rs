//! Fieldsync's sans-IO core, shared by the server and the tablet client.
//!
//! - [`document_id`]: automerge-repo document ids and `automerge:` URLs.
//! - [`message`]: the automerge-repo network protocol v1 messages and their CBOR encoding.
//! - [`session`]: per-peer, per-document sync state: messages in, messages and changes to persist out.
//! - [`job`]: the job document (schema v1), its typed API, field ownership and domain evaluation.
//! - [`index`]: the technician index document listing a technician's jobs.
//!
//! Nothing here does I/O: no async runtime, no database, no HTTP.

pub mod chunk;
pub mod document_id;
pub mod index;
pub mod job;
pub mod message;
pub mod session;

pub use document_id::{DocumentId, DocumentIdError};
