//! The office's clock on screen: times are shown, and typed into forms, at the organisation's
//! offset from UTC (its setting), else the browser's (which `console.js` tells in the `tz`
//! cookie), else China Standard Time, this trade's.

use axum::http::HeaderMap;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::auth::Caller;
use crate::directory::Organisation;
use crate::error::ApiError;
use crate::jobs::view::parse_offset;
use crate::state::AppState;

/// When neither the organisation nor the browser says.
pub const DEFAULT_OFFSET: &str = "+08:00";

#[derive(Debug, Clone)]
pub struct Clock {
    pub offset: FixedOffset,
    /// As typed: `+08:00`.
    pub label: String,
}

impl Clock {
    /// The clock for `caller`'s screens.
    pub async fn of(
        app: &AppState,
        caller: &Caller,
        headers: &HeaderMap,
    ) -> Result<Self, ApiError> {
        let chosen = Organisation::utc_offset(&app.db, caller.organisation_id).await?;
        let browser = super::cookie(headers, "tz");
        Ok([chosen.as_deref(), browser.as_deref()]
            .into_iter()
            .flatten()
            .find_map(Self::parse)
            .unwrap_or_else(Self::china))
    }

    /// China Standard Time, UTC+8.
    pub fn china() -> Self {
        const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
            Some(offset) => offset,
            None => panic!("UTC+8 is an offset"),
        };
        Self {
            offset: CHINA,
            label: DEFAULT_OFFSET.to_owned(),
        }
    }

    /// A clock at `label` (`+08:00`), if it is an offset from UTC.
    pub fn parse(label: &str) -> Option<Self> {
        let offset = parse_offset(label)?;
        Some(Self {
            offset,
            label: offset.to_string(),
        })
    }

    /// `2026-11-28 14:00`.
    pub fn show(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.offset)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// `14:00`.
    pub fn time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.offset).format("%H:%M").to_string()
    }

    /// `2026-11-28`, for a date field.
    pub fn date(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.offset)
            .format("%Y-%m-%d")
            .to_string()
    }

    /// Today on this clock.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.offset).date_naive()
    }

    /// A date field and a time field (as browsers send them) read on this clock.
    pub fn read(&self, date: &str, time: &str) -> Result<DateTime<Utc>, ApiError> {
        let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest("the date must be YYYY-MM-DD".into()))?;
        let clock = NaiveTime::parse_from_str(time.trim(), "%H:%M")
            .map_err(|_| ApiError::BadRequest("times must be HH:MM".into()))?;
        self.offset
            .from_local_datetime(&day.and_time(clock))
            .single()
            .map(|at| at.with_timezone(&Utc))
            .ok_or_else(|| ApiError::BadRequest("that time does not exist".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_shows_times_at_its_offset() {
        let clock = Clock::parse("+08:00").unwrap();
        let at = clock.read("2026-11-28", "09:30").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-28T01:30:00+00:00");
        assert_eq!(clock.show(at), "2026-11-28 09:30");
        assert_eq!(clock.time(at), "09:30");
        assert!(clock.read("2026-13-01", "09:30").is_err());
        assert!(clock.read("2026-11-28", "9h30").is_err());
        assert!(Clock::parse("+15:00").is_none());
    }
}
