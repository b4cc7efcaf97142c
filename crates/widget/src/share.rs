//! The share action (SPEC section 5): the Web Share API where the browser has it, else the
//! creator link copied to the clipboard with a visible confirmation; `mighty:share`.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use mighty_core::protocol::params;

use crate::i18n::tf;
use crate::page_url::page_url_without_our_parameters;
use crate::shop::{Panel, Shop};

/// The share action: the Web Share API where the browser has it, else the link copied to
/// the clipboard, with a visible confirmation (or the link to copy by hand); `mighty:share`.
/// The link is the page with `mighty_listing` and the attribution the shopper came with
/// (`mighty_creator`, `mighty_token`), else the shown creator's handle: the creator who
/// brought or showed the shopper keeps the credit for what the link sells.
pub fn share(shop: &Rc<Shop>) {
    let url = share_link(shop);
    shop.report("share", &shop.event_detail());
    let Some(navigator) = web_sys::window().map(|window| window.navigator()) else {
        return;
    };
    let call = |target: &JsValue, method: &str, argument: &JsValue| {
        let function = js_sys::Reflect::get(target, &JsValue::from_str(method)).ok()?;
        let function = function.dyn_ref::<js_sys::Function>()?;
        let promise = function.call1(target, argument).ok()?;
        Some(wasm_bindgen_futures::JsFuture::from(
            js_sys::Promise::resolve(&promise),
        ))
    };
    let data = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&data, &"title".into(), &shop.listing.title.as_str().into());
    let _ = js_sys::Reflect::set(&data, &"url".into(), &url.as_str().into());
    let shared = call(&navigator, "share", &data);
    let clipboard =
        js_sys::Reflect::get(&navigator, &"clipboard".into()).unwrap_or(JsValue::UNDEFINED);
    let copied = if shared.is_some() {
        None
    } else {
        call(&clipboard, "writeText", &url.as_str().into())
    };
    let shop = shop.clone();
    crate::spawn(async move {
        if let Some(shared) = shared {
            // The system's share sheet is its own confirmation; a cancel is no error.
            let _ = shared.await;
            return;
        }
        let copied = match copied {
            Some(copied) => copied.await.is_ok(),
            None => false,
        };
        let text = if copied {
            tf(shop.lang, "Link copied: {url}", &[("url", &url)])
        } else {
            tf(
                shop.lang,
                "Copy this link to share it: {url}",
                &[("url", &url)],
            )
        };
        shop.show_panel(
            Some(Panel {
                text,
                ..Panel::default()
            }),
            false,
        );
    });
}

pub(crate) fn share_link(shop: &Shop) -> String {
    let href = page_url_without_our_parameters(Some(&shop.listing.id));
    let Ok(url) = web_sys::Url::new(&href) else {
        return href;
    };
    let arrived = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok());
    let from_link = |name: &str| arrived.as_ref().and_then(|query| query.get(name));
    let query = url.search_params();
    match from_link(params::CREATOR) {
        Some(creator) => {
            query.append(params::CREATOR, &creator);
            if let Some(token) = from_link(params::TOKEN) {
                query.append(params::TOKEN, &token);
            }
        }
        None => {
            if let Some(handle) = shop.variant() {
                query.append(params::CREATOR, &handle);
            }
        }
    }
    url.href()
}
