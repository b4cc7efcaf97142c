//! The one-click checkout in the browser (SPEC section 4). Every decision (what an answer
//! means, when to retry, which messages and URLs to trust) is core's `checkout` module; this
//! file does the I/O around it: the popup opened inside the click, the POST with its
//! Idempotency-Key, polling and the popup's message, and what the shopper is told at each
//! step (one [`Panel`] in the card, announced by the live region). The card's state is
//! `shop.rs`'s, the redirect return `redirect.rs`'s, the page's URL `page_url.rs`'s.

use std::cell::Cell;
use std::rc::Rc;

use mighty_core::card::{CheckoutEvent, Moment};
use mighty_core::checkout::{
    ATTEMPT_TIMEOUT_MS, CheckoutAnswer, POLL_INTERVAL_MS, PopupMessage, RetryReason,
    accept_popup_message, backoff_ms, classify_parsed_answer, may_open, may_retry, price_changed,
    session_state_from_value,
};
use mighty_core::drops::{DropPhase, drop_phase, offer_open};
use mighty_core::host::CheckoutMode;
use mighty_core::listing::OfferKind;
use mighty_core::protocol::{
    CheckoutRequest, CheckoutSessionCreated, CheckoutSessionState, Fulfilment,
    SESSION_SECRET_HEADER, SessionStatus,
};
use mighty_core::{Money, Offer, Timestamp};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Window};

use crate::events::EventDetail;
use crate::format::Formatter;
use crate::http::{self, FetchFailure};
use crate::i18n::{t, tf};
use crate::json;
use crate::page_url::page_url_without_our_parameters;
use crate::redirect::keep_for_return;
use crate::shop::{Action, Intent, PendingSession, Shop, Told};
use crate::upgrade::{Membership, change_tier, manage_link};

/// The panel's primary (or secondary) button was pressed.
pub fn act_on_panel(shop: &Rc<Shop>, primary: bool) {
    let action = {
        let actions = shop.panel_actions.borrow();
        if primary {
            actions.0.clone()
        } else {
            actions.1.clone()
        }
    };
    if let Some(action) = action {
        act(shop, action);
    }
}

/// A panel button was pressed. Runs inside the click handler, so a popup opened here is
/// allowed by blockers.
pub fn act(shop: &Rc<Shop>, action: Action) {
    match action.clone() {
        Action::Retry => {
            let intent = shop.last_intent.borrow().clone();
            if let Some(intent) = intent {
                begin(shop, intent);
            }
        }
        Action::Buy { offer_id, tier_id } => buy(shop, offer_id, tier_id),
        Action::Continue => {
            let pending = shop.pending.borrow_mut().take();
            if let Some(pending) = pending
                && shop.step(CheckoutEvent::Continue)
            {
                let shop = shop.clone();
                crate::spawn(async move {
                    go_to_partner(&shop, pending.intent, pending.created, pending.popup).await;
                });
            }
        }
        // One at a time: a second press while one runs is ignored.
        Action::PreviewUpgrade { tier_id } | Action::Upgrade { tier_id }
            if shop.step(CheckoutEvent::TierChange) =>
        {
            let confirm = matches!(action, Action::Upgrade { .. });
            let shop = shop.clone();
            crate::spawn(async move {
                change_tier(&shop, tier_id, confirm).await;
                shop.settle();
            });
        }
        Action::PreviewUpgrade { .. } | Action::Upgrade { .. } => {}
        Action::Dismiss => {
            if let Some(pending) = shop.pending.borrow_mut().take()
                && let Some(popup) = pending.popup
            {
                let _ = popup.close();
            }
            shop.step(CheckoutEvent::Dismiss);
            shop.show_panel(None, false);
        }
    }
}

/// An offer's checkout button: whether it is enabled (bundles follow the listing's drop;
/// retainers stay open, they are the follow-on; an offer the partner found sold out stays
/// so) and its words.
pub fn button_state(shop: &Shop, offer: &Offer, now: Timestamp) -> (bool, String) {
    let (lang, listing) = (shop.lang, &shop.listing);
    let phase = match (&offer.kind, &listing.drop) {
        _ if shop.sold_out.borrow().contains(&offer.id) => Some(DropPhase::SoldOut),
        (OfferKind::Bundle(_), Some(drop)) => Some(drop_phase(drop, now)),
        _ => None,
    };
    match phase {
        Some(DropPhase::SoldOut) => (false, t(lang, "Sold out")),
        Some(DropPhase::Upcoming { .. }) => (false, t(lang, "Not on sale yet")),
        Some(DropPhase::Ended) => (false, t(lang, "Drop ended")),
        _ if offer_open(listing, offer, now) => match offer.kind {
            OfferKind::Bundle(_) => (true, t(lang, "Buy now")),
            OfferKind::Retainer(_) => (true, t(lang, "Join")),
        },
        _ => (false, t(lang, "Not on sale")),
    }
}

