//! Telling the format from the bytes (magic numbers), never from the declared content type.

use super::ImageError;

/// How many leading bytes [`sniff`] looks at: give it at least these (or the whole file if it is
/// shorter) to refuse an upload before the rest arrives.
pub const SNIFF_LEN: usize = 64;

/// The photo formats the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
    WebP,
}

impl ImageFormat {
    /// The media type of the original.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::WebP => "image/webp",
        }
    }

    pub(crate) fn codec(self) -> image::ImageFormat {
        match self {
            ImageFormat::Jpeg => image::ImageFormat::Jpeg,
            ImageFormat::Png => image::ImageFormat::Png,
            ImageFormat::WebP => image::ImageFormat::WebP,
        }
    }
}

/// Reads the format from the first bytes of a file: JPEG, PNG and WebP pass; HEIC/HEIF gets
/// [`ImageError::Heic`], anything else [`ImageError::Unsupported`], nothing [`ImageError::Empty`].
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.is_empty() {
        Err(ImageError::Empty)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(ImageFormat::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Ok(ImageFormat::Png)
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Ok(ImageFormat::WebP)
    } else if is_heif(bytes) {
        Err(ImageError::Heic)
    } else {
        Err(ImageError::Unsupported)
    }
}

/// Brands of the ISO base media `ftyp` box that mean HEIF still images (HEIC being HEVC-coded HEIF).
const HEIF_BRANDS: [&[u8; 4]; 11] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"mif2",
    b"msf1",
];

/// AVIF reuses the HEIF container (and lists `mif1`), but is not what the HEIC advice is about.
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];

/// An `ftyp` box (size, "ftyp", major brand, minor version, compatible brands...) naming a HEIF brand.
fn is_heif(bytes: &[u8]) -> bool {
    if bytes.get(4..8) != Some(b"ftyp") {
        return false;
    }
    let declared = bytes
        .get(0..4)
        .and_then(|size| size.try_into().ok())
        .map_or(0, |size: [u8; 4]| u32::from_be_bytes(size) as usize);
    let box_end = declared.min(bytes.len());
    let major = bytes.get(8..12).into_iter();
    let compatible = bytes.get(16..box_end).unwrap_or_default().chunks_exact(4);
    let brands: Vec<&[u8]> = major.chain(compatible).collect();
    let names = |set: &[&[u8; 4]]| {
        brands
            .iter()
            .any(|brand| set.iter().any(|b| &b[..] == *brand))
    };
    !names(&AVIF_BRANDS) && names(&HEIF_BRANDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len() as u32;
        let mut bytes = size.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&0u32.to_be_bytes());
        compatible
            .iter()
            .for_each(|brand| bytes.extend_from_slice(*brand));
        bytes.extend_from_slice(b"\0\0\0\x08meta");
        bytes
    }

    #[test]
    fn heif_brands_are_refused_with_the_jpeg_advice() {
        for major in [b"heic", b"heix", b"hevc", b"mif1", b"msf1"] {
            let error = sniff(&ftyp(major, &[b"mif1", b"heic"])).unwrap_err();
            assert!(matches!(error, ImageError::Heic), "{major:?}");
            assert_eq!(error.http_status(), 415);
            assert!(error.to_string().contains("Most Compatible"));
        }
        // A generic major brand with HEIC among the compatible ones is still HEIC.
        assert!(matches!(
            sniff(&ftyp(b"isom", &[b"heic"])),
            Err(ImageError::Heic)
        ));
    }

    #[test]
    fn avif_and_video_are_merely_unsupported() {
        let avif = ftyp(b"avif", &[b"mif1", b"miaf"]);
        assert!(matches!(sniff(&avif), Err(ImageError::Unsupported)));
        let mp4 = ftyp(b"isom", &[b"iso2", b"mp41"]);
        assert!(matches!(sniff(&mp4), Err(ImageError::Unsupported)));
    }

    #[test]
    fn accepted_formats_are_told_by_their_magic_numbers() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0").unwrap(), ImageFormat::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0").unwrap(), ImageFormat::Png);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), ImageFormat::WebP);
        assert!(matches!(
            sniff(b"RIFF\0\0\0\0WAVE"),
            Err(ImageError::Unsupported)
        ));
        assert!(matches!(sniff(b"GIF89a"), Err(ImageError::Unsupported)));
        assert!(matches!(sniff(b"%PDF-1.7"), Err(ImageError::Unsupported)));
        assert!(matches!(sniff(b"\xFF\xD8"), Err(ImageError::Unsupported)));
        assert!(matches!(sniff(b""), Err(ImageError::Empty)));
    }
}
