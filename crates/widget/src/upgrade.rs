//! The upgrade path after a paid membership (SPEC section 4): the next tier up, what moving
//! there costs now (prorated by core from the subscription's period), the change itself on
//! the same subscription, and the shopper's manage link.

use std::rc::Rc;

use mighty_core::listing::OfferKind;
use mighty_core::{Money, Timestamp};

use mighty_core::checkout::ATTEMPT_TIMEOUT_MS;

use crate::checkout::new_idempotency_key;
use crate::http;
use crate::i18n::{t, tf};
use crate::json;
use crate::shop::{Action, Panel, Shop, Tone};

/// A paid membership: what the upgrade path acts on, with the customer token it needs.
#[derive(Clone, Debug)]
pub(crate) struct Membership {
    pub subscription_id: String,
    pub customer_token: String,
    pub offer_id: String,
    pub tier_id: String,
}

/// The membership's next tier up after `current` (core's `card::next_offer`), as an action.
pub(crate) fn next_tier(shop: &Shop, current: &str) -> Option<(String, Action)> {
    let membership = shop.membership.borrow().clone()?;
    match mighty_core::card::next_offer(&shop.listing, &membership.offer_id, Some(current), true)? {
        mighty_core::card::NextStep::Upgrade { tier } => Some(upgrade_to(shop, tier)),
        mighty_core::card::NextStep::Join { .. } => None,
    }
}

/// The button that shows what moving to `tier` costs, before doing it.
pub(crate) fn upgrade_to(shop: &Shop, tier: &mighty_core::listing::Tier) -> (String, Action) {
    (
        tf(shop.lang, "Upgrade to {tier}", &[("tier", &tier.name)]),
        Action::PreviewUpgrade {
            tier_id: tier.id.clone(),
        },
    )
}

/// The shopper's manage page, on the partner's origin.
pub(crate) fn manage_link(shop: &Shop) -> Option<(String, String)> {
    let membership = shop.membership.borrow().clone()?;
    let base = crate::dom::origin_of(shop.endpoint.as_deref()?)?;
    Some((
        t(shop.lang, "Manage your membership"),
        format!("{base}/manage/{}", membership.customer_token),
    ))
}