/// The shopper chose an offer (its checkout button) or a tier (its radio):
/// `mighty:offer-select`.
pub fn offer_selected(shop: &Shop, offer_id: Option<String>, tier_id: Option<String>) {
    let detail = EventDetail {
        offer_id,
        tier_id,
        ..shop.event_detail()
    };
    shop.report("offer-select", &detail);
}

/// An offer's `checkout` button was pressed: the tier is the checked one of its radios.
pub fn buy_from_card(shop: &Rc<Shop>, offer_id: &str) {
    let tier_id = crate::handles::checked_tier(&shop.root, offer_id);
    if !shop.busy() {
        offer_selected(shop, Some(offer_id.to_string()), tier_id.clone());
    }
    buy(shop, offer_id.to_string(), tier_id);
}

/// Keeps the drop line counting down (on the server's clock) while the card is on the page,
/// and opens or closes the bundles' buttons when the phase changes.
pub fn run_drop_clock(shop: &Rc<Shop>) {
    let Some(the_drop) = shop.listing.drop.clone() else {
        return;
    };
    let shop = Rc::downgrade(shop);
    crate::spawn(async move {
        let mut last_phase = None;
        loop {
            let Some(shop) = shop.upgrade() else { return };
            let Some(line) = shop
                .regions()
                .and_then(|regions| regions.drop_line.as_ref())
            else {
                return;
            };
            // Its card taken out of the page (unmounted): the clock stops.
            if !crate::handles::drop_line(&shop.root).is_some_and(|slot| slot.is_connected()) {
                return;
            }
            let phase = drop_phase(&the_drop, shop.server_now());
            line.draw(&crate::view::drop_text(shop.lang, phase));
            let kind = std::mem::discriminant(&phase);
            if last_phase.is_some_and(|last| last != kind) {
                for offer in &shop.listing.offers {
                    shop.show_checkout_button(offer);
                }
            }
            last_phase = Some(kind);
            drop(shop);
            http::sleep(1000).await;
        }
    });
}

/// The `checkout` button of an offer: a new intent with a new Idempotency-Key.
pub fn buy(shop: &Rc<Shop>, offer_id: String, tier_id: Option<String>) {
    if shop.busy() {
        return;
    }
    let Some(shown) = shop.shown_price(&offer_id, tier_id.as_deref()) else {
        return;
    };
    let intent = Intent {
        tier_id,
        shown,
        key: new_idempotency_key(),
        session_id: None,
        fulfilment: crate::handles::checked_fulfilment(&shop.root, &offer_id)
            .and_then(|word| Fulfilment::parse(&word)),
        offer_id,
    };
    begin(shop, intent);
}

fn begin(shop: &Rc<Shop>, intent: Intent) {
    if !shop.step(CheckoutEvent::Press) {
        return;
    }
    *shop.last_intent.borrow_mut() = Some(intent.clone());
    let Some(endpoint) = shop.endpoint.clone() else {
        shop.tell(
            Moment::NoEndpoint,
            Some(&intent),
            t(
                shop.lang,
                "This listing cannot be bought here yet (it names no checkout endpoint).",
            ),
            Told::default(),
        );
        return;
    };
    // Opened now, inside the click, or blockers refuse it; navigated once the session exists.
    let popup = match shop.mode {
        CheckoutMode::Popup => open_blank_popup(),
        CheckoutMode::Redirect => None,
    };
    shop.report("checkout-start", &shop.detail(Some(&intent)));
    shop.tell(
        Moment::Opening,
        None,
        t(shop.lang, "Opening the secure checkout…"),
        Told::default(),
    );
    let shop = shop.clone();
    crate::spawn(async move {
        create_session(&shop, &endpoint, intent, popup).await;
    });
}

