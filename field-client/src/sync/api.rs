//! The server's HTTP API as the tablet uses it: who am I, and the pending-work report. The
//! token travels only in the `Authorization` header, never in a URL that could be logged.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use sync_protocol::DocumentId;

use super::SyncError;
use crate::ClientError;
use crate::login::AccessToken;
use crate::status::SyncBacklog;

/// A logged-in connection to one server.
#[derive(Debug, Clone)]
pub struct ServerApi {
    base: String,
    token: AccessToken,
    http: reqwest::Client,
}

/// `GET /api/v1/me`, the part the tablet needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    /// Present for technicians: their job list.
    pub index_document_url: Option<String>,
}

impl Me {
    /// The technician's index document, if the token is a technician's.
    pub fn index_document(&self) -> Result<Option<DocumentId>, SyncError> {
        self.index_document_url
            .as_deref()
            .map(|url| {
                DocumentId::parse(url).map_err(|e| {
                    SyncError::Protocol(format!("the server named an unreadable job list: {e}"))
                })
            })
            .transpose()
    }
}

impl ServerApi {
    /// A client for `base` (normalised, without a trailing slash).
    pub fn new(base: &str, token: AccessToken) -> Result<Self, SyncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| SyncError::Protocol(format!("cannot set up HTTPS: {e}")))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The device token, for the WebSocket upgrade's `Authorization` header.
    pub(crate) fn token(&self) -> &AccessToken {
        &self.token
    }

    /// An absolute URL for `path_or_url` (tus `Location` headers may be relative).
    pub(crate) fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    /// A request with the bearer token.
    pub(crate) fn request(&self, method: reqwest::Method, url: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(url))
            .bearer_auth(self.token.expose())
    }

    /// Sends a request, turning network failures and refused tokens into [`SyncError`]s.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, SyncError> {
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        if matches!(
            response.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(SyncError::TokenRefused);
        }
        Ok(response)
    }

    /// Who the token belongs to.
    pub async fn me(&self) -> Result<Me, SyncError> {
        let response = self
            .send(self.request(reqwest::Method::GET, "/api/v1/me"))
            .await?;
        let response = expect_success(response, "the login check").await?;
        response
            .json()
            .await
            .map_err(|e| SyncError::Protocol(format!("unreadable answer to the login check: {e}")))
    }

    /// Tells operators how much work this tablet still holds.
    pub async fn report_backlog(&self, backlog: &SyncBacklog) -> Result<(), SyncError> {
        let changes: usize = backlog.pending_changes.iter().map(|d| d.changes).sum();
        let body = serde_json::json!({
            "pending_changes": u32::try_from(changes).unwrap_or(u32::MAX),
            "pending_uploads": u32::try_from(backlog.pending_uploads.len()).unwrap_or(u32::MAX),
        });
        let request = self
            .request(reqwest::Method::POST, "/api/v1/fleet/report")
            .json(&body);
        expect_success(self.send(request).await?, "the pending-work report").await?;
        Ok(())
    }

    /// The one-line "cannot reach" error, naming the server but no secret.
    pub(crate) fn unreachable(&self, error: &reqwest::Error) -> SyncError {
        let reason = if error.is_connect() {
            "no connection"
        } else if error.is_timeout() {
            "timed out"
        } else {
            "the connection broke"
        };
        SyncError::Unreachable {
            server: self.base.clone(),
            reason: reason.to_owned(),
        }
    }
}

/// The response if it is a success; otherwise the server's own message.
pub(crate) async fn expect_success(
    response: Response,
    what: &'static str,
) -> Result<Response, SyncError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    Err(SyncError::Server {
        what,
        status: status.as_u16(),
        message: server_message(response).await,
    })
}

/// The `error.message` of the server's JSON error body, or the status text.
pub(crate) async fn server_message(response: Response) -> String {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    body["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned())
}

impl From<rusqlite::Error> for SyncError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Local(ClientError::from(error))
    }
}
