//! The card's DOM handles: the one module that knows the markup leptos drew (its classes,
//! `part`s and `data-*` attributes) and finds elements in it again. Everything else asks here
//! by name (`checkout_button(root, offer)`, `DemoPart::Captions`), so renaming a class in
//! `view.rs` or `demo.rs` means changing this file too, and nowhere else spells a selector.

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlMediaElement, ShadowRoot};

fn first(root: &ShadowRoot, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

fn all(root: &ShadowRoot, selector: &str) -> Vec<Element> {
    let Ok(found) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|index| found.item(index)?.dyn_into::<Element>().ok())
        .collect()
}

/// The card (`part="card"`), whose visibility the card watches.
pub fn card(root: &ShadowRoot) -> Option<Element> {
    first(root, ".card")
}

/// The checkout panel: its box, its live region (`part="status"`) and its row of buttons.
pub fn panel(root: &ShadowRoot) -> Option<(Element, Element, Element)> {
    Some((
        first(root, ".panel")?,
        first(root, "[part=status]")?,
        first(root, ".actions")?,
    ))
}

/// Which slot of the panel a button fills (`data-action`).
pub const PRIMARY: &str = "primary";
pub const SECONDARY: &str = "secondary";

/// The first button of the panel's row (the primary one, which takes the focus).
pub fn first_button(actions: &Element) -> Option<web_sys::HtmlElement> {
    actions
        .query_selector("button")
        .ok()
        .flatten()
        .map(JsCast::unchecked_into)
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
pub fn drop_line(root: &ShadowRoot) -> Option<Element> {
    first(root, "[part=drop]")
}

/// The list of offers and the reviews shown in its place.
pub fn offers_and_reviews(root: &ShadowRoot) -> Option<(Element, Element)> {
    Some((first(root, ".offers")?, first(root, ".details")?))
}

/// The rotating testimonial line.
pub fn quote(root: &ShadowRoot) -> Option<Element> {
    first(root, ".quote")
}

/// The demo's figure.
pub fn demo(root: &ShadowRoot) -> Option<Element> {
    first(root, ".demo")
}

/// The demo's video.
pub fn video(root: &ShadowRoot) -> Option<HtmlMediaElement> {
    first(root, ".demo .video").map(JsCast::unchecked_into)
}

/// The parts of the demo the player writes after it is drawn.
#[derive(Clone, Copy)]
pub enum DemoPart {
    PlayButton,
    SoundButton,
    Progress,
    ProgressFill,
    Captions,
    Track,
    Failed,
    Avatar,
    CreatorName,
}

pub fn demo_part(root: &ShadowRoot, part: DemoPart) -> Option<Element> {
    let selector = match part {
        DemoPart::PlayButton => ".demo .play",
        DemoPart::SoundButton => ".demo .sound",
        DemoPart::Progress => ".demo .progress",
        DemoPart::ProgressFill => ".demo .progress-fill",
        DemoPart::Captions => ".demo .captions",
        DemoPart::Track => ".demo track",
        DemoPart::Failed => ".demo .failed",
        DemoPart::Avatar => ".demo .avatar",
        DemoPart::CreatorName => ".demo .by-name",
    };
    first(root, selector)
}

/// The creator chips, with the handle each one shows.
pub fn creator_chips(root: &ShadowRoot) -> Vec<(Element, String)> {
    all(root, ".creators .chip")
        .into_iter()
        .map(|chip| {
            let handle = chip.get_attribute("data-creator").unwrap_or_default();
            (chip, handle)
        })
        .collect()
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
