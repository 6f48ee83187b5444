//! One HTTP attempt: the payload as JSON with the Standard Webhooks headers, through a client
//! that connects only to vetted addresses, follows no redirects and reads a bounded answer.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, Url, redirect};

use super::delivery::{Attempt, Outcome};
use super::schedule::parse_retry_after;
use super::settings::WebhookSettings;
use super::ssrf::{Refused, VettedResolver, ip_literal, is_internal};

/// The most of a receiver's answer read (the rest is dropped with the connection).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The most of an answer or error kept in the delivery log.
const MAX_ERROR_CHARS: usize = 300;

/// The client every attempt of this worker uses.
#[derive(Debug, Clone)]
pub struct Sender {
    client: Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(settings: &WebhookSettings) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            .dns_resolver(Arc::new(VettedResolver {
                allow_private: settings.allow_private_targets,
            }))
            // A redirect could lead anywhere, including inside; receivers must answer directly.
            .redirect(redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("Fieldsync-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_private: settings.allow_private_targets,
        })
    }

    /// Sends `attempt` once and says what came of it.
    pub async fn send(&self, attempt: &Attempt) -> Outcome {
        match self.try_send(attempt).await {
            Ok(outcome) => outcome,
            Err(error) => Outcome::Failed {
                status: None,
                error: truncate(&error),
                retry_after: None,
            },
        }
    }

    async fn try_send(&self, attempt: &Attempt) -> Result<Outcome, String> {
        let url: Url = attempt
            .url
            .parse()
            .map_err(|_| "the endpoint URL is not valid".to_owned())?;
        // IP literals bypass the resolver: vet them here.
        let host = url.host_str().unwrap_or_default();
        if !self.allow_private && ip_literal(host).is_some_and(is_internal) {
            return Err(Refused::Internal {
                host: host.to_owned(),
            }
            .to_string());
        }
        let secret = attempt.secret().ok_or_else(|| {
            "the endpoint's secret is unreadable; recreate the endpoint".to_owned()
        })?;
        let body = serde_json::to_vec(&attempt.payload).map_err(|e| e.to_string())?;
        let webhook_id = attempt.webhook_id();
        let timestamp = unix_now();
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                secret.sign(&webhook_id, timestamp, &body),
            )
            // Not part of the standard: lets receivers (and our tests) see retries as such.
            .header("fieldsync-delivery-attempt", attempt.attempt.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e.without_url()))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let answer = read_bounded(response).await;
        Ok(if status.is_success() {
            Outcome::Delivered {
                status: status.as_u16(),
            }
        } else if status == reqwest::StatusCode::GONE {
            Outcome::Gone
        } else {
            Outcome::Failed {
                status: Some(status.as_u16()),
                error: truncate(&if answer.is_empty() {
                    format!("the endpoint answered {status}")
                } else {
                    format!("the endpoint answered {status}: {answer}")
                }),
                retry_after,
            }
        })
    }
}

/// Up to [`MAX_RESPONSE_BYTES`] of the answer, as text; a receiver cannot make us buffer more.
async fn read_bounded(mut response: reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            _ => break,
        }
    }
    kept.truncate(MAX_RESPONSE_BYTES);
    String::from_utf8_lossy(&kept).trim().to_owned()
}

/// An error with its causes ("connection refused" hides several levels down).
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
        .try_into()
        .unwrap_or(i64::MAX)
}
