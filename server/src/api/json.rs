//! `AppJson<T>`, `Path<T>` and `Query<T>`: extractors whose rejection is our error format, with a
//! message saying what to fix.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but malformed input answers `{"error": ...}` like every other error.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::BadRequest(
                "the request body is not what this endpoint takes: send JSON with \
                 `Content-Type: application/json`"
                    .to_owned(),
            ));
        }
        let body = match Bytes::from_request(request, state).await {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::TooLarge(format!(
                    "the request body is larger than this endpoint takes ({} KiB at most)",
                    super::JSON_BODY_LIMIT / 1024
                )));
            }
            Err(rejection) => {
                return Err(ApiError::BadRequest(format!(
                    "the request body could not be read: {}",
                    rejection.body_text()
                )));
            }
        };
        if has_nul_escape(&body) {
            // PostgreSQL text cannot hold it, and no name, address or note needs it.
            return Err(ApiError::BadRequest(
                "text may not contain the NUL character (\\u0000)".to_owned(),
            ));
        }
        match axum::Json::<T>::from_bytes(&body) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "the request body is not what this endpoint takes: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// `application/json` or any `application/*+json`, as axum's own `Json` accepts.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether a JSON text holds the escape `\u0000` inside a string. A raw NUL byte is not valid
/// JSON (the parser refuses it); an escaped backslash followed by `u0000` is not a NUL.
fn has_nul_escape(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000".as_slice())
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// One page of a list as JSON. A full page may have more after it: the response says where the
/// list goes on (`Link: <next>; rel="next"`, RFC 8288), `next` building that address from the
/// page's last id.
pub fn page<T: serde::Serialize>(
    items: Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> uuid::Uuid,
    next: impl FnOnce(uuid::Uuid) -> String,
) -> Response {
    let last = (items.len() as i64 == limit)
        .then(|| items.last().map(&id))
        .flatten();
    let mut response = AppJson(items).into_response();
    if let Some(last) = last
        && let Ok(link) =
            axum::http::HeaderValue::from_str(&format!("<{}>; rel=\"next\"", next(last)))
    {
        response
            .headers_mut()
            .insert(axum::http::header::LINK, link);
    }
    response
}

/// Like `axum::extract::Path`, but a malformed segment (an id that is not a UUID) answers
/// `{"error": ...}` like every other error instead of axum's plain text.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "the path is not what this endpoint takes: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Like `axum::extract::Query`, with the same error format as every other error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "the query string is not what this endpoint takes: {}",
                rejection.body_text()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn only_a_real_nul_escape_counts() {
        assert!(has_nul_escape(br#"{"name": "\u0000"}"#));
        assert!(has_nul_escape(br#"{"name": "a\"\u0000"}"#));
        assert!(!has_nul_escape(br#"{"name": "\\u0000"}"#));
        assert!(has_nul_escape(br#"{"name": "\u00001"}"#));
        assert!(!has_nul_escape(br#"{"name": "\u0001 \\"}"#));
    }
}
