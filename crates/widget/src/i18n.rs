//! The shopper's language. English is written where the words are used (it is also the
//! lookup key, gettext-style: no key strings in the wasm); French, Spanish and German come
//! from `messages.json`, which `cargo xtask dist` ships beside the bundle and the loader hands
//! to [`messages`]. Without it, or for another language, the widget speaks English.

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

/// Translates the card's fixed words after it is drawn: elements marked `data-i18n` (their
/// text) and `data-i18n-label` (their `aria-label`). Written as English literals in the
/// views, they stay static there (leptos clones them from a template), which costs far less
/// wasm than a computed string per element.
pub fn translate_card(root: &web_sys::ShadowRoot, language: &str) {
    if language == "en" {
        return;
    }
    for (element, attribute) in crate::handles::translatable(root) {
        match attribute {
            Some(name) => {
                if let Some(english) = element.get_attribute(name) {
                    let _ = element.set_attribute(name, &t(language, &english));
                }
            }
            None => {
                let english = element.text_content().unwrap_or_default();
                element.set_text_content(Some(&t(language, &english)));
            }
        }
    }
}
