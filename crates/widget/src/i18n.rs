//! The shopper's language. English is written where the words are used (it is also the
//! lookup key, gettext-style: no key strings in the wasm); French, Spanish and German come
//! from `messages.json`, which `cargo xtask dist` ships beside the bundle and the loader hands
//! to [`messages`]. Without it, or for another language, the widget speaks English. One way
//! to translate: [`t`] (and [`tf`], which fills `{placeholders}` after it), called where the
//! view or the message is built, with the card's catalog language.

use std::cell::RefCell;

use mighty_core::i18n::fill;
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;

thread_local! {
    static CATALOG: RefCell<Option<Value>> = const { RefCell::new(None) };
}

/// The catalog (`{"fr": {"Buy now": "Acheter", ...}, ...}`), as the loader fetched it.
#[wasm_bindgen]
pub fn messages(json: &str) {
    let parsed = crate::json::parse(json).ok();
    CATALOG.with_borrow_mut(|catalog| *catalog = parsed);
}

/// `english` in `language` (a catalog language: `en`, `fr`, `es` or `de`). Never inlined:
/// it is called from some eighty places.
#[inline(never)]
pub fn t(language: &str, english: &str) -> String {
    CATALOG.with_borrow(|catalog| {
        catalog
            .as_ref()
            .and_then(|catalog| catalog.get(language)?.get(english)?.as_str())
            .unwrap_or(english)
            .to_string()
    })
}

/// [`t`], then the `{placeholders}` filled.
#[inline(never)]
pub fn tf(language: &str, english: &str, values: &[(&str, &str)]) -> String {
    fill(&t(language, english), values)
}

/// "€15.00 / month", in the shopper's language.
pub fn per_interval(
    language: &str,
    price: &str,
    interval: mighty_core::listing::Interval,
) -> String {
    use mighty_core::listing::Interval;
    let template = match interval {
        Interval::Day => t(language, "{price} / day"),
        Interval::Week => t(language, "{price} / week"),
        Interval::Month => t(language, "{price} / month"),
        Interval::Year => t(language, "{price} / year"),
    };
    fill(&template, &[("price", price)])
}
