//! Retention by value (issue 15): the rules behind a pause, a move to a lower tier and the
//! "save" a cancellation turned into one. Pure arithmetic and choices, no storage: the server
//! asks here how long a pause lasts, whether a renewal is skipped, which tiers are lower and
//! what recurring revenue a save kept, so the sandbox, live mode and the manage page agree.

use crate::listing::{Interval, Tier};
use crate::proration::divide_half_even;
use crate::time::Timestamp;

/// The shortest pause a shopper may ask for, in months.
pub const MIN_PAUSE_MONTHS: i64 = 1;
/// The longest pause a shopper may ask for, in months.
pub const MAX_PAUSE_MONTHS: i64 = 3;

/// A pause's `months` checked: 1 to 3. The error is the message a 422 gives for `months`.
pub fn pause_months(months: i64) -> Result<u8, String> {
    if (MIN_PAUSE_MONTHS..=MAX_PAUSE_MONTHS).contains(&months) {
        Ok(u8::try_from(months).unwrap_or(1))
    } else {
        Err(format!(
            "a pause lasts {MIN_PAUSE_MONTHS} to {MAX_PAUSE_MONTHS} months; {months} is not allowed"
        ))
    }
}

/// Whether a membership billed per `interval` can pause for one to three months. A pause
/// skips whole periods (nothing prorated), so a yearly membership cannot: asked for one month,
/// it would skip the next year's renewal and be free for twelve. Daily, weekly and monthly
/// periods fit inside the months asked.
pub fn pausable(interval: Interval) -> bool {
    !matches!(interval, Interval::Year)
}

/// The message of the 422 naming `months` for a membership that cannot pause.
pub const NOT_PAUSABLE: &str = "a yearly membership renews once a year: a pause of months would skip a whole year; move to a lower tier or cancel instead";

/// When a pause starts and ends. The period already paid for is kept: the pause starts at its
/// end, skips whole periods (never a part of one, so nothing is prorated), and the first
/// period charged again starts at `resumes_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PauseWindow {
    pub starts_at: Timestamp,
    pub resumes_at: Timestamp,
    /// How many renewals are skipped (at least one).
    pub skipped_periods: u32,
}

/// The pause of `months` months of a subscription billed from `anchor` (its first period's
/// start) whose current period ends at `period_end`: monthly memberships skip exactly
/// `months` renewals; others skip whole periods until `months` months have passed (a weekly
/// one about four per month; a yearly one would skip its next renewal, which is why it is not
/// [`pausable`]), as Stripe's `pause_collection` voids every invoice before `resumes_at`.
/// Period ends are the anchor's (`billing::next_period_end`), so a pause never moves the day
/// a membership is billed on.
pub fn pause_window(
    anchor: Timestamp,
    period_end: Timestamp,
    interval: Interval,
    months: u8,
) -> PauseWindow {
    let months = i64::from(months.max(1));
    let target = period_end.add_months(months);
    let mut boundary = period_end;
    let mut skipped_periods = 0u32;
    loop {
        boundary = crate::billing::next_period_end(anchor, interval, boundary);
        skipped_periods += 1;
        // A monthly pause counts periods: a calendar target from a clamped period end
        // (Feb 28 + 1 month = Mar 28) would fall short of the anchor's Mar 31.
        let enough = match interval {
            Interval::Month => i64::from(skipped_periods) >= months,
            _ => boundary >= target,
        };
        if enough {
            break;
        }
    }
    PauseWindow {
        starts_at: period_end,
        resumes_at: boundary,
        skipped_periods,
    }
}

/// What happens at a renewal (the start of a new period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalStep {
    /// Not paused: charged as usual.
    Charge,
    /// Inside a pause: no charge, no renewal order; the period just moves on.
    Skip,
    /// The pause is over: it ends (`subscription.resumed`) and this period is charged.
    ResumeAndCharge,
}

/// The renewal of the period starting at `period_start`, for a subscription paused until
/// `paused_until` (if at all).
pub fn renewal_step(period_start: Timestamp, paused_until: Option<Timestamp>) -> RenewalStep {
    match paused_until {
        None => RenewalStep::Charge,
        Some(resumes_at) if period_start < resumes_at => RenewalStep::Skip,
        Some(_) => RenewalStep::ResumeAndCharge,
    }
}

/// Why a tier is not a downgrade of the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DowngradeRefusal {
    /// The retainer has no such tier.
    UnknownTier,
    /// It costs as much or more (the current tier itself included).
    NotLower,
    /// It is billed on another interval: moving would change the billing cycle.
    OtherInterval,
}

