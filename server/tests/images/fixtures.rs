//! Photos built for the tests, byte by byte where a hostile or camera-made file is needed: EXIF
//! with orientation and GPS, a PNG decompression bomb, a HEIC header, a forged JPEG size.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage};

pub const RED: Rgb<u8> = Rgb([220, 20, 20]);
pub const BLUE: Rgb<u8> = Rgb([20, 20, 220]);

/// A grey picture `width` x `height` with a red block in its top-left corner and a blue one in
/// its top-right corner, each a sixth of the picture.
pub fn marked_picture(width: u32, height: u32) -> RgbImage {
    let (block_w, block_h) = (width / 6, height / 6);
    RgbImage::from_fn(width, height, |x, y| match (x, y) {
        (x, y) if x < block_w && y < block_h => RED,
        (x, y) if x >= width - block_w && y < block_h => BLUE,
        _ => Rgb([128, 128, 128]),
    })
}

/// Deterministic noise: photo-like in what it costs to compress.
pub fn noise_picture(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut state = seed | 1;
    let mut bytes = vec![0u8; (width * height * 3) as usize];
    for byte in &mut bytes {
        *byte = xorshift(&mut state) as u8;
    }
    RgbImage::from_raw(width, height, bytes).unwrap()
}

pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len).map(|_| xorshift(&mut state) as u8).collect()
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state >> 24
}

pub fn jpeg(picture: &RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

/// A camera-like JPEG: EXIF (APP1) with the given orientation and a GPS position, an XMP packet
/// with the position again, and a comment, all before the encoded picture.
pub fn camera_jpeg(picture: &RgbImage, orientation: u16) -> Vec<u8> {
    let plain = jpeg(picture, 95);
    let exif = [&b"Exif\0\0"[..], &exif_tiff(orientation)].concat();
    let xmp = [
        &b"http://ns.adobe.com/xap/1.0/\0"[..],
        br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>48,51.4N</exif:GPSLatitude></x:xmpmeta>"#,
    ]
    .concat();
    let mut spliced = plain[..2].to_vec(); // SOI
    spliced.extend(segment(0xE1, &exif));
    spliced.extend(segment(0xE1, &xmp));
    spliced.extend(segment(0xFE, b"customer: 12 rue des Lilas, gate code 4711"));
    spliced.extend_from_slice(&plain[2..]);
    spliced
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(payload.len() + 2).unwrap();
    [&[0xFF, marker][..], &length.to_be_bytes(), payload].concat()
}

/// A little-endian TIFF structure: IFD0 with Orientation and a GPSInfo pointer, then a GPS IFD
/// with version, latitude and longitude (48°51'24"N 2°21'3"E).
fn exif_tiff(orientation: u16) -> Vec<u8> {
    const IFD0: u32 = 8;
    const GPS_IFD: u32 = IFD0 + 2 + 2 * 12 + 4;
    const GPS_DATA: u32 = GPS_IFD + 2 + 5 * 12 + 4;
    let entry = |tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        [
            &tag.to_le_bytes()[..],
            &kind.to_le_bytes(),
            &count.to_le_bytes(),
            &value,
        ]
        .concat()
    };
    let rationals = |values: [(u32, u32); 3]| -> Vec<u8> {
        values
            .iter()
            .flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()].concat())
            .collect()
    };
    let o = orientation.to_le_bytes();
    [
        &b"II*\0"[..],
        &IFD0.to_le_bytes(),
        &2u16.to_le_bytes(),
        &entry(0x0112, 3, 1, [o[0], o[1], 0, 0]),
        &entry(0x8825, 4, 1, GPS_IFD.to_le_bytes()),
        &0u32.to_le_bytes(),
        &5u16.to_le_bytes(),
        &entry(0x0000, 1, 4, [2, 3, 0, 0]),
        &entry(0x0001, 2, 2, *b"N\0\0\0"),
        &entry(0x0002, 5, 3, GPS_DATA.to_le_bytes()),
        &entry(0x0003, 2, 2, *b"E\0\0\0"),
        &entry(0x0004, 5, 3, (GPS_DATA + 24).to_le_bytes()),
        &0u32.to_le_bytes(),
        &rationals([(48, 1), (51, 1), (2400, 100)]),
        &rationals([(2, 1), (21, 1), (300, 100)]),
    ]
    .concat()
}

/// A valid small JPEG whose frame header (SOF0) is rewritten to claim `width` x `height`.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(&noise_picture(16, 16, 7), 80);
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    // FF C0, length (2), precision (1), then height and width.
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A PNG of a few hundred bytes whose header claims `width` x `height` pixels of the given colour
/// type (0 grey, 6 RGBA) and bit depth, followed by one stored zlib block of zeros.
pub fn png_bomb(width: u32, height: u32, color_type: u8, bit_depth: u8) -> Vec<u8> {
    let ihdr = [
        &width.to_be_bytes()[..],
        &height.to_be_bytes(),
        &[bit_depth, color_type, 0, 0, 0],
    ]
    .concat();
    let zeros = [0u8; 256];
    let len = u16::try_from(zeros.len()).unwrap();
    let idat = [
        &[0x78, 0x01, 0x01][..], // zlib header, then a final stored block
        &len.to_le_bytes(),
        &(!len).to_le_bytes(),
        &zeros,
        &adler32(&zeros).to_be_bytes(),
    ]
    .concat();
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &png_chunk(b"IHDR", &ihdr),
        &png_chunk(b"IDAT", &idat),
        &png_chunk(b"IEND", &[]),
    ]
    .concat()
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let crc = crc32(&[&kind[..], data].concat());
    let length = u32::try_from(data.len()).unwrap();
    [&length.to_be_bytes()[..], kind, data, &crc.to_be_bytes()].concat()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// The start of an iPhone photo: an `ftyp` box with brand `heic`, then the `meta` box header.
pub fn heic_header() -> Vec<u8> {
    [
        &24u32.to_be_bytes()[..],
        b"ftypheic",
        &0u32.to_be_bytes(),
        b"mif1heic",
        &100u32.to_be_bytes(),
        b"meta",
    ]
    .concat()
}

/// A PNG with alpha: left half fully transparent, right half opaque green.
pub fn transparent_png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbaImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgba([0, 0, 0, 0])
        } else {
            image::Rgba([30, 200, 30, 255])
        }
    });
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(picture)
        .write_to(&mut bytes, image::ImageFormat::Png)
        .unwrap();
    bytes.into_inner()
}

/// A lossless WebP of the picture.
pub fn webp(picture: &RgbImage) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture.clone())
        .write_to(&mut bytes, image::ImageFormat::WebP)
        .unwrap();
    bytes.into_inner()
}

/// The markers of a JPEG's segments up to the start of scan (APPn, COM, DQT, SOF...).
pub fn jpeg_segment_markers(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(&bytes[..2], [0xFF, 0xD8], "not a JPEG");
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
    }
    markers
}
