//! The card's DOM handles: the one module that knows the markup leptos drew (its classes,
//! `part`s and `data-*` attributes) and finds elements in it again: the regions' slots, the
//! video the player drives, the checked radios, what a click was on. Everything else asks here
//! by name (`offer_item(root, offer)`, `captions(root)`), so renaming a class in `view.rs` or
//! `demo.rs` means changing this file too, and nowhere else spells a selector.

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlMediaElement, ShadowRoot};

/// Where handles are looked for: the card's shadow root, or the card's own elements while
/// its regions are first drawn, before the card is in the page.
pub trait Scope {
    fn query(&self, selector: &str) -> Option<Element>;
}

impl Scope for ShadowRoot {
    fn query(&self, selector: &str) -> Option<Element> {
        self.query_selector(selector).ok().flatten()
    }
}

impl Scope for Element {
    fn query(&self, selector: &str) -> Option<Element> {
        self.query_selector(selector).ok().flatten()
    }
}

fn first(root: &impl Scope, selector: &str) -> Option<Element> {
    root.query(selector)
}

/// The card (`part="card"`), whose visibility the card watches.
pub fn card(root: &ShadowRoot) -> Option<Element> {
    first(root, ".card")
}

/// The checkout panel's box (its region's slot).
pub fn panel(root: &impl Scope) -> Option<Element> {
    first(root, ".panel")
}

/// Which slot of the panel a button fills (`data-action`).
pub const PRIMARY: &str = "primary";
pub const SECONDARY: &str = "secondary";

/// The first button of the panel (the primary one, which takes the focus).
pub fn first_panel_button(root: &ShadowRoot) -> Option<web_sys::HtmlElement> {
    first(root, ".panel button").map(JsCast::unchecked_into)
}

/// An offer's item (`part="offer"`): its checkout button's slot, at its end.
pub fn offer_item(root: &impl Scope, offer_id: &str) -> Option<Element> {
    first(root, &format!("[data-offer-id=\"{offer_id}\"]"))
}

/// The checkout button (`part="checkout"`) of an offer.
pub fn checkout_button(root: &ShadowRoot, offer_id: &str) -> Option<Element> {
    first(
        root,
        &format!("[data-offer-id=\"{offer_id}\"] [part=checkout]"),
    )
}

/// The tier checked among an offer's radios, if it has tiers.
pub fn checked_tier(root: &ShadowRoot, offer_id: &str) -> Option<String> {
    checked(root, offer_id, "tier")
}

/// The fulfilment checked in an offer's choice (`ship` or `pickup`), if it offers one.
pub fn checked_fulfilment(root: &ShadowRoot, offer_id: &str) -> Option<String> {
    checked(root, offer_id, "fulfil")
}

/// The value of the radio checked in an offer's group of class `group`.
fn checked(root: &ShadowRoot, offer_id: &str, group: &str) -> Option<String> {
    first(
        root,
        &format!("[data-offer-id=\"{offer_id}\"] .{group} input:checked"),
    )?
    .get_attribute("value")
}

/// The drop's countdown line (`part="drop"`).
pub fn drop_line(root: &impl Scope) -> Option<Element> {
    first(root, "[part=drop]")
}

/// The list of offers and the reviews shown in its place.
pub fn offers_and_reviews(root: &ShadowRoot) -> Option<(Element, Element)> {
    Some((first(root, ".offers")?, first(root, ".details")?))
}

/// The rotating testimonial line.
pub fn quote(root: &impl Scope) -> Option<Element> {
    first(root, ".quote")
}

/// The demo's box (`.hero`: its region's slot).
pub fn hero(root: &impl Scope) -> Option<Element> {
    first(root, ".hero")
}

/// The demo's video.
pub fn video(root: &ShadowRoot) -> Option<HtmlMediaElement> {
    first(root, ".demo .video").map(JsCast::unchecked_into)
}

/// The demo's group of creator chips (their regions' slot).
pub fn creators(root: &impl Scope) -> Option<Element> {
    first(root, ".demo + .creators")
}

/// The demo's captions line (its region's slot, inside the demo's).
pub fn captions(root: &impl Scope) -> Option<Element> {
    first(root, ".demo .captions")
}

/// What a click in the card was on.
pub enum Clicked {
    Share,
    Checkout { offer_id: String },
    Panel { primary: bool },
    Creator { handle: String },
    ReviewsToggle(Element),
    Play,
    Sound,
}

fn offer_of(element: &Element) -> Option<String> {
    element
        .closest("[data-offer-id]")
        .ok()
        .flatten()?
        .get_attribute("data-offer-id")
}

/// The button a click landed on, read as what it does (disabled buttons get no clicks).
pub fn clicked(event: &Event) -> Option<Clicked> {
    let button = event
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest("button")
        .ok()
        .flatten()?;
    let attribute = |name: &str| button.get_attribute(name);
    let class = |name: &str| button.class_list().contains(name);
    Some(match attribute("part").as_deref() {
        Some("share") => Clicked::Share,
        Some("checkout") => Clicked::Checkout {
            offer_id: offer_of(&button)?,
        },
        _ => {
            if let Some(slot) = attribute("data-action") {
                Clicked::Panel {
                    primary: slot == PRIMARY,
                }
            } else if let Some(handle) = attribute("data-creator") {
                Clicked::Creator { handle }
            } else if class("reviews-toggle") {
                Clicked::ReviewsToggle(button)
            } else if class("play") {
                Clicked::Play
            } else if class("sound") {
                Clicked::Sound
            } else {
                return None;
            }
        }
    })
}

/// A tier radio was chosen: its offer and its tier (not the shipping or pick-up choice).
pub fn chosen_tier(event: &Event) -> Option<(Option<String>, Option<String>)> {
    let input = event.target()?.dyn_into::<Element>().ok()?;
    input.closest(".tier").ok()??;
    Some((offer_of(&input), input.get_attribute("value")))
}
