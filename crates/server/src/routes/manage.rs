//! `GET /manage/{customer_token}`: the shopper's own page for their subscription, with upgrade,
//! resume and cancel as plain forms (no JavaScript needed). The token in the URL is the
//! credential. Cancelling opens one screen (`/cancel`) where "Cancel now" is one click, with a
//! pause and the lower tiers offered beside it, priced: retention by value, never by friction
//! (issue 15).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mighty_core::listing::{Interval, OfferKind, Tier};
use mighty_core::retention;
use mighty_core::{Currency, Money, Timestamp};

use crate::AppState;
use crate::error::AppError;
use crate::html::{Layout, error_page, shell};
use crate::same_origin::SameOrigin;
use crate::store::Subscription;
use crate::throttle::ClientAddress;

use super::retention as retention_routes;

fn amount(minor: i64, currency: &str) -> String {
    Currency::from_code(currency).map_or_else(
        || format!("{minor} {currency}"),
        |currency| Money::new(minor, currency).to_string(),
    )
}

/// The subscription of a customer token. An unknown token is a failed attempt of `client`
/// (`throttle`); past the limit, even a right token is `429 rate_limited`.
async fn subscription_for(
    state: &AppState,
    client: ClientAddress,
    token: &str,
) -> Result<Subscription, AppError> {
    state.failed_attempts().check(client)?;
    let lookup = token.to_string();
    let subscription = state
        .store(move |store| store.subscription_by_customer_token(&lookup))
        .await?;
    subscription.ok_or_else(|| {
        state.failed_attempts().record_failure(client);
        AppError::NotFound("no subscription for this link".into())
    })
}

#[utoipa::path(
    get, path = "/manage/{customer_token}", tag = "pages", operation_id = "manage_page",
    description = "The shopper's page: their membership, upgrade and cancel buttons (plain forms).",
    params(("customer_token" = String, Path, description = "The customer token.")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientAddress,
) -> Response {
    match subscription_for(&state, client, &token).await {
        Ok(subscription) => render(&state, &token, &subscription, None).await,
        Err(error) => not_found_page(&state, &error),
    }
}

fn not_found_page(state: &AppState, error: &AppError) -> Response {
    let (title, heading) = match error {
        AppError::RateLimited { .. } => ("Try again later", "Too many attempts"),
        _ => ("Not found", "Subscription not found"),
    };
    let body = html! {
        h1 { (heading) }
        p { (error.to_string()) }
    };
    error_page(
        Layout::hosted(state.config().test_mode()),
        title,
        error,
        body,
    )
}

/// A day as the shopper reads it: `15 April 2026` (UTC, as the period ends are kept).
fn day(seconds: i64) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let text = Timestamp(seconds).to_rfc3339();
    let (year, month, date) = (&text[0..4], &text[5..7], &text[8..10]);
    let month = month
        .parse::<usize>()
        .ok()
        .and_then(|month| MONTHS.get(month.wrapping_sub(1)))
        .copied()
        .unwrap_or(month);
    format!("{} {month} {year}", date.trim_start_matches('0'))
}

/// The listing's title and its retainer's tiers (empty when the listing is gone).
async fn listing_and_tiers(
    state: &AppState,
    subscription: &Subscription,
) -> Result<(String, Vec<Tier>), AppError> {
    let listing_id = subscription.listing_id.clone();
    let stored = state.store(move |store| store.listing(&listing_id)).await?;
    let listing =
        stored.and_then(|stored| mighty_core::parse_listing(&stored.document.to_string()).ok());
    let title = listing
        .as_ref()
        .map_or(subscription.listing_id.clone(), |listing| {
            listing.title.clone()
        });
    let tiers = listing
        .as_ref()
        .and_then(|listing| listing.offer(&subscription.offer_id))
        .and_then(|offer| match &offer.kind {
            OfferKind::Retainer(retainer) => Some(retainer.tiers.clone()),
            OfferKind::Bundle(_) => None,
        })
        .unwrap_or_default();
    Ok((title, tiers))
}

