//! Upgrade proration (SPEC section 4): `amount_due` = (new price − old price) × the remaining
//! part of the current period, rounded half-even to minor units. Exact integer arithmetic.

use crate::money::MAX_AMOUNT_MINOR;
use crate::time::Timestamp;

/// What an upgrade from `old_price` to `new_price` costs now, in minor units, for a period
/// running from `period_start` to `period_end`. A negative result is a credit (downgrade).
/// `None` when a price is not one a listing may carry (0 to [`MAX_AMOUNT_MINOR`]): the
/// arithmetic is then refused rather than wrapped. Within the bounds the result is at most
/// the price difference, and nothing overflows.
///
/// Exact for every period up to 2,177 years, in `i64`: a price difference (27 bits) times
/// a remaining time of at most [`EXACT_PERIOD_LIMIT`] seconds fits. Longer periods (no
/// membership has one; a partner's garbage) are scaled down by powers of two first, which
/// keeps the ratio to within a ten-billionth. `i64` and not `i128` because this runs in the
/// widget too, where 128-bit division costs half a kilobyte of wasm.
pub fn prorated_amount_due(
    old_price: i64,
    new_price: i64,
    period_start: Timestamp,
    period_end: Timestamp,
    now: Timestamp,
) -> Option<i64> {
    let bounds = 0..=MAX_AMOUNT_MINOR;
    if !bounds.contains(&old_price) || !bounds.contains(&new_price) {
        return None;
    }
    // In u64 (the difference of two i64 always fits): the period and what remains of it.
    let period = (period_end.0 as u64).wrapping_sub(period_start.0 as u64);
    if period_end.0 <= period_start.0 {
        return Some(0);
    }
    let remaining = if now.0 >= period_end.0 {
        0
    } else {
        (period_end.0 as u64).wrapping_sub(now.0 as u64).min(period)
    };
    let shift = (u64::BITS - period.leading_zeros()).saturating_sub(EXACT_PERIOD_BITS);
    let (period, remaining) = ((period >> shift) as i64, (remaining >> shift) as i64);
    Some(divide_half_even_i64(
        (new_price - old_price) * remaining,
        period,
    ))
}

/// Periods of at most this many bits (`EXACT_PERIOD_LIMIT` seconds) are prorated exactly.
const EXACT_PERIOD_BITS: u32 = 36;
/// 2^36 − 1 seconds, about 2,177 years: 99,999,999 × 2^36 stays below `i64::MAX`.
pub const EXACT_PERIOD_LIMIT: i64 = (1 << EXACT_PERIOD_BITS) - 1;

