//! The widget's stylesheet, built once per page as a constructable stylesheet and adopted by
//! every shadow root: no `<style>` element, no `style` attribute, so the widget works under
//! `style-src 'self'`.
//!
//! The CSS is not in the wasm: `cargo xtask dist` writes `widget.css` (minified by
//! `build.rs`) as a hashed file beside the bundle, and the loader fetches it in parallel with
//! the wasm and hands its text to [`stylesheet`] before the first mount. CSS is not code; kept
//! in the wasm it cost 2.4 KB gzip of the bundle's budget, and as a file it is cached on its
//! own.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::wasm_bindgen;
use web_sys::{CssStyleSheet, ShadowRoot};

thread_local! {
    static SHEET: RefCell<Option<CssStyleSheet>> = const { RefCell::new(None) };
}

/// The widget's CSS text (the loader passes the fetched `mighty-<hash>.css`). Widgets
/// mounted afterwards adopt it; so do the ones already mounted, through the same sheet.
#[wasm_bindgen]
pub fn stylesheet(css: &str) {
    SHEET.with_borrow_mut(|sheet| {
        if let Some(existing) = sheet {
            let _ = existing.replace_sync(css);
            return;
        }
        if let Ok(created) = CssStyleSheet::new()
            && created.replace_sync(css).is_ok()
        {
            *sheet = Some(created);
        }
    });
}

/// Adopts the shared stylesheet into `root` (adopting twice is harmless).
pub fn adopt_into(root: &ShadowRoot) {
    SHEET.with_borrow(|sheet| {
        if let Some(sheet) = sheet {
            let adopted = js_sys::Array::of1(sheet.unchecked_ref());
            root.set_adopted_style_sheets(&adopted);
        }
    });
}
