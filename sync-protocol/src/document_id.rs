//! Document ids as automerge-repo makes them: the 16 bytes of a UUID, written as bs58check
//! (base58 with a 4-byte double-SHA-256 checksum) and shown in URLs as `automerge:<id>`.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

const URL_PREFIX: &str = "automerge:";

/// The id of one Automerge document, as the 16 raw bytes automerge-repo generates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(Uuid);

/// Why a string is not a document id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentIdError {
    #[error("document id is empty")]
    Empty,
    #[error("document id is not valid bs58check: {0}")]
    Encoding(String),
    #[error("document id decodes to {0} bytes, expected 16")]
    Length(usize),
}

impl DocumentId {
    /// A fresh random id, as `Repo.create()` would make.
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id whose bytes are this UUID's.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID form, used as the primary key in the server's tables.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The `automerge:<id>` URL a client opens.
    pub fn to_url(&self) -> String {
        format!("{URL_PREFIX}{self}")
    }

    /// Parses an id in any form a client may send: `automerge:<bs58check>`, bare bs58check,
    /// or a legacy hyphenated UUID.
    pub fn parse(input: &str) -> Result<Self, DocumentIdError> {
        let text = input.strip_prefix(URL_PREFIX).unwrap_or(input);
        // automerge-repo URLs may carry heads after a `#`; the document is the part before.
        let text = text.split('#').next().unwrap_or_default().trim();
        if text.is_empty() {
            return Err(DocumentIdError::Empty);
        }
        if text.len() == 36
            && let Ok(uuid) = Uuid::parse_str(text)
        {
            return Ok(Self(uuid));
        }
        let bytes = bs58::decode(text)
            .with_check(None)
            .into_vec()
            .map_err(|e| DocumentIdError::Encoding(e.to_string()))?;
        let array: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| DocumentIdError::Length(bytes.len()))?;
        Ok(Self(Uuid::from_bytes(array)))
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0.as_bytes()).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = DocumentIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_url_and_uuid() {
        let id = DocumentId::random();
        assert_eq!(DocumentId::parse(&id.to_url()), Ok(id));
        assert_eq!(DocumentId::parse(&id.to_string()), Ok(id));
        assert_eq!(DocumentId::parse(&id.as_uuid().to_string()), Ok(id));
    }

    #[test]
    fn rejects_a_corrupted_checksum() {
        let id = DocumentId::random().to_string();
        let mut chars: Vec<char> = id.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == '2' { '3' } else { '2' };
        let broken: String = chars.into_iter().collect();
        assert!(matches!(
            DocumentId::parse(&broken),
            Err(DocumentIdError::Encoding(_))
        ));
    }

    #[test]
    fn rejects_empty_and_wrong_length() {
        assert_eq!(DocumentId::parse("automerge:"), Err(DocumentIdError::Empty));
        let short = bs58::encode([1u8, 2, 3]).with_check().into_string();
        assert_eq!(DocumentId::parse(&short), Err(DocumentIdError::Length(3)));
    }
}