async fn create_session(shop: &Rc<Shop>, endpoint: &str, intent: Intent, popup: Option<Window>) {
    let request = CheckoutRequest {
        listing_id: shop.listing.id.clone(),
        offer_id: intent.offer_id.clone(),
        tier_id: intent.tier_id.clone(),
        quantity: 1,
        attribution: mighty_core::attribution::attribution_for(
            shop.touch.borrow().as_ref(),
            shop.variant().as_deref(),
            &page_url_without_our_parameters(None),
        ),
        return_url: page_url_without_our_parameters(Some(&shop.listing.id)),
        offer_variant: shop.offer_variant(&intent.offer_id),
        fulfilment: intent.fulfilment,
    };
    let body = request.to_json();
    let mut attempts = 0;
    let created = loop {
        attempts += 1;
        let headers = [
            ("Idempotency-Key", intent.key.as_str()),
            ("Accept", "application/json"),
        ];
        let answer =
            match http::fetch("POST", endpoint, &headers, Some(&body), ATTEMPT_TIMEOUT_MS).await {
                Ok(answer) => classify_parsed_answer(
                    answer.status,
                    json::parse(&answer.body).ok(),
                    answer.retry_after.as_deref(),
                ),
                Err(failure) => CheckoutAnswer::Retry {
                    reason: match failure {
                        FetchFailure::Timeout => RetryReason::Timeout,
                        FetchFailure::Network => RetryReason::Network,
                    },
                    wait_ms: None,
                },
            };
        match answer {
            CheckoutAnswer::Created(created) => break created,
            CheckoutAnswer::Refused { code, message, .. } => {
                close(popup.as_ref());
                refused(shop, &intent, &code, message);
                return;
            }
            CheckoutAnswer::Retry { reason, wait_ms } => {
                let wait = backoff_ms(attempts + 1, wait_ms).filter(|_| may_retry(attempts));
                let Some(wait) = wait else {
                    close(popup.as_ref());
                    let (code, message) = unreachable_message(shop.lang, reason);
                    let told = Told {
                        code: Some(code.to_string()),
                        ..Told::default()
                    };
                    shop.tell(Moment::Unreachable, Some(&intent), message, told);
                    return;
                };
                let text = t(shop.lang, "The checkout is slow to answer; trying again…");
                shop.tell(Moment::SlowToAnswer, None, text, Told::default());
                http::sleep(wait).await;
            }
        }
    };
    if !may_open(crate::dom::web_url(&created.redirect_url).as_ref()) {
        close(popup.as_ref());
        shop.tell(
            Moment::InsecureRedirect,
            Some(&intent),
            t(shop.lang, "The payment partner answered with an address that is not secure, so it was not opened. Nothing was charged."),
            Told::default(),
        );
        return;
    }
    if price_changed(intent.shown.minor, intent.shown.currency.code(), &created) {
        let now = price_of(&shop.formatter, created.amount, &created.currency);
        let was = shop.formatter.price(intent.shown);
        let text = tf(
            shop.lang,
            "The price is now {now} (it was {was} when this page loaded).",
            &[("now", &now), ("was", &was)],
        );
        let told = Told {
            continue_label: Some(tf(shop.lang, "Continue at {now}", &[("now", &now)])),
            ..Told::default()
        };
        shop.tell(Moment::PriceChanged, None, text, told);
        shop.step(CheckoutEvent::PriceChanged);
        *shop.pending.borrow_mut() = Some(PendingSession {
            intent,
            created,
            popup,
        });
        return;
    }
    go_to_partner(shop, intent, created, popup).await;
}

/// 409/422 and other refusals: said plainly, never retried.
fn refused(shop: &Rc<Shop>, intent: &Intent, code: &str, message: String) {
    let text = match code {
        "sold_out" => {
            shop.mark_sold_out(&intent.offer_id);
            t(shop.lang, "Sold out: the last one has just gone.")
        }
        "drop_closed" => t(
            shop.lang,
            "This drop is closed: it has not started yet, or it has ended.",
        ),
        "idempotency_conflict" => t(
            shop.lang,
            "This checkout was already started with different details; please try again.",
        ),
        _ if !message.is_empty() => message,
        _ => tf(
            shop.lang,
            "The checkout was refused ({code}).",
            &[("code", code)],
        ),
    };
    // A conflicting key is dead: the next try gets a new one (core's panel_for).
    let moment = Moment::Refused {
        conflict: code == "idempotency_conflict",
    };
    let told = Told {
        code: Some(code.to_string()),
        ..Told::default()
    };
    shop.tell(moment, Some(intent), text, told);
}

