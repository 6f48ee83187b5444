//! Exponential backoff with full jitter for retries within one `field sync` run, so many
//! tablets coming online together do not retry in lockstep.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use super::SyncError;

/// How often and how long to retry a transient failure.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The pause before the second attempt (before jitter); doubles each time.
    pub first_pause: Duration,
    /// No pause is longer than this.
    pub max_pause: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_pause: Duration::from_millis(250),
            max_pause: Duration::from_secs(4),
        }
    }
}

impl Backoff {
    /// Few, short retries: for `field login`, where an offline tablet should not wait long.
    pub fn quick() -> Self {
        Self {
            attempts: 2,
            first_pause: Duration::from_millis(200),
            max_pause: Duration::from_millis(200),
        }
    }

    /// Runs `operation` until it succeeds, fails for good, or the attempts are used up.
    pub async fn run<T, F, Fut>(&self, mut operation: F) -> Result<T, SyncError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SyncError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match operation().await {
                Err(error) if error.is_transient() && attempt < self.attempts => {
                    self.pause(attempt).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// Sleeps after failed attempt number `attempt` (1-based): a random time up to the
    /// exponentially growing bound, at least a tenth of it.
    pub async fn pause(&self, attempt: u32) {
        tokio::time::sleep(self.delay(attempt)).await;
    }

    /// The pause after failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1));
        let bound = self.first_pause.saturating_mul(factor).min(self.max_pause);
        let bound_ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(rand::rng().random_range(bound_ms / 10..=bound_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_bounded() {
        let backoff = Backoff::default();
        for attempt in 1..10 {
            assert!(backoff.delay(attempt) <= backoff.max_pause);
        }
        assert!(backoff.delay(1) <= backoff.first_pause);
    }
}
