//! Which offer variant of a bundle (a price point or a composition, SPEC section 3.1) a
//! visitor is shown, and what the card shows for it. New visitors are spread by the shares
//! the serving server adds (its bandit decides them); the draw is a stable hash of the
//! visitor id, the listing id and the offer id, so a visitor draws the same variant on every
//! page while the shares stand, and the widget remembers what was shown first, so a shopper
//! never sees the price change on reload even when the shares move. No storage and no
//! randomness here: the widget reads and writes the remembered id.

use crate::Money;
use crate::attribution::stable_hash;
use crate::listing::{Bundle, OfferVariant};

/// The variant `visitor_id` is shown of `offer_id`'s bundle on `listing_id`:
/// - none when the bundle has no variants;
/// - the `remembered` one (the variant this visitor was shown first) while the bundle still
///   has it, whatever its share is now;
/// - else a draw weighted by the served shares; a variant without a positive share is never
///   newly drawn, unless no variant has one (a document no server shared out, e.g. one written
///   inline in the page), when all weigh the same.
pub fn choose<'b>(
    bundle: &'b Bundle,
    visitor_id: &str,
    listing_id: &str,
    offer_id: &str,
    remembered: Option<&str>,
) -> Option<&'b OfferVariant> {
    if let Some(kept) = remembered.and_then(|id| bundle.variant(id)) {
        return Some(kept);
    }
    let positive = |variant: &OfferVariant| variant.share.filter(|share| *share > 0.0);
    let even = bundle
        .variants
        .iter()
        .all(|variant| positive(variant).is_none());
    let weight = |variant: &OfferVariant| {
        if even {
            1.0
        } else {
            positive(variant).unwrap_or(0.0)
        }
    };
    let total: f64 = bundle.variants.iter().map(weight).sum();
    // 53 bits of the hash as a point in [0, 1), then along the variants' weights.
    let point = (stable_hash(&[visitor_id, listing_id, offer_id]) >> 11) as f64
        / 9_007_199_254_740_992.0
        * total;
    let mut reached = 0.0;
    let mut last_weighed = None;
    for variant in &bundle.variants {
        let weight = weight(variant);
        if weight <= 0.0 {
            continue;
        }
        reached += weight;
        last_weighed = Some(variant);
        if point < reached {
            return Some(variant);
        }
    }
    // Rounding at the very end of the range: the last variant that weighs anything.
    last_weighed
}

/// What the card shows for a bundle shown as `variant` (or as itself): the price, the
/// struck-through usual price and the items. The partner charges the variant's stored price,
/// which is this one.
pub fn shown<'b>(
    bundle: &'b Bundle,
    variant: Option<&'b OfferVariant>,
) -> (Money, Option<Money>, &'b [String]) {
    match variant {
        Some(variant) => (
            bundle.variant_price(variant),
            bundle.variant_compare_at(variant),
            bundle.variant_items(variant),
        ),
        None => (bundle.price, bundle.compare_at, &bundle.items),
    }
}

/// Where the widget remembers the variant a visitor was shown first (`localStorage`, when
/// consent allows): one key per listing and offer, among the widget's `mighty:` keys (which
/// `Mighty.consent(false)` removes).
pub fn storage_key(listing_id: &str, offer_id: &str) -> String {
    format!("mighty:offer-variant:{listing_id}:{offer_id}")
}
