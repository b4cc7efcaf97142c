//! The components a shopper (or, for the notice, a site owner) sees. Seller text is only
//! ever passed to leptos as text nodes and attribute values, never as HTML.

use std::rc::Rc;

use leptos::either::Either;
use leptos::prelude::*;
use mighty_core::drops::{Countdown, DropPhase, countdown};
use mighty_core::listing::{OfferKind, Popup, Tier};
use mighty_core::popup_links::map_url;
use mighty_core::trust::badge_look;
use mighty_core::{ConfigErrors, Offer, Theme, Timestamp};

use crate::format::Formatter;
use crate::handles;
use crate::i18n::{per_interval, t, tf};
use crate::region::Region;
use crate::shop::{Panel, Shop};

/// The compact card: title, seller, rating, summary, offers. Fixed height (see
/// `CARD_HEIGHT_PX`); offers scroll inside it.
#[component]
pub fn ListingCard(shop: Rc<Shop>, theme: Theme) -> impl IntoView {
    let listing = &shop.listing;
    let now = shop.server_now();
    let seller_line = listing.seller.clone().map(|seller| {
        let location = seller.location.map(|location| format!(" · {location}"));
        let name = match seller.url {
            Some(url) => {
                Either::Left(view! { <a href=url target="_blank" rel="noopener">{seller.name}</a> })
            }
            None => Either::Right(seller.name),
        };
        view! { <p class="seller">{name}{location}</p> }
    });
    let trust = view! { <TrustStrip shop=shop.clone()/> };
    let details = (!listing.trust.testimonials.is_empty()
        || !listing.trust.case_studies.is_empty())
    .then(|| view! { <ReviewsDetails shop=shop.clone()/> });
    let offers = listing
        .offers
        .iter()
        .map(|offer| view! { <OfferCard offer=offer.clone() shop=shop.clone() now=now/> })
        .collect_view();
    // The drop line, the demo, the testimonial, the checkout buttons and the panel are drawn
    // empty here and filled by their regions (`region.rs`) in this same task.
    let drop_line = listing
        .drop
        .as_ref()
        .map(|_| view! { <p part="drop" class="drop"></p> });
    let popup = listing
        .drop
        .as_ref()
        .and_then(|drop| drop.popup.as_ref())
        .map(|popup| popup_block(popup, &shop));
    let has_demo = crate::demo::with_demo(&listing.creators).next().is_some();
    let demo = has_demo.then(|| view! { <div class="hero"></div> });
    view! {
        <div class="root" data-theme=theme.as_str() lang=shop.lang dir=mighty_core::i18n::direction(shop.lang)>
            <article part="card" class="card" class:with-demo=has_demo aria-label=listing.title.clone()>
                {demo}
                <div class="body">
                <header class="head">
                    {listing.test_mode.then(|| view! { <span class="badge-test">{t(shop.lang, "Test mode")}</span> })}
                    <div class="title-line">
                        <h2 class="title">{listing.title.clone()}</h2>
                        <button type="button" part="share" class="plain share">{t(shop.lang, "Share")}</button>
                    </div>
                    {seller_line}
                </header>
                {trust}
                {listing.summary.clone().map(|summary| view! { <p class="summary">{summary}</p> })}
                {drop_line}
                {popup}
                <ul class="offers" aria-label=t(shop.lang, "Offers")>{offers}</ul>
                {details}
                <div class="panel"></div>
                </div>
            </article>
        </div>
    }
}

