//! The DOM events of SPEC section 2, dispatched on the host element, bubbling and composed,
//! with a `detail` whose field names are public API.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

/// `error` in an event's detail.
#[derive(Clone, Debug)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `event.detail`; absent fields are left out rather than set to `null`.
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

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

impl EventDetail {
    /// The plain object a page's listener reads. Built with `Reflect` rather than
    /// serde-wasm-bindgen: a handful of fields do not justify its code size.
    fn to_js(&self) -> JsValue {
        let object = Object::new();
        set(
            &object,
            "listing_id",
            &self
                .listing_id
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        );
        let optional = [
            ("offer_id", &self.offer_id),
            ("tier_id", &self.tier_id),
            ("session_id", &self.session_id),
            ("creator", &self.creator),
            ("variant", &self.variant),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                set(&object, key, &JsValue::from_str(value));
            }
        }
        if let Some(error) = &self.error {
            let error_object = Object::new();
            set(&error_object, "code", &JsValue::from_str(&error.code));
            set(&error_object, "message", &JsValue::from_str(&error.message));
            set(&object, "error", &error_object);
        }
        object.into()
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
