//! Money: integer minor units plus an ISO 4217 currency, never a float.
//!
//! The currency table is written out here rather than taken from a currency crate: the
//! widget only needs code → exponent, and the crates that carry names, symbols and
//! countries cost kilobytes of wasm the widget's size budget cannot spare.

use std::fmt;

/// An ISO 4217 currency the widget knows, with its minor-unit exponent.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Active ISO 4217 codes with their exponents (fraction digits), sorted by code.
/// Fund and precious-metal codes without an exponent (XAU, XDR, ...) are left out:
/// nothing can be sold in them.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// Looks up an ISO 4217 code (upper case, as the standard writes it).
    pub fn from_code(code: &str) -> Option<Currency> {
        let index = CURRENCIES
            .binary_search_by(|(known, _)| (*known).cmp(code))
            .ok()?;
        let (known, exponent) = CURRENCIES[index];
        let bytes = known.as_bytes();
        Some(Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            exponent,
        })
    }

    /// The three-letter code, e.g. `"EUR"`.
    pub fn code(&self) -> &str {
        // The bytes come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Number of fraction digits of the minor unit: JPY 0, EUR 2, KWD 3.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Every currency the widget accepts, for documentation and builders.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES
            .iter()
            .filter_map(|(code, _)| Currency::from_code(code))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// The largest price a listing may carry, in minor units: what Stripe accepts (99 999 999,
/// i.e. 999 999.99 in a two-decimal currency). With [`MAX_QUANTITY`] every total fits an
/// `i64` many times over; arithmetic on money is checked all the same.
pub const MAX_AMOUNT_MINOR: i64 = 99_999_999;

/// The largest quantity of one checkout core accepts (a partner may allow fewer).
pub const MAX_QUANTITY: u32 = 999;

/// An amount of money: whole minor units (cents) of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Money {
    /// Minor units, e.g. 2400 for EUR 24.00.
    pub minor: i64,
    pub currency: Currency,
}

/// Why a major-unit price string such as `"24.00"` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceParseError {
    #[error("is empty; give a price such as 24.00")]
    Empty,
    #[error(
        "\"{0}\" is not a plain number; write it like 24.00 (digits and one dot, no currency symbol, thousands separator or sign)"
    )]
    NotANumber(String),
    #[error("\"{text}\" has {found} decimals but {currency} has {allowed}")]
    TooManyDecimals {
        text: String,
        found: usize,
        allowed: u8,
        currency: Currency,
    },
    #[error("\"{0}\" is too large")]
    TooLarge(String),
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Whether `minor` is a price a listing may carry: 0 to [`MAX_AMOUNT_MINOR`]. The error
    /// says the bound, e.g. `at most 99999999 minor units (999999.99 EUR)`.
    pub fn check_price(minor: i64, currency: Currency) -> Result<Money, String> {
        if minor < 0 {
            return Err(format!(
                "{minor} is negative; a price is 0 or more minor units"
            ));
        }
        if minor > MAX_AMOUNT_MINOR {
            return Err(format!(
                "{minor} is too large; a price is at most {MAX_AMOUNT_MINOR} minor units ({})",
                Money::new(MAX_AMOUNT_MINOR, currency)
            ));
        }
        Ok(Money::new(minor, currency))
    }

    /// `quantity` times this unit price, or `None` when the price is not one a listing may
    /// carry ([`Money::check_price`]), the quantity is 0 or above [`MAX_QUANTITY`], or the
    /// product overflows.
    pub fn times(self, quantity: u32) -> Option<Money> {
        if !(1..=MAX_QUANTITY).contains(&quantity)
            || Money::check_price(self.minor, self.currency).is_err()
        {
            return None;
        }
        let minor = self.minor.checked_mul(i64::from(quantity))?;
        Some(Money::new(minor, self.currency))
    }

    /// Parses a price written in major units (`"24.00"`, `"24"`, `"24.5"`) exactly, without
    /// ever going through a float.
    pub fn parse_major(text: &str, currency: Currency) -> Result<Money, PriceParseError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(PriceParseError::Empty);
        }
        let (whole, fraction) = match trimmed.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (trimmed, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !all_digits(whole)
            || !all_digits(fraction)
            || (trimmed.contains('.') && fraction.is_empty())
        {
            return Err(PriceParseError::NotANumber(trimmed.to_string()));
        }
        let exponent = currency.exponent();
        if fraction.len() > usize::from(exponent) {
            return Err(PriceParseError::TooManyDecimals {
                text: trimmed.to_string(),
                found: fraction.len(),
                allowed: exponent,
                currency,
            });
        }
        let too_large = || PriceParseError::TooLarge(trimmed.to_string());
        let mut minor: i64 = 0;
        let padded_fraction = fraction.bytes().chain(std::iter::repeat(b'0'));
        for digit in whole
            .bytes()
            .chain(padded_fraction.take(usize::from(exponent)))
        {
            minor = minor
                .checked_mul(10)
                .and_then(|value| value.checked_add(i64::from(digit - b'0')))
                .ok_or_else(too_large)?;
        }
        Ok(Money { minor, currency })
    }

    /// The exact amount in major units with exactly the currency's exponent as fraction
    /// digits: `"24.00"` (EUR), `"2400"` (JPY), `"1.500"` (KWD). This string, not a float,
    /// is what the widget hands to `Intl.NumberFormat`.
    pub fn to_decimal_string(&self) -> String {
        let exponent = usize::from(self.currency.exponent());
        let sign = if self.minor < 0 { "-" } else { "" };
        let digits = self.minor.unsigned_abs().to_string();
        if exponent == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = exponent + 1);
        // Checked: `padded` has more than `exponent` ASCII digits, and a panicking split
        // brings the panic's message machinery into the widget.
        let (whole, fraction) = padded
            .split_at_checked(padded.len() - exponent)
            .unwrap_or((&padded, ""));
        format!("{sign}{whole}.{fraction}")
    }
}

