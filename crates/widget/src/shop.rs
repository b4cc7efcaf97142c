//! The card's state after its first render, one value per card ([`Shop`]): the listing and
//! how it is sold here (endpoint, mode, formatter, language, the server's clock), where the
//! checkout stands (its phase, the last intent, a session waiting for the shopper's word), the
//! membership it bought, the demo's and the measurement's state, and the regions that draw
//! what changes from it (`region.rs`: the checkout [`Panel`], the checkout buttons, the demo).
//! What each state means is decided elsewhere: core, `checkout`, `demo`, `listeners`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use mighty_core::card::{
    CardState, CheckoutEvent, Demo, DemoEvent, Moment, PanelButton, SightingEvent, SightingStep,
};
use mighty_core::drops::ServerClock;
use mighty_core::host::CheckoutMode;
use mighty_core::listing::OfferKind;
use mighty_core::protocol::CheckoutSessionCreated;
use mighty_core::{Listing, Money, Timestamp};
use wasm_bindgen::JsCast;
use web_sys::{Element, ShadowRoot, Window};

use crate::checkout::new_idempotency_key;
use crate::events::{ErrorDetail, EventDetail, dispatch};
use crate::format::Formatter;
use crate::handles;
use crate::i18n::t;
use crate::upgrade::Membership;

/// What the card says about the checkout, with at most two buttons and a link.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Panel {
    pub tone: Tone,
    pub text: String,
    pub primary: Option<(String, Action)>,
    pub secondary: Option<(String, Action)>,
    /// Label and URL, e.g. the shopper's manage page.
    pub link: Option<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Info,
    Success,
    Error,
}

impl From<mighty_core::card::Tone> for Tone {
    fn from(tone: mighty_core::card::Tone) -> Tone {
        match tone {
            mighty_core::card::Tone::Info => Tone::Info,
            mighty_core::card::Tone::Success => Tone::Success,
            mighty_core::card::Tone::Error => Tone::Error,
        }
    }
}

/// What a [`Shop::tell`] panel needs beside its moment and text: the error code when it is
/// not the card's own (the partner's refusal, why the partner was unreachable), the label of
/// Continue (it names the new price), what comes next, and a link (the manage page).
#[derive(Default)]
pub(crate) struct Told {
    pub code: Option<String>,
    pub continue_label: Option<String>,
    pub next: Option<(String, Action)>,
    pub link: Option<(String, String)>,
}

impl Tone {
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Info => "info",
            Tone::Success => "success",
            Tone::Error => "error",
        }
    }
}

/// What a panel button does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Try the same intent again, with the same Idempotency-Key (nothing is charged twice).
    Retry,
    /// Start a new intent (new key) for an offer, e.g. after a decline or as the upsell.
    Buy {
        offer_id: String,
        tier_id: Option<String>,
    },
    /// Go on to the partner although the price changed.
    Continue,
    /// Show what moving the membership to `tier_id` costs now (prorated), before doing it.
    PreviewUpgrade { tier_id: String },
    /// Move the membership to `tier_id` (the same subscription, never a second one).
    Upgrade { tier_id: String },
    /// Drop the pending checkout.
    Dismiss,
}

/// One shopper intent: what they chose, the price they were shown, its key, and the
/// session once it has ended (for the events' `session_id`).
#[derive(Clone, Debug)]
pub(crate) struct Intent {
    pub(crate) offer_id: String,
    pub(crate) tier_id: Option<String>,
    pub(crate) shown: Money,
    pub(crate) key: String,
    pub(crate) session_id: Option<String>,
    /// Shipping or pick-up, when the offer lets the shopper choose (read at the press).
    pub(crate) fulfilment: Option<mighty_core::protocol::Fulfilment>,
}

/// A created session waiting for the shopper's word after a price change.
pub(crate) struct PendingSession {
    pub(crate) intent: Intent,
    pub(crate) created: CheckoutSessionCreated,
    pub(crate) popup: Option<Window>,
}

