//! The KPI engine (SPEC section 6), pure: from events and payments to the numbers a seller
//! steers by, per listing × creator × variant. The server's metrics endpoint, its dashboard and
//! its report command all call these functions, so they always agree.
//!
//! Definitions (also in docs):
//! - **Conversion**: paid commits (first purchases, not refunded) ÷ views, with a Wilson score
//!   95 % interval.
//! - **Variant comparison**: difference of conversion rates and the probability that B's true
//!   rate beats A's, from Beta(1 + commits, 1 + views − commits) posteriors approximated as
//!   normal: P = Φ((mean_B − mean_A) / √(var_A + var_B)).
//! - **30-day repeat rate**: of the customers whose first paid commit is in the range, the share
//!   with another paid commit or a renewal within 30 days after it. `eligible` counts the ones
//!   whose 30 days have fully passed.
//! - **Recurring revenue per active customer**: recurring payments (retainer purchases,
//!   renewals, upgrade charges) in the range ÷ distinct customers who made one.
//! - **CAC payback (months)**: the creator's fee ÷ customers acquired through them gives the
//!   acquisition cost per customer; divided by the monthly revenue of those customers (their
//!   payments in the range ÷ months in the range ÷ customers). The months count from the
//!   later of the range's start and the creator's first sale (a range from 1970 would
//!   otherwise dilute the revenue to nothing), and are at least one.
//! - **Drop sell-through**: units sold ÷ inventory.

use crate::proration::divide_half_even;

/// A sum of amounts for the KPIs, which only display it: saturating rather than checked (a
/// report still renders), and never wrapping into a negative revenue. Each payment is at most
/// `MAX_AMOUNT_MINOR × MAX_QUANTITY`, so saturation takes about 10^8 of the largest orders.
pub fn total(amounts: impl IntoIterator<Item = i64>) -> i64 {
    amounts.into_iter().fold(0, i64::saturating_add)
}

/// Who a number is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Segment {
    pub listing_id: String,
    pub creator: Option<String>,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    /// The first payment of a checkout: a bundle, or a retainer's first period.
    Purchase,
    Renewal,
    Upgrade,
}

/// A payment as the KPI engine sees it (from the server's orders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub segment: Segment,
    pub customer: String,
    pub kind: PaymentKind,
    /// Part of a retainer (recurring revenue).
    pub recurring: bool,
    pub amount: i64,
    pub at: i64,
    pub refunded: bool,
}

/// A proportion with its 95 % Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub successes: u64,
    pub trials: u64,
    /// `None` with no trials.
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval of `successes` out of `trials` (95 %).
pub fn wilson(successes: u64, trials: u64) -> Rate {
    if trials == 0 {
        return Rate {
            successes,
            trials,
            value: None,
            low: None,
            high: None,
        };
    }
    let n = trials as f64;
    let p = successes.min(trials) as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let margin = Z95 * ((p * (1.0 - p) / n) + z2 / (4.0 * n * n)).sqrt() / denominator;
    Rate {
        successes,
        trials,
        value: Some(p),
        low: Some((centre - margin).max(0.0)),
        high: Some((centre + margin).min(1.0)),
    }
}

/// Conversion of views into paid commits.
pub fn conversion(views: u64, payments: &[&Payment]) -> Rate {
    let commits = payments
        .iter()
        .filter(|payment| payment.kind == PaymentKind::Purchase && !payment.refunded)
        .count() as u64;
    wilson(commits, views)
}

/// The standard normal CDF, via erf (Abramowitz & Stegun 7.1.26, error < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let polynomial = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - polynomial * (-(x * x) / 2.0).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Variant B against variant A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// B's conversion minus A's (observed rates); `None` when either has no views.
    pub difference: Option<f64>,
    /// The probability that B's true conversion beats A's.
    pub probability_b_beats_a: Option<f64>,
}