impl DowngradeRefusal {
    /// The message of the 422 naming `tier_id`.
    pub fn message(&self, tier_id: &str) -> String {
        match self {
            DowngradeRefusal::UnknownTier => format!("this retainer has no tier \"{tier_id}\""),
            DowngradeRefusal::NotLower => format!(
                "\"{tier_id}\" does not cost less than the current tier: a downgrade moves to a cheaper tier (use upgrade for a dearer one)"
            ),
            DowngradeRefusal::OtherInterval => format!(
                "\"{tier_id}\" is billed on another interval; a downgrade keeps the billing cycle"
            ),
        }
    }
}

/// The tier `tier_id` if it is a downgrade from a membership paying `current_price` per
/// `interval`: strictly cheaper, same interval.
pub fn downgrade_target<'a>(
    tiers: &'a [Tier],
    current_price: i64,
    interval: Interval,
    tier_id: &str,
) -> Result<&'a Tier, DowngradeRefusal> {
    let tier = tiers
        .iter()
        .find(|tier| tier.id == tier_id)
        .ok_or(DowngradeRefusal::UnknownTier)?;
    if tier.interval != interval {
        return Err(DowngradeRefusal::OtherInterval);
    }
    if tier.price.minor >= current_price {
        return Err(DowngradeRefusal::NotLower);
    }
    Ok(tier)
}

/// Every tier a membership paying `current_price` per `interval` may move down to, dearest
/// first (the closest step down is offered first).
pub fn lower_tiers(tiers: &[Tier], current_price: i64, interval: Interval) -> Vec<&Tier> {
    let mut lower: Vec<&Tier> = tiers
        .iter()
        .filter(|tier| downgrade_target(tiers, current_price, interval, &tier.id).is_ok())
        .collect();
    lower.sort_by(|a, b| b.price.minor.cmp(&a.price.minor).then(a.id.cmp(&b.id)));
    lower
}

/// A price per `interval` as monthly recurring revenue, in minor units (rounded half-even):
/// a year is 12 months, a week 52/12 of a month, a day 365/12.
pub fn monthly_recurring(price: i64, interval: Interval) -> i64 {
    let (numerator, denominator): (i128, i128) = match interval {
        Interval::Month => (1, 1),
        Interval::Year => (1, 12),
        Interval::Week => (52, 12),
        Interval::Day => (365, 12),
    };
    let monthly = divide_half_even(i128::from(price) * numerator, denominator);
    i64::try_from(monthly).unwrap_or(i64::MAX)
}

/// How a cancellation was turned into a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveKind {
    Pause,
    Downgrade,
}

impl SaveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SaveKind::Pause => "pause",
            SaveKind::Downgrade => "downgrade",
        }
    }

    pub fn parse(text: &str) -> Option<SaveKind> {
        match text {
            "pause" => Some(SaveKind::Pause),
            "downgrade" => Some(SaveKind::Downgrade),
            _ => None,
        }
    }
}

/// What a save kept, in monthly recurring revenue (minor units), against a cancel (which
/// keeps nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveValue {
    /// A pause: the price that resumes; a downgrade: the lower tier's price.
    pub kept: i64,
    /// What the save gave up against staying as it was: nothing for a pause (the same price
    /// resumes), the price difference for a downgrade.
    pub given_up: i64,
}

