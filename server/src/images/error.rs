//! What can go wrong with an uploaded photo, each case worded for the technician who sent it and
//! carrying the HTTP status the API answers with.

/// Why a photo was refused or could not be processed.
///
/// `Display` is safe to show to users: decoder and panic details stay in the `source` or in
/// fields that only `Debug` (and so the logs) shows.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// No bytes at all.
    #[error("the photo is empty: upload the image file itself")]
    Empty,

    /// HEIC/HEIF, the default of recent iPhones and some Android cameras.
    #[error(
        "HEIC photos are not accepted: set the camera to 'Most Compatible' (JPEG) or convert to JPEG"
    )]
    Heic,

    /// Neither JPEG, PNG nor WebP, whatever the declared content type said.
    #[error("this file is not a JPEG, PNG or WebP image: send the photo as JPEG")]
    Unsupported,

    /// The header declares more pixels than the server processes.
    #[error(
        "this image is {width}x{height} pixels; the most accepted is {max_width}x{max_height} \
         and {} megapixels: send a smaller photo",
        .max_pixels / 1_000_000
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
        max_pixels: u64,
    },

    /// Decoding would need more memory than one photo may take.
    #[error("this image needs too much memory to process: send a smaller photo")]
    OverMemoryLimit { max_alloc: u64 },

    /// Truncated or corrupt data, or a header the decoder cannot follow.
    #[error("cannot read this image: the file is damaged or incomplete; send the photo again")]
    Unreadable(#[source] image::ImageError),

    /// Our own JPEG encoding failed: a server fault, not the photo's.
    #[error("the photo's display copies could not be made; try again later")]
    Encode(#[source] image::ImageError),

    /// The decoder or encoder panicked; the panic was contained and the server goes on.
    #[error("this image could not be processed; try again later or send it as JPEG")]
    Crashed { panic: String },

    /// The blocking pool is gone (the server is shutting down).
    #[error("the server is shutting down; try again in a moment")]
    Unavailable,
}

impl ImageError {
    /// The HTTP status the API answers with: 400 empty, 415 HEIC or unsupported type, 422 too large
    /// or unreadable, 500 our own failures, 503 while shutting down.
    pub fn http_status(&self) -> u16 {
        match self {
            ImageError::Empty => 400,
            ImageError::Heic | ImageError::Unsupported => 415,
            ImageError::TooLarge { .. }
            | ImageError::OverMemoryLimit { .. }
            | ImageError::Unreadable(_) => 422,
            ImageError::Encode(_) | ImageError::Crashed { .. } => 500,
            ImageError::Unavailable => 503,
        }
    }

    /// A stable machine-readable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::Empty => "empty_image",
            ImageError::Heic => "heic_not_accepted",
            ImageError::Unsupported => "unsupported_image_type",
            ImageError::TooLarge { .. } => "image_too_large",
            ImageError::OverMemoryLimit { .. } => "image_over_memory_limit",
            ImageError::Unreadable(_) => "unreadable_image",
            ImageError::Encode(_) | ImageError::Crashed { .. } => "image_processing_failed",
            ImageError::Unavailable => "unavailable",
        }
    }
}

/// Maps a decoder failure: a limit hit is a size problem, anything else is unreadable data.
pub(crate) fn from_decoder(error: image::ImageError, max_alloc: u64) -> ImageError {
    match error {
        image::ImageError::Limits(_) => ImageError::OverMemoryLimit { max_alloc },
        other => ImageError::Unreadable(other),
    }
}
