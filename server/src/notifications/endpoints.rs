//! Webhook endpoints: where an organisation wants its events, which ones, and with which secret.
//! Every query filters by organisation, so another organisation's endpoint is simply not found.

use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::EVENT_TYPES;
use super::signing::WebhookSecret;
use super::ssrf::{Refused, vet_url};

/// The longest URL accepted.
pub const MAX_URL: usize = 2048;
/// The longest description accepted.
pub const MAX_DESCRIPTION: usize = 500;

/// An endpoint as listed: never its secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What an admin registers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Why a registration is refused; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("url must be an absolute http:// or https:// URL of at most {MAX_URL} characters")]
    Url,
    #[error("url must not contain a user name or password; authenticate with the signature")]
    Credentials,
    #[error("events must name at least one of: {}", EVENT_TYPES.join(", "))]
    NoEvents,
    #[error("unknown event type `{0}`; known types: {known}", known = EVENT_TYPES.join(", "))]
    UnknownEvent(String),
    #[error("description may be at most {MAX_DESCRIPTION} characters")]
    Description,
    #[error(transparent)]
    Target(#[from] Refused),
}

impl NewEndpoint {
    /// Checks the request, resolving the URL's host unless private targets are allowed.
    pub async fn validate(mut self, allow_private: bool) -> Result<Self, Invalid> {
        if self.url.len() > MAX_URL {
            return Err(Invalid::Url);
        }
        let url: Url = self.url.parse().map_err(|_| Invalid::Url)?;
        // What is stored and signed for is the normalised form (punycode host,
        // percent-encoding), which may be longer than what was sent.
        if url.as_str().len() > MAX_URL {
            return Err(Invalid::Url);
        }
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Invalid::Url);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::Credentials);
        }
        if self.events.is_empty() {
            return Err(Invalid::NoEvents);
        }
        if let Some(unknown) = self
            .events
            .iter()
            .find(|e| !EVENT_TYPES.contains(&e.as_str()))
        {
            return Err(Invalid::UnknownEvent(unknown.clone()));
        }
        self.events.sort();
        self.events.dedup();
        if let Some(description) = &self.description
            && description.chars().count() > MAX_DESCRIPTION
        {
            return Err(Invalid::Description);
        }
        vet_url(&url, allow_private).await?;
        self.url = url.to_string();
        Ok(self)
    }
}

const COLUMNS: &str =
    "id, url, description, events, enabled, disabled_reason, disabled_at, created_at";