impl fmt::Display for Money {
    /// A locale-neutral rendering, `"24.00 EUR"`, for logs, terminals and server pages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn currency(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn table_is_sorted_and_unique_so_binary_search_works() {
        assert!(CURRENCIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn exponents_follow_iso_4217() {
        for (code, exponent) in [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("CLF", 4)] {
            assert_eq!(currency(code).exponent(), exponent, "{code}");
        }
        for unknown in ["XXX", "eur", "EURO", "", "XAU"] {
            assert!(Currency::from_code(unknown).is_none(), "{unknown}");
        }
    }

    #[test]
    fn decimal_strings() {
        let cases = [
            (2400, "EUR", "24.00"),
            (5, "EUR", "0.05"),
            (0, "EUR", "0.00"),
            (2400, "JPY", "2400"),
            (1500, "KWD", "1.500"),
            (7, "KWD", "0.007"),
            (-150, "USD", "-1.50"),
        ];
        for (minor, code, expected) in cases {
            assert_eq!(
                Money::new(minor, currency(code)).to_decimal_string(),
                expected
            );
        }
        assert_eq!(Money::new(2400, currency("EUR")).to_string(), "24.00 EUR");
    }

    #[test]
    fn parse_major_units() {
        let ok = [
            ("24.00", "EUR", 2400),
            ("24", "EUR", 2400),
            ("24.5", "EUR", 2450),
            (" 0.05 ", "EUR", 5),
            (".5", "EUR", 50),
            ("2400", "JPY", 2400),
            ("1.5", "KWD", 1500),
        ];
        for (text, code, minor) in ok {
            assert_eq!(
                Money::parse_major(text, currency(code)).unwrap().minor,
                minor,
                "{text}"
            );
        }
        let err = |text: &str, code: &str| {
            Money::parse_major(text, currency(code))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err("", "EUR"), "is empty; give a price such as 24.00");
        assert!(err("€24", "EUR").starts_with("\"€24\" is not a plain number"));
        assert!(err("1,200.00", "EUR").contains("no currency symbol, thousands separator"));
        assert!(err("-3", "EUR").contains("not a plain number"));
        assert!(err("24.", "EUR").contains("not a plain number"));
        assert_eq!(
            err("24.005", "EUR"),
            "\"24.005\" has 3 decimals but EUR has 2"
        );
        assert_eq!(err("24.5", "JPY"), "\"24.5\" has 1 decimals but JPY has 0");
        assert_eq!(
            err("99999999999999999999", "EUR"),
            "\"99999999999999999999\" is too large"
        );
    }

    proptest! {
        #[test]
        fn decimal_string_round_trips(minor in 0i64..i64::MAX / 10, index in 0usize..CURRENCIES.len()) {
            let currency = currency(CURRENCIES[index].0);
            let money = Money::new(minor, currency);
            prop_assert_eq!(Money::parse_major(&money.to_decimal_string(), currency), Ok(money));
        }

        #[test]
        fn decimal_string_has_exactly_the_exponent_as_fraction_digits(minor in any::<i64>(), index in 0usize..CURRENCIES.len()) {
            let currency = currency(CURRENCIES[index].0);
            let text = Money::new(minor, currency).to_decimal_string();
            let fraction_digits = text.split_once('.').map_or(0, |(_, fraction)| fraction.len());
            prop_assert_eq!(fraction_digits, usize::from(currency.exponent()));
        }
    }
}
