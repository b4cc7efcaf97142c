//! Who brought the shopper (SPEC section 5): the page URL's creator link and UTM parameters,
//! kept per listing in `localStorage` as the last touch for the attribution window, and the
//! visitor's deterministic variant (a stable hash of a random visitor id and the listing id).
//! Core decides all of it; this reads the URL and storage. With
//! `data-mighty-consent="required"` nothing is stored and no id is made until
//! `Mighty.consent(true)`: the variant is then a choice for this page only. The same goes for
//! the offer variant of each bundle (core's `offer_variants` draws it): kept in
//! `localStorage` where allowed, else for this page view, and stored when consent comes.

use std::cell::OnceCell;

use mighty_core::attribution::{
    LinkParameters, Touch, assign_variant, current_touch, shown_creator, touch_for,
};
use mighty_core::{HostSettings, Listing, OfferKind};
use web_sys::Storage;

const VISITOR_KEY: &str = "mighty:visitor";

thread_local! {
    /// The visitor id of this page view, when none may be stored.
    static PAGE_VISITOR: OnceCell<String> = const { OnceCell::new() };
}

/// What the page says about the shopper for one listing: the touch that counts and the
/// creator shown first (the variant).
#[inline(never)]
pub fn resolve(listing: &Listing, settings: &HostSettings) -> (Option<Touch>, Option<String>) {
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let link = page_link();
    let storage = allowed_storage(settings.consent_required);
    let key = touch_key(&listing.id);
    let stored = storage
        .as_ref()
        .and_then(|storage| storage.get_item(&key).ok().flatten())
        .and_then(|text| Touch::from_value(&crate::json::parse(&text).ok()?));
    let new = touch_for(&link, listing, now);
    let is_new = new.is_some();
    let touch = current_touch(stored, new, now, settings.attribution_days);
    if let (Some(storage), Some(touch)) = (&storage, &touch)
        && is_new
    {
        let _ = storage.set_item(&key, &touch.to_json());
    }
    let visitor = visitor_id(storage.as_ref());
    let assigned = assign_variant(&visitor, listing);
    let variant = shown_creator(touch.as_ref(), assigned).map(String::from);
    (touch, variant)
}

/// The offer variant shown of each bundle that has some (offer id, variant id): the one this
/// visitor was shown first while the bundle still has it, else core's draw by the served
/// shares, which is then remembered. Where nothing may be stored the draw uses this page
/// view's visitor id, so it holds for the page view (a re-mounted card shows the same).
pub fn offer_variants(listing: &Listing, consent_required: bool) -> Vec<(String, String)> {
    let storage = allowed_storage(consent_required);
    let visitor = visitor_id(storage.as_ref());
    let mut shown = Vec::new();
    for offer in &listing.offers {
        let OfferKind::Bundle(bundle) = &offer.kind else {
            continue;
        };
        let remembered = storage.as_ref().and_then(|storage| {
            let key = mighty_core::offer_variants::storage_key(&listing.id, &offer.id);
            storage.get_item(&key).ok().flatten()
        });
        if let Some(variant) = mighty_core::offer_variants::choose(
            bundle,
            &visitor,
            &listing.id,
            &offer.id,
            remembered.as_deref(),
        ) {
            shown.push((offer.id.clone(), variant.id.clone()));
        }
    }
    remember_offer_variants(storage.as_ref(), &listing.id, &shown);
    shown
}

/// Keeps the offer variants a card shows, where storage is allowed.
fn remember_offer_variants(
    storage: Option<&Storage>,
    listing_id: &str,
    shown: &[(String, String)],
) {
    for (offer_id, variant) in shown {
        if let Some(storage) = storage {
            let key = mighty_core::offer_variants::storage_key(listing_id, offer_id);
            let _ = storage.set_item(&key, variant);
        }
    }
}

fn touch_key(listing_id: &str) -> String {
    format!("mighty:touch:{listing_id}")
}

/// `Mighty.consent(true)` after a card mounted: its touch is stored now, by the same
/// last-touch rule as at mount (a stored creator's touch is not replaced by a UTM-only one),
/// and a visitor id is kept (this page view's, unless one was stored before).
pub fn remember(
    listing_id: &str,
    touch: Option<&Touch>,
    window_days: u32,
    offer_variants: &[(String, String)],
) {
    let Some(storage) = allowed_storage(false) else {
        return;
    };
    let key = touch_key(listing_id);
    if let Some(touch) = touch {
        let now = (js_sys::Date::now() / 1000.0) as i64;
        let stored = storage
            .get_item(&key)
            .ok()
            .flatten()
            .and_then(|text| Touch::from_value(&crate::json::parse(&text).ok()?));
        if let Some(current) = current_touch(stored, Some(touch.clone()), now, window_days) {
            let _ = storage.set_item(&key, &current.to_json());
        }
    }
    visitor_id(Some(&storage));
    remember_offer_variants(Some(&storage), listing_id, offer_variants);
}

/// The creator link and UTM parameters of the page URL.
fn page_link() -> LinkParameters {
    let search = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    let Ok(query) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return LinkParameters::default();
    };
    let pairs: Vec<(String, String)> = js_sys::Array::from(&query.keys().into())
        .iter()
        .filter_map(|key| key.as_string())
        .filter_map(|key| Some((query.get(&key)?, key)))
        .map(|(value, key)| (key, value))
        .collect();
    LinkParameters::from_pairs(
        pairs
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )
}

/// The visitor id for events: the stored one where storage is allowed, else this page
/// view's own.
pub fn visitor(consent_required: bool) -> String {
    visitor_id(allowed_storage(consent_required).as_ref())
}

/// `localStorage`, unless consent is required and not given (or the browser refuses it).
fn allowed_storage(consent_required: bool) -> Option<Storage> {
    (!consent_required || crate::consent_given())
        .then(|| web_sys::window()?.local_storage().ok().flatten())
        .flatten()
}

/// The stored visitor id, else this page view's own, which is stored where storage is
/// allowed (so an id used before consent is the one kept after it).
fn visitor_id(storage: Option<&Storage>) -> String {
    if let Some(id) = storage.and_then(|storage| storage.get_item(VISITOR_KEY).ok().flatten()) {
        return id;
    }
    let id = PAGE_VISITOR.with(|visitor| {
        visitor
            .get_or_init(crate::checkout::new_idempotency_key)
            .clone()
    });
    if let Some(storage) = storage {
        let _ = storage.set_item(VISITOR_KEY, &id);
    }
    id
}

/// `Mighty.consent(false)`: what the widget stored (`mighty:*` keys) is removed.
pub fn forget() {
    let Some(storage) = web_sys::window().and_then(|window| window.local_storage().ok().flatten())
    else {
        return;
    };
    let count = storage.length().unwrap_or(0);
    let ours: Vec<String> = (0..count)
        .filter_map(|index| storage.key(index).ok().flatten())
        .filter(|key| key.starts_with("mighty:"))
        .collect();
    for key in ours {
        let _ = storage.remove_item(&key);
    }
    crate::beacons::clear();
}
