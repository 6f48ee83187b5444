//! Real images for tests: evidence uploads are decoded by the server, so they must be images.

use image::{ImageBuffer, ImageFormat, Rgb};

/// A PNG of deterministic noise: incompressible, so its size is about `width * height * 3`.
pub fn noise_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let picture = ImageBuffer::from_fn(width, height, |_, _| {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state & 0xff) as u8
        };
        Rgb([next(), next(), next()])
    });
    encode(&picture, ImageFormat::Png)
}

/// A JPEG with a gradient, `seed` shifting its colours.
pub fn gradient_jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let picture = ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, seed])
    });
    encode(&picture, ImageFormat::Jpeg)
}

fn encode(picture: &ImageBuffer<Rgb<u8>, Vec<u8>>, format: ImageFormat) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut bytes, format)
        .expect("encoding a test image");
    bytes.into_inner()
}