/// The upgrade path (SPEC section 4), with the customer token. First (`confirm` unset) what
/// moving to `tier_id` costs now, prorated by core from the subscription's current period
/// (when the partner lets it be read; else the amount is said after the change); then,
/// confirmed, the change itself with an Idempotency-Key: the same subscription, never a
/// second one.
pub(crate) async fn change_tier(shop: &Rc<Shop>, tier_id: String, confirm: bool) {
    let Some(membership) = shop.membership.borrow().clone() else {
        return;
    };
    let tier_of = |id: &str| {
        shop.listing
            .offers
            .iter()
            .find_map(|offer| match &offer.kind {
                OfferKind::Retainer(retainer) if offer.id == membership.offer_id => {
                    retainer.tiers.iter().find(|tier| tier.id == id).cloned()
                }
                _ => None,
            })
    };
    let (Some(current), Some(next)) = (tier_of(&membership.tier_id), tier_of(&tier_id)) else {
        return;
    };
    let Some(base) = shop.endpoint.as_deref().and_then(crate::dom::origin_of) else {
        return;
    };
    let url = format!("{base}/v1/subscriptions/{}", membership.subscription_id);
    let bearer = format!("Bearer {}", membership.customer_token);
    let key = new_idempotency_key();
    let (method, url, body) = if confirm {
        let body = mighty_core::protocol::UpgradeRequest {
            tier_id: tier_id.clone(),
        }
        .to_json();
        ("POST", format!("{url}/upgrade"), Some(body))
    } else {
        ("GET", url, None)
    };
    shop.working(&if confirm {
        t(shop.lang, "Upgrading your membership…")
    } else {
        t(shop.lang, "Working out the price of the upgrade…")
    });
    // Only the change itself carries an Idempotency-Key; reading the period is a plain GET.
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Idempotency-Key", key.as_str()),
    ];
    let headers = if confirm { &headers[..] } else { &headers[..1] };
    let answer = http::fetch(method, &url, headers, body.as_deref(), ATTEMPT_TIMEOUT_MS).await;
    let (ok, value) = match &answer {
        Ok(answer) => (answer.ok(), json::parse(&answer.body).ok()),
        Err(_) => (false, None),
    };
    let field = |key: &str| value.as_ref()?.get(key).cloned();
    let price = |minor: i64| shop.formatter.price(Money::new(minor, next.price.currency));
    let text = |key: &str| Some(field(key)?.as_str()?.to_string());
    let time = |key: &str| Timestamp::parse_rfc3339(&text(key)?).ok();
    // Reading the period is the reference partner's extra (SPEC section 4 has only the
    // change): a partner without it (404, 405, 501, or an answer without the period) still
    // gets the change, with the prorated amount said after, from its `amount_due`. Any other
    // failure (offline, 5xx, refused) is said, with a retry: nobody confirms blind then.
    let no_reading = matches!(&answer, Ok(answer) if matches!(answer.status, 404 | 405 | 501));
    match (ok, confirm) {
        (_, false) if ok || no_reading => {
            let then =
                crate::i18n::per_interval(shop.lang, &price(next.price.minor), next.interval);
            // No amount (no period, or prices past core's bounds): said without one.
            let due = time("current_period_start")
                .zip(time("current_period_end"))
                .filter(|_| ok)
                .and_then(|(start, end)| {
                    mighty_core::proration::prorated_amount_due(
                        current.price.minor,
                        next.price.minor,
                        start,
                        end,
                        shop.server_now(),
                    )
                });
            let (text, confirm_label) = match due {
                Some(due) => {
                    let due = price(due);
                    (
                        tf(
                            shop.lang,
                            "Upgrade to {tier}: {due} now for the rest of this period, then {then}.",
                            &[("tier", &next.name), ("due", &due), ("then", &then)],
                        ),
                        tf(shop.lang, "Confirm upgrade ({due})", &[("due", &due)]),
                    )
                }
                None => (
                    tf(
                        shop.lang,
                        "Upgrade to {tier}: the difference for the rest of this period now, then {then}.",
                        &[("tier", &next.name), ("then", &then)],
                    ),
                    t(shop.lang, "Confirm upgrade"),
                ),
            };
            shop.show(Panel {
                text,
                primary: Some((confirm_label, Action::Upgrade { tier_id })),
                secondary: Some((t(shop.lang, "Cancel"), Action::Dismiss)),
                ..Panel::default()
            });
        }
        (true, true) => {
            let charged = price(
                field("amount_due")
                    .and_then(|due| due.as_i64())
                    .unwrap_or(0),
            );
            if let Some(stored) = shop.membership.borrow_mut().as_mut() {
                stored.tier_id = tier_id.clone();
            }
            shop.show(Panel {
                tone: Tone::Success,
                text: tf(
                    shop.lang,
                    "You are on {tier} now; {charged} was charged for the rest of this period.",
                    &[("tier", &next.name), ("charged", &charged)],
                ),
                primary: next_tier(shop, &tier_id),
                link: manage_link(shop),
                ..Panel::default()
            });
        }
        (_, false) => shop.fail(
            None,
            "upgrade_failed",
            t(
                shop.lang,
                "The membership could not be read just now; please try again.",
            ),
            Some(Action::PreviewUpgrade { tier_id }),
        ),
        _ => {
            let message = field("error")
                .and_then(|error| Some(error.get("message")?.as_str()?.to_string()))
                .filter(|message| !message.is_empty())
                .unwrap_or_else(|| {
                    t(
                        shop.lang,
                        "The upgrade did not go through. Nothing was charged.",
                    )
                });
            let retry = Action::PreviewUpgrade { tier_id };
            shop.fail(None, "upgrade_failed", message, Some(retry));
        }
    }
}