/// Everything one widget's checkout needs; shared by its buttons and its async tasks.
///
/// What changes after the card is drawn (the panel, a sold-out offer, the drop line, the demo)
/// is drawn by the card's regions from this state (`region.rs`), not through leptos signals:
/// measured, the reactive system and its views cost 25 KB gzip of wasm, which the size
/// budget cannot carry.
pub struct Shop {
    pub host: Element,
    /// The widget's shadow root: the card's elements are looked up in it.
    pub root: ShadowRoot,
    pub listing: Listing,
    /// The absolute partner endpoint, if the listing or the host gives one.
    pub endpoint: Option<String>,
    pub mode: CheckoutMode,
    pub formatter: Formatter,
    /// The catalog language of the widget's locale (`en`, `fr`, `es`, `de`).
    pub lang: &'static str,
    /// Countdowns and drop phases follow the server's clock (`server_time`).
    pub(crate) clock: ServerClock,
    /// The card's one state (core's `card::CardState`): where the checkout stands (changed only
    /// by [`Shop::step`] and [`Shop::settle`]; busy, further clicks are ignored), the demo
    /// ([`Shop::demo_step`]), the view measurement ([`Shop::sight`]), the testimonial's hold.
    state: Cell<CardState>,
    /// The last intent, for the Retry button.
    pub(crate) last_intent: RefCell<Option<Intent>>,
    pub(crate) pending: RefCell<Option<PendingSession>>,
    /// The offers the partner found sold out: their checkout buttons stay so, whatever the
    /// drop's clock says next.
    pub(crate) sold_out: RefCell<Vec<String>>,
    /// The regions that draw what changes, once the card is drawn.
    pub(crate) regions: std::cell::OnceCell<crate::region::Regions>,
    /// What the panel's two buttons do.
    pub(crate) panel_actions: RefCell<(Option<Action>, Option<Action>)>,
    /// The shopper's membership after a paid retainer: the upgrade path's subject.
    pub(crate) membership: RefCell<Option<Membership>>,
    /// The card's DOM listeners (clicks, the demo), removed with the shop.
    pub listeners: RefCell<crate::listeners::Listeners>,
    /// The creator link (or UTM visit) that counts for this listing, if any.
    pub touch: RefCell<Option<mighty_core::attribution::Touch>>,
    /// The host's `data-mighty-events` endpoint (absolute), where events are beaconed.
    pub(crate) beacons_to: RefCell<Option<String>>,
    /// `data-mighty-consent="required"`: no beacons until `Mighty.consent(true)`.
    pub(crate) consent_required: Cell<bool>,
    /// The offer variant shown of each bundle that has some (offer id, variant id), chosen
    /// before the card is drawn (`attribution::offer_variants`).
    pub(crate) offer_variants: RefCell<Vec<(String, String)>>,
    /// The pop-up's calendar file, on the server that served the listing (or the checkout's).
    pub(crate) calendar_url: RefCell<Option<String>>,
}

impl Shop {
    pub fn new(
        host: Element,
        root: ShadowRoot,
        listing: Listing,
        endpoint: Option<String>,
        mode: CheckoutMode,
        formatter: Formatter,
    ) -> Rc<Shop> {
        let listing_server_time = listing.server_time;
        let lang = mighty_core::i18n::catalog_language(formatter.locale());
        Rc::new(Shop {
            host,
            root,
            listing,
            endpoint,
            mode,
            formatter,
            clock: ServerClock::new(listing_server_time, js_sys::Date::now() as i64),
            lang,
            state: Cell::new(CardState::default()),
            last_intent: RefCell::new(None),
            pending: RefCell::new(None),
            regions: std::cell::OnceCell::new(),
            sold_out: RefCell::new(Vec::new()),
            panel_actions: RefCell::new((None, None)),
            membership: RefCell::new(None),
            listeners: RefCell::new(crate::listeners::Listeners::default()),
            touch: RefCell::new(None),
            beacons_to: RefCell::new(None),
            consent_required: Cell::new(false),
            offer_variants: RefCell::new(Vec::new()),
            calendar_url: RefCell::new(None),
        })
    }

