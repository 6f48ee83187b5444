//! The `Caller` extractor: the staff member and device behind a request's bearer token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use uuid::Uuid;

use super::TokenHash;
use crate::directory::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated staff member, on one device.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Caller {
    pub staff_id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// The device token, or for a console session the session's id.
    pub device_token_id: Uuid,
    pub device_name: String,
    /// Signed in to the console in a browser (a session, not a device token).
    #[sqlx(default)]
    #[serde(skip)]
    pub browser: bool,
}

impl Caller {
    /// The device token the caller used, if they used one (a console session is none).
    pub fn device_token(&self) -> Option<Uuid> {
        (!self.browser).then_some(self.device_token_id)
    }

    /// Looks up an unrevoked token of an active staff member, and notes its use.
    pub async fn authenticate(state: &AppState, token: &str) -> Result<Self, ApiError> {
        let caller: Option<Caller> = sqlx::query_as(
            r#"update device_tokens t set last_used_at = now()
               from staff s
               where t.token_hash = $1 and t.revoked_at is null
                 and s.id = t.staff_id and s.disabled_at is null
               returning s.id as staff_id, s.organisation_id, s.name, s.role,
                         t.id as device_token_id, t.device_name"#,
        )
        .bind(TokenHash::of(token).as_bytes())
        .fetch_optional(&state.db)
        .await?;
        caller.ok_or(ApiError::Unauthenticated)
    }

    /// Whether the caller's token is still unrevoked and its staff member still active: a
    /// long-lived connection asks again as it goes.
    pub async fn still_valid(&self, db: &sqlx::PgPool) -> Result<bool, sqlx::Error> {
        if self.browser {
            // A console session: not ended, its member active.
            return sqlx::query_scalar(
                r#"select exists (select 1 from console_sessions cs join staff s on s.id = cs.staff_id
                                  where cs.id = $1 and cs.ended_at is null and s.disabled_at is null)"#,
            )
            .bind(self.device_token_id)
            .fetch_one(db)
            .await;
        }
        sqlx::query_scalar(
            r#"select exists (select 1 from device_tokens t join staff s on s.id = t.staff_id
                              where t.id = $1 and t.revoked_at is null and s.disabled_at is null)"#,
        )
        .bind(self.device_token_id)
        .fetch_one(db)
        .await
    }

    /// Refuses the call unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the role {}; you are signed in as {}",
                roles
                    .iter()
                    .map(Role::as_str)
                    .collect::<Vec<_>>()
                    .join(" or "),
                self.role.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthenticated)?;
        let caller = Self::authenticate(state, &token).await?;
        match state.rates.take(caller.device_token_id) {
            None => Ok(caller),
            Some(wait) => Err(ApiError::TooManyRequests(wait)),
        }
    }
}

/// The token from `Authorization: Bearer`, or from `?token=` (browsers cannot set headers on
/// WebSocket upgrades).
fn bearer_token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    parts.uri.query().and_then(|query| {
        query.split('&').find_map(|pair| {
            let token = pair.strip_prefix("token=")?;
            (!token.is_empty()).then(|| token.to_owned())
        })
    })
}
