//! Resumable uploads of evidence photos and signatures: tus 1.0.0 (core, creation, termination,
//! checksum, expiration) under `/api/v1/uploads`, streamed into object storage, verified against
//! the whole file's SHA-256 before anything becomes visible, stored once per content.

mod checksum;
mod derive;
mod finish;
pub mod metadata;
pub mod objects;
mod protocol;
pub mod record;
mod sweep;

pub use protocol::{MAX_UPLOAD_BYTES, PART_BYTES, TUS_VERSION, routes};
pub use sweep::sweep;
