//! Notifications of outbox events to the organisation's webhook endpoints, signed per Standard
//! Webhooks v1 and delivered at least once:
//!
//! 1. The cause's transaction writes the event to `outbox` and notifies `fieldsync_outbox`.
//! 2. [`deliver`] (one per instance) fans each new event out into one `webhook_deliveries` row
//!    per subscribed, enabled endpoint, in the transaction that marks it fanned out.
//! 3. It claims due deliveries under a lease, POSTs them with `webhook-id` (the event's,
//!    stable across retries and replays), `webhook-timestamp` and `webhook-signature`, and
//!    records the outcome: delivered on 2xx, endpoint disabled on 410, otherwise retried on the
//!    schedule of [`WebhookSettings`] and dead after its last step (replayable).
//!
//! Targets on internal networks are refused at registration and again at every connection
//! ([`ssrf`]) unless the operator allows them.

pub mod deliveries;
mod delivery;
pub mod endpoints;
mod fanout;
mod schedule;
mod sender;
mod settings;
pub mod signing;
pub mod ssrf;
mod worker;

pub use endpoints::Endpoint;
pub use settings::{WebhookSettings, design_schedule};
pub use worker::deliver;

/// Event types endpoints may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "job.completed",
    "job.needs_review",
    "job.reopened",
    "revisit.outcome_recorded",
];

/// Our own wake-up channel: a delivery became due now (replay, endpoint enabled again).
pub const WAKE_CHANNEL: &str = "fieldsync_webhooks";
