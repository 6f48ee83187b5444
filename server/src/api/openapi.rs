//! `GET /api/v1/openapi.json`: the API description, kept beside the code in `openapi.json`; a
//! test checks that every route the router serves is described there.

use axum::http::header;
use axum::response::IntoResponse;

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
