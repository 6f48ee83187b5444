//! The Fieldsync tablet core: everything a technician's tablet does offline. It depends on
//! `sync-protocol` and never on the server.
//!
//! - [`home`] and [`store`]: the home directory and the local SQLite store (documents, sync
//!   states, the upload queue, the event log, the login).
//! - [`tablet`]: the technician's operations on their jobs, each checked, applied with
//!   [`sync_protocol::job::TechnicianActions`] and committed before it returns.
//! - [`sync_seam`]: what the sync engine (async, online, built separately) reads and records.
//! - [`sync`] and [`tus`]: the online half (async): the sync engine and the upload queue.
//! - [`import`]: a support path that loads documents from files until sync exists.

pub mod attachment;
pub mod error;
pub mod home;
pub mod import;
pub mod job_ref;
pub mod login;
pub mod money;
pub mod signature_image;
pub mod status;
pub mod store;
pub mod sync;
pub mod sync_seam;
pub mod tablet;
pub mod tus;
pub mod ui;

pub use error::ClientError;
pub use home::Home;
pub use store::Store;
pub use sync_protocol;
pub use tablet::Tablet;
