//! The verifier's clock, in NumericDate seconds. Tests move it forward to check
//! expiries without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock seconds since the epoch, plus an offset that only tests change.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Now, in seconds.
    pub fn now(&self) -> i64 {
        let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        wall + self.offset.load(Ordering::Relaxed)
    }

    /// Now, in milliseconds.
    pub fn now_ms(&self) -> u64 {
        let wall =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        (wall + self.offset.load(Ordering::Relaxed) * 1000).max(0) as u64
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

/// Seconds since the epoch as an RFC 3339 UTC time, e.g. `2026-11-27T22:55:41Z`.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("@{secs}"))
}

/// A time given by a person or a program: RFC 3339 (`2026-11-27T22:55:41Z`,
/// `2026-11-27T23:55:41+01:00`), a bare date (`2026-11-27`, midnight UTC), or Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Some(secs);
    }
    if let Ok(t) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let date = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::{parse_time, rfc3339};

    #[test]
    fn times_print_as_rfc_3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_821_741), "2026-11-27T23:22:21Z");
    }

    #[test]
    fn admin_filters_take_rfc_3339_dates_or_unix_seconds() {
        assert_eq!(parse_time("2026-11-27T23:22:21Z"), Some(1_795_821_741));
        assert_eq!(parse_time("2026-11-28T00:22:21+01:00"), Some(1_795_821_741));
        assert_eq!(parse_time("1795821741"), Some(1_795_821_741));
        assert_eq!(parse_time("2026-11-27"), Some(1_795_737_600));
        assert_eq!(parse_time("27/11/2026"), None);
        assert_eq!(parse_time("2026-13-01"), None);
        assert_eq!(parse_time(""), None);
    }
}
