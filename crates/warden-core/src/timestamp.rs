//! Time as the core sees it: an instant passed in by the caller, never read from a clock.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch. The core never reads a clock: callers pass time in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The UTC calendar date and time: (year, month, day, hour, minute, second, weekday
    /// with 0 = Sunday).
    fn civil(self) -> (i64, u32, u32, i64, i64, i64, i64) {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's days-from-civil, inverted.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
        let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
        let year = yoe + era * 400 + i64::from(month <= 2);
        let weekday = (days + 4).rem_euclid(7);
        (
            year,
            month,
            day,
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60,
            weekday,
        )
    }

    /// RFC 3339 in UTC, to the second: `2026-12-01T02:04:15Z`.
    pub fn rfc3339(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// RFC 3339 in UTC, to the millisecond: `2026-12-01T02:04:15.123Z`.
    pub fn rfc3339_millis(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.civil();
        let ms = self.0.rem_euclid(1000);
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }

    /// RFC 5322 (email) date: `Tue, 01 Dec 2026 02:04:15 +0000`.
    pub fn rfc5322(self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (y, mo, d, h, mi, s, wd) = self.civil();
        let day = usize::try_from(wd)
            .ok()
            .and_then(|i| DAYS.get(i))
            .unwrap_or(&"Sun");
        let month = usize::try_from(mo)
            .ok()
            .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
            .unwrap_or(&"Jan");
        format!("{day}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} +0000")
    }
}

#[cfg(test)]
mod time_tests {
    use super::Timestamp;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(Timestamp(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(1_709_210_096_000).rfc3339(),
            "2024-02-29T12:34:56Z"
        );
        assert_eq!(Timestamp(-1000).rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(
            Timestamp(1_796_090_655_000).rfc5322(),
            "Tue, 01 Dec 2026 02:04:15 +0000"
        );
    }
}
