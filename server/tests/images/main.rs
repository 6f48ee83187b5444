//! The image step as an uploader meets it: camera photos come out upright and without metadata,
//! hostile or broken files are refused quickly, with the right status, in bounded memory.

// A test aborts on any failure, helpers included.
#![allow(clippy::unwrap_used)]

mod allocations;
mod fixtures;

use std::time::{Duration, Instant};

use bytes::Bytes;
use fieldsync_server::images::{
    ImageError, ImageFormat, ImageLimits, ImagePipeline, ProcessedImage, SNIFF_LEN, sniff,
};
use image::{GenericImageView, Rgb, RgbImage};

use fixtures::{BLUE, RED};

#[global_allocator]
static ALLOCATOR: allocations::CountingAllocator = allocations::CountingAllocator;

fn pipeline() -> ImagePipeline {
    ImagePipeline::new(ImageLimits::default())
}

/// Where a stored pixel is displayed under each EXIF orientation (TIFF 6.0 / EXIF 2.3 table),
/// written out independently of the code under test.
fn displayed_at(orientation: u16, (x, y): (u32, u32), (w, h): (u32, u32)) -> (u32, u32) {
    match orientation {
        1 => (x, y),
        2 => (w - 1 - x, y),
        3 => (w - 1 - x, h - 1 - y),
        4 => (x, h - 1 - y),
        5 => (y, x),
        6 => (h - 1 - y, x),
        7 => (h - 1 - y, w - 1 - x),
        8 => (y, w - 1 - x),
        _ => unreachable!(),
    }
}

fn close_to(actual: Rgb<u8>, expected: Rgb<u8>) -> bool {
    actual
        .0
        .iter()
        .zip(expected.0)
        .all(|(a, e)| a.abs_diff(e) < 48)
}

/// Asserts the markers of [`fixtures::marked_picture`] (stored `w` x `h`) are where orientation
/// puts them in a derivative, whatever its scale.
fn assert_markers_upright(jpeg: &[u8], orientation: u16, (w, h): (u32, u32)) {
    let served = image::load_from_memory(jpeg).unwrap().to_rgb8();
    let (shown_w, shown_h) = if orientation >= 5 { (h, w) } else { (w, h) };
    for (stored, colour) in [((w / 12, h / 12), RED), ((w - 1 - w / 12, h / 12), BLUE)] {
        let (x, y) = displayed_at(orientation, stored, (w, h));
        let x = x * served.width() / shown_w;
        let y = y * served.height() / shown_h;
        let pixel = *served.get_pixel(x, y);
        assert!(
            close_to(pixel, colour),
            "orientation {orientation}: {pixel:?} at ({x}, {y}), expected {colour:?}"
        );
    }
}

/// No EXIF, XMP, ICC or comment: only the JFIF header and the coding segments.
fn assert_no_metadata(jpeg: &[u8]) {
    let markers = fixtures::jpeg_segment_markers(jpeg);
    let metadata: Vec<u8> = markers
        .iter()
        .copied()
        .filter(|m| (0xE1..=0xEF).contains(m) || *m == 0xFE)
        .collect();
    assert!(
        metadata.is_empty(),
        "metadata segments {metadata:02X?} in {markers:02X?}"
    );
    for leak in [&b"Exif"[..], b"GPS", b"xmpmeta", b"gate code"] {
        assert!(
            !jpeg.windows(leak.len()).any(|w| w == leak),
            "{leak:?} leaked"
        );
    }
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(jpeg)).unwrap();
    assert_eq!(
        image::ImageDecoder::exif_metadata(&mut decoder).unwrap(),
        None
    );
}

#[tokio::test]
async fn a_camera_photo_turned_sideways_is_served_upright_without_exif_or_gps() {
    let stored = fixtures::marked_picture(60, 40);
    let original = fixtures::camera_jpeg(&stored, 6);
    let upload = Bytes::from(original.clone());

    let processed = pipeline().process(upload.clone()).await.unwrap();

    assert_eq!(upload, original, "the original is untouched");
    let info = &processed.original;
    assert_eq!(info.format, ImageFormat::Jpeg);
    assert_eq!((info.width, info.height), (40, 60), "upright size");
    assert_eq!(info.orientation, 6);
    assert!(info.has_exif && info.has_gps);
    for derivative in [&processed.display, &processed.thumbnail] {
        assert_eq!(
            (derivative.width, derivative.height),
            (40, 60),
            "never upscaled"
        );
        assert_eq!(derivative.content_type, "image/jpeg");
        assert_eq!(
            image::load_from_memory(&derivative.bytes)
                .unwrap()
                .dimensions(),
            (40, 60)
        );
        assert_no_metadata(&derivative.bytes);
        assert_markers_upright(&derivative.bytes, 6, (60, 40));
    }
}

#[tokio::test]
async fn every_exif_orientation_is_applied() {
    let stored = fixtures::marked_picture(60, 40);
    for orientation in 1..=8 {
        let processed = pipeline()
            .process(fixtures::camera_jpeg(&stored, orientation).into())
            .await
            .unwrap();
        let expected = if orientation >= 5 { (40, 60) } else { (60, 40) };
        assert_eq!(
            (processed.display.width, processed.display.height),
            expected
        );
        assert_eq!(processed.original.orientation, orientation as u8);
        assert_markers_upright(&processed.display.bytes, orientation, (60, 40));
    }
}

