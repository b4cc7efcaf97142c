//! `GET /manage/{customer_token}`: the shopper's own page for their subscription, with upgrade
//! and cancel as plain forms (no JavaScript needed). The token in the URL is the credential.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use mighty_core::listing::OfferKind;
use mighty_core::{Currency, Money, Timestamp};

use crate::AppState;
use crate::error::AppError;
use crate::html::{Layout, error_page, shell};
use crate::same_origin::SameOrigin;
use crate::store::Subscription;
use crate::throttle::ClientAddress;

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

async fn render(
    state: &AppState,
    token: &str,
    subscription: &Subscription,
    notice: Option<&str>,
) -> Response {
    let listing_id = subscription.listing_id.clone();
    let stored = match state.store(move |store| store.listing(&listing_id)).await {
        Ok(stored) => stored,
        Err(error) => return error.into_response(),
    };
    let listing =
        stored.and_then(|stored| mighty_core::parse_listing(&stored.document.to_string()).ok());
    let title = listing
        .as_ref()
        .map_or(subscription.listing_id.clone(), |listing| {
            listing.title.clone()
        });
    let upgrades: Vec<_> = listing
        .as_ref()
        .and_then(|listing| listing.offer(&subscription.offer_id))
        .and_then(|offer| match &offer.kind {
            OfferKind::Retainer(retainer) => Some(retainer.tiers.clone()),
            OfferKind::Bundle(_) => None,
        })
        .unwrap_or_default()
        .into_iter()
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
    let body = html! {
        h1 { "Your membership" }
        @if let Some(text) = notice {
            p class="alert" role="status" { (text) }
        }
        section class="summary receipt" {
            dl {
                dt { "Listing" } dd { (title) }
                dt { "Tier" } dd { (subscription.tier_id) }
                dt { "Price" } dd { (amount(subscription.price, &subscription.currency)) " / " (subscription.interval) }
                dt { "Status" } dd { (subscription.status) }
                dt { "Current period ends" } dd { (Timestamp(subscription.current_period_end).to_rfc3339()) }
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
        @if subscription.status == "active" {
            form class="inline" method="post" action={ "/manage/" (token) "/cancel" } {
                button class="secondary" type="submit" { "Cancel the membership" }
            }
        }
    };
    shell(
        Layout::hosted(state.config().test_mode()),
        "Your membership",
        StatusCode::OK,
        body,
    )
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
        let hash = crate::http::request_hash(tier_id.as_bytes());
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