    /// Takes who brought the shopper and which creator they see first (see `attribution`).
    pub fn set_attribution(
        &self,
        touch: Option<mighty_core::attribution::Touch>,
        variant: Option<String>,
    ) {
        if let Some(index) = variant.and_then(|handle| {
            self.listing
                .creators
                .iter()
                .position(|creator| creator.handle == handle)
        }) {
            self.demo_step(DemoEvent::Switch(index));
        }
        *self.touch.borrow_mut() = touch;
    }

    /// Where the card's events are beaconed, and whether that waits for consent.
    pub fn measure(&self, beacons_to: Option<String>, consent_required: bool) {
        *self.beacons_to.borrow_mut() = beacons_to;
        self.consent_required.set(consent_required);
    }

    /// Dispatches `mighty:<name>` on the host and beacons it (SPEC sections 2 and 6): every
    /// event the card reports goes both ways.
    pub fn report(&self, name: &str, detail: &EventDetail) {
        dispatch(&self.host, name, detail);
        let beacons_to = self.beacons_to.borrow();
        let consent_required = self.consent_required.get();
        let Some(endpoint) = beacons_to.as_deref() else {
            return;
        };
        if consent_required && !crate::consent_given() {
            return;
        }
        crate::beacons::record(
            endpoint,
            &mighty_core::protocol::MeasurementEvent {
                id: new_idempotency_key(),
                event_type: name.to_owned(),
                listing_id: self.listing.id.clone(),
                creator: detail.creator.clone(),
                variant: detail.variant.clone(),
                // The event's bundle's variant; for the card's own events (a view), the
                // variant its bundle shows.
                offer_variant: match detail.offer_id.as_deref() {
                    Some(offer_id) => self.offer_variant(offer_id),
                    None => self
                        .offer_variants
                        .borrow()
                        .first()
                        .map(|(_, id)| id.clone()),
                },
                visitor_id: crate::attribution::visitor(consent_required),
                at: crate::beacons::now_rfc3339(),
            },
        );
    }

    /// The offer variant shown of `offer_id`'s bundle, if it has variants.
    pub fn offer_variant(&self, offer_id: &str) -> Option<String> {
        self.offer_variants
            .borrow()
            .iter()
            .find(|(offer, _)| offer == offer_id)
            .map(|(_, variant)| variant.clone())
    }

    /// The handle of the creator whose demo is shown, if the listing has creators.
    pub fn variant(&self) -> Option<String> {
        let creator = self.listing.creators.get(self.demo().creator)?;
        Some(creator.handle.clone())
    }

    /// Moves the checkout to its phase after `event` (core decides); `false`, and nothing
    /// changes, when the event does not apply now (a press while a checkout is under way).
    pub(crate) fn step(&self, event: CheckoutEvent) -> bool {
        let mut state = self.state.get();
        match state.checkout.after(event) {
            Some(next) => {
                state.checkout = next;
                self.state.set(state);
                true
            }
            None => false,
        }
    }

    /// The demo as it stands.
    pub fn demo(&self) -> Demo {
        self.state.get().demo
    }

    /// Moves the demo by `event` (core decides) and draws it if it changed; whether
    /// `demo-play` is to be reported now.
    pub fn demo_step(&self, event: DemoEvent) -> bool {
        let mut state = self.state.get();
        let (demo, report_play) = state.demo.after(event);
        let changed = demo != state.demo;
        state.demo = demo;
        self.state.set(state);
        if changed && let Some(regions) = self.regions() {
            regions.draw_demo(&demo);
        }
        report_play
    }

    /// The card's regions, once it is drawn.
    pub(crate) fn regions(&self) -> Option<&crate::region::Regions> {
        self.regions.get()
    }

