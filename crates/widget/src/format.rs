//! Localized numbers through the browser's `Intl.NumberFormat`: prices get exactly the
//! currency's ISO 4217 exponent as fraction digits (from core), and are handed to `Intl` as
//! exact decimal strings, so money never passes through a float. Times through
//! `Intl.DateTimeFormat`, which has the time zone database the wasm does not carry.

use js_sys::{Object, Reflect};
use mighty_core::{Money, Timestamp};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(extends = Object, js_namespace = Intl)]
    type NumberFormat;

    #[wasm_bindgen(constructor, js_namespace = Intl, catch)]
    fn new(locale: &str, options: &Object) -> Result<NumberFormat, JsValue>;

    /// `format` accepts a decimal string and formats it exactly (Intl.NumberFormat v3). A
    /// page may have replaced it with one that throws: caught, never through the card.
    #[wasm_bindgen(method, js_name = format, catch)]
    fn format_decimal(this: &NumberFormat, decimal: &str) -> Result<String, JsValue>;

    #[wasm_bindgen(extends = Object, js_namespace = Intl)]
    type DateTimeFormat;

    /// Throws for a time zone the browser does not know: caught.
    #[wasm_bindgen(constructor, js_namespace = Intl, catch)]
    fn new(locale: &str, options: &Object) -> Result<DateTimeFormat, JsValue>;

    /// Two instants as milliseconds since the epoch.
    #[wasm_bindgen(method, js_name = formatRange, catch)]
    fn format_range(this: &DateTimeFormat, start: f64, end: f64) -> Result<String, JsValue>;
}

fn options(pairs: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// Formats prices and plain numbers for one locale.
#[derive(Clone)]
pub struct Formatter {
    locale: String,
}

impl Formatter {
    pub fn new(locale: &str) -> Formatter {
        Formatter {
            locale: locale.to_string(),
        }
    }

    /// The BCP 47 tag this formats for.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// `€24.00`, `24,00 €`, `¥2,400`, `KWD 1.500`, as the locale writes them.
    pub fn price(&self, money: Money) -> String {
        let digits = JsValue::from(money.currency.exponent());
        let options = options(&[
            ("style", JsValue::from_str("currency")),
            ("currency", JsValue::from_str(money.currency.code())),
            ("minimumFractionDigits", digits.clone()),
            ("maximumFractionDigits", digits),
        ]);
        // Without a working Intl (an old engine, or a page that broke it) the exact amount
        // is still right: "24.00 EUR".
        NumberFormat::new(&self.locale, &options)
            .and_then(|format| format.format_decimal(&money.to_decimal_string()))
            .unwrap_or_else(|_| money.to_string())
    }

    /// From `start` to `end` as the clocks of `time_zone` (IANA) read them, with the zone's
    /// short name: "Sat, Dec 5, 10:00 AM – 4:00 PM EST", "sam. 5 déc., 10:00 – 16:00 UTC+1".
    /// Without a working `Intl`, the instants in UTC.
    pub fn time_range(&self, start: Timestamp, end: Timestamp, time_zone: &str) -> String {
        let text = JsValue::from_str;
        let options = options(&[
            ("timeZone", text(time_zone)),
            ("weekday", text("short")),
            ("month", text("short")),
            ("day", text("numeric")),
            ("hour", text("numeric")),
            ("minute", text("2-digit")),
            ("timeZoneName", text("short")),
        ]);
        let millis = |at: Timestamp| at.0 as f64 * 1000.0;
        DateTimeFormat::new(&self.locale, &options)
            .and_then(|format| format.format_range(millis(start), millis(end)))
            .unwrap_or_else(|_| format!("{start} – {end}"))
    }

    /// A plain number with a fixed number of fraction digits: `4.8`, `4,8`.
    pub fn number(&self, decimal: &str, fraction_digits: u8) -> String {
        let digits = JsValue::from(fraction_digits);
        let options = options(&[
            ("minimumFractionDigits", digits.clone()),
            ("maximumFractionDigits", digits),
        ]);
        NumberFormat::new(&self.locale, &options)
            .and_then(|format| format.format_decimal(decimal))
            .unwrap_or_else(|_| decimal.to_string())
    }
}
