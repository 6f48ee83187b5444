//! `AppJson<T>`, `Path<T>` and `Query<T>`: extractors whose rejection is our error format, with a
//! message saying what to fix.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but malformed input answers `{"error": ...}` like every other error.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::BadRequest(format!(
                "the request body is not what this endpoint takes: {}",
                rejection.body_text()
            ))),
        }
    }
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
