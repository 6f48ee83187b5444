//! Fieldsync's sans-IO core, shared by the server and the tablet client.
//!
//! - [`document_id`]: automerge-repo document ids and `automerge:` URLs.
//!
//! The job document, the wire messages and sync sessions arrive with the sync-protocol issue.
//! Nothing here does I/O: no async runtime, no database, no HTTP.

pub mod document_id;

pub use document_id::{DocumentId, DocumentIdError};
