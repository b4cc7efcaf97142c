//! The page's own URL, as the checkout and the share link need it: without any `mighty_*`
//! parameter (SPEC section 4's `return_url`), and the address bar cleaned after a return.

use mighty_core::protocol::params;
use wasm_bindgen::JsValue;

/// The page URL without any `mighty_*` parameter, plus `mighty_listing=<id>` when given
/// (SPEC section 4's `return_url`). Without the fragment: a partner that appends
/// `&mighty_session=…` to the URL would otherwise put it inside the fragment.
pub(crate) fn page_url_without_our_parameters(listing_id: Option<&str>) -> String {
    let href = web_sys::window()
        .and_then(|window| window.location().href().ok())
        .unwrap_or_default();
    let Ok(url) = web_sys::Url::new(&href) else {
        return href;
    };
    strip_our_parameters(&url);
    if let Some(id) = listing_id {
        url.search_params().append(params::LISTING, id);
    }
    url.set_hash("");
    url.href()
}

fn strip_our_parameters(url: &web_sys::Url) {
    let query = url.search_params();
    let ours: Vec<String> = js_sys::Array::from(&query.keys().into())
        .iter()
        .filter_map(|key| key.as_string())
        .filter(|key| key.starts_with(params::PREFIX))
        .collect();
    for key in ours {
        query.delete(&key);
    }
}

pub(crate) fn remove_our_parameters() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    strip_our_parameters(&url);
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    }
}
