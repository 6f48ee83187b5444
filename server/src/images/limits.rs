//! How much image one upload may make the server decode, and how many decodes run at once.

use super::ImageError;

/// Bounds checked on the header before decoding, and enforced by the decoder while it decodes.
///
/// Build with struct update syntax: `ImageLimits { max_alloc: 64 << 20, ..ImageLimits::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    /// Widest image accepted, in pixels (as stored, before orientation).
    pub max_width: u32,
    /// Tallest image accepted, in pixels (as stored, before orientation).
    pub max_height: u32,
    /// Most pixels accepted (width × height).
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate for one image (its pixel buffer included).
    pub max_alloc: u64,
    /// Decodes running at once; each holds a blocking-pool thread and up to `max_alloc` bytes.
    pub max_concurrent: usize,
}

impl Default for ImageLimits {
    /// 12000 px per side and 50 megapixels: well above any phone or tablet camera (a 200 MP
    /// sensor bins to 12.5 MP by default), well below what would exhaust memory. 256 MiB of
    /// decoder memory holds a 50 MP image with alpha (200 MB) but not a 16-bit one. One decode
    /// per CPU, since decoding is CPU-bound.
    fn default() -> Self {
        ImageLimits {
            max_width: 12_000,
            max_height: 12_000,
            max_pixels: 50_000_000,
            max_alloc: 256 << 20,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

impl ImageLimits {
    /// Refuses a header whose dimensions are over the limits, before any pixel is decoded.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), ImageError> {
        let pixels = u64::from(width) * u64::from(height);
        if width > self.max_width || height > self.max_height || pixels > self.max_pixels {
            return Err(ImageError::TooLarge {
                width,
                height,
                max_width: self.max_width,
                max_height: self.max_height,
                max_pixels: self.max_pixels,
            });
        }
        Ok(())
    }

    /// Refuses a pixel buffer larger than `max_alloc` before it is allocated.
    pub(crate) fn check_buffer(&self, bytes: u64) -> Result<(), ImageError> {
        if bytes > self.max_alloc {
            return Err(ImageError::OverMemoryLimit {
                max_alloc: self.max_alloc,
            });
        }
        Ok(())
    }

    /// The decoder's limits while it reads the header: memory only, so that oversized dimensions
    /// reach [`Self::check_dimensions`] and get its error, which names them.
    pub(crate) fn header_limits(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(self.max_alloc);
        limits
    }

    /// The decoder's limits while it decodes: the same bounds, so a decoder reading past its
    /// header (PNG text or ICC chunks, WebP frames) is held to them too.
    pub(crate) fn decoder_limits(&self) -> image::Limits {
        let mut limits = self.header_limits();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits
    }
}
