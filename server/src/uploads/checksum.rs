//! `Upload-Checksum` (tus checksum extension): a per-request checksum of the PATCH body.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The algorithms we accept, as advertised in `Tus-Checksum-Algorithm`.
pub const ALGORITHMS: &str = "sha1,sha256";

/// A running checksum of a PATCH body and the value it must end at.
#[derive(Debug)]
pub struct ChunkChecksum {
    hasher: Hasher,
    expected: Vec<u8>,
}

#[derive(Debug)]
enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChunkChecksum {
    /// Parses `<algorithm> <base64 digest>`; an unknown algorithm is a 400 as the spec asks.
    pub fn parse(header: &str) -> Result<Self, ApiError> {
        let (algorithm, digest) = header.trim().split_once(' ').ok_or_else(|| {
            ApiError::BadRequest("Upload-Checksum must be `<algorithm> <base64 digest>`".into())
        })?;
        let expected = STANDARD
            .decode(digest.trim())
            .map_err(|_| ApiError::BadRequest("the Upload-Checksum digest is not base64".into()))?;
        let hasher = match algorithm.to_ascii_lowercase().as_str() {
            "sha1" => Hasher::Sha1(Sha1::new()),
            "sha256" => Hasher::Sha256(Sha256::new()),
            other => {
                return Err(ApiError::BadRequest(format!(
                    "checksum algorithm {other} is not supported; use one of {ALGORITHMS}"
                )));
            }
        };
        Ok(Self { hasher, expected })
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.hasher {
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
        }
    }

    pub fn matches(self) -> bool {
        let actual = match self.hasher {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        actual == self.expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_sha1_and_sha256_and_refuses_unknown_algorithms() {
        let body = b"hello tus";
        let sha1 = STANDARD.encode(Sha1::digest(body));
        let mut check = ChunkChecksum::parse(&format!("sha1 {sha1}")).unwrap();
        check.update(body);
        assert!(check.matches());
        let sha256 = STANDARD.encode(Sha256::digest(b"other"));
        let mut check = ChunkChecksum::parse(&format!("sha256 {sha256}")).unwrap();
        check.update(body);
        assert!(!check.matches());
        assert!(ChunkChecksum::parse("crc32 AAAA").is_err());
        assert!(ChunkChecksum::parse("sha1").is_err());
    }
}
