//! The technician's login: the server to sync with and the device's bearer token. Offline, a
//! login only stores both; the sync engine verifies them against the server when online.

use std::fmt;
use std::fs;

use serde::Serialize;

use crate::error::ClientError;
use crate::home::{Home, write_durably};

/// A device's bearer token. Never printed: `Debug` and `Display` show a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Accepts a non-empty token without whitespace, as the server issues them.
    pub fn parse(text: &str) -> Result<Self, LoginError> {
        let text = text.trim();
        if text.is_empty() || text.chars().any(char::is_whitespace) {
            return Err(LoginError::Token);
        }
        Ok(Self(text.to_owned()))
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Why a login was refused before anything was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error(
        "The server address must start with http:// or https://, for example https://fieldsync.example.com"
    )]
    ServerUrl,
    #[error(
        "The token is empty or contains spaces; copy the device token exactly as dispatch gave it"
    )]
    Token,
}

/// The server URL, normalised without a trailing slash.
pub fn parse_server_url(text: &str) -> Result<String, LoginError> {
    let text = text.trim().trim_end_matches('/');
    let host = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or(LoginError::ServerUrl)?;
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err(LoginError::ServerUrl);
    }
    Ok(text.to_owned())
}

/// Who the tablet syncs as, without the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Login {
    pub server_url: String,
    /// When `field login` ran (device clock, ms since the epoch).
    pub logged_in_at: i64,
}

/// Stores the token file with mode 0600, durably.
pub(crate) fn store_token(home: &Home, token: &AccessToken) -> Result<(), ClientError> {
    write_durably(&home.token_file(), token.expose().as_bytes(), 0o600)
}

/// Reads the token back; `None` when no login stored one.
pub fn read_token(home: &Home) -> Result<Option<AccessToken>, ClientError> {
    let path = home.token_file();
    match fs::read_to_string(&path) {
        Ok(text) => Ok(AccessToken::parse(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClientError::file("read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_shows_in_debug() {
        let token = AccessToken::parse("fst_secret").unwrap();
        assert!(!format!("{token:?}").contains("secret"));
    }

    #[test]
    fn server_urls_are_checked_and_normalised() {
        assert_eq!(
            parse_server_url("https://a.example/").unwrap(),
            "https://a.example"
        );
        assert_eq!(parse_server_url("ftp://x"), Err(LoginError::ServerUrl));
        assert_eq!(parse_server_url("http://"), Err(LoginError::ServerUrl));
    }
}
