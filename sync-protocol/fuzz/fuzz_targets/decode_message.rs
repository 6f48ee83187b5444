//! Any frame a peer can send: decoding must return a message or a typed error, never panic, and
//! whatever decodes must survive an encode/decode round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_protocol::message::{DecodeLimits, WireMessage};

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits::default();
    if let Ok(message) = WireMessage::decode(data, &limits) {
        let again = WireMessage::decode(&message.encode(), &limits);
        assert_eq!(again.as_ref(), Ok(&message));
    }
});