fn unreachable_message(lang: &str, reason: RetryReason) -> (&'static str, String) {
    match reason {
        RetryReason::RateLimited => (
            "rate_limited",
            t(
                lang,
                "The checkout is busy right now. Nothing was charged; please try again in a moment.",
            ),
        ),
        RetryReason::Timeout => (
            "timeout",
            t(
                lang,
                "The checkout did not answer in time. Nothing was charged twice; please try again.",
            ),
        ),
        RetryReason::Network => (
            "network_error",
            t(
                lang,
                "The checkout could not be reached (are you offline?). Nothing was charged twice; please try again.",
            ),
        ),
        RetryReason::ServerError | RetryReason::MalformedAnswer => (
            "partner_error",
            t(
                lang,
                "The checkout is having trouble. Nothing was charged twice; please try again.",
            ),
        ),
    }
}
/// Sends the shopper to the partner's page: the popup, or the page itself.
async fn go_to_partner(
    shop: &Rc<Shop>,
    intent: Intent,
    created: CheckoutSessionCreated,
    popup: Option<Window>,
) {
    shop.step(CheckoutEvent::ToPartner);
    let Some(popup) = popup else {
        let text = t(shop.lang, "Taking you to the secure checkout…");
        shop.tell(Moment::ToPartnerPage, None, text, Told::default());
        if let Some(secret) = &created.session_secret {
            keep_for_return("secret", &created.session_id, secret);
        }
        let offer = mighty_core::card::kept_offer(&intent.offer_id, intent.tier_id.as_deref());
        keep_for_return("offer", &created.session_id, &offer);
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(&created.redirect_url);
        }
        return;
    };
    if popup.location().set_href(&created.redirect_url).is_err() {
        close(Some(&popup));
        shop.tell(
            Moment::PopupFailed,
            Some(&intent),
            t(shop.lang, "The checkout window could not be opened."),
            Told::default(),
        );
        return;
    }
    let text = t(
        shop.lang,
        "Complete the payment in the checkout window. This card updates when you are done.",
    );
    shop.tell(Moment::InPopup, None, text, Told::default());
    watch_popup(shop, &intent, &created, &popup).await;
}

/// Waits for the partner's word: its `message` (only from our popup, from the partner's
/// origin, about our session) or the status polled every 2 s, until the session ends or the
/// shopper closes the window.
async fn watch_popup(
    shop: &Rc<Shop>,
    intent: &Intent,
    created: &CheckoutSessionCreated,
    popup: &Window,
) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let woken = Rc::new(Cell::new(false));
    let listener = {
        let woken = woken.clone();
        let popup = JsValue::from(popup.clone());
        let redirect_url = created.redirect_url.clone();
        let session_id = created.session_id.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let from_popup = event.source().map(JsValue::from) == Some(popup.clone());
            let data = event.data();
            let text = |key: &str| {
                js_sys::Reflect::get(&data, &JsValue::from_str(key))
                    .ok()
                    .and_then(|value| value.as_string())
            };
            let (kind, id) = (text("type"), text("session_id"));
            let message = PopupMessage {
                kind: kind.as_deref(),
                session_id: id.as_deref(),
            };
            if from_popup
                && accept_popup_message(
                    &event.origin(),
                    crate::dom::web_url(&redirect_url).as_ref(),
                    message,
                    &session_id,
                )
            {
                woken.set(true);
            }
        })
    };
    let _ = window.add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
    let endpoint = shop.endpoint.clone().unwrap_or_default();
    loop {
        let mut waited = 0;
        while waited < POLL_INTERVAL_MS && !woken.replace(false) {
            http::sleep(250).await;
            waited += 250;
        }
        let closed = popup.closed().unwrap_or(true);
        match session_state(
            &endpoint,
            &created.session_id,
            created.session_secret.as_deref(),
        )
        .await
        {
            Some(state) if state.status != SessionStatus::Open => {
                close(Some(popup));
                finish(shop, intent, state);
                break;
            }
            _ if closed => {
                let text = t(
                    shop.lang,
                    "The checkout window was closed before paying. Nothing was charged.",
                );
                shop.tell(Moment::PopupClosed, None, text, Told::default());
                break;
            }
            _ => {}
        }
    }
    let _ =
        window.remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
}

/// `GET {checkout}/{session_id}`, with the session's secret when this browser holds it (the
/// only way the partner gives the customer token); `None` when there is no usable answer
/// (the caller polls on).
pub(crate) async fn session_state(
    endpoint: &str,
    session_id: &str,
    secret: Option<&str>,
) -> Option<CheckoutSessionState> {
    let url = format!("{}/{}", endpoint.trim_end_matches('/'), session_id);
    let mut headers = vec![("Accept", "application/json")];
    if let Some(secret) = secret {
        headers.push((SESSION_SECRET_HEADER, secret));
    }
    let answer = http::fetch("GET", &url, &headers, None, ATTEMPT_TIMEOUT_MS)
        .await
        .ok()?;
    if !answer.ok() {
        return None;
    }
    session_state_from_value(&json::parse(&answer.body).ok()?)
}

