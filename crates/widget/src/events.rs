//! The DOM events of SPEC section 2, dispatched on the host element, bubbling and composed,
//! with a `detail` whose field names are public API.

use serde::Serialize;
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

/// `error` in an event's detail.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `event.detail`; absent fields are left out rather than set to `null` (`listing_id` is
/// always there: `null` for errors found before the listing is known).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EventDetail {
    pub listing_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
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
