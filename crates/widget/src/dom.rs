//! Reading what the page says about a host (attributes, inline config, JSON-LD, the
//! `Mighty.mount` config) into core's [`HostConfig`], and the few DOM helpers the widget
//! needs. Decisions about that input belong to core, not here.

use js_sys::{Object, Reflect};
use mighty_core::ConfigError;
use mighty_core::host::{ATTRIBUTE_NAMES, HostConfig, MountListing, config_key_to_attribute_key};
use mighty_core::sources::JsonLdBlocks;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element};

pub fn document() -> Document {
    web_sys::window()
        .and_then(|window| window.document())
        .expect("the widget runs in a page")
}

/// Everything the page says about `host`, with `config` (from `Mighty.mount`) over the
/// attributes.
pub fn read_host_config(host: &Element, config: &JsValue) -> HostConfig {
    let mut attributes = mighty_core::host::Attributes::default();
    for key in ATTRIBUTE_NAMES {
        if let Some(value) = host.get_attribute(&mighty_core::host::attribute_name(key)) {
            attributes.insert((*key).to_string(), value);
        }
    }
    let inline_config = host
        .query_selector(":scope > script[type=\"application/json\"][data-mighty-config]")
        .ok()
        .flatten()
        .and_then(|script| script.text_content());
    let mut host_config = HostConfig {
        tag_name: host.tag_name().to_ascii_lowercase(),
        attributes,
        mount_listing: None,
        inline_config,
    };
    merge_mount_config(&mut host_config, config);
    host_config
}

/// `Mighty.mount(element, {listing, checkout, checkoutMode, ...})`: camelCase keys of the
/// attribute names; `listing` is a URL or a document; `id` is the `data-mighty` value.
fn merge_mount_config(host_config: &mut HostConfig, config: &JsValue) {
    if !config.is_object() {
        return;
    }
    let entries = Object::entries(config.unchecked_ref::<Object>());
    let mut from_mount = Vec::new();
    for entry in entries.iter() {
        let key = Reflect::get_u32(&entry, 0)
            .ok()
            .and_then(|key| key.as_string())
            .unwrap_or_default();
        let value = Reflect::get_u32(&entry, 1).unwrap_or(JsValue::UNDEFINED);
        if key == "listing" {
            host_config.mount_listing = if let Some(url) = value.as_string() {
                Some(MountListing::Url(url))
            } else if value.is_object() {
                // Read as it is: the page's JSON.stringify may have been changed.
                // Too deep to read: validation says so, quoting why.
                let document =
                    crate::json::from_js(&value).unwrap_or_else(serde_json::Value::String);
                Some(MountListing::Parsed(mighty_core::host::ParsedDocument(
                    document,
                )))
            } else {
                None
            };
            continue;
        }
        let attribute_key = if key == "id" {
            String::new()
        } else {
            config_key_to_attribute_key(&key)
        };
        let text = if let Some(text) = value.as_string() {
            Some(text)
        } else if let Some(number) = value.as_f64() {
            Some(format_number(number))
        } else if value.as_bool() == Some(true) {
            // `eager: true` means the attribute is present; `consent: true` means "required".
            let present = if attribute_key == "consent" {
                "required"
            } else {
                ""
            };
            Some(present.to_string())
        } else {
            None
        };
        match text {
            Some(text) => {
                host_config.attributes.insert(attribute_key.clone(), text);
                from_mount.push(attribute_key);
            }
            None if value.as_bool() == Some(false) || value.is_null() => {
                host_config.attributes.remove(&attribute_key);
            }
            None => {}
        }
    }
    host_config.prefer_mount_source(&from_mount);
}

/// `24` for 24.0, `4.8` for 4.8: as JavaScript writes the number (and without Rust's float
/// formatting, which costs kilobytes of wasm).
fn format_number(number: f64) -> String {
    js_sys::JSON::stringify(&JsValue::from_f64(number))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// The page's JSON-LD blocks, split into those inside `host` and the rest. A broken block
/// elsewhere on the page is skipped (it may belong to something else); a broken block inside
/// the host is this host's config error.
pub fn read_json_ld(host: &Element) -> Result<JsonLdBlocks, ConfigError> {
    let mut blocks = JsonLdBlocks::default();
    let Ok(scripts) = document().query_selector_all("script[type=\"application/ld+json\"]") else {
        return Ok(blocks);
    };
    for index in 0..scripts.length() {
        let Some(script) = scripts.item(index) else {
            continue;
        };
        let inside = host.contains(Some(&script));
        let text = script.text_content().unwrap_or_default();
        match crate::json::parse(&text) {
            Ok(value) if inside => blocks.inside_host.push(value),
            Ok(value) => blocks.page.push(value),
            Err(error) if inside => {
                return Err(ConfigError::invalid(
                    "data-mighty-source",
                    format!("the JSON-LD block inside the host is not valid JSON: {error}"),
                ));
            }
            Err(_) => {}
        }
    }
    Ok(blocks)
}

/// `relative` resolved against `base` (a document's URL, or the page's).
pub fn resolve_url(relative: &str, base: &str) -> Option<String> {
    web_sys::Url::new_with_base(relative, base)
        .ok()
        .map(|url| url.href())
}

/// `text` as the browser's WHATWG URL parser reads it (`\\` as `/`, userinfo, tabs), for
/// core's URL decisions; `None` unless it is an absolute http(s) URL. Core's own parser
/// (the `url` crate) is left out of the bundle: the browser has one.
pub fn web_url(text: &str) -> Option<mighty_core::url::WebUrl> {
    // The parsed origin carries scheme, host and port in one import (bytes: each import
    // costs the bundle a name in the wasm and a function in the glue).
    mighty_core::url::WebUrl::from_serialized_origin(&web_sys::Url::new(text).ok()?.origin())
}

/// The origin of an absolute http(s) URL, as the browser serializes it.
pub fn origin_of(text: &str) -> Option<String> {
    web_url(text).map(|url| url.origin())
}

/// The page's base URL.
pub fn page_base() -> String {
    document().base_uri().ok().flatten().unwrap_or_default()
}

/// The locale the widget formats for: the host's, else the page's `lang`, else the
/// browser's; each candidate must be one `Intl` accepts.
pub fn effective_locale(host_locale: Option<&str>) -> Result<String, ConfigError> {
    if let Some(tag) = host_locale {
        return canonical_locale(tag).ok_or_else(|| {
            ConfigError::invalid(
                "data-mighty-locale",
                format!("\"{tag}\" is not a locale this browser knows; write it like \"fr-FR\""),
            )
        });
    }
    let page_lang = document()
        .document_element()
        .and_then(|root| root.get_attribute("lang"));
    let browser = web_sys::window().and_then(|window| window.navigator().language());
    Ok(page_lang
        .as_deref()
        .and_then(canonical_locale)
        .or_else(|| browser.as_deref().and_then(canonical_locale))
        .unwrap_or_else(|| "en".to_string()))
}

fn canonical_locale(tag: &str) -> Option<String> {
    if tag.trim().is_empty() {
        return None;
    }
    get_canonical_locales(tag.trim()).ok()?.get(0).as_string()
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// js-sys's binding does not catch the `RangeError` an invalid tag throws.
    #[wasm_bindgen(js_namespace = Intl, js_name = getCanonicalLocales, catch)]
    fn get_canonical_locales(tag: &str) -> Result<js_sys::Array, JsValue>;
}
