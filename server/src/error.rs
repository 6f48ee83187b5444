//! The one error type of the HTTP API: each variant knows its status code, internal details are
//! logged inside the request span and never sent to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "sign in first: send `Authorization: Bearer <token>` with a valid, unrevoked device token"
    )]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found: it does not exist or you may not see it")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    UnsupportedMedia(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    ChecksumMismatch(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("the service is busy; try again shortly")]
    Unavailable,
    #[error(
        "the database is unavailable (down or overloaded); nothing was changed, try again shortly"
    )]
    DatabaseUnavailable,
    #[error(
        "too many requests from this device; slow down and try again in {} s",
        .0.as_secs().max(1)
    )]
    TooManyRequests(std::time::Duration),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Gone(_) => StatusCode::GONE,
            // tus checksum extension: 460 Checksum Mismatch.
            ApiError::ChecksumMismatch(_) => {
                StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST)
            }
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable | ApiError::DatabaseUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable name for the error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::UnsupportedMedia(_) => "unsupported_media_type",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::TooLarge(_) => "too_large",
            ApiError::Gone(_) => "gone",
            ApiError::ChecksumMismatch(_) => "checksum_mismatch",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Unavailable => "unavailable",
            ApiError::DatabaseUnavailable => "database_unavailable",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if database_unreachable(&error) {
            tracing::warn!(%error, "the database is unavailable");
            return ApiError::DatabaseUnavailable;
        }
        ApiError::Internal(error.into())
    }
}

/// Whether `error` means PostgreSQL cannot be reached or is going away (rather than a query
/// that failed): no connection within the pool's wait, a broken connection, a server shutting
/// down or starting up (SQLSTATE class 08 and 57P0x).
pub fn database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

impl ApiError {
    /// Whether a stored document turned out damaged (see [`crate::documents::StoreError`]):
    /// not a failure of the database, and not one a retry gets past.
    pub fn is_damaged_document(&self) -> bool {
        matches!(self, ApiError::Internal(error)
            if error
                .downcast_ref::<crate::documents::StoreError>()
                .is_some_and(crate::documents::StoreError::is_damaged))
    }
}

impl From<crate::documents::StoreError> for ApiError {
    fn from(error: crate::documents::StoreError) -> Self {
        match error {
            crate::documents::StoreError::Database(e) => e.into(),
            crate::documents::StoreError::Apply(message) => {
                ApiError::BadRequest(format!("the changes could not be applied: {message}"))
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<crate::images::ImageError> for ApiError {
    fn from(error: crate::images::ImageError) -> Self {
        let message = error.to_string();
        match error.http_status() {
            400 => ApiError::BadRequest(message),
            415 => ApiError::UnsupportedMedia(message),
            422 => ApiError::Unprocessable(message),
            503 => ApiError::Unavailable,
            _ => ApiError::Internal(anyhow::anyhow!("{error:?}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(source) = &self {
            tracing::error!(error = format!("{source:#}"), "request failed");
        }
        let mut response = (
            self.status_code(),
            Json(json!({ "error": { "code": self.code(), "message": self.to_string() } })),
        )
            .into_response();
        if matches!(self, ApiError::PreconditionFailed(_)) {
            // tus: a 412 names the versions the server speaks.
            response.headers_mut().insert(
                "tus-version",
                axum::http::HeaderValue::from_static(crate::uploads::TUS_VERSION),
            );
        }
        if let ApiError::TooManyRequests(wait) = &self {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        if matches!(self, ApiError::Unauthenticated) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
