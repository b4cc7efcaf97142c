//! Billing periods anchored on the day a membership started, as Stripe bills them: the `n`th
//! period ends `n` intervals after the anchor, on the anchor's day of the month or, in a
//! shorter month, on its last day (Jan 30 → Feb 28 → Mar 30, never Mar 28: a clamped month
//! does not become the new anchor). Pure arithmetic on [`Timestamp`]s; the server's renewals
//! and pauses ask here where each period ends, so the sandbox bills the dates live mode does.

use crate::listing::Interval;
use crate::time::Timestamp;

/// The end of the `n`th period (n ≥ 1; 0 is the anchor itself) of a subscription billed per
/// `interval` from `anchor`: whole days and weeks, or calendar months and years from the
/// anchor clamped to the month's last day.
pub fn nth_period_end(anchor: Timestamp, interval: Interval, n: i64) -> Timestamp {
    match interval {
        Interval::Day => Timestamp(anchor.0.saturating_add(n.saturating_mul(86_400))),
        Interval::Week => Timestamp(anchor.0.saturating_add(n.saturating_mul(7 * 86_400))),
        Interval::Month => anchor.add_months(n),
        Interval::Year => anchor.add_months(n.saturating_mul(12)),
    }
}

/// The first period end of a subscription anchored at `anchor` that comes strictly after
/// `after` (the end of the period that starts at `after`, when `after` is a period end; the
/// first period's end when `after` is before the anchor).
pub fn next_period_end(anchor: Timestamp, interval: Interval, after: Timestamp) -> Timestamp {
    let mut n = match interval {
        Interval::Day | Interval::Week => {
            let length = if interval == Interval::Day {
                86_400
            } else {
                7 * 86_400
            };
            (after.0 - anchor.0).div_euclid(length) + 1
        }
        Interval::Month | Interval::Year => {
            let step = if interval == Interval::Month { 1 } else { 12 };
            (month_index(after) - month_index(anchor)).div_euclid(step)
        }
    }
    .max(1);
    // The estimate is within one period of the answer: settle it exactly.
    while n > 1 && nth_period_end(anchor, interval, n - 1) > after {
        n -= 1;
    }
    while nth_period_end(anchor, interval, n) <= after {
        n += 1;
    }
    nth_period_end(anchor, interval, n)
}

