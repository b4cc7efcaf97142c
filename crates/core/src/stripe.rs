//! Live mode's pure decisions about Stripe (issue 13): what amount Stripe's API takes for a
//! price, and when to ask Stripe again about a Checkout Session it would not let expire.
//! No I/O here: the server's `live.rs` calls Stripe and follows these.
//!
//! Amounts: Mighty keeps money in ISO 4217 minor units (`money.rs`); Stripe's API has its
//! own decimals for a few currencies (docs.stripe.com/currencies, "Minor units in API
//! amounts" and "Special cases"):
//! - zero-decimal: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF (the
//!   amount is whole units; MGA is two-decimal in ISO 4217, so its amounts must be whole
//!   ariary);
//! - three-decimal: BHD JOD KWD OMR TND, whose amounts must end in 0 (rounded to the
//!   nearest ten thousandths) for card payments;
//! - ISK: zero-decimal in ISO 4217 but two-decimal in Stripe's API, always a multiple of 100
//!   (whole krónur);
//! - every other currency: two decimals.
//!
//! A price that has no exact Stripe amount is refused, never rounded: the shopper pays what
//! the card showed.

use crate::money::{Currency, MAX_AMOUNT_MINOR, Money};

/// Currencies whose Stripe amounts are whole units.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies whose Stripe amounts are thousandths, in steps of ten.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Why a price has no Stripe amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeAmountError {
    /// The price is finer than Stripe charges in this currency (KWD 1.505; MGA 10.50).
    #[error(
        "{price} cannot be charged through Stripe: it takes {currency} amounts in steps of {step}; use {below} or {above}"
    )]
    NotAStep {
        price: String,
        currency: Currency,
        step: String,
        below: String,
        above: String,
    },
    /// Above the largest amount Stripe takes (8 digits in its own decimals).
    #[error("{price} is more than Stripe charges in one payment")]
    TooLarge { price: String },
}

/// The number of decimals Stripe's API amounts have in `currency`.
pub fn stripe_exponent(currency: Currency) -> u8 {
    let code = currency.code();
    if ZERO_DECIMAL.contains(&code) {
        0
    } else if THREE_DECIMAL.contains(&code) {
        3
    } else {
        2
    }
}

/// The smallest step, in Mighty's minor units, of a price Stripe can charge in `currency`:
/// 1 for most, 10 for the three-decimal currencies, 100 for MGA (ISO's hundredths, Stripe's
/// whole ariary), and 10^(ISO exponent − 2) for any other currency ISO gives more than two
/// decimals (CLF, IQD, LYD, UYW).
pub fn price_step(currency: Currency) -> i64 {
    let stripe = stripe_exponent(currency);
    let iso = currency.exponent();
    let finer = 10_i64.pow(u32::from(iso.saturating_sub(stripe)));
    if stripe == 3 { finer * 10 } else { finer }
}

/// The amount Stripe's API takes for `price` (the `unit_amount` of a Checkout line, a
/// subscription item's price). Refused when Stripe cannot charge it exactly.
pub fn to_stripe_amount(price: Money) -> Result<i64, StripeAmountError> {
    let currency = price.currency;
    let step = price_step(currency);
    if price.minor % step != 0 {
        let below = price.minor - price.minor.rem_euclid(step);
        return Err(StripeAmountError::NotAStep {
            price: price.to_string(),
            currency,
            step: Money::new(step, currency).to_decimal_string(),
            below: Money::new(below, currency).to_decimal_string(),
            above: Money::new(below + step, currency).to_decimal_string(),
        });
    }
    let amount = scale(
        price.minor,
        currency.exponent(),
        stripe_api_exponent(currency),
    );
    if amount > MAX_AMOUNT_MINOR {
        return Err(StripeAmountError::TooLarge {
            price: price.to_string(),
        });
    }
    Ok(amount)
}

/// An amount Stripe reports (an invoice's `amount_paid`) in Mighty's minor units of
/// `currency`: the inverse of [`to_stripe_amount`], rounded half away from zero when Stripe's
/// decimals are finer (never, for amounts Mighty sent).
pub fn from_stripe_amount(amount: i64, currency: Currency) -> i64 {
    let api = stripe_api_exponent(currency);
    let iso = currency.exponent();
    if api > iso {
        let factor = 10_i64.pow(u32::from(api - iso));
        let half = factor / 2;
        if amount >= 0 {
            (amount + half) / factor
        } else {
            (amount - half) / factor
        }
    } else {
        scale(amount, api, iso)
    }
}

/// The decimals of the numbers in Stripe's API (not always the decimals it charges: ISK is
/// charged in whole krónur but written with two decimals).
fn stripe_api_exponent(currency: Currency) -> u8 {
    if currency.code() == "ISK" {
        2
    } else {
        stripe_exponent(currency)
    }
}

/// `minor` in `from` decimals written in `to` decimals (exact when `to >= from`; the caller
/// checked divisibility otherwise).
fn scale(minor: i64, from: u8, to: u8) -> i64 {
    if to >= from {
        minor.saturating_mul(10_i64.pow(u32::from(to - from)))
    } else {
        minor / 10_i64.pow(u32::from(from - to))
    }
}