/// The value of a save from a membership paying `current_price` per `interval`; `new_price`
/// is the lower tier's price for a downgrade (ignored for a pause).
pub fn save_value(
    kind: SaveKind,
    current_price: i64,
    new_price: i64,
    interval: Interval,
) -> SaveValue {
    let current = monthly_recurring(current_price, interval);
    match kind {
        SaveKind::Pause => SaveValue {
            kept: current,
            given_up: 0,
        },
        SaveKind::Downgrade => {
            let kept = monthly_recurring(new_price.min(current_price), interval);
            SaveValue {
                kept,
                given_up: current - kept,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("a test instant")
    }

    fn tier(id: &str, price: i64, interval: Interval) -> Tier {
        Tier {
            id: id.into(),
            name: id.into(),
            price: Money::new(price, Currency::from_code("EUR").expect("EUR")),
            interval,
            perks: vec![],
        }
    }

    #[test]
    fn months_are_one_to_three() {
        for (months, ok) in [
            (0, false),
            (1, true),
            (2, true),
            (3, true),
            (4, false),
            (-1, false),
            (i64::MAX, false),
        ] {
            assert_eq!(pause_months(months).is_ok(), ok, "{months}");
        }
        assert!(pause_months(7).unwrap_err().contains("1 to 3 months"));
    }

    #[test]
    fn a_pause_skips_whole_periods_from_the_end_of_the_paid_one() {
        // (anchor, period end, interval, months, resumes at, skipped)
        let cases = [
            (
                "2025-12-15T10:00:00Z",
                "2026-01-15T10:00:00Z",
                Interval::Month,
                1,
                "2026-02-15T10:00:00Z",
                1,
            ),
            (
                "2025-12-15T10:00:00Z",
                "2026-01-15T10:00:00Z",
                Interval::Month,
                3,
                "2026-04-15T10:00:00Z",
                3,
            ),
            // Month ends keep the anchor's day where the month has it (Stripe's billing
            // anchor): from Jan 31, a pause past February resumes on Mar 31, not Mar 28.
            (
                "2025-12-31T00:00:00Z",
                "2026-01-31T00:00:00Z",
                Interval::Month,
                2,
                "2026-03-31T00:00:00Z",
                2,
            ),
            (
                "2025-12-31T00:00:00Z",
                "2026-01-31T00:00:00Z",
                Interval::Month,
                3,
                "2026-04-30T00:00:00Z",
                3,
            ),
            // A pause from a clamped period end (Feb 28 of a Jan 30 anchor) is back on the 30th.
            (
                "2026-01-30T00:00:00Z",
                "2026-02-28T00:00:00Z",
                Interval::Month,
                1,
                "2026-03-30T00:00:00Z",
                1,
            ),
            // A yearly membership skips its next renewal.
            (
                "2025-06-01T00:00:00Z",
                "2026-06-01T00:00:00Z",
                Interval::Year,
                1,
                "2027-06-01T00:00:00Z",
                1,
            ),
            // Weekly: whole weeks until the months have passed (Jun 1 + 1 month = Jul 1).
            (
                "2026-05-25T00:00:00Z",
                "2026-06-01T00:00:00Z",
                Interval::Week,
                1,
                "2026-07-06T00:00:00Z",
                5,
            ),
            (
                "2026-05-31T00:00:00Z",
                "2026-06-01T00:00:00Z",
                Interval::Day,
                1,
                "2026-07-01T00:00:00Z",
                30,
            ),
        ];
        for (anchor, end, interval, months, resumes, skipped) in cases {
            let window = pause_window(at(anchor), at(end), interval, months);
            assert_eq!(window.starts_at, at(end), "{end} {interval:?} {months}");
            assert_eq!(
                window.resumes_at,
                at(resumes),
                "{end} {interval:?} {months}"
            );
            assert_eq!(
                window.skipped_periods, skipped,
                "{end} {interval:?} {months}"
            );
        }
    }

    #[test]
    fn renewals_inside_a_pause_are_skipped_and_the_first_after_it_resumes() {
        let resumes = at("2026-04-15T10:00:00Z");
        let cases = [
            ("2026-02-15T10:00:00Z", None, RenewalStep::Charge),
            ("2026-02-15T10:00:00Z", Some(resumes), RenewalStep::Skip),
            ("2026-04-15T09:59:59Z", Some(resumes), RenewalStep::Skip),
            (
                "2026-04-15T10:00:00Z",
                Some(resumes),
                RenewalStep::ResumeAndCharge,
            ),
            (
                "2026-05-15T10:00:00Z",
                Some(resumes),
                RenewalStep::ResumeAndCharge,
            ),
        ];
        for (start, paused_until, expected) in cases {
            assert_eq!(renewal_step(at(start), paused_until), expected, "{start}");
        }
    }

    #[test]
    fn only_a_strictly_cheaper_tier_of_the_same_interval_is_a_downgrade() {
        let tiers = [
            tier("basic", 500, Interval::Month),
            tier("plus", 1200, Interval::Month),
            tier("pro", 2500, Interval::Month),
            tier("annual", 900, Interval::Year),
            tier("same", 2500, Interval::Month),
        ];
        let cases = [
            ("basic", Ok("basic")),
            ("plus", Ok("plus")),
            ("pro", Err(DowngradeRefusal::NotLower)),
            ("same", Err(DowngradeRefusal::NotLower)),
            ("annual", Err(DowngradeRefusal::OtherInterval)),
            ("gold", Err(DowngradeRefusal::UnknownTier)),
        ];
        for (tier_id, expected) in cases {
            let got = downgrade_target(&tiers, 2500, Interval::Month, tier_id)
                .map(|tier| tier.id.as_str());
            assert_eq!(got, expected, "{tier_id}");
        }
        let lower: Vec<&str> = lower_tiers(&tiers, 2500, Interval::Month)
            .iter()
            .map(|tier| tier.id.as_str())
            .collect();
        assert_eq!(lower, ["plus", "basic"]);
        assert!(lower_tiers(&tiers, 500, Interval::Month).is_empty());
    }

    #[test]
    fn recurring_revenue_is_monthly() {
        let cases = [
            (1000, Interval::Month, 1000),
            (12_000, Interval::Year, 1000),
            (1000, Interval::Year, 83),
            (300, Interval::Week, 1300),
            (100, Interval::Day, 3042),
            (0, Interval::Month, 0),
        ];
        for (price, interval, monthly) in cases {
            assert_eq!(
                monthly_recurring(price, interval),
                monthly,
                "{price} {interval:?}"
            );
        }
    }

    #[test]
    fn a_save_keeps_what_resumes_or_the_lower_price() {
        let cases = [
            (SaveKind::Pause, 2500, 0, Interval::Month, 2500, 0),
            (SaveKind::Downgrade, 2500, 1200, Interval::Month, 1200, 1300),
            (
                SaveKind::Downgrade,
                24_000,
                12_000,
                Interval::Year,
                1000,
                1000,
            ),
        ];
        for (kind, current, new, interval, kept, given_up) in cases {
            assert_eq!(
                save_value(kind, current, new, interval),
                SaveValue { kept, given_up },
                "{kind:?} {current} {new}"
            );
        }
        for kind in [SaveKind::Pause, SaveKind::Downgrade] {
            assert_eq!(SaveKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn only_periods_that_fit_in_the_months_asked_can_pause() {
        for (interval, pausable_now) in [
            (Interval::Day, true),
            (Interval::Week, true),
            (Interval::Month, true),
            (Interval::Year, false),
        ] {
            assert_eq!(pausable(interval), pausable_now, "{interval:?}");
            if pausable_now {
                // The longest pause of a pausable period stays within a period of the
                // months asked (it never skips a year).
                let window = pause_window(
                    Timestamp(1_780_000_000),
                    Timestamp(1_780_000_000),
                    interval,
                    3,
                );
                assert!(window.resumes_at <= Timestamp(1_780_000_000).add_months(4));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn a_pause_ends_on_a_renewal_boundary_at_least_its_months_later_for_non_monthly(
            anchor in 0i64..4_000_000_000,
            periods_paid in 1i64..30,
            months in 1u8..=3,
            interval_index in 0usize..4,
        ) {
            let interval = [Interval::Day, Interval::Week, Interval::Month, Interval::Year][interval_index];
            let anchor = Timestamp(anchor);
            let end = crate::billing::nth_period_end(anchor, interval, periods_paid).0;
            let window = pause_window(anchor, Timestamp(end), interval, months);
            // resumes_at is the anchor's period end `skipped_periods` after the pause's start.
            let boundary = crate::billing::nth_period_end(
                anchor,
                interval,
                periods_paid + i64::from(window.skipped_periods),
            );
            proptest::prop_assert_eq!(boundary, window.resumes_at);
            proptest::prop_assert!(window.skipped_periods >= 1);
            proptest::prop_assert!(window.resumes_at > window.starts_at);
            if interval == Interval::Month {
                proptest::prop_assert_eq!(window.skipped_periods, u32::from(months));
            } else {
                proptest::prop_assert!(window.resumes_at >= Timestamp(end).add_months(i64::from(months)));
            }
            // Every renewal inside is skipped, the one at resumes_at is charged.
            proptest::prop_assert_eq!(renewal_step(window.starts_at, Some(window.resumes_at)), RenewalStep::Skip);
            proptest::prop_assert_eq!(renewal_step(window.resumes_at, Some(window.resumes_at)), RenewalStep::ResumeAndCharge);
        }

        #[test]
        fn lower_tiers_are_all_strictly_cheaper_and_a_downgrade_never_keeps_more(
            prices in proptest::collection::vec(0i64..100_000, 1..6),
            current in 0i64..100_000,
        ) {
            let tiers: Vec<Tier> = prices.iter().enumerate().map(|(index, price)| tier(&format!("t{index}"), *price, Interval::Month)).collect();
            let lower = lower_tiers(&tiers, current, Interval::Month);
            proptest::prop_assert_eq!(lower.len(), prices.iter().filter(|price| **price < current).count());
            for pair in lower.windows(2) {
                proptest::prop_assert!(pair[0].price.minor >= pair[1].price.minor);
            }
            for tier in lower {
                let value = save_value(SaveKind::Downgrade, current, tier.price.minor, Interval::Month);
                proptest::prop_assert_eq!(value.kept + value.given_up, current);
                proptest::prop_assert!(value.kept < current);
            }
        }
    }
}
