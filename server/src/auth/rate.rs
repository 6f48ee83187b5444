//! Request rates per device (DESIGN: limits on everything a client controls): a token bucket
//! per device token, in memory on each instance. A device over its rate gets 429 with
//! Retry-After on HTTP; on a sync connection its messages are simply read more slowly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How fast one device may call.
#[derive(Debug, Clone, Copy)]
pub struct RateSettings {
    /// Requests (or sync messages) per second, sustained.
    pub per_second: f64,
    /// How many may come at once after a quiet spell.
    pub burst: f64,
}

impl Default for RateSettings {
    /// Far above what a tablet (1 MiB upload `PATCH`es, a sync message per document) or a
    /// dispatcher's screen needs; a runaway client loop or a script hits it.
    fn default() -> Self {
        Self {
            per_second: 50.0,
            burst: 300.0,
        }
    }
}

/// Buckets kept before idle, full ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone)]
pub struct RateLimiter {
    settings: RateSettings,
    buckets: Arc<Mutex<HashMap<Uuid, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(settings: RateSettings) -> Self {
        Self {
            settings,
            buckets: Arc::default(),
        }
    }

    /// Takes one request's worth for `device`: `None` if allowed, else how long until it
    /// would be.
    pub fn take(&self, device: Uuid) -> Option<Duration> {
        let RateSettings { per_second, burst } = self.settings;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < burst
            });
        }
        let bucket = buckets.entry(device).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second).min(burst);
        bucket.at = now;
        if refilled >= 1.0 {
            bucket.tokens = refilled - 1.0;
            None
        } else {
            bucket.tokens = refilled;
            Some(Duration::from_secs_f64((1.0 - refilled) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds_per_device() {
        let limiter = RateLimiter::new(RateSettings {
            per_second: 10.0,
            burst: 3.0,
        });
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..3 {
            assert_eq!(limiter.take(a), None);
        }
        let wait = limiter
            .take(a)
            .expect("the fourth at once is over the burst");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert_eq!(limiter.take(b), None, "another device has its own bucket");
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(limiter.take(a), None, "refilled at the rate");
    }
}
