//! The card's regions that change after it is drawn: the checkout panel, each offer's checkout
//! button, the drop line, the testimonial, the demo and its captions. Each is a leptos view
//! made from one value of the card's state and drawn into its slot by leptos's renderer
//! (tachys). A later value rebuilds the view in place: tachys compares it with what it drew
//! and changes only the text and attributes that differ, so the elements stay (the focus, a
//! screen reader's live region, the playing video).
//!
//! Why rebuilt views and not signals: measured, leptos's reactive system and its views cost
//! far more wasm than the size budget has (SPEC section 8), and a rebuilt view needs none of
//! it. Each region costs only its own view's build and rebuild code.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::tachys::view::{Mountable, Render};
use mighty_core::card::Demo;
use web_sys::Element;

use crate::handles;
use crate::shop::{Panel, Shop};

/// A region drawn from values of type `S`.
pub struct Region<S> {
    draw: Box<dyn Fn(&S)>,
}

impl<S> Region<S> {
    /// A region in `slot` (an element leptos drew empty for it) whose view `view` makes from
    /// a value. Nothing is drawn until the first [`Region::draw`].
    pub fn new<V>(slot: Element, view: impl Fn(&S) -> V + 'static) -> Region<S>
    where
        V: Render,
        V::State: 'static,
    {
        let drawn: RefCell<Option<V::State>> = RefCell::new(None);
        Region {
            draw: Box::new(move |value| {
                let next = view(value);
                let mut drawn = drawn.borrow_mut();
                match drawn.as_mut() {
                    Some(state) => next.rebuild(state),
                    None => {
                        let mut state = next.build();
                        state.mount(&slot, None);
                        *drawn = Some(state);
                    }
                }
            }),
        }
    }

    /// Draws `value`: the first time in the slot, then as a rebuild of what is there.
    pub fn draw(&self, value: &S) {
        (self.draw)(value)
    }
}

/// A view drawn once (the card, its loading skeleton, a notice): taken out of the page when
/// dropped.
struct Drawn<S: Mountable>(S);

impl<S: Mountable> Drop for Drawn<S> {
    fn drop(&mut self) {
        self.0.unmount();
    }
}

/// Draws `view` into `parent` with leptos's renderer; dropping the returned box unmounts it.
/// Not `leptos::mount::mount_to`: that also makes a reactive owner, which nothing here
/// needs (no signals), and its code costs wasm.
pub fn draw_into<V>(parent: &Element, view: V) -> Box<dyn std::any::Any>
where
    V: Render,
    V::State: 'static,
{
    let mut state = view.build();
    state.mount(parent, None);
    Box::new(Drawn(state))
}

/// Builds `view`, lets `before` work on it while it is still out of the page (in a scratch
/// element), then puts it into `parent`; dropping the returned box unmounts it.
pub fn draw_then_mount<V>(
    parent: &Element,
    view: V,
    before: impl FnOnce(&Element),
) -> Box<dyn std::any::Any>
where
    V: Render,
    V::State: 'static,
{
    let mut state = view.build();
    if let Ok(scratch) = crate::dom::document().create_element("div") {
        state.mount(&scratch, None);
        before(&scratch);
    }
    // Mounting again moves the built nodes into the page.
    state.mount(parent, None);
    Box::new(Drawn(state))
}

/// A region showing one line of text.
fn text(slot: Element) -> Region<String> {
    Region::new(slot, String::clone)
}

/// Every region of one card, found right after the card is drawn.
pub struct Regions {
    pub panel: Option<Region<Panel>>,
    /// Each offer's checkout button (offer id, the region), drawn from whether it can be
    /// bought now and its words.
    pub checkout_buttons: Vec<(String, Region<(bool, String)>)>,
    pub drop_line: Option<Region<String>>,
    pub quote: Option<Region<String>>,
    pub demo: Option<Region<Demo>>,
    /// The creators' chips (creator index, the region), drawn pressed for the one shown.
    pub chips: Vec<(usize, Region<bool>)>,
    pub captions: Option<Region<String>>,
}

impl Regions {
    /// Finds the slots in the card leptos just built (`card`, not yet in the page) and
    /// draws each region's first value there: the card goes into the page whole, as one
    /// insertion, and its first frame already shows every region.
    pub fn draw_first(shop: &Rc<Shop>, card: &Element) -> Regions {
        let root = card;
        let listing = &shop.listing;
        let checkout_buttons = listing
            .offers
            .iter()
            .filter_map(|offer| {
                let slot = handles::offer_item(root, &offer.id)?;
                let region = crate::view::checkout_button(slot, offer.name.clone());
                region.draw(&crate::checkout::button_state(
                    shop,
                    offer,
                    shop.server_now(),
                ));
                Some((offer.id.clone(), region))
            })
            .collect();
        let panel = handles::panel(root).map(|slot| {
            let region = crate::view::panel(slot);
            region.draw(&Panel::default());
            region
        });
        let drop_line = listing.drop.as_ref().and_then(|drop| {
            let region = text(handles::drop_line(root)?);
            region.draw(&crate::view::drop_text(
                shop.lang,
                mighty_core::drops::drop_phase(drop, shop.server_now()),
            ));
            Some(region)
        });
        let quote = listing.trust.testimonials.first().and_then(|first| {
            let region = text(handles::quote(root)?);
            region.draw(&crate::view::testimonial_text(shop.lang, first));
            Some(region)
        });
        let demo = handles::hero(root).map(|slot| crate::demo::region(shop, slot));
        if let Some(demo) = &demo {
            demo.draw(&shop.demo());
        }
        // Inside the demo: there once the demo is drawn.
        let chips = handles::creators(root)
            .map(|group| crate::demo::chip_regions(shop, group))
            .unwrap_or_default();
        let captions = handles::captions(root).map(text);
        let regions = Regions {
            panel,
            checkout_buttons,
            drop_line,
            quote,
            demo,
            chips,
            captions,
        };
        regions.draw_chips(&shop.demo());
        regions
    }

    /// Draws the demo and its chips from `demo`.
    pub fn draw_demo(&self, demo: &Demo) {
        if let Some(region) = &self.demo {
            region.draw(demo);
        }
        self.draw_chips(demo);
    }

    fn draw_chips(&self, demo: &Demo) {
        for (index, chip) in &self.chips {
            chip.draw(&(*index == demo.creator));
        }
    }
}