fn tier_name(tiers: &[Tier], tier_id: &str) -> String {
    tiers
        .iter()
        .find(|tier| tier.id == tier_id)
        .map_or_else(|| tier_id.to_string(), |tier| tier.name.clone())
}

async fn render(
    state: &AppState,
    token: &str,
    subscription: &Subscription,
    notice: Option<&str>,
) -> Response {
    let (title, tiers) = match listing_and_tiers(state, subscription).await {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let upgrades: Vec<_> = tiers
        .iter()
        .filter(|tier| tier.price.minor > subscription.price && subscription.status == "active")
        .filter_map(|tier| {
            // A price the arithmetic refuses (out of a listing's bounds) is not offered.
            let due = mighty_core::proration::prorated_amount_due(
                subscription.price,
                tier.price.minor,
                Timestamp(subscription.current_period_start),
                Timestamp(subscription.current_period_end),
                state.now_for(&subscription.seller_id),
            )?;
            Some((tier, amount(due, &subscription.currency)))
        })
        .collect();
    if !upgrades.is_empty() {
        // The amounts shown are what an upgrade charges (live mode: its `proration_date`).
        crate::live::record_quote(state, subscription).await;
    }
    let per_period = |price: i64| {
        format!(
            "{} / {}",
            amount(price, &subscription.currency),
            subscription.interval
        )
    };
    let status = match (subscription.status.as_str(), subscription.paused_until) {
        ("paused", Some(until)) => format!("Paused until {}", day(until)),
        // A pause set in Stripe's dashboard may have no end.
        ("paused", None) => "Paused until you resume it".to_string(),
        ("active", _) => "Active".to_string(),
        ("canceled", _) => "Canceled".to_string(),
        (other, _) => other.to_string(),
    };
    let body = html! {
        h1 { "Your membership" }
        @if let Some(text) = notice {
            p class="alert" role="status" { (text) }
        }
        section class="summary receipt" aria-label="Membership" {
            dl {
                dt { "Listing" } dd { (title) }
                dt { "Tier" } dd { (tier_name(&tiers, &subscription.tier_id)) }
                dt { "Price" } dd { (per_period(subscription.price)) }
                dt { "Status" } dd data-status=(subscription.status) { (status) }
                @if subscription.status != "canceled" {
                    dt { "Current period ends" } dd { (day(subscription.current_period_end)) }
                }
            }
        }
        @if let (Some(from), "paused") = (subscription.pause_starts_at, subscription.status.as_str()) {
            section class="summary" aria-labelledby="paused-heading" {
                @if let Some(until) = subscription.paused_until {
                    h2 id="paused-heading" { "Paused until " (day(until)) }
                    p {
                        "No charge from " (day(from)) " until " (day(until)) "; your membership comes back by itself then, at "
                        (per_period(subscription.pending_price.unwrap_or(subscription.price))) "."
                    }
                } @else {
                    h2 id="paused-heading" { "Paused" }
                    p {
                        "No charge from " (day(from)) " until you resume; then at "
                        (per_period(subscription.pending_price.unwrap_or(subscription.price))) "."
                    }
                }
                form class="inline" method="post" action={ "/manage/" (token) "/resume" } {
                    input type="hidden" name="key" value=(crate::store::new_id("manage"));
                    button type="submit" { "Resume now" }
                }
            }
        }
        @if let (Some(pending), Some(price)) = (&subscription.pending_tier_id, subscription.pending_price) {
            section class="summary" aria-labelledby="pending-heading" {
                h2 id="pending-heading" { "Moving to " (tier_name(&tiers, pending)) " on " (day(subscription.current_period_end)) }
                p { "From then on: " (per_period(price)) ". Nothing is charged for the change." }
                @if subscription.status == "active" {
                    form class="inline" method="post" action={ "/manage/" (token) "/upgrade" } {
                        input type="hidden" name="tier_id" value=(subscription.tier_id);
                        input type="hidden" name="key" value=(crate::store::new_id("manage"));
                        button class="secondary" type="submit" { "Keep " (tier_name(&tiers, &subscription.tier_id)) " instead" }
                    }
                }
            }
        }
        @for (tier, due) in &upgrades {
            form class="inline" method="post" action={ "/manage/" (token) "/upgrade" } {
                input type="hidden" name="tier_id" value=(tier.id);
                input type="hidden" name="key" value=(crate::store::new_id("manage"));
                button type="submit" {
                    "Upgrade to " (tier.name) " (" (tier.price.to_string()) " / " (tier.interval.as_str()) "); due now: " (due)
                }
            }
        }
        @if let Some(offers) = retention_offers(token, subscription, &tiers, false) {
            // Offered here too, folded (no script: `details`); chosen here it is not a save.
            details class="summary" {
                summary { "Take a break or pay less" }
                (offers)
            }
        }
        @if subscription.status != "canceled" {
            // A link to the cancel screen (a GET changes nothing): the offers and the
            // one-click cancel are on that one screen.
            p { a class="button secondary" href={ "/manage/" (token) "/cancel" } { "Cancel the membership" } }
        }
    };
    shell(
        Layout::hosted(state.config().test_mode()),
        "Your membership",
        StatusCode::OK,
        body,
    )
}

/// What a membership could keep instead of ending: a pause of one to three months (when
/// it resumes, at what price) and each lower tier with its price per period, as plain forms;
/// `None` when there is nothing to offer. On the cancel screen (`instead_of_cancel`) a choice
/// is recorded as a save.
fn retention_offers(
    token: &str,
    subscription: &Subscription,
    tiers: &[Tier],
    instead_of_cancel: bool,
) -> Option<Markup> {
    let interval = Interval::parse(&subscription.interval).unwrap_or(Interval::Month);
    let per_period = |price: i64| {
        format!(
            "{} / {}",
            amount(price, &subscription.currency),
            subscription.interval
        )
    };
    // What resumes after a pause: the waiting lower tier's price if one was chosen.
    let resumes_price = subscription.pending_price.unwrap_or(subscription.price);
    let pauses: Vec<(u8, i64)> = if subscription.status == "active" && retention::pausable(interval)
    {
        (1..=3u8)
            .map(|months| {
                let window = retention::pause_window(
                    Timestamp(subscription.billing_anchor),
                    Timestamp(subscription.current_period_end),
                    interval,
                    months,
                );
                (months, window.resumes_at.0)
            })
            .collect()
    } else {
        Vec::new()
    };
    let lower: Vec<&Tier> = if subscription.status == "canceled" {
        Vec::new()
    } else {
        retention::lower_tiers(tiers, subscription.price, interval)
            .into_iter()
            .filter(|tier| subscription.pending_tier_id.as_deref() != Some(tier.id.as_str()))
            .collect()
    };
    if pauses.is_empty() && lower.is_empty() {
        return None;
    }
    // Ids stay unique when both pages' offers are ever on one page.
    let suffix = if instead_of_cancel { "" } else { "-now" };
    Some(html! {
        @if !pauses.is_empty() {
            section class="summary" aria-labelledby={ "pause-heading" (suffix) } {
                h3 id={ "pause-heading" (suffix) } { "Take a break" }
                p class="hint" {
                    "Nothing is charged while paused. You keep what you paid for until "
                    (day(subscription.current_period_end)) "; it comes back by itself at " (per_period(resumes_price)) "."
                }
                @for (months, resumes_at) in &pauses {
                    form class="inline" method="post" action={ "/manage/" (token) "/pause" } {
                        input type="hidden" name="months" value=(months);
                        @if instead_of_cancel {
                            input type="hidden" name="instead_of_cancel" value="1";
                        }
                        input type="hidden" name="key" value=(crate::store::new_id("manage"));
                        button class="secondary" type="submit" data-months=(months) {
                            "Pause for " (months) @if *months == 1 { " month" } @else { " months" }
                            " (back on " (day(*resumes_at)) ")"
                        }
                    }
                }
            }
        }
        @if !lower.is_empty() {
            section class="summary" aria-labelledby={ "lower-heading" (suffix) } {
                h3 id={ "lower-heading" (suffix) } { "Move to a lower tier" }
                p class="hint" { "From " (day(subscription.current_period_end)) ", with nothing charged for the change." }
                @for tier in &lower {
                    form class="inline" method="post" action={ "/manage/" (token) "/downgrade" } {
                        input type="hidden" name="tier_id" value=(tier.id);
                        @if instead_of_cancel {
                            input type="hidden" name="instead_of_cancel" value="1";
                        }
                        input type="hidden" name="key" value=(crate::store::new_id("manage"));
                        button class="secondary" type="submit" data-tier=(tier.id) {
                            "Switch to " (tier.name) ": " (per_period(tier.price.minor))
                        }
                    }
                }
            }
        }
    })
}

/// `GET /manage/{customer_token}/cancel`: the shopper started to cancel. One screen: "Cancel
/// now" first, one click, never hidden; beside it, what they could keep instead: a pause of
/// one to three months (what resumes, and when) and each lower tier with its price per
/// period (from the period's end). Choosing one of those is recorded as a save.
#[utoipa::path(
    get, path = "/manage/{customer_token}/cancel", tag = "pages", operation_id = "manage_cancel_screen",
    description = "The manage page's cancel screen: a one-click \"Cancel now\" and, on the same screen, a pause of 1 to 3 months and each lower tier with its price (plain forms).",
    params(("customer_token" = String, Path, description = "The customer token.")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 303, description = "Back to the manage page (the membership is canceled already)."), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn cancel_screen(
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientAddress,
) -> Response {
    let subscription = match subscription_for(&state, client, &token).await {
        Ok(subscription) => subscription,
        Err(error) => return not_found_page(&state, &error),
    };
    if subscription.status == "canceled" {
        return Redirect::to(&format!("/manage/{token}")).into_response();
    }
    let (title, tiers) = match listing_and_tiers(&state, &subscription).await {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let per_period = |price: i64| {
        format!(
            "{} / {}",
            amount(price, &subscription.currency),
            subscription.interval
        )
    };
    let offers = retention_offers(token.as_str(), &subscription, &tiers, true);
    let body = html! {
        h1 { "Cancel your membership" }
        p { (title) " · " (tier_name(&tiers, &subscription.tier_id)) " · " (per_period(subscription.price)) }
        form class="inline" method="post" action={ "/manage/" (token) "/cancel" } {
            button class="danger" type="submit" { "Cancel now" }
        }
        p class="hint" { "Cancelling ends the membership at once; nothing more is charged." }
        @if let Some(offers) = offers {
            h2 { "Or keep it for less" }
            (offers)
        }
        p { a href={ "/manage/" (token) } { "Keep my membership as it is" } }
    };
    shell(
        Layout::hosted(state.config().test_mode()),
        "Cancel your membership",
        StatusCode::OK,
        body,
    )
}

/// A retention form's post (pause, resume, downgrade): same-origin only, idempotent by the
/// form's key; back to the manage page, or the page with what went wrong.
async fn retention_post(
    state: &AppState,
    token: &str,
    client: ClientAddress,
    ask: retention_routes::Ask,
    form: &HashMap<String, String>,
) -> Response {
    let subscription = match subscription_for(state, client, token).await {
        Ok(subscription) => subscription,
        Err(error) => return error.into_response(),
    };
    let key = form
        .get("key")
        .cloned()
        .unwrap_or_else(|| crate::store::new_id("manage"));
    // The same choice under the same key is one change, however often it is posted.
    let hash = crate::http::request_hash(ask.fingerprint().as_bytes());
    match retention_routes::apply(state, &subscription, &ask, &key, &hash).await {
        Ok(_) => Redirect::to(&format!("/manage/{token}")).into_response(),
        Err(error) => render(state, token, &subscription, Some(&error.to_string())).await,
    }
}

fn instead_of_cancel(form: &HashMap<String, String>) -> bool {
    form.get("instead_of_cancel")
        .is_some_and(|value| value == "1")
}

/// The cancel screen's pause form.
#[utoipa::path(
    post, path = "/manage/{customer_token}/pause", tag = "pages", operation_id = "manage_pause",
    description = "The manage page's pause form (same-origin only).",
    params(("customer_token" = String, Path, description = "The customer token.")),
    request_body(content = crate::openapi::schemas::ManagePauseForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The page, saying what went wrong.", content_type = "text/html", body = String), (status = 303, description = "Back to the manage page."), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn pause(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientAddress,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let months = form
        .get("months")
        .and_then(|months| months.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let ask = retention_routes::Ask::Pause {
        months,
        instead_of_cancel: instead_of_cancel(&form),
    };
    retention_post(&state, &token, client, ask, &form).await
}

/// The manage page's resume form.
#[utoipa::path(
    post, path = "/manage/{customer_token}/resume", tag = "pages", operation_id = "manage_resume",
    description = "The manage page's resume form (same-origin only).",
    params(("customer_token" = String, Path, description = "The customer token.")),
    request_body(content = crate::openapi::schemas::ManageKeyForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The page, saying what went wrong.", content_type = "text/html", body = String), (status = 303, description = "Back to the manage page."), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn resume(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientAddress,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    retention_post(&state, &token, client, retention_routes::Ask::Resume, &form).await
}

/// The cancel screen's lower-tier form.
#[utoipa::path(
    post, path = "/manage/{customer_token}/downgrade", tag = "pages", operation_id = "manage_downgrade",
    description = "The manage page's lower-tier form (same-origin only).",
    params(("customer_token" = String, Path, description = "The customer token.")),
    request_body(content = crate::openapi::schemas::ManageDowngradeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The page, saying what went wrong.", content_type = "text/html", body = String), (status = 303, description = "Back to the manage page."), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn downgrade(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientAddress,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let ask = retention_routes::Ask::Downgrade {
        tier_id: form.get("tier_id").cloned().unwrap_or_default(),
        instead_of_cancel: instead_of_cancel(&form),
    };
    retention_post(&state, &token, client, ask, &form).await
}

/// The upgrade form's post (same-origin only: an upgrade is a charge).
#[utoipa::path(
    post, path = "/manage/{customer_token}/upgrade", tag = "pages", operation_id = "manage_upgrade",
    description = "The manage page's upgrade form (same-origin only).",
    params(("customer_token" = String, Path, description = "The customer token.")),
    request_body(content = crate::openapi::schemas::ManageUpgradeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The page after the change.", content_type = "text/html", body = String), (status = 303, description = "Back to the manage page."), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn upgrade(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientAddress,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let subscription = match subscription_for(&state, client, &token).await {
        Ok(subscription) => subscription,
        Err(error) => return error.into_response(),
    };
    let result = async {
        let tier_id = form.get("tier_id").cloned().unwrap_or_default();
        let key = form
            .get("key")
            .cloned()
            .unwrap_or_else(|| crate::store::new_id("manage"));
        // Named as a change: the key scope is shared with pause, resume and downgrade.
        let hash = crate::http::request_hash(format!("upgrade tier_id={tier_id}").as_bytes());
        super::subscriptions::change_tier(&state, &subscription, &tier_id, &key, &hash).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/manage/{token}")).into_response(),
        Err(error) => render(&state, &token, &subscription, Some(&error.to_string())).await,
    }
}

/// The cancel form's post (same-origin only).
#[utoipa::path(
    post, path = "/manage/{customer_token}/cancel", tag = "pages", operation_id = "manage_cancel",
    description = "The manage page's cancel form (same-origin only).",
    params(("customer_token" = String, Path, description = "The customer token.")),
    responses((status = 200, description = "The page after the change.", content_type = "text/html", body = String), (status = 303, description = "Back to the manage page."), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn cancel(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientAddress,
) -> Response {
    let result = async {
        let subscription = subscription_for(&state, client, &token).await?;
        super::subscriptions::cancel_now(&state, &subscription).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/manage/{token}")).into_response(),
        Err(error) => error.into_response(),
    }
}
