//! `JobDocument::load` on hostile input: truncated, corrupted and random bytes, and documents
//! whose every field has the wrong type. Always a typed error, never a panic.
#![allow(clippy::unwrap_used)]

mod job_support;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use job_support::*;
use proptest::prelude::*;
use sync_protocol::job::{JobDocument, JobError};

fn saved_complete_job() -> Vec<u8> {
    complete_job().save()
}

#[test]
fn every_truncation_of_a_saved_job_is_an_error_or_the_job() {
    let bytes = saved_complete_job();
    let full = JobDocument::load(&bytes).unwrap();
    for end in 0..bytes.len() {
        match JobDocument::load(&bytes[..end]) {
            Ok(job) => assert_eq!(job, full, "prefix of {end} bytes read as a different job"),
            Err(JobError::NotAutomerge(_) | JobError::Missing { .. }) => {}
            Err(other) => panic!("prefix of {end} bytes: unexpected {other:?}"),
        }
    }
}

#[test]
fn empty_and_foreign_bytes_are_typed_errors() {
    // An empty input loads as an empty Automerge document, which lacks the schema version.
    assert_eq!(
        JobDocument::load(&[]),
        Err(JobError::Missing {
            path: "/schema_version".into()
        })
    );
    assert!(matches!(
        JobDocument::load(b"{\"schema_version\": 1}"),
        Err(JobError::NotAutomerge(_))
    ));
}

/// Every scalar and object type, to put where the schema expects something else.
fn wrong_values() -> Vec<Option<ScalarValue>> {
    vec![
        None, // an empty map object
        Some(ScalarValue::Null),
        Some(ScalarValue::Boolean(true)),
        Some(ScalarValue::Int(-1)),
        Some(ScalarValue::Uint(u64::MAX)),
        Some(ScalarValue::F64(f64::NAN)),
        Some(ScalarValue::F64(1.5)),
        Some(ScalarValue::Bytes(vec![0xff, 0])),
        Some(ScalarValue::Str("".into())),
        Some(ScalarValue::Timestamp(i64::MIN)),
        Some(ScalarValue::counter(3)),
    ]
}

/// Paths of every map in a complete job, with its keys.
fn all_fields(doc: &AutoCommit) -> Vec<(ObjId, String)> {
    let mut out = Vec::new();
    let mut stack = vec![ROOT];
    while let Some(obj) = stack.pop() {
        let kind = doc.object_type(&obj).unwrap();
        let props: Vec<automerge::Prop> = match kind {
            ObjType::Map | ObjType::Table => doc.keys(&obj).map(Into::into).collect(),
            ObjType::List => (0..doc.length(&obj)).map(Into::into).collect(),
            ObjType::Text => Vec::new(),
        };
        for prop in props {
            if let Some((value, child)) = doc.get(&obj, prop.clone()).unwrap() {
                if let automerge::Prop::Map(key) = &prop {
                    out.push((obj.clone(), key.clone()));
                }
                if matches!(value, automerge::Value::Object(_)) {
                    stack.push(child);
                }
            }
        }
    }
    out
}

#[test]
fn any_field_with_any_wrong_value_never_panics() {
    let base = complete_job();
    let fields = all_fields(&base);
    assert!(fields.len() > 60, "only {} fields found", fields.len());
    for (obj, key) in &fields {
        for value in wrong_values() {
            let mut doc = base.clone();
            match value {
                Some(scalar) => doc.put(obj, key.as_str(), scalar).unwrap(),
                None => {
                    doc.put_object(obj, key.as_str(), ObjType::Map).unwrap();
                }
            }
            let bytes = doc.save();
            // Ok is fine (optional field set to null, a tolerated number...); a panic is not.
            let _ = JobDocument::load(&bytes);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = JobDocument::load(&bytes);
    }

    #[test]
    fn corrupted_saves_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = saved_complete_job();
        for (index, byte) in flips {
            let at = index.index(bytes.len());
            bytes[at] ^= byte | 1;
        }
        let _ = JobDocument::load(&bytes);
    }
}
