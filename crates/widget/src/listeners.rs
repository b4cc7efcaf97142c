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
use crate::shop::Shop;
use crate::{demo, handles};
use mighty_core::card::{SightingEvent, SightingStep};

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
    if let Some((offer, tier)) = handles::chosen_tier(event) {
        checkout::offer_selected(shop, offer, tier);
    }
}

/// One observer per card: at least half visible, the demo plays and, after one second,
/// `mighty:view` is dispatched (once per mount); less, the demo pauses.
fn watch_visibility(shop: &Rc<Shop>) {
    let Some(card) = handles::card(&shop.root) else {
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
        let step = shop.sight(SightingEvent::Visible(visible));
        demo::on_visibility(&shop, visible);
        if let SightingStep::WaitASecond(change) = step {
            let weak = Rc::downgrade(&shop);
            crate::spawn(async move {
                crate::http::sleep(1_000).await;
                // Half visible for the whole second (SPEC section 6), not at its two ends.
                if let Some(shop) = weak.upgrade()
                    && shop.sight(SightingEvent::SecondAfter(change)) == SightingStep::ReportView
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
    use handles::Clicked;
    match handles::clicked(event) {
        Some(Clicked::Share) => crate::share::share(shop),
        Some(Clicked::Checkout { offer_id }) => checkout::buy_from_card(shop, &offer_id),
        Some(Clicked::Panel { primary }) => checkout::act_on_panel(shop, primary),
        Some(Clicked::Creator { handle }) => demo::switch_to(shop, &handle),
        Some(Clicked::ReviewsToggle(button)) => toggle_reviews(shop, &button),
        Some(Clicked::Play) => demo::toggle_play(shop),
        Some(Clicked::Sound) => demo::toggle_sound(shop),
        None => {}
    }
}

/// Shows every review in place of the offers, or the offers again.
fn toggle_reviews(shop: &Shop, button: &Element) {
    let Some((offers, details)) = handles::offers_and_reviews(&shop.root) else {
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
    let Some(quote) = handles::quote(&shop.root) else {
        return;
    };
    if count < 2 || demo::reduced_motion() {
        return;
    }
    {
        let mut listeners = shop.listeners.borrow_mut();
        for kind in ["mouseenter", "focusin"] {
            listeners.add(shop, &quote, kind, |shop, _| shop.hold_quote(true));
        }
        for kind in ["mouseleave", "focusout"] {
            listeners.add(shop, &quote, kind, |shop, _| shop.hold_quote(false));
        }
    }
    let weak = Rc::downgrade(shop);
    crate::spawn(async move {
        let mut shown = 0;
        loop {
            crate::http::sleep(6_000).await;
            let Some(shop) = weak.upgrade() else { return };
            if shop.quote_held() {
                continue;
            }
            shown = (shown + 1) % count;
            if let Some(quote) = shop.regions().and_then(|regions| regions.quote.as_ref()) {
                let testimonial = &shop.listing.trust.testimonials[shown];
                quote.draw(&crate::view::testimonial_text(shop.lang, testimonial));
            }
        }
    });
}
