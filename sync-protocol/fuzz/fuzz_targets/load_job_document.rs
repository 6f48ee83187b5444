//! Any bytes offered as a stored or uploaded job document: loading must return a document or a
//! typed error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sync_protocol::job::JobDocument::load(data);
});
