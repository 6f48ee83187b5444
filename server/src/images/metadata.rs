//! What the server records about an original: its format, upright size, and whether it carried
//! EXIF and a GPS position (which the served copies never do).

use super::ImageFormat;

/// Facts about an original photo, as uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    /// Width as displayed, after the EXIF orientation.
    pub width: u32,
    /// Height as displayed, after the EXIF orientation.
    pub height: u32,
    /// The EXIF orientation value (1 to 8; 1 when absent or invalid).
    pub orientation: u8,
    pub has_exif: bool,
    /// The EXIF carries a GPS block: the original reveals where it was taken.
    pub has_gps: bool,
}

/// Tag of the pointer from IFD0 to the GPS IFD (TIFF/EXIF "GPSInfo").
const GPS_IFD_POINTER: u16 = 0x8825;

/// Whether the EXIF (TIFF structure, without the `Exif\0\0` prefix) points to a GPS IFD with at
/// least one entry. Malformed EXIF counts as no GPS: it only feeds a report, never a decision
/// about what is served.
pub(crate) fn exif_has_gps(tiff: &[u8]) -> bool {
    let Some(read) = TiffReader::new(tiff) else {
        return false;
    };
    let Some(ifd0) = read.u32(4) else {
        return false;
    };
    let Some(entries) = read.u16(ifd0 as usize) else {
        return false;
    };
    (0..usize::from(entries))
        .map(|index| ifd0 as usize + 2 + index * 12)
        .filter(|&entry| read.u16(entry) == Some(GPS_IFD_POINTER))
        .filter_map(|entry| read.u32(entry + 8))
        .any(|gps_ifd| read.u16(gps_ifd as usize).is_some_and(|count| count > 0))
}

/// Bounds-checked reads in the byte order the TIFF header declares.
struct TiffReader<'a> {
    bytes: &'a [u8],
    little_endian: bool,
}

impl<'a> TiffReader<'a> {
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let little_endian = match bytes.get(0..4)? {
            b"II*\0" => true,
            b"MM\0*" => false,
            _ => return None,
        };
        Some(TiffReader {
            bytes,
            little_endian,
        })
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let raw: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.little_endian {
            u16::from_le_bytes(raw)
        } else {
            u16::from_be_bytes(raw)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let raw: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little_endian {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gps_pointer_is_found_in_either_byte_order() {
        // IFD0 with one entry (GPSInfo -> 26), then a GPS IFD with one entry.
        let little: Vec<u8> = [
            &b"II*\0\x08\0\0\0"[..],
            &[1, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0],
            &[1, 0, 1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0],
        ]
        .concat();
        assert!(exif_has_gps(&little));
        let big: Vec<u8> = [
            &b"MM\0*\0\0\0\x08"[..],
            &[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0],
            &[0, 1, 0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0, 0, 0, 0, 0],
        ]
        .concat();
        assert!(exif_has_gps(&big));
    }

    #[test]
    fn malformed_or_gps_free_exif_reports_no_gps() {
        assert!(!exif_has_gps(b""));
        assert!(!exif_has_gps(b"II*\0\xff\xff\xff\xff"));
        // Orientation only.
        let orientation_only = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0";
        assert!(!exif_has_gps(orientation_only));
        // A GPS pointer to nowhere.
        let dangling = b"II*\0\x08\0\0\0\x01\0\x25\x88\x04\0\x01\0\0\0\xff\0\0\0\0\0\0\0";
        assert!(!exif_has_gps(dangling));
    }
}
