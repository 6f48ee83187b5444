//! Evidence files (photos, the rendered signature): what kind of image the bytes are, and
//! keeping a durable, content-addressed copy under the home directory until it is uploaded.

use std::fs;
use std::path::Path;

use sync_protocol::job::Sha256Hex;

use crate::error::ClientError;
use crate::home::{Home, write_durably};

/// The largest photo accepted; a phone camera's full-resolution JPEG is well below it.
pub const MAX_PHOTO_BYTES: u64 = 25 * 1024 * 1024;

/// An evidence file read into memory, with its type and SHA-256.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub sha256: Sha256Hex,
}

impl EvidenceFile {
    /// Bytes made on the tablet (the signature image) whose type is known.
    pub fn from_bytes(bytes: Vec<u8>, content_type: &'static str) -> Self {
        let sha256 = Sha256Hex::digest(&bytes);
        Self {
            bytes,
            content_type,
            sha256,
        }
    }

    /// Reads a photo, refusing anything the office cannot store (HEIC, non-images, huge files).
    pub fn read_photo(path: &Path) -> Result<Self, ClientError> {
        let size = fs::metadata(path)
            .map_err(|e| ClientError::file("read the photo", path, e))?
            .len();
        if size > MAX_PHOTO_BYTES {
            return Err(ClientError::PhotoTooLarge {
                path: path.to_owned(),
                size,
                limit: MAX_PHOTO_BYTES,
            });
        }
        let bytes = fs::read(path).map_err(|e| ClientError::file("read the photo", path, e))?;
        let content_type = match sniff(&bytes) {
            Sniffed::Image(content_type) => content_type,
            Sniffed::Heic => {
                return Err(ClientError::HeicPhoto {
                    path: path.to_owned(),
                });
            }
            Sniffed::Other(found) => {
                return Err(ClientError::UnsupportedPhoto {
                    path: path.to_owned(),
                    found,
                });
            }
        };
        Ok(Self::from_bytes(bytes, content_type))
    }

    /// Keeps a copy under the home directory, named by SHA-256, fsynced; returns its
    /// home-relative name. Storing the same bytes twice writes them once.
    pub fn keep(&self, home: &Home) -> Result<String, ClientError> {
        let name = Home::attachment_name(self.sha256.as_str());
        let path = home.attachment_path(&name);
        let already = fs::read(&path).is_ok_and(|kept| Sha256Hex::digest(&kept) == self.sha256);
        if !already {
            write_durably(&path, &self.bytes, 0o600)?;
        }
        Ok(name)
    }
}

/// What the first bytes of a file say it is.
enum Sniffed {
    Image(&'static str),
    Heic,
    Other(&'static str),
}

fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Image("image/jpeg");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Image("image/png");
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Sniffed::Image("image/webp");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // The brands iPhones and Android cameras write for HEIF stills and sequences.
        return match &bytes[8..12] {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => Sniffed::Heic,
            _ => Sniffed::Other("a video or another ISO media file"),
        };
    }
    if bytes.is_empty() {
        return Sniffed::Other("empty");
    }
    if bytes.starts_with(b"%PDF") {
        return Sniffed::Other("a PDF document");
    }
    if bytes.starts_with(b"GIF8") {
        return Sniffed::Other("a GIF image");
    }
    Sniffed::Other("not an image")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_accepted_images_and_heic() {
        assert!(matches!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Sniffed::Image("image/jpeg")
        ));
        assert!(matches!(
            sniff(b"\x89PNG\r\n\x1a\n...."),
            Sniffed::Image("image/png")
        ));
        assert!(matches!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Sniffed::Image("image/webp")
        ));
        assert!(matches!(sniff(b"\0\0\0\x18ftypheic\0\0"), Sniffed::Heic));
        assert!(matches!(sniff(b"hello"), Sniffed::Other(_)));
    }
}
