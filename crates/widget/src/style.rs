//! The widget's stylesheet, built once per page as a constructable stylesheet and adopted by
//! every shadow root: no `<style>` element, no `style` attribute, so the widget works under
//! `style-src 'self'`.

use std::cell::OnceCell;

use wasm_bindgen::JsCast;
use web_sys::{CssStyleSheet, ShadowRoot};

/// `widget.css`, minified by `build.rs`.
const WIDGET_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.min.css"));

thread_local! {
    static SHEET: OnceCell<Option<CssStyleSheet>> = const { OnceCell::new() };
}

/// Adopts the shared stylesheet into `root` (once; adopting twice is harmless).
pub fn adopt_into(root: &ShadowRoot) {
    SHEET.with(|cell| {
        let sheet = cell.get_or_init(|| {
            let sheet = CssStyleSheet::new().ok()?;
            sheet.replace_sync(WIDGET_CSS).ok()?;
            Some(sheet)
        });
        if let Some(sheet) = sheet {
            let adopted = js_sys::Array::of1(sheet.unchecked_ref());
            root.set_adopted_style_sheets(&adopted);
        }
    });
}