pub fn compare(a: &Rate, b: &Rate) -> Comparison {
    if a.trials == 0 || b.trials == 0 {
        return Comparison {
            difference: None,
            probability_b_beats_a: None,
        };
    }
    let posterior = |rate: &Rate| {
        let (alpha, beta) = (
            1.0 + rate.successes as f64,
            1.0 + (rate.trials - rate.successes.min(rate.trials)) as f64,
        );
        let mean = alpha / (alpha + beta);
        let variance = alpha * beta / ((alpha + beta).powi(2) * (alpha + beta + 1.0));
        (mean, variance)
    };
    let ((mean_a, variance_a), (mean_b, variance_b)) = (posterior(a), posterior(b));
    Comparison {
        difference: Some(b.value.unwrap_or(0.0) - a.value.unwrap_or(0.0)),
        probability_b_beats_a: Some(normal_cdf(
            (mean_b - mean_a) / (variance_a + variance_b).sqrt(),
        )),
    }
}

/// The 30-day repeat rate of the customers first seen in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RepeatRate {
    pub customers: u64,
    pub repeated: u64,
    /// Customers whose 30-day window has fully passed at `now`.
    pub eligible: u64,
    pub rate: Option<f64>,
}

pub const REPEAT_WINDOW_SECONDS: i64 = 30 * 86_400;

pub fn repeat_rate(payments: &[&Payment], from: i64, to: i64, now: i64) -> RepeatRate {
    use std::collections::BTreeMap;
    let mut by_customer: BTreeMap<&str, Vec<&Payment>> = BTreeMap::new();
    for payment in payments
        .iter()
        .filter(|payment| !payment.refunded && payment.kind != PaymentKind::Upgrade)
    {
        by_customer
            .entry(payment.customer.as_str())
            .or_default()
            .push(payment);
    }
    let (mut customers, mut repeated, mut eligible) = (0, 0, 0);
    for history in by_customer.values_mut() {
        history.sort_by_key(|payment| payment.at);
        let first = history[0].at;
        if first < from || first >= to {
            continue;
        }
        customers += 1;
        if now - first >= REPEAT_WINDOW_SECONDS {
            eligible += 1;
        }
        if history[1..]
            .iter()
            .any(|payment| payment.at - first <= REPEAT_WINDOW_SECONDS)
        {
            repeated += 1;
        }
    }
    RepeatRate {
        customers,
        repeated,
        eligible,
        rate: (customers > 0).then(|| repeated as f64 / customers as f64),
    }
}

/// Recurring revenue in the range ÷ distinct paying recurring customers, in minor units
/// (half-even); `None` without any.
pub fn recurring_revenue_per_active_customer(
    payments: &[&Payment],
    from: i64,
    to: i64,
) -> Option<i64> {
    let recurring: Vec<&&Payment> = payments
        .iter()
        .filter(|payment| {
            payment.recurring && !payment.refunded && payment.at >= from && payment.at < to
        })
        .collect();
    let customers: std::collections::BTreeSet<&str> = recurring
        .iter()
        .map(|payment| payment.customer.as_str())
        .collect();
    if customers.is_empty() {
        return None;
    }
    let revenue = total(recurring.iter().map(|payment| payment.amount));
    Some(divide_half_even(i128::from(revenue), customers.len() as i128) as i64)
}

/// Months of revenue it takes to pay back a creator's fee. `fee` is what the creator was
/// paid (minor units); `payments` those of customers acquired through the creator.
pub fn cac_payback_months(fee: i64, payments: &[&Payment], from: i64, to: i64) -> Option<f64> {
    let acquired: std::collections::BTreeSet<&str> = payments
        .iter()
        .filter(|payment| payment.kind == PaymentKind::Purchase && !payment.refunded)
        .map(|payment| payment.customer.as_str())
        .collect();
    if acquired.is_empty() || to <= from {
        return None;
    }
    let revenue = total(
        payments
            .iter()
            .filter(|payment| !payment.refunded && payment.at >= from && payment.at < to)
            .map(|payment| payment.amount),
    );
    let first_sale = payments
        .iter()
        .filter(|payment| payment.kind == PaymentKind::Purchase && !payment.refunded)
        .map(|payment| payment.at)
        .min()
        .unwrap_or(from);
    let start = from.max(first_sale).min(to);
    let months = ((to - start) as f64 / (30.0 * 86_400.0)).max(1.0);
    let monthly_revenue_per_customer = revenue as f64 / months / acquired.len() as f64;
    if monthly_revenue_per_customer <= 0.0 {
        return None;
    }
    let cost_per_customer = fee as f64 / acquired.len() as f64;
    Some(cost_per_customer / monthly_revenue_per_customer)
}

