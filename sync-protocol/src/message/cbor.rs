//! The subset of CBOR (RFC 8949) that automerge-repo frames use, read and written the way
//! `cbor-x` writes them in automerge-repo 2.5 (`tagUint8Array: false`, `useRecords: false`):
//! minimal-length heads everywhere except maps, which always get a 16-bit length head (`0xb9`),
//! byte strings untagged, integers above 32 bits and fractions as float64, JS `undefined` as
//! simple value 23.
//!
//! The reader is our own rather than a serde codec so that it can refuse hostile input with
//! typed errors before allocating for it (declared lengths are checked against the bytes left),
//! bound nesting depth, and keep `undefined` distinct from `null` for byte-exact re-encoding.

use super::error::DecodeError;

/// A decoded CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Unsigned(u64),
    /// A negative integer: the value is `-1 - n`.
    Negative(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Tag(u64, Box<Value>),
    Bool(bool),
    Null,
    Undefined,
    Float(f64),
    /// Any other simple value.
    Simple(u8),
}

/// Tag 64 marks a Uint8Array in cbor-x's typed-array extension; older automerge-repo versions
/// wrote `data` fields with it, so we accept it around byte strings.
pub(crate) const TAG_UINT8_ARRAY: u64 = 64;

/// Reads exactly one data item spanning all of `input`.
pub(crate) fn read(input: &[u8], max_depth: usize) -> Result<Value, DecodeError> {
    let mut reader = Reader {
        input,
        pos: 0,
        max_depth,
    };
    let value = reader.item(0)?;
    if reader.pos != input.len() {
        return Err(DecodeError::TrailingBytes { offset: reader.pos });
    }
    Ok(value)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl Reader<'_> {
    fn item(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > self.max_depth {
            return Err(DecodeError::TooDeep {
                limit: self.max_depth,
            });
        }
        let start = self.pos;
        let initial = self.take(1)?[0];
        let major = initial >> 5;
        let info = initial & 0x1f;
        if major == 7 {
            return self.simple(info, start);
        }
        let argument = self.argument(info, start)?;
        Ok(match major {
            0 => Value::Unsigned(argument),
            1 => Value::Negative(argument),
            2 => Value::Bytes(self.take(self.length(argument)?)?.to_vec()),
            3 => {
                let bytes = self.take(self.length(argument)?)?;
                let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidCbor {
                    offset: start,
                    reason: "a text string is not valid UTF-8",
                })?;
                Value::Text(text.to_owned())
            }
            4 => {
                // Every item takes at least one byte, so the bytes left bound the capacity.
                let count = self.length(argument)?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.item(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let count = self.length(argument)?;
                let mut entries = Vec::with_capacity(count / 2);
                for _ in 0..count {
                    let key = self.item(depth + 1)?;
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Value::Map(entries)
            }
            _ => Value::Tag(argument, Box::new(self.item(depth + 1)?)),
        })
    }

    fn argument(&mut self, info: u8, start: usize) -> Result<u64, DecodeError> {
        Ok(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(self.array()?)),
            26 => u64::from(u32::from_be_bytes(self.array()?)),
            27 => u64::from_be_bytes(self.array()?),
            31 => {
                return Err(DecodeError::InvalidCbor {
                    offset: start,
                    reason: "indefinite-length items are not used by automerge-repo",
                });
            }
            _ => {
                return Err(DecodeError::InvalidCbor {
                    offset: start,
                    reason: "reserved additional information value",
                });
            }
        })
    }

    fn simple(&mut self, info: u8, start: usize) -> Result<Value, DecodeError> {
        Ok(match info {
            20 => Value::Bool(false),
            21 => Value::Bool(true),
            22 => Value::Null,
            23 => Value::Undefined,
            24 => Value::Simple(self.take(1)?[0]),
            25 => Value::Float(half_to_f64(u16::from_be_bytes(self.array()?))),
            26 => Value::Float(f64::from(f32::from_be_bytes(self.array()?))),
            27 => Value::Float(f64::from_be_bytes(self.array()?)),
            0..=19 => Value::Simple(info),
            _ => {
                return Err(DecodeError::InvalidCbor {
                    offset: start,
                    reason: "a break or reserved simple value outside an indefinite item",
                });
            }
        })
    }

    /// A declared length, refused if more than the bytes left could hold.
    fn length(&self, declared: u64) -> Result<usize, DecodeError> {
        let remaining = self.input.len() - self.pos;
        match usize::try_from(declared) {
            Ok(n) if n <= remaining => Ok(n),
            _ => Err(DecodeError::Truncated {
                offset: self.input.len(),
            }),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.input.len())
            .ok_or(DecodeError::Truncated {
                offset: self.input.len(),
            })?;
        let bytes = &self.input[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// IEEE 754 half precision to f64 (RFC 8949 appendix D).
fn half_to_f64(half: u16) -> f64 {
    let exponent = i32::from((half >> 10) & 0x1f);
    let mantissa = f64::from(half & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (mantissa + 1024.0) * 2f64.powi(exponent - 25),
    };
    if half & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Writes `value` as cbor-x does for automerge-repo (see the module doc).
pub(crate) fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Unsigned(n) => head(out, 0, *n),
        Value::Negative(n) => head(out, 1, *n),
        Value::Bytes(bytes) => {
            head(out, 2, bytes.len() as u64);
            out.extend_from_slice(bytes);
        }
        Value::Text(text) => {
            head(out, 3, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
        Value::Array(items) => {
            head(out, 4, items.len() as u64);
            items.iter().for_each(|item| write(item, out));
        }
        Value::Map(entries) => {
            // cbor-x reserves a 16-bit length for every object it writes.
            match u16::try_from(entries.len()) {
                Ok(n) => {
                    out.push(0xb9);
                    out.extend_from_slice(&n.to_be_bytes());
                }
                Err(_) => head(out, 5, entries.len() as u64),
            }
            for (key, value) in entries {
                write(key, out);
                write(value, out);
            }
        }
        Value::Tag(tag, inner) => {
            head(out, 6, *tag);
            write(inner, out);
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
        Value::Undefined => out.push(0xf7),
        Value::Float(f) => {
            out.push(0xfb);
            out.extend_from_slice(&f.to_be_bytes());
        }
        Value::Simple(n) if *n < 24 => out.push(0xe0 | n),
        Value::Simple(n) => out.extend_from_slice(&[0xf8, *n]),
    }
}

/// A head with the shortest argument encoding.
fn head(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    if argument < 24 {
        out.push(major | argument as u8);
    } else if let Ok(n) = u8::try_from(argument) {
        out.extend_from_slice(&[major | 24, n]);
    } else if let Ok(n) = u16::try_from(argument) {
        out.push(major | 25);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(argument) {
        out.push(major | 26);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&argument.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values() {
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
        assert_eq!(half_to_f64(0x0001), 5.960464477539063e-8);
        assert!(half_to_f64(0x7e00).is_nan());
    }

    #[test]
    fn declared_lengths_beyond_the_input_are_truncation_not_allocation() {
        // A byte string claiming 2^63 bytes, and an array claiming 2^32 items.
        let huge = [0x5b, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(read(&huge, 8), Err(DecodeError::Truncated { .. })));
        let many = [0x9a, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(read(&many, 8), Err(DecodeError::Truncated { .. })));
    }

    #[test]
    fn round_trips_what_it_writes() {
        let value = Value::Map(vec![
            (Value::Text("n".into()), Value::Negative(4)),
            (Value::Text("u".into()), Value::Undefined),
            (
                Value::Text("a".into()),
                Value::Array(vec![Value::Float(1.5), Value::Unsigned(70_000)]),
            ),
        ]);
        let mut out = Vec::new();
        write(&value, &mut out);
        assert_eq!(&out[..3], &[0xb9, 0, 3]);
        assert_eq!(read(&out, 8), Ok(value));
    }
}