    /// Moves the view measurement by `event` (core decides); what to do next.
    pub fn sight(&self, event: SightingEvent) -> SightingStep {
        let mut state = self.state.get();
        let (sighting, step) = state.sighting.after(event);
        state.sighting = sighting;
        self.state.set(state);
        step
    }

    /// The testimonial line is hovered or focused (`true`), or no longer.
    pub fn hold_quote(&self, held: bool) {
        let mut state = self.state.get();
        state.quote_held = held;
        self.state.set(state);
    }

    /// Whether the testimonial line is held (it does not rotate).
    pub fn quote_held(&self) -> bool {
        self.state.get().quote_held
    }

    /// The checkout ended, whatever phase it was in.
    pub(crate) fn settle(&self) {
        self.step(CheckoutEvent::Ended);
    }

    /// Whether a checkout (or a tier change) is under way.
    pub(crate) fn busy(&self) -> bool {
        self.state.get().checkout.is_busy()
    }

    /// The server's time now.
    pub fn server_now(&self) -> Timestamp {
        self.clock.now(js_sys::Date::now() as i64)
    }

    /// Shows `panel` (or clears it): its text in the live region, its buttons in the row;
    /// the primary button takes the focus when `focus` is set.
    pub(crate) fn show_panel(self: &Rc<Shop>, panel: Option<Panel>, focus: bool) {
        let Some(region) = self.regions().and_then(|regions| regions.panel.as_ref()) else {
            return;
        };
        let panel = panel.unwrap_or_default();
        region.draw(&panel);
        *self.panel_actions.borrow_mut() = (
            panel.primary.map(|(_, action)| action),
            panel.secondary.map(|(_, action)| action),
        );
        let first = handles::first_panel_button(&self.root);
        if focus && let Some(button) = first {
            let _ = button.focus();
        } else if panel.tone != Tone::Info {
            self.restore_focus();
        }
    }

    /// After a checkout ends with nothing to press, the focus goes back to the offer's
    /// checkout button, unless the shopper has moved on to something else on the page.
    pub(crate) fn restore_focus(&self) {
        let document = crate::dom::document();
        let page_focus = document.active_element();
        let lost = page_focus.is_none_or(|active| {
            active == self.host || document.body().is_some_and(|body| *body == active)
        });
        let in_card = self.root.active_element().is_some();
        let Some(intent) = self.last_intent.borrow().clone() else {
            return;
        };
        if lost
            && !in_card
            && let Some(button) = handles::checkout_button(&self.root, &intent.offer_id)
        {
            let _ = button.unchecked_into::<web_sys::HtmlElement>().focus();
        }
    }

    pub(crate) fn show(self: &Rc<Shop>, panel: Panel) {
        let focus = panel.primary.is_some();
        self.show_panel(Some(panel), focus);
    }

    /// The partner found an offer sold out: its checkout button says so and is disabled.
    pub(crate) fn mark_sold_out(&self, offer_id: &str) {
        self.sold_out.borrow_mut().push(offer_id.to_string());
        if let Some(offer) = self
            .listing
            .offers
            .iter()
            .find(|offer| offer.id == offer_id)
        {
            self.show_checkout_button(offer);
        }
    }

    /// Draws an offer's checkout button as the card's state has it now
    /// (`checkout::button_state`: the drop's phase, a sold-out found at checkout).
    pub(crate) fn show_checkout_button(&self, offer: &mighty_core::Offer) {
        let Some(regions) = self.regions() else {
            return;
        };
        if let Some((_, region)) = regions
            .checkout_buttons
            .iter()
            .find(|(offer_id, _)| *offer_id == offer.id)
        {
            region.draw(&crate::checkout::button_state(
                self,
                offer,
                self.server_now(),
            ));
        }
    }

    pub(crate) fn working(self: &Rc<Shop>, text: &str) {
        self.show(Panel {
            text: text.to_string(),
            ..Panel::default()
        });
    }