/// How long to wait before asking Stripe again about a Checkout Session whose stock hold has
/// ended but which Stripe would not expire (an asynchronous payment still pending, or Stripe
/// unreachable): 1 minute after the first refusal, doubling, at most 6 hours. Stripe reports
/// the outcome by webhook anyway; this only keeps the scheduler from asking every tick.
pub fn expiry_recheck_delay_seconds(checks_done: u32) -> i64 {
    const FIRST: i64 = 60;
    const MOST: i64 = 6 * 60 * 60;
    FIRST.saturating_mul(1_i64 << checks_done.min(20)).min(MOST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::from_code(code).unwrap())
    }

    #[test]
    fn stripe_amounts_follow_stripes_decimals() {
        // (price in Mighty's minor units, currency, Stripe's amount)
        let cases = [
            (2400, "EUR", 2400),
            (2400, "JPY", 2400),
            (5000, "KRW", 5000),
            (1510, "KWD", 1510),
            (20, "BHD", 20),
            (1500, "TND", 1500),
            // ISK: whole krónur in ISO, written with two decimals in Stripe's API.
            (500, "ISK", 50_000),
            // MGA: hundredths in ISO, whole ariary at Stripe.
            (1_000_000, "MGA", 10_000),
            (12_345, "HUF", 12_345),
            (0, "EUR", 0),
        ];
        for (minor, code, expected) in cases {
            assert_eq!(
                to_stripe_amount(money(minor, code)),
                Ok(expected),
                "{minor} {code}"
            );
            assert_eq!(
                from_stripe_amount(expected, Currency::from_code(code).unwrap()),
                minor,
                "{expected} {code} back"
            );
        }
    }

    #[test]
    fn prices_stripe_cannot_charge_exactly_are_refused_with_the_nearest_ones() {
        let error = to_stripe_amount(money(1505, "KWD")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "1.505 KWD cannot be charged through Stripe: it takes KWD amounts in steps of 0.010; use 1.500 or 1.510"
        );
        for code in ["BHD", "JOD", "KWD", "OMR", "TND"] {
            assert!(to_stripe_amount(money(1001, code)).is_err(), "{code}");
            assert_eq!(price_step(Currency::from_code(code).unwrap()), 10);
        }
        let error = to_stripe_amount(money(1050, "MGA")).unwrap_err();
        assert!(error.to_string().contains("use 10.00 or 11.00"), "{error}");
        // More than Stripe's eight digits once written in its decimals.
        assert_eq!(
            to_stripe_amount(money(1_000_000, "ISK")),
            Err(StripeAmountError::TooLarge {
                price: money(1_000_000, "ISK").to_string()
            })
        );
        assert_eq!(to_stripe_amount(money(999_999, "ISK")), Ok(99_999_900));
    }

    #[test]
    fn zero_decimal_currencies_are_whole_units_at_stripe() {
        for code in ZERO_DECIMAL {
            let currency = Currency::from_code(code).unwrap();
            assert_eq!(stripe_exponent(currency), 0, "{code}");
        }
        // Every zero-decimal ISO currency Stripe lists charges its prices as they are.
        for currency in Currency::all().filter(|currency| currency.exponent() == 0) {
            if ZERO_DECIMAL.contains(&currency.code()) {
                assert_eq!(price_step(currency), 1, "{currency}");
            }
        }
    }

    #[test]
    fn the_expiry_recheck_backs_off_to_six_hours() {
        let delays: Vec<i64> = (0..12).map(expiry_recheck_delay_seconds).collect();
        assert_eq!(
            delays,
            [
                60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600, 21600
            ]
        );
        assert_eq!(expiry_recheck_delay_seconds(u32::MAX), 21600);
    }

    proptest! {
        #[test]
        fn every_charged_amount_comes_back_as_the_price(
            index in 0usize..160,
            minor in 0i64..=MAX_AMOUNT_MINOR,
        ) {
            let currencies: Vec<Currency> = Currency::all().collect();
            let currency = currencies[index % currencies.len()];
            let price = Money::new(minor, currency);
            match to_stripe_amount(price) {
                Ok(amount) => {
                    prop_assert!(amount <= MAX_AMOUNT_MINOR);
                    prop_assert_eq!(from_stripe_amount(amount, currency), minor);
                    prop_assert_eq!(minor % price_step(currency), 0);
                }
                Err(StripeAmountError::NotAStep { .. }) => {
                    prop_assert_ne!(minor % price_step(currency), 0)
                }
                // Only where Stripe writes more decimals than ISO (ISK).
                Err(StripeAmountError::TooLarge { .. }) => {
                    prop_assert!(stripe_api_exponent(currency) > currency.exponent())
                }
            }
        }

        #[test]
        fn the_recheck_delay_never_shrinks(checks in 0u32..64) {
            prop_assert!(expiry_recheck_delay_seconds(checks + 1) >= expiry_recheck_delay_seconds(checks));
        }
    }
}