/// Months since year 0 of the instant's calendar month (UTC).
fn month_index(at: Timestamp) -> i64 {
    let (year, month, _) = crate::time::civil_from_days(at.0.div_euclid(86_400));
    year * 12 + month - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("a test instant")
    }

    /// Day of the month and time of day, as written.
    fn day_and_time(stamp: Timestamp) -> String {
        stamp.to_rfc3339()[8..].to_string()
    }

    #[test]
    fn monthly_period_ends_keep_the_anchors_day() {
        // (anchor, interval, the period ends that follow)
        let cases: [(&str, Interval, &[&str]); 6] = [
            (
                "2026-01-31T09:30:00Z",
                Interval::Month,
                &[
                    "2026-02-28T09:30:00Z",
                    "2026-03-31T09:30:00Z",
                    "2026-04-30T09:30:00Z",
                    "2026-05-31T09:30:00Z",
                ],
            ),
            // A leap year's February has 29 days.
            (
                "2028-01-31T00:00:00Z",
                Interval::Month,
                &[
                    "2028-02-29T00:00:00Z",
                    "2028-03-31T00:00:00Z",
                    "2028-04-30T00:00:00Z",
                ],
            ),
            (
                "2026-01-30T12:00:00Z",
                Interval::Month,
                &[
                    "2026-02-28T12:00:00Z",
                    "2026-03-30T12:00:00Z",
                    "2026-04-30T12:00:00Z",
                ],
            ),
            // Across a year's end.
            (
                "2026-11-30T08:00:00Z",
                Interval::Month,
                &[
                    "2026-12-30T08:00:00Z",
                    "2027-01-30T08:00:00Z",
                    "2027-02-28T08:00:00Z",
                    "2027-03-30T08:00:00Z",
                ],
            ),
            // A leap day's anniversary is Feb 28, and Feb 29 again in the next leap year.
            (
                "2028-02-29T00:00:00Z",
                Interval::Year,
                &[
                    "2029-02-28T00:00:00Z",
                    "2030-02-28T00:00:00Z",
                    "2031-02-28T00:00:00Z",
                    "2032-02-29T00:00:00Z",
                ],
            ),
            (
                "2026-03-01T00:00:00Z",
                Interval::Week,
                &[
                    "2026-03-08T00:00:00Z",
                    "2026-03-15T00:00:00Z",
                    "2026-03-22T00:00:00Z",
                ],
            ),
        ];
        for (anchor, interval, ends) in cases {
            let mut end = at(anchor);
            for (index, expected) in ends.iter().enumerate() {
                let n = i64::try_from(index).unwrap() + 1;
                assert_eq!(
                    nth_period_end(at(anchor), interval, n),
                    at(expected),
                    "{anchor} {interval:?} #{n}"
                );
                // Walking period by period lands on the same ends (no drift).
                end = next_period_end(at(anchor), interval, end);
                assert_eq!(end, at(expected), "{anchor} {interval:?} walked to #{n}");
            }
        }
    }

    #[test]
    fn the_next_end_is_the_first_strictly_after() {
        let anchor = at("2026-01-31T10:00:00Z");
        // (after, next period end)
        let cases = [
            // Before the anchor: the first period's end.
            ("2025-12-01T00:00:00Z", "2026-02-28T10:00:00Z"),
            ("2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"),
            ("2026-02-28T09:59:59Z", "2026-02-28T10:00:00Z"),
            ("2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z"),
            ("2026-03-28T10:00:00Z", "2026-03-31T10:00:00Z"),
            ("2026-03-31T10:00:01Z", "2026-04-30T10:00:00Z"),
            ("2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z"),
        ];
        for (after, expected) in cases {
            assert_eq!(
                next_period_end(anchor, Interval::Month, at(after)),
                at(expected),
                "{after}"
            );
        }
        assert_eq!(
            next_period_end(anchor, Interval::Day, at("2026-02-01T10:00:00Z")),
            at("2026-02-02T10:00:00Z")
        );
        assert_eq!(
            next_period_end(anchor, Interval::Year, at("2026-06-01T00:00:00Z")),
            at("2027-01-31T10:00:00Z")
        );
    }

    proptest::proptest! {
        #[test]
        fn monthly_period_ends_never_drift_from_the_anchors_day(
            anchor in 0i64..4_000_000_000,
            periods in 1i64..40,
            yearly in proptest::bool::ANY,
        ) {
            let interval = if yearly { Interval::Year } else { Interval::Month };
            let anchor = Timestamp(anchor);
            let anchor_day: u32 = day_and_time(anchor)[..2].parse().unwrap();
            let mut end = anchor;
            for n in 1..=periods {
                end = next_period_end(anchor, interval, end);
                proptest::prop_assert_eq!(end, nth_period_end(anchor, interval, n));
                let written = day_and_time(end);
                // The anchor's time of day, and its day of the month when the month has it,
                // else the month's last day.
                proptest::prop_assert_eq!(&written[2..], &day_and_time(anchor)[2..]);
                let day: u32 = written[..2].parse().unwrap();
                let next_day = Timestamp(end.0 + 86_400).to_rfc3339();
                let last_of_month = &next_day[8..10] == "01";
                proptest::prop_assert!(day == anchor_day || (day < anchor_day && last_of_month));
            }
        }

        #[test]
        fn the_next_end_follows_any_instant_by_at_most_one_period(
            anchor in 0i64..4_000_000_000,
            offset in 0i64..400_000_000,
            interval_index in 0usize..4,
        ) {
            let interval = [Interval::Day, Interval::Week, Interval::Month, Interval::Year][interval_index];
            let (anchor, after) = (Timestamp(anchor), Timestamp(anchor + offset));
            let next = next_period_end(anchor, interval, after);
            proptest::prop_assert!(next > after);
            // It is a period end, and the one before it is not after `after`.
            let mut n = 1;
            while nth_period_end(anchor, interval, n) < next {
                n += 1;
            }
            proptest::prop_assert_eq!(nth_period_end(anchor, interval, n), next);
            proptest::prop_assert!(n == 1 || nth_period_end(anchor, interval, n - 1) <= after);
        }
    }
}