impl Endpoint {
    /// Stores a validated endpoint with a new secret; the secret is returned this once.
    pub async fn create(
        db: impl PgExecutor<'_>,
        organisation: Uuid,
        new: &NewEndpoint,
    ) -> Result<(Endpoint, WebhookSecret), sqlx::Error> {
        let secret = WebhookSecret::generate();
        // Only the constant column list is formatted in.
        let endpoint = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into webhook_endpoints (id, organisation_id, url, description, events, secret)
             values ($1, $2, $3, $4, $5, $6) returning {COLUMNS}"
        )))
        .bind(Uuid::new_v4())
        .bind(organisation)
        .bind(&new.url)
        .bind(&new.description)
        .bind(&new.events)
        .bind(secret.expose())
        .fetch_one(db)
        .await?;
        Ok((endpoint, secret))
    }

    pub async fn list(
        db: impl PgExecutor<'_>,
        organisation: Uuid,
    ) -> Result<Vec<Self>, sqlx::Error> {
        // Only the constant column list is formatted in.
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from webhook_endpoints where organisation_id = $1 order by created_at, id"
        )))
        .bind(organisation)
        .fetch_all(db)
        .await
    }

    pub async fn find(
        db: impl PgExecutor<'_>,
        organisation: Uuid,
        id: Uuid,
    ) -> Result<Option<Self>, sqlx::Error> {
        // Only the constant column list is formatted in.
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from webhook_endpoints where organisation_id = $1 and id = $2"
        )))
        .bind(organisation)
        .bind(id)
        .fetch_optional(db)
        .await
    }

    /// Enables or disables (with `reason`) an endpoint; `None` if it is not the organisation's.
    /// Disabling an endpoint already disabled keeps the first reason and time (a 410 from the
    /// receiver is not hidden by an admin's later click).
    pub async fn set_enabled(
        db: impl PgExecutor<'_>,
        organisation: Uuid,
        id: Uuid,
        enabled: bool,
        reason: &str,
    ) -> Result<Option<Self>, sqlx::Error> {
        // Only the constant column list is formatted in.
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update webhook_endpoints
             set enabled = $3,
                 disabled_reason = case when $3 then null
                                        when not enabled then disabled_reason else $4 end,
                 disabled_at = case when $3 then null
                                    when not enabled then disabled_at else now() end
             where organisation_id = $1 and id = $2
             returning {COLUMNS}"
        )))
        .bind(organisation)
        .bind(id)
        .bind(enabled)
        .bind(reason)
        .fetch_optional(db)
        .await
    }

    /// An admin registers an endpoint for their organisation: the request is vetted (URL,
    /// events, the SSRF guard unless private targets are allowed), and the answer carries the
    /// signing secret, shown this once.
    pub async fn register(
        db: &sqlx::PgPool,
        caller: &crate::auth::Caller,
        allow_private: bool,
        request: NewEndpoint,
    ) -> Result<(Self, super::signing::WebhookSecret), crate::error::ApiError> {
        caller.require(&[crate::directory::Role::Admin])?;
        let request = request
            .validate(allow_private)
            .await
            .map_err(|e| crate::error::ApiError::BadRequest(e.to_string()))?;
        Ok(Self::create(db, caller.organisation_id, &request).await?)
    }

    /// An admin replays events to endpoint `id` of their organisation; how many deliveries
    /// were queued. A disabled endpoint is refused with its reason; one event that is not the
    /// organisation's, or of a type the endpoint does not take, is refused too.
    pub async fn replay(
        db: &sqlx::PgPool,
        caller: &crate::auth::Caller,
        id: Uuid,
        which: super::deliveries::Replay,
    ) -> Result<u64, crate::error::ApiError> {
        use crate::error::ApiError;
        caller.require(&[crate::directory::Role::Admin])?;
        let endpoint = Self::find(db, caller.organisation_id, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        if !endpoint.enabled {
            return Err(ApiError::Conflict(format!(
                "the endpoint is disabled ({}); enable it (POST /api/v1/webhooks/{id}/enable), then replay",
                endpoint
                    .disabled_reason
                    .as_deref()
                    .unwrap_or("no reason recorded")
            )));
        }
        let queued = super::deliveries::replay(db, caller.organisation_id, id, which).await?;
        if queued == 0 && matches!(which, super::deliveries::Replay::Event(_)) {
            return Err(ApiError::Unprocessable(
                "no such event in your organisation of a type this endpoint subscribes to; check \
                 the event id and the endpoint's events"
                    .to_owned(),
            ));
        }
        Ok(queued)
    }

    /// An admin enables or disables (noting who) endpoint `id` of their organisation; enabling
    /// wakes the delivery workers for its pending deliveries.
    pub async fn switch(
        db: &sqlx::PgPool,
        caller: &crate::auth::Caller,
        id: Uuid,
        enabled: bool,
    ) -> Result<Self, crate::error::ApiError> {
        caller.require(&[crate::directory::Role::Admin])?;
        let reason = if enabled {
            String::new()
        } else {
            format!("disabled by {}", caller.name)
        };
        let endpoint = Self::set_enabled(db, caller.organisation_id, id, enabled, &reason)
            .await?
            .ok_or(crate::error::ApiError::NotFound)?;
        if enabled {
            super::deliveries::wake_workers(db).await?;
        }
        Ok(endpoint)
    }

    /// Deletes an endpoint and its delivery log; whether it existed in the organisation.
    pub async fn delete(
        db: impl PgExecutor<'_>,
        organisation: Uuid,
        id: Uuid,
    ) -> Result<bool, sqlx::Error> {
        let deleted =
            sqlx::query("delete from webhook_endpoints where organisation_id = $1 and id = $2")
                .bind(organisation)
                .bind(id)
                .execute(db)
                .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