macro_rules! half_even {
    ($(#[$doc:meta])* $name:ident, $int:ty) => {
        $(#[$doc])*
        pub fn $name(numerator: $int, denominator: $int) -> $int {
            let quotient = numerator.div_euclid(denominator);
            let remainder = numerator.rem_euclid(denominator);
            // `remainder` against what is left of `denominator`: `2 * remainder` could overflow.
            match remainder.cmp(&(denominator - remainder)) {
                std::cmp::Ordering::Less => quotient,
                std::cmp::Ordering::Greater => quotient + 1,
                std::cmp::Ordering::Equal => quotient + quotient.rem_euclid(2),
            }
        }
    };
}

half_even!(
    /// `numerator / denominator` (denominator > 0) rounded to the nearest integer, ties to even.
    divide_half_even,
    i128
);
half_even!(
    /// [`divide_half_even`] in `i64`: no 128-bit division where the operands fit.
    divide_half_even_i64,
    i64
);

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn proration_table() {
        // (old, new, period days, elapsed seconds, expected amount due)
        let cases = [
            (1500, 2500, 30, 0, 1000), // upgrade at the start: the full difference
            (1500, 2500, 30, 15 * DAY, 500), // half-way: half of it
            (1500, 2500, 30, 30 * DAY, 0), // at the end: nothing
            (1500, 2500, 30, 40 * DAY, 0), // past the end: nothing
            (1500, 2500, 30, 10 * DAY, 667), // 1000 × 20/30 = 666.67 → 667
            (1500, 2500, 30, 20 * DAY, 333), // 1000 × 10/30 = 333.33 → 333
            (1000, 1001, 30, 15 * DAY, 0), // 1 × 0.5 = 0.5 → 0 (ties to even)
            (1000, 1003, 30, 15 * DAY, 2), // 3 × 0.5 = 1.5 → 2 (ties to even)
            (1000, 1005, 30, 15 * DAY, 2), // 5 × 0.5 = 2.5 → 2 (ties to even)
            (1000, 1007, 30, 15 * DAY, 4), // 7 × 0.5 = 3.5 → 4
            (2500, 1500, 30, 15 * DAY, -500), // a downgrade is a credit
            (1000, 1005, 30, 15 * DAY + 1, 2), // just past half: 2.4999... → 2
            (900, 19000, 365, 100 * DAY, 13_141), // 18100 × 265/365 = 13141.095… → 13141
        ];
        for (old, new, days, elapsed, expected) in cases {
            let start = Timestamp(1_700_000_000);
            let end = Timestamp(start.0 + days * DAY);
            let now = Timestamp(start.0 + elapsed);
            assert_eq!(
                prorated_amount_due(old, new, start, end, now),
                Some(expected),
                "{old}→{new} after {elapsed}s of {days} days"
            );
        }
    }

    #[test]
    fn half_even_division() {
        let cases = [
            (5, 2, 2),
            (7, 2, 4),
            (-5, 2, -2),
            (-7, 2, -4),
            (1, 3, 0),
            (2, 3, 1),
            (-1, 3, 0),
            (-2, 3, -1),
            (9, 3, 3),
        ];
        for (numerator, denominator, expected) in cases {
            assert_eq!(
                divide_half_even(numerator, denominator),
                expected,
                "{numerator}/{denominator}"
            );
        }
    }

    #[test]
    fn empty_period_costs_nothing() {
        assert_eq!(
            prorated_amount_due(1000, 2000, Timestamp(10), Timestamp(10), Timestamp(5)),
            Some(0)
        );
    }

    #[test]
    fn prices_past_the_bounds_are_refused_not_wrapped() {
        let (start, end) = (Timestamp(0), Timestamp(30 * DAY));
        let due = |old, new, start: Timestamp, end: Timestamp| {
            prorated_amount_due(old, new, start, end, Timestamp(0))
        };
        // Once: (i64::MAX - -1) wrapped to i64::MIN, and a huge price gave a negative amount.
        assert_eq!(due(-1, i64::MAX, start, end), None);
        assert_eq!(due(0, MAX_AMOUNT_MINOR + 1, start, end), None);
        assert_eq!(due(i64::MIN, 0, start, end), None);
        assert_eq!(due(0, MAX_AMOUNT_MINOR, start, end), Some(MAX_AMOUNT_MINOR));
        // Periods spanning the whole i64 range do not overflow either.
        let (first, last) = (Timestamp(i64::MIN), Timestamp(i64::MAX));
        assert_eq!(
            due(0, MAX_AMOUNT_MINOR, first, last),
            Some(MAX_AMOUNT_MINOR / 2)
        );
    }

    /// The exact answer, in `i128`: what the `i64` arithmetic must give for every period it
    /// claims to be exact for.
    fn exact_in_i128(old: i64, new: i64, start: i64, end: i64, now: i64) -> i64 {
        let period = i128::from(end) - i128::from(start);
        let remaining = (i128::from(end) - i128::from(now)).clamp(0, period);
        divide_half_even(i128::from(new - old) * remaining, period) as i64
    }

    proptest::proptest! {
        #[test]
        fn exact_for_periods_up_to_the_limit(
            old in 0..=MAX_AMOUNT_MINOR,
            new in 0..=MAX_AMOUNT_MINOR,
            start in proptest::num::i64::ANY,
            period in 1..=EXACT_PERIOD_LIMIT,
            elapsed in -EXACT_PERIOD_LIMIT..=2 * EXACT_PERIOD_LIMIT,
        ) {
            let end = start.saturating_add(period);
            let now = start.saturating_add(elapsed);
            proptest::prop_assume!(end > start);
            proptest::prop_assert_eq!(
                prorated_amount_due(old, new, Timestamp(start), Timestamp(end), Timestamp(now)),
                Some(exact_in_i128(old, new, start, end, now))
            );
        }

        #[test]
        fn both_divisions_agree(numerator in proptest::num::i64::ANY, denominator in 1..i64::MAX) {
            proptest::prop_assert_eq!(
                i128::from(divide_half_even_i64(numerator, denominator)),
                divide_half_even(i128::from(numerator), i128::from(denominator))
            );
        }

        #[test]
        fn never_panics_and_stays_within_the_difference(
            old in proptest::num::i64::ANY,
            new in proptest::num::i64::ANY,
            start in proptest::num::i64::ANY,
            end in proptest::num::i64::ANY,
            now in proptest::num::i64::ANY,
        ) {
            let due = prorated_amount_due(old, new, Timestamp(start), Timestamp(end), Timestamp(now));
            let bounds = 0..=MAX_AMOUNT_MINOR;
            proptest::prop_assert_eq!(due.is_some(), bounds.contains(&old) && bounds.contains(&new));
            if let Some(due) = due {
                proptest::prop_assert!(due.abs() <= (new - old).abs());
                proptest::prop_assert!(due == 0 || due.signum() == (new - old).signum());
            }
        }
    }
}
