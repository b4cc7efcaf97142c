//! The DOM events of SPEC section 2, dispatched on the host element, bubbling and composed,
//! with a `detail` whose field names are public API.

use serde::ser::{Serialize, SerializeMap, Serializer};
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

/// `error` in an event's detail.
#[derive(Clone, Debug)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `event.detail`; absent fields are left out rather than set to `null` (`listing_id` is
/// always there: `null` for errors found before the listing is known).
#[derive(Clone, Debug, Default)]
pub struct EventDetail {
    pub listing_id: Option<String>,
    pub offer_id: Option<String>,
    pub tier_id: Option<String>,
    pub session_id: Option<String>,
    pub creator: Option<String>,
    pub variant: Option<String>,
    pub error: Option<ErrorDetail>,
}

// Written as maps, not derived as structs: serde-wasm-bindgen turns a struct's field names
// into JS strings through a cache (a `HashMap` keyed by address) that costs about 1 KB
// gzip of wasm; a map's keys are plain strings. The objects a page reads are the same.
impl Serialize for ErrorDetail {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("code", &self.code)?;
        map.serialize_entry("message", &self.message)?;
        map.end()
    }
}

impl Serialize for EventDetail {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("listing_id", &self.listing_id)?;
        let optional = [
            ("offer_id", &self.offer_id),
            ("tier_id", &self.tier_id),
            ("session_id", &self.session_id),
            ("creator", &self.creator),
            ("variant", &self.variant),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        if let Some(error) = &self.error {
            map.serialize_entry("error", error)?;
        }
        map.end()
    }
}

impl EventDetail {
    /// The plain object a page's listener reads, through serde-wasm-bindgen (`None` as
    /// `null`, structs as plain objects).
    fn to_js(&self) -> JsValue {
        self.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap_or(JsValue::NULL)
    }
}

/// Dispatches `mighty:<name>` on `host`. Listeners in the host page may throw; that never
/// reaches the widget.
pub fn dispatch(host: &Element, name: &str, detail: &EventDetail) {
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&detail.to_js());
    if let Ok(event) = CustomEvent::new_with_event_init_dict(&format!("mighty:{name}"), &init) {
        let _ = host.dispatch_event(&event);
    }
}
