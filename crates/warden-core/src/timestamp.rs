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

    /// Parses an RFC 3339 date and time (`2026-12-01T02:04:15Z`,
    /// `2026-12-01t03:04:15.5+01:00`): a full date, `T` (or `t`, or a space), a time with
    /// optional fractional seconds (kept to the millisecond, the rest dropped) and `Z` or an
    /// offset `±hh:mm`. A leap second (`:60`) counts as the first second of the next minute.
    /// `None` for anything else.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let digits = b.get(from..from + len)?;
            digits.iter().try_fold(0i64, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
            })
        };
        let at = |i: usize| b.get(i).copied();
        if at(4) != Some(b'-')
            || at(7) != Some(b'-')
            || at(13) != Some(b':')
            || at(16) != Some(b':')
        {
            return None;
        }
        if !matches!(at(10), Some(b'T' | b't' | b' ')) {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut i = 19;
        let mut millis = 0;
        if at(i) == Some(b'.') {
            i += 1;
            let start = i;
            while at(i).is_some_and(|d| d.is_ascii_digit()) {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(at(i).unwrap_or(b'0') - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return None;
            }
            for _ in digits..3 {
                millis *= 10;
            }
        }
        let offset = match at(i) {
            Some(b'Z' | b'z') if b.len() == i + 1 => 0,
            Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && at(i + 3) == Some(b':') => {
                let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let minutes = h * 60 + m;
                if sign == b'+' {
                    minutes
                } else {
                    -minutes
                }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3600 + (minute - offset) * 60 + second;
        Some(Timestamp(seconds * 1000 + millis))
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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

    #[test]
    fn rfc3339_parses_back_what_it_prints_and_offsets_and_fractions() {
        for ms in [
            0,
            1,
            -1,
            1_709_210_096_123,
            -62_135_596_800_000,
            253_402_300_799_999,
        ] {
            let t = Timestamp(ms);
            assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339_millis()), Some(t));
        }
        let t = Timestamp::parse_rfc3339;
        assert_eq!(
            t("2024-02-29T12:34:56Z"),
            Some(Timestamp(1_709_210_096_000))
        );
        assert_eq!(
            t("2024-02-29t13:34:56.5+01:00"),
            Some(Timestamp(1_709_210_096_500))
        );
        assert_eq!(
            t("2024-02-29 12:04:56.123456-00:30"),
            Some(Timestamp(1_709_210_096_123))
        );
        assert_eq!(t("1970-01-01T00:00:60Z"), Some(Timestamp(60_000)));
        assert_eq!(
            t("0000-01-01T00:00:00Z"),
            Some(Timestamp(-62_167_219_200_000))
        );
        for bad in [
            "",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:61Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00Zx",
            "2024-01-01X00:00:00Z",
            "+024-01-01T00:00:00Z",
            "1700000000000",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }
}
