//! Instants as milliseconds since the Unix epoch: one integer column on every engine, ordered,
//! and free of time-zone handling in the store. Shown to users in Beijing time (UTC+8).
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, FixedOffset};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(since.as_millis() as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn after(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.as_millis() as i64))
    }

    /// "2026-11-23 14:05:09" in Beijing time, the format the portal uses.
    pub fn beijing(self) -> String {
        let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        DateTime::from_timestamp_millis(self.0)
            .map(|t| {
                t.with_timezone(&offset)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// The year in Beijing at this instant (annual reports default to the one before).
    pub fn beijing_year(self) -> i32 {
        let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        DateTime::from_timestamp_millis(self.0)
            .map(|t| t.with_timezone(&offset).year())
            .unwrap_or(1970)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.beijing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_beijing_year_turns_eight_hours_before_utcs() {
        // 2025-12-31T16:30:00Z is already 2026-01-01 00:30 in Shanghai.
        let t = Timestamp(1_767_198_600_000);
        assert_eq!(t.beijing(), "2026-01-01 00:30:00");
        assert_eq!(t.beijing_year(), 2026);
        assert_eq!(
            Timestamp(1_767_198_600_000 - 3_600_000).beijing_year(),
            2025
        );
    }

    #[test]
    fn shows_beijing_time() {
        // 2026-11-23T00:00:00Z is 08:00 in Shanghai.
        assert_eq!(
            Timestamp(1_795_392_000_000).beijing(),
            "2026-11-23 08:00:00"
        );
    }
}
