//! The Fieldsync tablet core. It depends on `sync-protocol` and never on the server.
//!
//! The local store, sync engine, upload queue and domain operations arrive with the
//! field-client issue; today the crate only fixes the dependency direction.

pub use sync_protocol;
