//! Telling a truncated JPEG from a whole one. The JPEG decoder is lenient and paints missing
//! data grey, which would serve half a feedback card as if it were the photo: so a JPEG must reach
//! its end-of-image marker.

/// Whether the JPEG's segments can be followed to the first scan, and an end-of-image marker
/// (FF D9) follows it.
///
/// Segments are walked by their lengths rather than searched, because an EXIF thumbnail in APP1
/// carries scan and end markers of its own. Inside scan data a 0xFF byte is always followed by a
/// stuffed zero or a restart marker, so the first FF D9 after the scan starts is the real end.
/// Bytes after the end (some cameras append data) are allowed.
pub(crate) fn jpeg_is_complete(bytes: &[u8]) -> bool {
    const START_OF_SCAN: u8 = 0xDA;
    const END_OF_IMAGE: u8 = 0xD9;
    let mut at = 2; // past SOI, which sniffing checked
    loop {
        // Fill bytes (0xFF runs) may precede a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        let Some(length) = bytes.get(at + 2..at + 4) else {
            return false;
        };
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        if length < 2 {
            return false;
        }
        at += 2 + length;
        if marker == START_OF_SCAN {
            let scan = bytes.get(at..).unwrap_or_default();
            return scan.windows(2).any(|pair| pair == [0xFF, END_OF_IMAGE]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
    const SCAN: &[u8] = &[0xFF, 0xDA, 0x00, 0x03, 0x01, 0x12, 0xFF, 0x00, 0x34];

    #[test]
    fn a_jpeg_must_reach_its_end_marker() {
        let whole = [HEADER, SCAN, &[0xFF, 0xD9]].concat();
        assert!(jpeg_is_complete(&whole));
        assert!(jpeg_is_complete(&[&whole[..], b"trailer"].concat()));
        assert!(!jpeg_is_complete(&whole[..whole.len() - 1]));
        assert!(!jpeg_is_complete(&[HEADER, SCAN].concat()));
        assert!(!jpeg_is_complete(&HEADER[..5]));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF]));
    }

    #[test]
    fn an_exif_thumbnail_does_not_count_as_the_end() {
        // APP1 holding a whole little JPEG (scan and end marker), then the truncated main image.
        let thumbnail = [&[0xFF, 0xD8][..], SCAN, &[0xFF, 0xD9]].concat();
        let app1 = [
            &[0xFF, 0xE1, 0x00, 2 + thumbnail.len() as u8][..],
            &thumbnail,
        ]
        .concat();
        let truncated = [&[0xFF, 0xD8][..], &app1, SCAN].concat();
        assert!(!jpeg_is_complete(&truncated));
        assert!(jpeg_is_complete(&[&truncated[..], &[0xFF, 0xD9]].concat()));
    }
}