/// One cohort: customers whose first paid commit fell in the period starting `start`, and how
/// many of them paid again in each later period (renewals count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cohort {
    pub start: i64,
    pub customers: u64,
    /// `retained[k]`: customers of the cohort with a payment in period `k + 1` after their first.
    pub retained: Vec<u64>,
}

/// Cohort retention: customers grouped by the `period_seconds`-long period of their first paid
/// commit (from `origin`), then counted in each of the `periods` following periods.
pub fn cohorts(
    payments: &[&Payment],
    origin: i64,
    period_seconds: i64,
    periods: usize,
) -> Vec<Cohort> {
    use std::collections::BTreeMap;
    let mut by_customer: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for payment in payments.iter().filter(|payment| {
        !payment.refunded && payment.kind != PaymentKind::Upgrade && payment.at >= origin
    }) {
        by_customer
            .entry(payment.customer.as_str())
            .or_default()
            .push(payment.at);
    }
    let period_of = |at: i64| (at - origin).div_euclid(period_seconds);
    let mut cohorts: BTreeMap<i64, Cohort> = BTreeMap::new();
    for times in by_customer.values_mut() {
        times.sort_unstable();
        let first = period_of(times[0]);
        let cohort = cohorts.entry(first).or_insert_with(|| Cohort {
            start: origin + first * period_seconds,
            customers: 0,
            retained: vec![0; periods],
        });
        cohort.customers += 1;
        let later: std::collections::BTreeSet<i64> = times
            .iter()
            .map(|at| period_of(*at) - first)
            .filter(|offset| *offset >= 1)
            .collect();
        for offset in later {
            if let Some(slot) = cohort.retained.get_mut((offset - 1) as usize) {
                *slot += 1;
            }
        }
    }
    cohorts.into_values().collect()
}

/// Non-refunded revenue per period of `period_seconds` from `origin`: `(period start, sum)`.
pub fn revenue_over_time(
    payments: &[&Payment],
    origin: i64,
    period_seconds: i64,
    periods: usize,
) -> Vec<(i64, i64)> {
    let mut sums = vec![0i64; periods];
    for payment in payments
        .iter()
        .filter(|payment| !payment.refunded && payment.at >= origin)
    {
        if let Some(sum) = sums.get_mut(((payment.at - origin) / period_seconds) as usize) {
            *sum = total([*sum, payment.amount]);
        }
    }
    sums.into_iter()
        .enumerate()
        .map(|(index, sum)| (origin + index as i64 * period_seconds, sum))
        .collect()
}

