//! The image step alone on a 12-megapixel photo: decode, orient, display copy and thumbnail.
//!
//!     cargo bench -p fieldsync-server --bench images
//!
//! Generates a 4000x3000 JPEG (gradient plus noise, so it costs what a photo costs to decode),
//! writes it to the temporary directory, and prints min/median/max over the runs of
//! `ImagePipeline::process`, of the decode alone, and of two photos at once. If `vipsthumbnail`
//! (Debian: libvips-tools) is installed, it is timed on the same file for comparison.

// A benchmark aborts on any failure; there is nobody to hand an error to.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fieldsync_server::images::{
    DISPLAY_MAX_SIDE, ImageLimits, ImagePipeline, JPEG_QUALITY, THUMBNAIL_MAX_SIDE,
};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};

const RUNS: usize = 10;

fn main() {
    let photo = Bytes::from(twelve_megapixel_jpeg());
    let path = std::env::temp_dir().join("fieldsync-bench-12mp.jpg");
    std::fs::write(&path, &photo).unwrap();
    println!(
        "photo: 4000x3000 JPEG, {:.1} MB, at {}",
        photo.len() as f64 / 1e6,
        path.display()
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let limits = ImageLimits::default();
    let permits = limits.max_concurrent;
    let pipeline = ImagePipeline::new(limits);
    let processed = runtime.block_on(pipeline.process(photo.clone())).unwrap();
    println!(
        "display {}x{} ({} KB), thumbnail {}x{} ({} KB)",
        processed.display.width,
        processed.display.height,
        processed.display.bytes.len() / 1000,
        processed.thumbnail.width,
        processed.thumbnail.height,
        processed.thumbnail.bytes.len() / 1000
    );

    report("process (display + thumbnail)", || {
        runtime.block_on(pipeline.process(photo.clone())).unwrap();
    });
    report("decode alone (image crate)", || {
        image::load_from_memory(&photo).unwrap();
    });
    report(&format!("two photos at once ({permits} permits)"), || {
        runtime.block_on(async {
            let (a, b) = tokio::join!(
                pipeline.process(photo.clone()),
                pipeline.process(photo.clone())
            );
            a.unwrap();
            b.unwrap();
        });
    });
    compare_with_vips(&path);
}

/// Runs `work` once to warm up, then `RUNS` times, and prints min, median and max.
fn report(name: &str, mut work: impl FnMut()) {
    work();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{name:<45} min {:>7.1} ms  median {:>7.1} ms  max {:>7.1} ms  ({RUNS} runs)",
        millis(times[0]),
        millis(times[RUNS / 2]),
        millis(times[RUNS - 1]),
    );
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn compare_with_vips(path: &Path) {
    if Command::new("vipsthumbnail")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("vipsthumbnail not installed (Debian: libvips-tools): no comparison");
        return;
    }
    let out = std::env::temp_dir();
    for side in [DISPLAY_MAX_SIDE, THUMBNAIL_MAX_SIDE] {
        let target = out.join(format!("fieldsync-bench-vips-{side}.jpg"));
        let output = format!("{}[Q={JPEG_QUALITY},strip]", target.display());
        report(
            &format!("vipsthumbnail -s {side}x{side} (a process)"),
            || {
                let status = Command::new("vipsthumbnail")
                    .arg(path)
                    .args(["-s", &format!("{side}x{side}"), "-o", &output])
                    .status()
                    .unwrap();
                assert!(status.success());
            },
        );
    }
}

/// A smooth gradient with noise on top: neither trivially compressible nor pure noise.
fn twelve_megapixel_jpeg() -> Vec<u8> {
    let (width, height) = (4000u32, 3000u32);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let picture = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state >> 58) as u8; // 0..63
        let base = |v: u32, span: u32| (v * 160 / span) as u8;
        image::Rgb([
            base(x, width) + noise,
            base(y, height) + noise,
            base(x + y, width + height) + noise,
        ])
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 90)
        .write_image(
            picture.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}
