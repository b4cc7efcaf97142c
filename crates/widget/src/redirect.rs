//! Back from the partner's page in redirect mode (SPEC section 4): what the checkout keeps in
//! `sessionStorage` for the return (the session's secret, the offer it is for), and the
//! return itself: ask for the session, show the result, resume the offer core picks by id.

use std::rc::Rc;

use mighty_core::Money;
use mighty_core::card::{CheckoutEvent, Moment};
use mighty_core::checkout::backoff_ms;
use mighty_core::protocol::{SessionStatus, params};

use crate::checkout::{finish, session_state};
use crate::http;
use crate::i18n::t;
use crate::page_url::remove_our_parameters;
use crate::shop::{Intent, Shop, Told};

/// What a redirect-mode checkout keeps until the shopper is back, in `sessionStorage` (this
/// tab only, gone with it), strictly necessary for the purchase and so kept before consent
/// too (SPEC section 4): the session's secret (`mighty_session_secret:<id>`) and the offer it
/// is for (`mighty_session_offer:<id>`, core's `card::kept_offer`).
fn session_key(what: &str, session_id: &str) -> String {
    format!("mighty_session_{what}:{session_id}")
}

pub(crate) fn keep_for_return(what: &str, session_id: &str, value: &str) {
    if let Some(storage) =
        web_sys::window().and_then(|window| window.session_storage().ok().flatten())
    {
        let _ = storage.set_item(&session_key(what, session_id), value);
    }
}

/// What was kept for `session_id`, removed as it is read (one return, one use).
fn take_from_return(what: &str, session_id: &str) -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok().flatten()?;
    let key = session_key(what, session_id);
    let value = storage.get_item(&key).ok().flatten();
    let _ = storage.remove_item(&key);
    value
}

/// Back from the partner's page in redirect mode: the URL carries `mighty_session` and
/// `mighty_listing` names this listing. Asks for the session, shows the result, and removes
/// the `mighty_*` parameters from the address bar.
pub fn resume_after_redirect(shop: &Rc<Shop>) {
    let Some(search) = web_sys::window().and_then(|window| window.location().search().ok()) else {
        return;
    };
    let Ok(query) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return;
    };
    let (Some(session_id), Some(listing_id)) =
        (query.get(params::SESSION), query.get(params::LISTING))
    else {
        return;
    };
    if listing_id != shop.listing.id {
        return;
    }
    let Some(endpoint) = shop.endpoint.clone() else {
        return;
    };
    if !shop.step(CheckoutEvent::ReturnFound) {
        return;
    }
    let shop = shop.clone();
    // A task: it runs once the card is in the page.
    crate::spawn(async move {
        let text = t(shop.lang, "Checking your payment…");
        shop.tell(Moment::Checking, None, text, Told::default());
        let secret = take_from_return("secret", &session_id);
        let kept = take_from_return("offer", &session_id);
        let mut state = None;
        for attempt in 1..=3 {
            state = session_state(&endpoint, &session_id, secret.as_deref()).await;
            if state.is_some() {
                break;
            }
            http::sleep(backoff_ms(attempt + 1, None).unwrap_or(1_000)).await;
        }
        remove_our_parameters();
        let Some(state) = state else {
            let text = t(
                shop.lang,
                "We could not confirm your payment just now; your receipt email has the details.",
            );
            shop.tell(Moment::Unconfirmed, None, text, Told::default());
            return;
        };
        // The session does not say which offer it was for: the checkout kept it, by id, for
        // this return (core decides; two offers may share a price). Without it the
        // confirmation names no offer.
        let (offer_id, tier_id) = mighty_core::card::resume_offer(&shop.listing, kept.as_deref())
            .map(|(offer, tier)| (offer.id.clone(), tier.map(|tier| tier.id.clone())))
            .unwrap_or_default();
        let intent = Intent {
            offer_id,
            tier_id,
            shown: Money::new(state.amount, shop.listing.currency),
            key: String::new(),
            session_id: None,
            fulfilment: None,
        };
        match state.status {
            SessionStatus::Open => {
                let text = t(
                    shop.lang,
                    "Your payment was not completed. Nothing was charged.",
                );
                shop.tell(Moment::NotCompleted, None, text, Told::default());
            }
            _ => finish(&shop, &intent, state),
        }
    });
}
