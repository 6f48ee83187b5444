//! From the original's bytes to its pixels: header first (dimensions and memory checked before
//! any pixel buffer exists), then the decode under the decoder's own limits.

use std::io::Cursor;

use image::error::DecodingError;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader};

use super::error::from_decoder;
use super::metadata::exif_has_gps;
use super::truncation::jpeg_is_complete;
use super::{ImageError, ImageFormat, ImageInfo, ImageLimits};

/// An original's pixels as stored in the file, with the orientation still to apply.
#[derive(Debug)]
pub(crate) struct StoredPixels {
    pub pixels: DynamicImage,
    pub orientation: Orientation,
    pub info: ImageInfo,
}

/// Decodes an original whose format [`super::sniff`] has told.
pub(crate) fn decode(
    original: &[u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<StoredPixels, ImageError> {
    if format == ImageFormat::Jpeg && !jpeg_is_complete(original) {
        return Err(ImageError::Unreadable(image::ImageError::Decoding(
            DecodingError::new(format.codec().into(), "no end-of-image marker: truncated"),
        )));
    }
    let mut reader = ImageReader::with_format(Cursor::new(original), format.codec());
    reader.limits(limits.header_limits());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| from_decoder(e, limits.max_alloc))?;

    let (width, height) = decoder.dimensions();
    limits.check_dimensions(width, height)?;
    limits.check_buffer(decoder.total_bytes())?;
    decoder
        .set_limits(limits.decoder_limits())
        .map_err(|e| from_decoder(e, limits.max_alloc))?;

    // Unreadable EXIF must not cost the photo: it is then treated as absent (upright, no GPS).
    let exif = decoder
        .exif_metadata()
        .ok()
        .flatten()
        .filter(|e| !e.is_empty());
    let orientation = exif
        .as_deref()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);

    let pixels =
        DynamicImage::from_decoder(decoder).map_err(|e| from_decoder(e, limits.max_alloc))?;
    let (width, height) = if swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    let info = ImageInfo {
        format,
        width,
        height,
        orientation: orientation.to_exif(),
        has_exif: exif.is_some(),
        has_gps: exif.as_deref().is_some_and(exif_has_gps),
    };
    Ok(StoredPixels {
        pixels,
        orientation,
        info,
    })
}

/// Orientations 5 to 8 turn the image a quarter: its displayed width is its stored height.
pub(crate) fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}
