//! The DOM listeners a card needs beyond its first render: one `click` listener on the shadow
//! root for every button (event delegation, by the button's `part`, class or `data-*`), the
//! demo video's media events and its visibility observer. Held by the card's [`Shop`] and
//! removed when it goes, so no event ever reaches a dropped closure.
//!
//! Why not leptos `on:` handlers: each handler type costs about 3.5 KB of wasm, and the size
//! budget cannot carry one per kind of button.

use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, EventTarget, IntersectionObserver};

use crate::checkout;
use crate::demo;
use crate::shop::Shop;

/// What reacts to an event: plain functions, so one closure type serves every listener.
pub type Handler = fn(&Rc<Shop>, &Event);

/// A listener: its target, its event type, and the closure the browser calls.
type Listening = (EventTarget, &'static str, Closure<dyn FnMut(Event)>);
/// The card's visibility observer and its callback.
pub type Observer = (IntersectionObserver, Closure<dyn FnMut(js_sys::Array)>);

#[derive(Default)]
pub struct Listeners {
    listening: Vec<Listening>,
    pub observer: Option<Observer>,
}

impl Listeners {
    /// Calls `handler` with the shop for each `kind` event on `target`, while the shop lives.
    pub fn add(
        &mut self,
        shop: &Rc<Shop>,
        target: &EventTarget,
        kind: &'static str,
        handler: Handler,
    ) {
        let weak: Weak<Shop> = Rc::downgrade(shop);
        let listener = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if let Some(shop) = weak.upgrade() {
                // What the page's JavaScript throws under a handler stays with the widget.
                if let Err(thrown) = crate::guarded(move || handler(&shop, &event)) {
                    let message = format!("Mighty: {}", crate::thrown_message(&thrown));
                    web_sys::console::error_1(&message.into());
                }
            }
        });
        let _ = target.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        self.listening.push((target.clone(), kind, listener));
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for (target, kind, listener) in &self.listening {
            let _ =
                target.remove_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        }
        if let Some((observer, _)) = &self.observer {
            observer.disconnect();
        }
    }
}

/// Listens for clicks on the whole card and for the tiers' radios, and watches the card's
/// visibility.
pub fn wire_card(shop: &Rc<Shop>) {
    let root: EventTarget = shop.root.clone().into();
    {
        let mut listeners = shop.listeners.borrow_mut();
        listeners.add(shop, &root, "click", on_click);
        listeners.add(shop, &root, "change", on_change);
    }
    watch_visibility(shop);
}

/// A tier was chosen: `mighty:offer-select`.
fn on_change(shop: &Rc<Shop>, event: &Event) {
    let Some(input) = event
        .target()
        .and_then(|target| target.dyn_into::<Element>().ok())
    else {
        return;
    };
    let offer = input
        .closest("[data-offer-id]")
        .ok()
        .flatten()
        .and_then(|offer| offer.get_attribute("data-offer-id"));
    checkout::offer_selected(shop, offer, input.get_attribute("value"));
}

/// One observer per card: at least half visible, the demo plays and, after one second,
/// `mighty:view` is dispatched (once per mount); less, the demo pauses.
fn watch_visibility(shop: &Rc<Shop>) {
    let Some(card) = shop.find(".card") else {
        return;
    };
    let weak = Rc::downgrade(shop);
    let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        let Some(shop) = weak.upgrade() else { return };
        let visible = entries.iter().any(|entry| {
            entry
                .unchecked_into::<web_sys::IntersectionObserverEntry>()
                .intersection_ratio()
                >= 0.5
        });
        shop.visible.set(visible);
        let change = shop.visibility_changes.get().wrapping_add(1);
        shop.visibility_changes.set(change);
        demo::on_visibility(&shop, visible);
        if visible && !shop.view_reported.get() {
            let weak = Rc::downgrade(&shop);
            crate::spawn(async move {
                crate::http::sleep(1_000).await;
                // Half visible for the whole second (SPEC section 6), not at its two ends.
                if let Some(shop) = weak.upgrade()
                    && shop.visibility_changes.get() == change
                    && !shop.view_reported.replace(true)
                {
                    shop.report("view", &shop.event_detail());
                }
            });
        }
    });
    let options = web_sys::IntersectionObserverInit::new();
    options.set_threshold(&wasm_bindgen::JsValue::from(0.5));
    if let Ok(observer) =
        IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &options)
    {
        observer.observe(&card);
        shop.listeners.borrow_mut().observer = Some((observer, callback));
    }
}

/// Routes a click to what its button does. Disabled buttons get no clicks.
fn on_click(shop: &Rc<Shop>, event: &Event) {
    let Some(button) = event
        .target()
        .and_then(|target| target.dyn_into::<Element>().ok())
        .and_then(|element| element.closest("button").ok().flatten())
    else {
        return;
    };
    let attribute = |name: &str| button.get_attribute(name);
    if attribute("part").as_deref() == Some("share") {
        crate::share::share(shop);
    } else if attribute("part").as_deref() == Some("checkout") {
        let offer = button
            .closest("[data-offer-id]")
            .ok()
            .flatten()
            .and_then(|offer| offer.get_attribute("data-offer-id"));
        if let Some(offer_id) = offer {
            checkout::buy_from_card(shop, &offer_id);
        }
    } else if let Some(action) = attribute("data-action") {
        checkout::act_on_panel(shop, action == "primary");
    } else if let Some(handle) = attribute("data-creator") {
        demo::switch_to(shop, &handle);
    } else if button.class_list().contains("reviews-toggle") {
        toggle_reviews(shop, &button);
    } else if button.class_list().contains("play") {
        demo::toggle_play(shop);
    } else if button.class_list().contains("sound") {
        demo::toggle_sound(shop);
    }
}

/// Shows every review in place of the offers, or the offers again.
fn toggle_reviews(shop: &Shop, button: &Element) {
    let (Some(offers), Some(details)) = (shop.find(".offers"), shop.find(".details")) else {
        return;
    };
    let open = details.has_attribute("hidden");
    let _ = details.toggle_attribute_with_force("hidden", !open);
    let _ = offers.toggle_attribute_with_force("hidden", open);
    let _ = button.set_attribute("aria-expanded", if open { "true" } else { "false" });
    if open && let Ok(details) = details.dyn_into::<web_sys::HtmlElement>() {
        let _ = details.focus();
    }
}

/// Rotates the testimonial line every 6 s while it is not hovered or focused, and never
/// when the page asks for reduced motion.
pub fn rotate_testimonials(shop: &Rc<Shop>) {
    let count = shop.listing.trust.testimonials.len();
    let Some(quote) = shop.find(".quote") else {
        return;
    };
    if count < 2 || demo::reduced_motion() {
        return;
    }
    {
        let mut listeners = shop.listeners.borrow_mut();
        for kind in ["mouseenter", "focusin"] {
            listeners.add(shop, &quote, kind, |shop, _| shop.quote_paused.set(true));
        }
        for kind in ["mouseleave", "focusout"] {
            listeners.add(shop, &quote, kind, |shop, _| shop.quote_paused.set(false));
        }
    }
    let weak = Rc::downgrade(shop);
    crate::spawn(async move {
        let mut shown = 0;
        loop {
            crate::http::sleep(6_000).await;
            let Some(shop) = weak.upgrade() else { return };
            if shop.quote_paused.get() {
                continue;
            }
            shown = (shown + 1) % count;
            if let Some(quote) = shop.find(".quote") {
                let testimonial = &shop.listing.trust.testimonials[shown];
                quote
                    .set_text_content(Some(&crate::view::testimonial_text(shop.lang, testimonial)));
            }
        }
    });
}
