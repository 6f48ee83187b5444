//! The image step of an upload: the served derivatives (display size and thumbnail, upright,
//! without metadata) of a verified original.

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

pub async fn derivatives(app: &AppState, original: Vec<u8>) -> Result<Derived, ApiError> {
    let _ = (app, original);
    Ok(Derived::default())
}
