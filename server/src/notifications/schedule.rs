//! When the next attempt of a failed delivery is due: the schedule's next step with jitter, or
//! later if the receiver asked so with `Retry-After`.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// The longest wait a receiver may ask for: a `Retry-After` of a week must not park a delivery
/// beyond the schedule's own longest step.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The delay before attempt `attempts + 1`, or `None` when `attempts` used up the schedule.
pub fn next_delay(
    schedule: &[Duration],
    attempts: usize,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let step = jittered(*schedule.get(attempts)?);
    Some(match retry_after {
        Some(asked) => step.max(asked.min(MAX_RETRY_AFTER)),
        None => step,
    })
}

/// `delay` ±10%, so receivers recovering from an outage are not hit by every retry at once.
fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(rand::rng().random_range(0.9..=1.1))
}

/// A `Retry-After` header value: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_schedule_within_ten_percent_then_stops() {
        let schedule = [Duration::ZERO, Duration::from_secs(100)];
        assert_eq!(next_delay(&schedule, 0, None), Some(Duration::ZERO));
        let second = next_delay(&schedule, 1, None).unwrap();
        assert!((90..=110).contains(&second.as_secs()), "{second:?}");
        assert_eq!(next_delay(&schedule, 2, None), None);
    }

    #[test]
    fn retry_after_counts_only_when_later_and_is_capped() {
        let schedule = [Duration::ZERO, Duration::from_secs(100)];
        let later = next_delay(&schedule, 1, Some(Duration::from_secs(500))).unwrap();
        assert_eq!(later, Duration::from_secs(500));
        let sooner = next_delay(&schedule, 1, Some(Duration::from_secs(1))).unwrap();
        assert!(sooner >= Duration::from_secs(90));
        let huge = next_delay(&schedule, 1, Some(Duration::from_secs(10_000_000))).unwrap();
        assert_eq!(huge, MAX_RETRY_AFTER);
    }

    #[test]
    fn reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
