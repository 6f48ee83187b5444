//! The image step of an upload: the served derivatives (display size and thumbnail, upright,
//! without metadata) of a verified original, made by the bounded image pipeline.

use bytes::Bytes;

use crate::error::ApiError;
use crate::state::AppState;

/// What the image step produced.
#[derive(Debug, Default)]
pub struct Derived {
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// (variant, JPEG bytes): `display` and `thumbnail`.
    pub files: Vec<(&'static str, Vec<u8>)>,
}

/// Refuses what is not a readable JPEG, PNG or WebP (HEIC with a message asking for JPEG).
pub async fn derivatives(app: &AppState, original: Vec<u8>) -> Result<Derived, ApiError> {
    let processed = app.images.process(Bytes::from(original)).await?;
    Ok(Derived {
        width: i32::try_from(processed.original.width).ok(),
        height: i32::try_from(processed.original.height).ok(),
        files: vec![
            ("display", processed.display.bytes),
            ("thumbnail", processed.thumbnail.bytes),
        ],
    })
}