/// Units sold ÷ inventory.
pub fn sell_through(sold: u64, inventory: u64) -> Option<f64> {
    (inventory > 0).then(|| sold.min(inventory) as f64 / inventory as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: Option<f64>, expected: f64, tolerance: f64) -> bool {
        actual.is_some_and(|value| (value - expected).abs() <= tolerance)
    }

    fn payment(
        customer: &str,
        kind: PaymentKind,
        recurring: bool,
        amount: i64,
        day: i64,
    ) -> Payment {
        Payment {
            segment: Segment {
                listing_id: "candle-trio".into(),
                creator: Some("ana".into()),
                variant: Some("ana".into()),
            },
            customer: customer.into(),
            kind,
            recurring,
            amount,
            at: day * 86_400,
            refunded: false,
        }
    }

    #[test]
    fn revenue_sums_saturate_instead_of_wrapping() {
        let huge = [
            payment("a", PaymentKind::Purchase, true, i64::MAX, 1),
            payment("b", PaymentKind::Renewal, true, i64::MAX, 2),
        ];
        let refs: Vec<&Payment> = huge.iter().collect();
        // Once: the sum overflowed (a panic in debug builds, a negative revenue in release).
        let per_customer = recurring_revenue_per_active_customer(&refs, 0, 10 * 86_400);
        assert_eq!(per_customer, Some(i64::MAX / 2 + 1));
        assert_eq!(revenue_over_time(&refs, 0, 7 * 86_400, 1), [(0, i64::MAX)]);
        assert!(cac_payback_months(1, &refs, 0, 10 * 86_400).is_some());
        assert_eq!(total([i64::MAX, 1, -5]), i64::MAX - 5);
    }

    #[test]
    fn wilson_intervals_computed_by_hand() {
        // (successes, trials, p, low, high), values from the Wilson formula with z = 1.96.
        let cases = [
            (0, 10, 0.0, 0.0, 0.277_5),
            (10, 10, 1.0, 0.722_5, 1.0),
            (5, 10, 0.5, 0.236_6, 0.763_4),
            (12, 300, 0.04, 0.023_0, 0.068_7),
            (1, 1, 1.0, 0.206_5, 1.0),
        ];
        for (successes, trials, p, low, high) in cases {
            let rate = wilson(successes, trials);
            assert!(close(rate.value, p, 1e-9), "{successes}/{trials}: {rate:?}");
            assert!(
                close(rate.low, low, 5e-4),
                "{successes}/{trials} low: {rate:?}"
            );
            assert!(
                close(rate.high, high, 5e-4),
                "{successes}/{trials} high: {rate:?}"
            );
        }
        let empty = wilson(0, 0);
        assert_eq!((empty.value, empty.low, empty.high), (None, None, None));
    }

    #[test]
    fn conversion_counts_first_purchases_not_refunds_or_renewals() {
        let mut refunded = payment("c", PaymentKind::Purchase, false, 2400, 1);
        refunded.refunded = true;
        let payments = [
            payment("a", PaymentKind::Purchase, false, 2400, 1),
            payment("b", PaymentKind::Purchase, true, 1500, 2),
            payment("b", PaymentKind::Renewal, true, 1500, 32),
            refunded,
        ];
        let refs: Vec<&Payment> = payments.iter().collect();
        let rate = conversion(100, &refs);
        assert_eq!((rate.successes, rate.trials), (2, 100));
        assert_eq!(conversion(0, &[]).value, None);
    }

    #[test]
    fn comparing_variants() {
        assert!(close(Some(normal_cdf(0.0)), 0.5, 1e-7));
        assert!(close(Some(normal_cdf(1.959_964)), 0.975, 1e-6));
        assert!(close(Some(normal_cdf(-1.0)), 0.158_655_25, 1e-6));

        let a = wilson(20, 1000);
        let b = wilson(40, 1000);
        let comparison = compare(&a, &b);
        assert!(close(comparison.difference, 0.02, 1e-12));
        // Posteriors Beta(21, 981) and Beta(41, 961): means 0.020958 and 0.040918, variances
        // 2.0457e-5 and 3.9127e-5; sd of the difference 0.0077191 → z = 2.5858 → Φ = 0.99514.
        assert!(
            close(comparison.probability_b_beats_a, 0.99514, 5e-5),
            "{comparison:?}"
        );
        let same = compare(&wilson(30, 1000), &wilson(30, 1000));
        assert!(close(same.probability_b_beats_a, 0.5, 1e-9));
        assert_eq!(compare(&wilson(0, 0), &b).probability_b_beats_a, None);
    }

    #[test]
    fn repeat_rate_within_thirty_days() {
        let payments = [
            payment("a", PaymentKind::Purchase, false, 2400, 0),
            payment("a", PaymentKind::Purchase, false, 2400, 20), // repeat within 30 days
            payment("b", PaymentKind::Purchase, true, 1500, 5),
            payment("b", PaymentKind::Renewal, true, 1500, 35), // a renewal 30 days later counts
            payment("c", PaymentKind::Purchase, false, 2400, 10),
            payment("c", PaymentKind::Purchase, false, 2400, 45), // 35 days later: too late
            payment("d", PaymentKind::Purchase, false, 2400, 50),
            payment("e", PaymentKind::Purchase, false, 2400, 200), // first seen after the range
        ];
        let refs: Vec<&Payment> = payments.iter().collect();
        let result = repeat_rate(&refs, 0, 100 * 86_400, 70 * 86_400);
        assert_eq!(
            (result.customers, result.repeated, result.eligible),
            (4, 2, 3)
        );
        assert!(close(result.rate, 0.5, 1e-12));
        assert_eq!(repeat_rate(&[], 0, 10, 10).rate, None);
        let one = [payment("z", PaymentKind::Purchase, false, 100, 1)];
        let refs: Vec<&Payment> = one.iter().collect();
        assert_eq!(
            repeat_rate(&refs, 0, 10 * 86_400, 40 * 86_400).rate,
            Some(0.0)
        );
    }

    #[test]
    fn recurring_revenue_per_customer() {
        let payments = [
            payment("a", PaymentKind::Purchase, true, 1500, 1),
            payment("a", PaymentKind::Renewal, true, 1500, 31),
            payment("a", PaymentKind::Upgrade, true, 667, 40),
            payment("b", PaymentKind::Purchase, true, 2500, 2),
            payment("c", PaymentKind::Purchase, false, 2400, 3), // a bundle: not recurring
        ];
        let refs: Vec<&Payment> = payments.iter().collect();
        // (1500 + 1500 + 667 + 2500) / 2 = 3083.5 → 3084 (half-even: 3083.5 rounds to 3084)
        assert_eq!(
            recurring_revenue_per_active_customer(&refs, 0, 60 * 86_400),
            Some(3084)
        );
        assert_eq!(recurring_revenue_per_active_customer(&refs, 0, 1), None);
    }

    #[test]
    fn cac_payback() {
        // Two customers through the creator, 9000 of revenue over 90 days = 1500 a month each;
        // a fee of 6000 → 3000 per customer → 2 months.
        let payments = [
            payment("a", PaymentKind::Purchase, true, 1500, 0),
            payment("a", PaymentKind::Renewal, true, 1500, 30),
            payment("a", PaymentKind::Renewal, true, 1500, 60),
            payment("b", PaymentKind::Purchase, true, 1500, 0),
            payment("b", PaymentKind::Renewal, true, 1500, 30),
            payment("b", PaymentKind::Renewal, true, 1500, 60),
        ];
        let refs: Vec<&Payment> = payments.iter().collect();
        assert!(close(
            cac_payback_months(6000, &refs, 0, 90 * 86_400),
            2.0,
            1e-9
        ));
        assert_eq!(cac_payback_months(6000, &[], 0, 90 * 86_400), None);
        // A range from long before the first sale measures from that sale.
        assert!(close(
            cac_payback_months(6000, &refs, -3_650 * 86_400, 90 * 86_400),
            2.0,
            1e-9
        ));
        // Ten days of data count as one month: 1500 a month each → 2 months (not the 0.67
        // that ten days extrapolated to a month would give).
        let early: Vec<&Payment> = refs.iter().copied().filter(|p| p.at == 0).collect();
        assert!(close(
            cac_payback_months(6000, &early, 0, 10 * 86_400),
            2.0,
            1e-9
        ));
    }

    #[test]
    fn cohorts_and_revenue_by_period() {
        let week = 7 * 86_400;
        let payments = [
            payment("a", PaymentKind::Purchase, true, 1500, 0), // cohort 0
            payment("a", PaymentKind::Renewal, true, 1500, 8),  // period 1
            payment("a", PaymentKind::Renewal, true, 1500, 15), // period 2
            payment("b", PaymentKind::Purchase, false, 2400, 3), // cohort 0, never again
            payment("c", PaymentKind::Purchase, false, 2400, 9), // cohort 1
            payment("c", PaymentKind::Purchase, false, 2400, 23), // period 2 after its first
        ];
        let refs: Vec<&Payment> = payments.iter().collect();
        let result = cohorts(&refs, 0, week, 3);
        assert_eq!(
            result,
            vec![
                Cohort {
                    start: 0,
                    customers: 2,
                    retained: vec![1, 1, 0]
                },
                Cohort {
                    start: week,
                    customers: 1,
                    retained: vec![0, 1, 0]
                },
            ]
        );
        assert_eq!(
            revenue_over_time(&refs, 0, week, 4),
            vec![(0, 3900), (week, 3900), (2 * week, 1500), (3 * week, 2400)]
        );
        assert!(cohorts(&[], 0, week, 3).is_empty());
    }

    #[test]
    fn drop_sell_through() {
        assert_eq!(sell_through(37, 50), Some(0.74));
        assert_eq!(sell_through(0, 0), None);
        assert_eq!(sell_through(60, 50), Some(1.0));
    }
}
