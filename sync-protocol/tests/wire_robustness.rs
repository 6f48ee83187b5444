//! Hostile and broken frames give typed errors, never a panic: hand-made broken fixtures
//! (`fixtures-gen/broken.mjs`), every truncation of every captured frame, and random bytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use proptest::prelude::*;
use sync_protocol::message::{DecodeError, DecodeLimits, WireMessage};

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(name)
}

fn variant(error: &DecodeError) -> &'static str {
    match error {
        DecodeError::TooLarge { .. } => "TooLarge",
        DecodeError::Empty => "Empty",
        DecodeError::Truncated { .. } => "Truncated",
        DecodeError::TrailingBytes { .. } => "TrailingBytes",
        DecodeError::InvalidCbor { .. } => "InvalidCbor",
        DecodeError::TooDeep { .. } => "TooDeep",
        DecodeError::NotAMap => "NotAMap",
        DecodeError::NonTextKey => "NonTextKey",
        DecodeError::DuplicateField { .. } => "DuplicateField",
        DecodeError::MissingField { .. } => "MissingField",
        DecodeError::WrongFieldType { .. } => "WrongFieldType",
        DecodeError::UnknownType { .. } => "UnknownType",
        DecodeError::InvalidDocumentId { .. } => "InvalidDocumentId",
        DecodeError::FieldTooLong { .. } => "FieldTooLong",
    }
}

#[test]
fn each_broken_fixture_gives_its_typed_error() {
    let text = fs::read_to_string(dir("broken").join("expected.json")).expect("expected.json");
    let expected: BTreeMap<String, String> = serde_json::from_str(&text).expect("JSON");
    assert!(expected.len() >= 15);
    for (file, error) in expected {
        let frame = fs::read(dir("broken").join(&file)).expect("fixture");
        let result = WireMessage::decode(&frame, &DecodeLimits::default());
        if error.starts_with("session:") {
            // The frame is fine; its payload is for the session tests to refuse.
            assert!(result.is_ok(), "{file}: {result:?}");
            continue;
        }
        let got = result.expect_err(&file);
        assert_eq!(variant(&got), error, "{file}: {got}");
        assert!(!got.to_string().is_empty());
    }
}

#[test]
fn every_truncation_of_every_captured_frame_is_an_error() {
    for entry in fs::read_dir(dir("js")).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "cbor") {
            continue;
        }
        let frame = fs::read(&path).expect("fixture");
        for cut in 0..frame.len() {
            let result = WireMessage::decode(&frame[..cut], &DecodeLimits::default());
            assert!(result.is_err(), "{} cut at {cut} decoded", path.display());
        }
    }
}

#[test]
fn the_size_limit_applies_before_decoding() {
    let limits = DecodeLimits {
        max_message_bytes: 10,
        ..DecodeLimits::default()
    };
    // Eleven bytes of garbage: refused for size, not parsed.
    let error = WireMessage::decode(&[0xff; 11], &limits).expect_err("too large");
    assert_eq!(
        error,
        DecodeError::TooLarge {
            size: 11,
            limit: 10
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = WireMessage::decode(&bytes, &DecodeLimits::default());
    }

    #[test]
    fn mutated_captured_frames_never_panic(
        index in 0usize..17,
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut files: Vec<PathBuf> = fs::read_dir(dir("js"))
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "cbor"))
            .collect();
        files.sort();
        let mut frame = fs::read(&files[index % files.len()]).expect("fixture");
        let at = position.index(frame.len());
        frame[at] = byte;
        if let Ok(message) = WireMessage::decode(&frame, &DecodeLimits::default()) {
            // Whatever decodes must encode and decode to the same message.
            let again = WireMessage::decode(&message.encode(), &DecodeLimits::default());
            prop_assert_eq!(again, Ok(message));
        }
    }
}