#[tokio::test]
async fn large_photos_are_fitted_within_the_display_and_thumbnail_boxes() {
    let stored = fixtures::marked_picture(2400, 1600);
    let processed = pipeline()
        .process(fixtures::camera_jpeg(&stored, 6).into())
        .await
        .unwrap();
    let ProcessedImage {
        original,
        display,
        thumbnail,
    } = processed;
    assert_eq!((original.width, original.height), (1600, 2400));
    assert_eq!((display.width, display.height), (1067, 1600));
    assert_eq!((thumbnail.width, thumbnail.height), (213, 320));
    for derivative in [&display, &thumbnail] {
        assert_no_metadata(&derivative.bytes);
        assert_markers_upright(&derivative.bytes, 6, (2400, 1600));
    }
}

#[tokio::test]
async fn png_transparency_is_served_on_white_and_webp_is_accepted() {
    let png = pipeline()
        .process(fixtures::transparent_png(40, 20).into())
        .await
        .unwrap();
    assert_eq!(png.original.format, ImageFormat::Png);
    assert!(!png.original.has_exif && !png.original.has_gps);
    let served = image::load_from_memory(&png.display.bytes)
        .unwrap()
        .to_rgb8();
    assert!(close_to(*served.get_pixel(5, 10), Rgb([255, 255, 255])));
    assert!(close_to(*served.get_pixel(35, 10), Rgb([30, 200, 30])));

    let webp = pipeline()
        .process(fixtures::webp(&fixtures::marked_picture(60, 40)).into())
        .await
        .unwrap();
    assert_eq!(webp.original.format, ImageFormat::WebP);
    assert_markers_upright(&webp.thumbnail.bytes, 1, (60, 40));
    assert_no_metadata(&webp.thumbnail.bytes);
}

/// A file to refuse: its name, its bytes, the error expected, the HTTP status expected.
type Refusal = (&'static str, Vec<u8>, fn(&ImageError) -> bool, u16);

#[tokio::test]
async fn hostile_and_broken_files_are_refused_quickly_in_bounded_memory() {
    let noise = fixtures::noise_picture(256, 256, 3);
    let (png, webp) = (fixtures::transparent_png(256, 256), fixtures::webp(&noise));
    let noise = fixtures::jpeg(&noise, 90);
    let cases: Vec<Refusal> = vec![
        ("empty", Vec::new(), |e| matches!(e, ImageError::Empty), 400),
        (
            "random bytes",
            fixtures::random_bytes(4096, 9),
            |e| matches!(e, ImageError::Unsupported),
            415,
        ),
        (
            "HEIC",
            fixtures::heic_header(),
            |e| matches!(e, ImageError::Heic),
            415,
        ),
        (
            "truncated JPEG",
            noise[..noise.len() / 2].to_vec(),
            |e| matches!(e, ImageError::Unreadable(_)),
            422,
        ),
        (
            "JPEG claiming 30000x30000",
            fixtures::jpeg_claiming(30_000, 30_000),
            |e| {
                matches!(
                    e,
                    ImageError::TooLarge {
                        width: 30_000,
                        height: 30_000,
                        ..
                    }
                )
            },
            422,
        ),
        (
            "PNG bomb 30000x30000",
            fixtures::png_bomb(30_000, 30_000, 0, 8),
            |e| {
                matches!(
                    e,
                    ImageError::TooLarge {
                        width: 30_000,
                        height: 30_000,
                        ..
                    }
                )
            },
            422,
        ),
        (
            // 36 MP is within the pixel limit, but 16-bit RGBA needs 288 MB: over 256 MiB.
            "PNG bomb 6000x6000 16-bit RGBA",
            fixtures::png_bomb(6_000, 6_000, 6, 16),
            |e| matches!(e, ImageError::OverMemoryLimit { .. }),
            422,
        ),
        (
            "PNG bomb within limits, data missing",
            fixtures::png_bomb(3_000, 3_000, 0, 8),
            |e| matches!(e, ImageError::Unreadable(_)),
            422,
        ),
        (
            "truncated PNG",
            png[..png.len() / 2].to_vec(),
            |e| matches!(e, ImageError::Unreadable(_)),
            422,
        ),
        (
            "truncated WebP",
            webp[..webp.len() / 2].to_vec(),
            |e| matches!(e, ImageError::Unreadable(_)),
            422,
        ),
    ];
    let pipeline = pipeline();
    for (name, bytes, expected, status) in cases {
        let started = Instant::now();
        let (outcome, peak) = allocations::peak_during(pipeline.process(bytes.into())).await;
        let error = outcome.expect_err(name);
        println!(
            "{name}: {:?}, {} KiB held at most",
            started.elapsed(),
            peak >> 10
        );
        assert!(expected(&error), "{name}: {error:?}");
        assert_eq!(error.http_status(), status, "{name}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{name}: {:?}",
            started.elapsed()
        );
        assert!(peak < 64 << 20, "{name}: {} MiB held", peak >> 20);
    }
}

#[tokio::test]
async fn an_image_within_dimensions_but_over_the_memory_limit_is_refused() {
    let pipeline = ImagePipeline::new(ImageLimits {
        max_alloc: 1 << 20,
        ..ImageLimits::default()
    });
    let photo = fixtures::jpeg(&fixtures::noise_picture(1000, 1000, 5), 80);
    let error = pipeline.process(photo.into()).await.unwrap_err();
    assert!(
        matches!(
            error,
            ImageError::OverMemoryLimit {
                max_alloc: 1_048_576
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 422);
    assert!(error.to_string().contains("smaller photo"));
}

#[test]
fn the_first_bytes_are_enough_to_refuse_an_upload() {
    let heic = fixtures::heic_header();
    let error = sniff(&heic[..SNIFF_LEN.min(heic.len())]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "HEIC photos are not accepted: set the camera to 'Most Compatible' (JPEG) or convert to JPEG"
    );
    let photo = fixtures::camera_jpeg(&RgbImage::new(8, 8), 1);
    assert_eq!(sniff(&photo[..SNIFF_LEN]).unwrap(), ImageFormat::Jpeg);
}
