//! `GET /manage/{customer_token}`: the shopper's own page for their subscription, with upgrade
//! and cancel as plain forms (no JavaScript needed). The token in the URL is the credential.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mighty_core::listing::OfferKind;
use mighty_core::{Currency, Money, Timestamp};

use super::{escape_html, hosted_page};
use crate::AppState;
use crate::error::AppError;
use crate::store::Subscription;

fn amount(minor: i64, currency: &str) -> String {
    Currency::from_code(currency).map_or_else(
        || format!("{minor} {currency}"),
        |currency| Money::new(minor, currency).to_string(),
    )
}

async fn subscription_for(state: &AppState, token: &str) -> Result<Subscription, AppError> {
    let lookup = token.to_string();
    state
        .store(move |store| store.subscription_by_customer_token(&lookup))
        .await?
        .ok_or_else(|| AppError::NotFound("no subscription for this link".into()))
}

pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match render(&state, &token, None).await {
        Ok(response) => response,
        Err(error) => hosted_page(
            "Not found",
            &format!(
                "<h1>Subscription not found</h1><p>{}</p>",
                escape_html(&error.to_string())
            ),
            error.status(),
            false,
        ),
    }
}

async fn render(state: &AppState, token: &str, notice: Option<&str>) -> Result<Response, AppError> {
    let subscription = subscription_for(state, token).await?;
    let listing_id = subscription.listing_id.clone();
    let stored = state.store(move |store| store.listing(&listing_id)).await?;
    let listing =
        stored.and_then(|stored| mighty_core::parse_listing(&stored.document.to_string()).ok());
    let title = listing
        .as_ref()
        .map_or(subscription.listing_id.clone(), |listing| {
            listing.title.clone()
        });
    let upgrades: String = listing
        .as_ref()
        .and_then(|listing| listing.offer(&subscription.offer_id))
        .and_then(|offer| match &offer.kind {
            OfferKind::Retainer(retainer) => Some(retainer.tiers.clone()),
            OfferKind::Bundle(_) => None,
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|tier| tier.price.minor > subscription.price && subscription.status == "active")
        .map(|tier| {
            let due = mighty_core::proration::prorated_amount_due(
                subscription.price,
                tier.price.minor,
                Timestamp(subscription.current_period_start),
                Timestamp(subscription.current_period_end),
                state.now(),
            );
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/manage/{token}/upgrade\"><input type=\"hidden\" name=\"tier_id\" value=\"{id}\">\
                 <input type=\"hidden\" name=\"key\" value=\"{key}\"><button type=\"submit\">Upgrade to {name} ({price} / {interval}); due now: {due}</button></form>",
                token = escape_html(token),
                id = escape_html(&tier.id),
                key = escape_html(&crate::store::new_id("manage")),
                name = escape_html(&tier.name),
                price = escape_html(&tier.price.to_string()),
                interval = tier.interval.as_str(),
                due = escape_html(&amount(due, &subscription.currency)),
            )
        })
        .collect();
    let cancel = if subscription.status == "active" {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/manage/{}/cancel\"><button class=\"secondary\" type=\"submit\">Cancel the membership</button></form>",
            escape_html(token)
        )
    } else {
        String::new()
    };
    let notice = notice
        .map(|text| {
            format!(
                "<p class=\"alert\" role=\"status\">{}</p>",
                escape_html(text)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>Your membership</h1>{notice}<section class=\"summary receipt\"><dl>\
         <dt>Listing</dt><dd>{title}</dd><dt>Tier</dt><dd>{tier}</dd><dt>Price</dt><dd>{price} / {interval}</dd>\
         <dt>Status</dt><dd>{status}</dd><dt>Current period ends</dt><dd>{end}</dd></dl></section>{upgrades}{cancel}",
        title = escape_html(&title),
        tier = escape_html(&subscription.tier_id),
        price = escape_html(&amount(subscription.price, &subscription.currency)),
        interval = escape_html(&subscription.interval),
        status = escape_html(&subscription.status),
        end = Timestamp(subscription.current_period_end).to_rfc3339(),
    );
    Ok(hosted_page("Your membership", &body, StatusCode::OK, false))
}

pub async fn upgrade(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = async {
        let subscription = subscription_for(&state, &token).await?;
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
        Err(error) => match render(&state, &token, Some(&error.to_string())).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        },
    }
}

pub async fn cancel(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let result = async {
        let subscription = subscription_for(&state, &token).await?;
        let now = state.now().0;
        state
            .store(move |store| store.cancel_subscription(&subscription.id, now))
            .await
    }
    .await;
    state.outbox_changed();
    match result {
        Ok(_) => Redirect::to(&format!("/manage/{token}")).into_response(),
        Err(error) => error.into_response(),
    }
}
