//! Instants as Unix seconds, read from and written as RFC 3339 (`2026-12-01T18:00:00Z`).
//!
//! Written here instead of pulling `time` or `chrono` into the widget: drops only need
//! "parse an RFC 3339 stamp into seconds" and "print one back", which is forty lines,
//! while a date-time crate costs wasm size the budget cannot spare. Fractions of a second
//! are accepted and dropped: drops, sessions and countdowns work at one-second precision.

use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

/// Why a timestamp string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an RFC 3339 date-time; write it like 2026-12-01T18:00:00Z")]
pub struct TimestampParseError(pub String);

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimestampParseError> {
        let error = || TimestampParseError(text.to_string());
        let bytes = text.as_bytes();
        if bytes.len() < 20 {
            return Err(error());
        }
        let number = |range: std::ops::Range<usize>| -> Result<i64, TimestampParseError> {
            let part = &bytes[range];
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(error());
            }
            Ok(part
                .iter()
                .fold(0, |value, digit| value * 10 + i64::from(digit - b'0')))
        };
        let separators_ok = bytes[4] == b'-'
            && bytes[7] == b'-'
            && matches!(bytes[10], b'T' | b't' | b' ')
            && bytes[13] == b':'
            && bytes[16] == b':';
        if !separators_ok {
            return Err(error());
        }
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(error());
        }
        let mut rest = 19;
        if bytes[rest] == b'.' {
            rest += 1;
            let digits_start = rest;
            while rest < bytes.len() && bytes[rest].is_ascii_digit() {
                rest += 1;
            }
            if rest == digits_start {
                return Err(error());
            }
        }
        let offset_seconds = match &bytes[rest..] {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (hours, minutes) = (number(rest + 1..rest + 3)?, number(rest + 4..rest + 6)?);
                if hours > 23 || minutes > 59 {
                    return Err(error());
                }
                let magnitude = hours * 3600 + minutes * 60;
                if *sign == b'+' { magnitude } else { -magnitude }
            }
            _ => return Err(error()),
        };
        // A leap second (":60") is read as the next second.
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
        Ok(Timestamp(seconds - offset_seconds))
    }

    /// `2026-12-01T18:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }

    /// The same wall-clock time `months` calendar months later, the day clamped to the end of
    /// a shorter month (Jan 31 + 1 month = Feb 28 or 29).
    pub fn add_months(self, months: i64) -> Timestamp {
        let days = self.0.div_euclid(86_400);
        let seconds_of_day = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let month_index = year * 12 + (month - 1) + months;
        let (new_year, new_month) = (month_index.div_euclid(12), month_index.rem_euclid(12) + 1);
        let new_day = day.min(days_in_month(new_year, new_month));
        Timestamp(days_from_civil(new_year, new_month, new_day) * 86_400 + seconds_of_day)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let seconds_of_day = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            seconds_of_day / 3600,
            seconds_of_day % 3600 / 60,
            seconds_of_day % 60
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_rfc3339() {
        let cases = [
            ("1970-01-01T00:00:00Z", 0),
            ("2026-12-01T18:00:00Z", 1_796_148_000),
            ("2026-12-01T19:00:00+01:00", 1_796_148_000),
            ("2026-12-01T17:30:00-00:30", 1_796_148_000),
            ("2026-12-01t18:00:00.999z", 1_796_148_000),
            ("2024-02-29T00:00:00Z", 1_709_164_800),
            ("1969-12-31T23:59:59Z", -1),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                Timestamp::parse_rfc3339(text),
                Ok(Timestamp(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_rfc3339() {
        for text in [
            "",
            "2026-12-01",
            "2026-12-01T18:00:00",
            "2026-12-01 18:00",
            "2026-13-01T18:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T18:00:00.Z",
            "2026-12-01T18:00:00+0100",
            "tomorrow at six pm",
        ] {
            let error = Timestamp::parse_rfc3339(text).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "\"{text}\" is not an RFC 3339 date-time; write it like 2026-12-01T18:00:00Z"
                )
            );
        }
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(
            Timestamp(1_796_148_000).to_rfc3339(),
            "2026-12-01T18:00:00Z"
        );
        assert_eq!(Timestamp(-1).to_rfc3339(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn adds_calendar_months() {
        let at = |text: &str| Timestamp::parse_rfc3339(text).unwrap();
        let cases = [
            ("2026-01-15T10:00:00Z", 1, "2026-02-15T10:00:00Z"),
            ("2026-01-31T10:00:00Z", 1, "2026-02-28T10:00:00Z"),
            ("2024-01-31T10:00:00Z", 1, "2024-02-29T10:00:00Z"),
            ("2026-12-01T18:00:00Z", 1, "2027-01-01T18:00:00Z"),
            ("2026-11-25T00:00:00Z", 12, "2027-11-25T00:00:00Z"),
            ("2026-03-31T00:00:00Z", -1, "2026-02-28T00:00:00Z"),
        ];
        for (start, months, expected) in cases {
            assert_eq!(
                at(start).add_months(months).to_rfc3339(),
                expected,
                "{start} + {months}"
            );
        }
    }

    proptest! {
        #[test]
        fn round_trips(seconds in -62_135_596_800i64..253_402_300_799) {
            let stamp = Timestamp(seconds);
            prop_assert_eq!(Timestamp::parse_rfc3339(&stamp.to_rfc3339()), Ok(stamp));
        }
    }
}