/// A session ended: paid (the confirmation, with what comes next), declined or expired.
pub(crate) fn finish(shop: &Rc<Shop>, intent: &Intent, state: CheckoutSessionState) {
    let intent = &Intent {
        session_id: Some(state.session_id.clone()),
        ..intent.clone()
    };
    match state.status {
        SessionStatus::Paid => {
            let amount = price_of(&shop.formatter, state.amount, &state.currency);
            shop.report("checkout-complete", &shop.detail(Some(intent)));
            let name = shop
                .listing
                .offers
                .iter()
                .find(|offer| offer.id == intent.offer_id)
                .map_or("your order", |offer| offer.name.as_str());
            if let (Some(subscription_id), Some(customer_token), Some(tier_id)) = (
                state.subscription_id.clone(),
                state.customer_token.clone(),
                intent.tier_id.clone(),
            ) {
                *shop.membership.borrow_mut() = Some(Membership {
                    subscription_id,
                    customer_token,
                    offer_id: intent.offer_id.clone(),
                    tier_id,
                });
            }
            let manage = manage_link(shop);
            let text = tf(
                shop.lang,
                "Paid {amount} for {name}. Thank you!",
                &[("amount", &amount), ("name", name)],
            );
            let next = next_offer(shop, intent);
            let moment = Moment::Paid {
                next_offer: next.is_some(),
            };
            let told = Told {
                next,
                link: manage,
                ..Told::default()
            };
            shop.tell(moment, Some(intent), text, told);
        }
        SessionStatus::Failed => shop.tell(
            Moment::Declined,
            Some(intent),
            t(shop.lang, "The payment was declined. Nothing was charged."),
            Told::default(),
        ),
        SessionStatus::Expired => shop.tell(
            Moment::Expired,
            Some(intent),
            t(
                shop.lang,
                "The checkout expired before the payment. Nothing was charged.",
            ),
            Told::default(),
        ),
        SessionStatus::Open => {}
    }
}

/// After a bundle, the listing's membership (its first tier) is offered.
fn next_offer(shop: &Shop, intent: &Intent) -> Option<(String, Action)> {
    use mighty_core::card::NextStep;
    let held = shop.membership.borrow().is_some();
    match mighty_core::card::next_offer(
        &shop.listing,
        &intent.offer_id,
        intent.tier_id.as_deref(),
        held,
    )? {
        NextStep::Join { offer, tier } => {
            let price = shop.formatter.price(tier.price);
            let price = crate::i18n::per_interval(shop.lang, &price, tier.interval);
            Some((
                tf(
                    shop.lang,
                    "Join {offer} · {price}",
                    &[("offer", &offer.name), ("price", &price)],
                ),
                Action::Buy {
                    offer_id: offer.id.clone(),
                    tier_id: Some(tier.id.clone()),
                },
            ))
        }
        NextStep::Upgrade { tier } => Some(crate::upgrade::upgrade_to(shop, tier)),
    }
}
/// An amount the partner stated, in its currency.
fn price_of(formatter: &Formatter, minor: i64, code: &str) -> String {
    match mighty_core::money::Currency::from_code(code) {
        Some(currency) => formatter.price(Money::new(minor, currency)),
        None => format!("{minor} {code}"),
    }
}

/// A blank popup, opened synchronously inside the click; `None` when it was blocked.
fn open_blank_popup() -> Option<Window> {
    web_sys::window()?
        .open_with_url_and_target_and_features(
            "about:blank",
            "_blank",
            "popup,width=480,height=720",
        )
        .ok()
        .flatten()
}

fn close(popup: Option<&Window>) {
    if let Some(popup) = popup {
        let _ = popup.close();
    }
}

/// A fresh Idempotency-Key for one shopper intent.
pub fn new_idempotency_key() -> String {
    web_sys::window()
        .and_then(|window| window.crypto().ok())
        .map(|crypto| crypto.random_uuid())
        .unwrap_or_else(|| {
            format!(
                "{:x}-{:x}",
                js_sys::Date::now() as u64,
                (js_sys::Math::random() * 4_294_967_296.0) as u64
            )
        })
}