/// The trust strip: rating as stars with accessible text, the badges, one testimonial at a
/// time (rotated by `listeners`), and the button that shows every review in place of the
/// offers.
#[component]
pub fn TrustStrip(shop: Rc<Shop>) -> impl IntoView {
    let trust = &shop.listing.trust;
    let rating = trust.rating.map(|rating| {
        // Tenths by integer arithmetic: Rust's float formatting costs kilobytes of wasm.
        let tenths = (rating.value * 10.0).round() as i64;
        let value = shop
            .formatter
            .number(&format!("{}.{}", tenths / 10, tenths % 10), 1);
        let full_stars = (rating.value.round() as usize).min(5);
        let stars = format!("{}{}", "★".repeat(full_stars), "☆".repeat(5 - full_stars));
        let count = rating.count;
        let count = count.to_string();
        let reviews = if rating.count == 1 {
            t(shop.lang, "1 review")
        } else {
            tf(shop.lang, "{count} reviews", &[("count", &count)])
        };
        view! {
            <span class="stars" aria-hidden="true">{stars}</span>
            <span aria-hidden="true">{format!("{value} · {reviews}")}</span>
            <span class="sr">{tf(shop.lang, "Rated {value} out of 5 from {reviews}", &[("value", &value), ("reviews", &reviews)])}</span>
        }
    });
    let more = trust.testimonials.len() + trust.case_studies.len();
    let toggle = (more > 0).then(|| {
        view! {
            <button type="button" class="plain reviews-toggle" aria-expanded="false">
                {tf(shop.lang, "Reviews ({count})", &[("count", &more.to_string())])}
            </button>
        }
    });
    let badges = (!trust.badges.is_empty()).then(|| {
        let items = trust
            .badges
            .iter()
            .map(|id| {
                let look = badge_look(id);
                view! {
                    <li class="badge" data-badge=id.clone()>
                        <span aria-hidden="true">{look.icon}</span>" "{badge_label(shop.lang, look.label)}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="badges" aria-label=t(shop.lang, "Badges")>{items}</ul> }
    });
    let quote = (!trust.testimonials.is_empty())
        .then(|| view! { <blockquote class="quote" aria-live="off"></blockquote> });
    view! {
        <div part="trust" class="trust">
            <p class="rating">{rating}{toggle}</p>
            {badges}
            {quote}
        </div>
    }
}

/// "“Lovely scent.” — Marie ✓ Verified buyer"
pub fn testimonial_text(lang: &str, testimonial: &mighty_core::listing::Testimonial) -> String {
    let verified = if testimonial.verified {
        format!(" ✓ {}", t(lang, "Verified buyer"))
    } else {
        String::new()
    };
    format!("“{}” — {}{verified}", testimonial.text, testimonial.author)
}

/// A known badge's words in the shopper's language (the catalog has core's English labels);
/// a seller's own badge stays as written.
fn badge_label(lang: &str, label: &str) -> String {
    match mighty_core::trust::KNOWN_BADGES
        .iter()
        .find(|(_, _, known)| *known == label)
    {
        Some((_, _, known)) => t(lang, known),
        None => label.to_string(),
    }
}

/// The drop's pop-up: where, and when in its own time zone (with the zone's name, so a
/// shopper elsewhere reads it right), a map and the calendar file. Part of the card's
/// scrolling body: the card never grows.
pub fn popup_block(popup: &Popup, shop: &Shop) -> impl IntoView + use<> {
    let when = shop
        .formatter
        .time_range(popup.opens_at, popup.closes_at, &popup.timezone);
    let map = map_url(popup);
    // No `download` attribute: the server sends the file inline with its calendar type,
    // so phones open their calendar app instead of saving a file.
    let calendar = shop.calendar_url.borrow().clone().map(|url| {
        view! { <a href=url>{t(shop.lang, "Add to calendar")}</a> }
    });
    view! {
        <section part="popup" class="popup" aria-label=t(shop.lang, "Pop-up")>
            <p><strong>{popup.name.clone()}</strong>" · "{popup.address.clone()}</p>
            <p>{when}</p>
            <p class="links">
                <a href=map target="_blank" rel="noopener">{t(shop.lang, "Map")}</a>
                {calendar}
            </p>
        </section>
    }
}

/// Every testimonial and case study, shown in place of the offers (the card never grows).
#[component]
pub fn ReviewsDetails(shop: Rc<Shop>) -> impl IntoView {
    let trust = &shop.listing.trust;
    let testimonials = trust
        .testimonials
        .iter()
        .map(|testimonial| view! { <li class="review">{testimonial_text(shop.lang, testimonial)}</li> })
        .collect_view();
    let cases = trust
        .case_studies
        .iter()
        .map(|case| {
            let title = match &case.url {
                Some(url) => Either::Left(view! { <a href=url.clone() target="_blank" rel="noopener">{case.title.clone()}</a> }),
                None => Either::Right(case.title.clone()),
            };
            view! {
                <li class="case">{title}{case.metric.clone().map(|metric| view! { " " <strong class="metric">{metric}</strong> })}</li>
            }
        })
        .collect_view();
    view! {
        <section class="details" aria-label=t(shop.lang, "Reviews") tabindex="-1" hidden=true>
            <ul class="reviews">{testimonials}{cases}</ul>
        </section>
    }
}

/// One offer: a bundle with its price (and the struck-through usual price), or a retainer
/// with its tiers to choose from; its `checkout` button is its region's, at its end.
#[component]
pub fn OfferCard(offer: Offer, shop: Rc<Shop>, now: Timestamp) -> impl IntoView {
    let formatter = &shop.formatter;
    let body = match &offer.kind {
        OfferKind::Bundle(bundle) => {
            // The offer variant this visitor is shown (its price, usual price and items).
            let variant = shop.offer_variant(&offer.id);
            let variant = variant.as_deref().and_then(|id| bundle.variant(id));
            let (price, compare_at, items) = mighty_core::offer_variants::shown(bundle, variant);
            let compare_at = compare_at.map(|compare_at| {
                let usual = formatter.price(compare_at);
                view! {
                    <s class="compare"><span class="sr">{t(shop.lang, "Usual price")}</span>" "{usual}</s>
                }
            });
            let items = (!items.is_empty())
                .then(|| view! { <p class="items muted">{items.join(" · ")}</p> });
            // Shipping or pick-up, when both are allowed and the pop-up has not closed yet
            // (the server refuses a pick-up after it): a radio group read at the press,
            // shipping checked (the offer's usual way). Its own `<form>` scopes the group to
            // this offer, so the markup is static (leptos clones it from a template).
            let pickup_open = shop
                .listing
                .drop
                .as_ref()
                .and_then(|drop| drop.popup.as_ref())
                .is_some_and(|popup| now < popup.closes_at);
            let fulfilment = (pickup_open && bundle.fulfilment.is_choice()).then(|| {
                view! {
                    <form class="fulfil">
                        <fieldset>
                            <legend>{t(shop.lang, "Delivery")}</legend>
                            <label><input type="radio" name="fulfil" value="ship" checked/><span>{t(shop.lang, "Ship")}</span></label>
                            <label><input type="radio" name="fulfil" value="pickup"/><span>{t(shop.lang, "Pick up at the pop-up")}</span></label>
                        </fieldset>
                    </form>
                }
            });
            Either::Left(view! {
                <div class="offer-line">
                    <span class="offer-name">{offer.name.clone()}</span>
                    <span class="price">{compare_at}{formatter.price(price)}</span>
                </div>
                {items}
                {fulfilment}
            })
        }
        OfferKind::Retainer(retainer) => {
            let tiers = retainer
                .tiers
                .iter()
                .enumerate()
                .map(|(index, tier)| {
                    view! {
                        <TierLine tier=tier.clone() offer_id=offer.id.clone() formatter=formatter.clone() lang=shop.lang checked={index == 0}/>
                    }
                })
                .collect_view();
            Either::Right(view! {
                <div class="offer-line">
                    <span class="offer-name">{offer.name.clone()}</span>
                    <span class="muted">{t(shop.lang, "Membership")}</span>
                </div>
                <ul class="tiers" aria-label=tf(shop.lang, "{offer} plans", &[("offer", &offer.name)])>{tiers}</ul>
            })
        }
    };
    view! {
        <li part="offer" class="offer" data-offer-id=offer.id.clone()>
            {body}
        </li>
    }
}

/// An offer's checkout button, drawn from whether it can be bought now and its words
/// (`checkout::button_state`: the drop's phase, a sold-out found at checkout), with the
/// offer's name in its accessible name.
pub fn checkout_button(slot: web_sys::Element, offer_name: String) -> Region<(bool, String)> {
    Region::new(slot, move |(open, label): &(bool, String)| {
        view! {
            <button part="checkout" class="buy" type="button" disabled=!open
                aria-label=format!("{label}: {offer_name}")>
                {label.clone()}
            </button>
        }
    })
}

/// A retainer tier to choose: "Monthly — €15.00 / month". The checkout button reads which
/// one is checked when it is pressed.
#[component]
pub fn TierLine(
    tier: Tier,
    offer_id: String,
    formatter: Formatter,
    lang: &'static str,
    checked: bool,
) -> impl IntoView {
    let price = per_interval(lang, &formatter.price(tier.price), tier.interval);
    view! {
        <li>
            <label part="tier" class="tier" data-tier-id=tier.id.clone()>
                <input type="radio" name=format!("tier-{offer_id}") value=tier.id.clone() checked=checked/>
                <span class="tier-name">{tier.name.clone()}</span>
                <span class="price">{price}</span>
                {(!tier.perks.is_empty()).then(|| view! { <span class="perks">{tier.perks.join(" · ")}</span> })}
            </label>
        </li>
    }
}

/// What the checkout says (progress, errors, the confirmation): its live region, always
/// there so that screen readers announce each new text, and its row of at most two buttons
/// and a link.
pub fn panel(slot: web_sys::Element) -> Region<Panel> {
    Region::new(slot, |panel: &Panel| {
        let button = |button: &Option<(String, crate::shop::Action)>, class, slot| {
            button.as_ref().map(|(label, _)| {
                view! { <button type="button" class=class data-action=slot>{label.clone()}</button> }
            })
        };
        view! {
            <p part="status" class="status" data-tone=panel.tone.as_str() role="status" aria-live="polite">{panel.text.clone()}</p>
            <div class="actions">
                {button(&panel.primary, "buy", handles::PRIMARY)}
                {button(&panel.secondary, "plain", handles::SECONDARY)}
                {panel.link.clone().map(|(label, url)| view! { <a href=url target="_blank" rel="noopener">{label}</a> })}
            </div>
        }
    })
}

/// The drop line: "Opens in 1 d 02:03:04", "Ends in 05:06:07 · 12 left", "Sold out", "Ended".
pub fn drop_text(lang: &str, phase: DropPhase) -> String {
    let clock = |seconds: i64| {
        let Countdown {
            days,
            hours,
            minutes,
            seconds,
        } = countdown(seconds);
        let time = format!("{hours:02}:{minutes:02}:{seconds:02}");
        if days > 0 {
            tf(
                lang,
                "{days} d {time}",
                &[("days", &days.to_string()), ("time", &time)],
            )
        } else {
            time
        }
    };
    match phase {
        DropPhase::Upcoming { starts_in_seconds } => tf(
            lang,
            "Drop opens in {time}",
            &[("time", &clock(starts_in_seconds))],
        ),
        DropPhase::Live {
            ends_in_seconds,
            remaining,
        } => match remaining {
            Some(left) => tf(
                lang,
                "Drop ends in {time} · {left} left",
                &[
                    ("time", &clock(ends_in_seconds)),
                    ("left", &left.to_string()),
                ],
            ),
            None => tf(
                lang,
                "Drop ends in {time}",
                &[("time", &clock(ends_in_seconds))],
            ),
        },
        DropPhase::SoldOut => t(lang, "Drop sold out"),
        DropPhase::Ended => t(lang, "This drop has ended"),
    }
}

/// What shows in the card's box while the listing loads.
#[component]
pub fn LoadingCard(theme: Theme) -> impl IntoView {
    view! {
        <div class="root" data-theme=theme.as_str() lang="en" dir="ltr">
            <div class="skeleton" aria-busy="true" aria-label="Loading">
                <div class="bar wide"></div>
                <div class="bar"></div>
                <div class="bar block"></div>
            </div>
        </div>
    }
}

/// The config-error notice, for the site owner: what is wrong, where, and the fix.
#[component]
pub fn ConfigNotice(
    errors: ConfigErrors,
    theme: Theme,
    #[prop(optional)] inline: bool,
) -> impl IntoView {
    let first = errors.first().clone();
    let more = errors.0.len() - 1;
    let more = (more > 0).then(|| view! { <p class="muted">{format!("…and {more} more problem(s); see the browser console.")}</p> });
    view! {
        <div class="root" class:inline-notice=inline data-theme=theme.as_str() lang="en" dir="ltr">
            <div part="notice" class="notice" role="alert">
                <strong>"Mighty widget: configuration error"</strong>
                <p class="message">
                    {(!first.at.is_empty()).then(|| view! { <code>{first.at.clone()}</code> " " })}
                    {first.message.clone()}
                </p>
                {more}
            </div>
        </div>
    }
}
