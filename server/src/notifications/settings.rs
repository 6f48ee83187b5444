//! Operator settings of webhook delivery; tests compress the schedule to milliseconds.

use std::time::Duration;

/// How webhooks are delivered. Plain public fields: the binary sets them from flags, tests
/// directly.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Allows endpoints on private, loopback and link-local addresses (development, tests).
    pub allow_private_targets: bool,
    /// The delay before each attempt, the first included; after the last one fails the
    /// delivery is dead (kept in the log, replayable).
    pub schedule: Vec<Duration>,
    /// How often the worker looks for work when no notification wakes it.
    pub poll_interval: Duration,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            schedule: design_schedule(),
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The retry schedule of DESIGN.md: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
/// 24 h (about three days in all, so a receiver down over a weekend still gets everything).
pub fn design_schedule() -> Vec<Duration> {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    [
        0,
        5,
        5 * MINUTE,
        30 * MINUTE,
        2 * HOUR,
        5 * HOUR,
        10 * HOUR,
        14 * HOUR,
        20 * HOUR,
        24 * HOUR,
    ]
    .into_iter()
    .map(Duration::from_secs)
    .collect()
}