    /// The detail every event of this card carries: the listing and the shown creator.
    pub fn event_detail(&self) -> EventDetail {
        self.detail(None)
    }

    pub(crate) fn detail(&self, intent: Option<&Intent>) -> EventDetail {
        EventDetail {
            listing_id: Some(self.listing.id.clone()),
            offer_id: intent.map(|intent| intent.offer_id.clone()),
            tier_id: intent.and_then(|intent| intent.tier_id.clone()),
            session_id: intent.and_then(|intent| intent.session_id.clone()),
            creator: self
                .touch
                .borrow()
                .as_ref()
                .and_then(|touch| touch.creator.clone()),
            variant: self.variant(),
            ..EventDetail::default()
        }
    }

    /// The price shown for an offer (and tier), which the partner's amount is checked against.
    pub(crate) fn shown_price(&self, offer_id: &str, tier_id: Option<&str>) -> Option<Money> {
        let offer = self
            .listing
            .offers
            .iter()
            .find(|offer| offer.id == offer_id)?;
        match &offer.kind {
            OfferKind::Bundle(bundle) => bundle.price_for(self.offer_variant(offer_id).as_deref()),
            OfferKind::Retainer(retainer) => retainer
                .tiers
                .iter()
                .find(|tier| Some(tier.id.as_str()) == tier_id)
                .map(|tier| tier.price),
        }
    }

    /// Tells the shopper where the checkout stands at `moment`: core's `card::panel_for`
    /// decides the tone, the buttons, whether the checkout ends and the error it reports
    /// (`mighty:checkout-error`); `text` is what the panel says.
    pub(crate) fn tell(
        self: &Rc<Shop>,
        moment: Moment,
        intent: Option<&Intent>,
        text: String,
        told: Told,
    ) {
        let plan = mighty_core::card::panel_for(moment);
        if plan.ends {
            self.settle();
        }
        if let Some(code) = told.code.as_deref().or(plan.error_code) {
            self.report(
                "checkout-error",
                &EventDetail {
                    error: Some(ErrorDetail {
                        code: code.to_string(),
                        message: text.clone(),
                    }),
                    ..self.detail(intent)
                },
            );
        }
        let mut next = told.next;
        let mut continue_label = told.continue_label;
        let mut button = |kind: Option<PanelButton>| -> Option<(String, Action)> {
            Some(match kind? {
                PanelButton::SameKey if moment == Moment::PopupClosed => {
                    (t(self.lang, "Reopen checkout"), Action::Retry)
                }
                PanelButton::SameKey => (t(self.lang, "Try again"), Action::Retry),
                PanelButton::NewKey => {
                    let intent = intent?;
                    (
                        t(self.lang, "Try again"),
                        Action::Buy {
                            offer_id: intent.offer_id.clone(),
                            tier_id: intent.tier_id.clone(),
                        },
                    )
                }
                PanelButton::Continue => (continue_label.take()?, Action::Continue),
                PanelButton::Cancel => (t(self.lang, "Cancel"), Action::Dismiss),
                PanelButton::NextOffer => next.take()?,
            })
        };
        let primary = button(plan.primary);
        let secondary = button(plan.secondary);
        self.show(Panel {
            tone: plan.tone.into(),
            text,
            primary,
            secondary,
            link: told.link,
        });
    }

    /// Says why nothing happens and tells the page (`mighty:checkout-error`).
    pub(crate) fn fail(
        self: &Rc<Shop>,
        intent: Option<&Intent>,
        code: &str,
        message: String,
        retry: Option<Action>,
    ) {
        self.settle();
        self.report(
            "checkout-error",
            &EventDetail {
                error: Some(ErrorDetail {
                    code: code.to_string(),
                    message: message.clone(),
                }),
                ..self.detail(intent)
            },
        );
        self.show(Panel {
            tone: Tone::Error,
            text: message,
            primary: retry.map(|action| (t(self.lang, "Try again"), action)),
            ..Panel::default()
        });
    }
}
