//! Subscriptions: `POST /v1/subscriptions/{id}/upgrade` (prorated tier change, SPEC section
//! 4), `POST /v1/subscriptions/{id}/cancel`, `GET /v1/subscriptions/{id}`, and retention by
//! value (issue 15): `.../pause`, `.../resume` and `.../downgrade`. Authorized by the
//! subscription's customer token or its seller's token.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mighty_core::Timestamp;
use mighty_core::listing::OfferKind;
use mighty_core::proration::prorated_amount_due;
use mighty_core::protocol::{UpgradeRequest, UpgradeResponse};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::{JsonBody, bearer_token, cors_for_listing, idempotency_key, request_hash};
use crate::store::{StoredResponse, Subscription};
use crate::throttle::ClientAddress;

/// The JSON form of a subscription.
pub fn subscription_json(subscription: &Subscription) -> Value {
    let mut body = json!({
        "subscription_id": subscription.id, "status": subscription.status, "listing_id": subscription.listing_id,
        "offer_id": subscription.offer_id, "tier_id": subscription.tier_id, "price": subscription.price,
        "currency": subscription.currency, "interval": subscription.interval,
        "current_period_start": Timestamp(subscription.current_period_start).to_rfc3339(),
        "current_period_end": Timestamp(subscription.current_period_end).to_rfc3339(),
        "creator": subscription.creator, "creator_verified": subscription.creator_verified,
        "canceled_at": subscription.canceled_at.map(|at| Timestamp(at).to_rfc3339()),
    });
    crate::store::add_retention_fields(subscription, &mut body);
    body
}

/// The hash of a change's request: its kind and its body, so that under the one key scope of
/// a subscription (`subscription_change_scope`) an upgrade and a downgrade with the same body
/// are different requests.
pub(crate) fn change_hash(kind: &str, raw: &[u8]) -> String {
    request_hash(&[kind.as_bytes(), b"\n", raw].concat())
}

/// Loads a subscription the bearer may act on: its customer's token or its seller's. A token
/// that is neither a customer's nor a seller's counts as a failed attempt of `client`
/// (`throttle`), which past the limit is refused before any token is looked at.
pub(crate) async fn authorized(
    state: &AppState,
    headers: &HeaderMap,
    client: ClientAddress,
    id: &str,
) -> Result<Subscription, AppError> {
    let token = bearer_token(headers)
        .ok_or_else(|| {
            AppError::Unauthorized(
                "send the customer token (or the seller token) as Authorization: Bearer <token>"
                    .into(),
            )
        })?
        .to_string();
    state.failed_attempts().check(client)?;
    let lookup = id.to_string();
    let subscription = state
        .store(move |store| store.subscription(&lookup))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no subscription {id}")))?;
    if crate::store::hash_secret(&token) == subscription.customer_token_hash {
        return Ok(subscription);
    }
    let (seller, customer) = state
        .store(move |store| {
            Ok((
                store.seller_by_token(&token)?,
                store.subscription_by_customer_token(&token)?,
            ))
        })
        .await?;
    match (seller, customer) {
        (Some(seller), _) if seller.id == subscription.seller_id => Ok(subscription),
        // A real token, of another seller or of another subscription's customer.
        (Some(_), _) | (None, Some(_)) => Err(AppError::Forbidden(format!(
            "subscription {id} is not yours"
        ))),
        (None, None) => {
            state.failed_attempts().record_failure(client);
            Err(AppError::Unauthorized(
                "the token is not valid for this subscription".into(),
            ))
        }
    }
}

async fn listing_origins(state: &AppState, listing_id: &str) -> Result<Vec<String>, AppError> {
    let listing_id = listing_id.to_string();
    Ok(state
        .store(move |store| store.listing(&listing_id))
        .await?
        .map(|listing| listing.allowed_origins)
        .unwrap_or_default())
}

/// Changes a subscription to `tier_id` under `key` (shared by the API and the manage page).
pub async fn change_tier(
    state: &AppState,
    subscription: &Subscription,
    tier_id: &str,
    key: &str,
    hash: &str,
) -> Result<StoredResponse, AppError> {
    // A key already used answers as it did (or conflicts) before any other check.
    let (scope, lookup_key) = (
        crate::store::subscription_change_scope(&subscription.id),
        key.to_string(),
    );
    if let Some((stored_hash, response)) = state
        .store(move |store| store.stored_response(&scope, &lookup_key))
        .await?
    {
        return if stored_hash == hash {
            Ok(response)
        } else {
            Err(AppError::conflict(
                "idempotency_conflict",
                "this Idempotency-Key was used with another body",
            ))
        };
    }
    let listing_id = subscription.listing_id.clone();
    let stored = state
        .store(move |store| store.listing(&listing_id))
        .await?
        .ok_or_else(|| AppError::NotFound("the subscription's listing is gone".into()))?;
    let listing = mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(errors.to_string()))?;
    let tier = listing
        .offer(&subscription.offer_id)
        .and_then(|offer| match &offer.kind {
            OfferKind::Retainer(retainer) => retainer
                .tiers
                .iter()
                .find(|tier| tier.id == tier_id)
                .cloned(),
            OfferKind::Bundle(_) => None,
        })
        .ok_or_else(|| {
            AppError::invalid(
                "tier_id",
                format!(
                    "retainer \"{}\" has no tier \"{tier_id}\"",
                    subscription.offer_id
                ),
            )
        })?;
    if tier.id != subscription.tier_id && tier.price.minor < subscription.price {
        return Err(AppError::invalid(
            "tier_id",
            format!("\"{tier_id}\" costs less than the current tier: only upgrades are offered"),
        ));
    }
    // Live mode: Stripe changes the same subscription and charges the difference first, at
    // the instant the price was shown; Mighty records it as the sandbox does.
    let keeps_tier = tier.id == subscription.tier_id && subscription.pending_tier_id.is_some();
    let (now, partner_invoice) = if state.config().live().is_some() && keeps_tier {
        // Choosing the current tier again calls the waiting downgrade off: Stripe's item
        // price goes back, nothing charged.
        if subscription.status != "active" {
            return Err(AppError::conflict(
                "conflict",
                format!(
                    "subscription {} is {}",
                    subscription.id, subscription.status
                ),
            ));
        }
        crate::live::call_off_downgrade(state, subscription, key).await?;
        (state.now_for(&subscription.seller_id), None)
    } else if state.config().live().is_some() {
        if subscription.status != "active" || tier.id == subscription.tier_id {
            return Err(AppError::conflict(
                "conflict",
                format!(
                    "subscription {} is {} on tier {}",
                    subscription.id, subscription.status, subscription.tier_id
                ),
            ));
        }
        if subscription.pending_tier_id.is_some() {
            // Stripe prorates from the item's price, which a waiting downgrade lowered.
            crate::live::call_off_downgrade(state, subscription, key).await?;
        }
        let upgrade =
            crate::live::upgrade(state, subscription, &tier.id, tier.price.minor, key).await?;
        (
            Timestamp(upgrade.proration_date),
            upgrade
                .invoice
                .map(|invoice| (invoice, upgrade.payment_intent)),
        )
    } else {
        (state.now_for(&subscription.seller_id), None)
    };
    let (subscription_id, tier_id, key, hash) = (
        subscription.id.clone(),
        tier.id.clone(),
        key.to_string(),
        hash.to_string(),
    );
    let new_price = tier.price.minor;
    let result = state
        .store(move |store| {
            store.change_tier(
                &subscription_id,
                &key,
                &hash,
                &tier_id,
                new_price,
                &|current| {
                    prorated_amount_due(
                        current.price,
                        new_price,
                        Timestamp(current.current_period_start),
                        Timestamp(current.current_period_end),
                        now,
                    )
                },
                now.0,
                &|updated, amount_due| {
                    let body = UpgradeResponse {
                        subscription_id: updated.id.clone(),
                        tier_id: updated.tier_id.clone(),
                        amount_due,
                    };
                    StoredResponse {
                        status: 200,
                        body: serde_json::to_string(&body).unwrap_or_default(),
                    }
                },
                partner_invoice
                    .as_ref()
                    .map(|(invoice, payment_intent)| (invoice.as_str(), payment_intent.as_deref())),
            )
        })
        .await;
    state.outbox_changed();
    match result {
        Ok(response) => Ok(response),
        Err(AppError::Conflict { message, .. }) if message == "idempotency_conflict" => {
            Err(AppError::conflict(
                "idempotency_conflict",
                "this Idempotency-Key was used with another body",
            ))
        }
        Err(other) => Err(other),
    }
}

#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/upgrade", tag = "subscriptions", operation_id = "upgrade_subscription",
    description = "Moves the subscription to a higher-priced tier of the same retainer, charging `amount_due` now (SPEC section 4); never a second subscription. Idempotent by key.",
    params(
        ("id" = String, Path, description = "The subscription id."),
        ("Idempotency-Key" = String, Header, description = "Required."),
    ),
    request_body = crate::openapi::schemas::UpgradeRequest,
    security(("customer" = []), ("seller" = [])),
    responses(
        (status = 200, description = "Upgraded.", body = crate::openapi::schemas::UpgradeResponse),
        (status = 401, description = "`unauthorized`: no token, or an unknown one.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden` (another customer's or seller's token) or `origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such subscription.", body = crate::openapi::schemas::ErrorBody),
        (status = 409, description = "`idempotency_conflict`, or the subscription is canceled.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: not a higher tier of this retainer.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn upgrade(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
    body: JsonBody<UpgradeRequest>,
) -> Result<Response, Response> {
    let subscription = authorized(&state, &headers, client, &id)
        .await
        .map_err(IntoResponse::into_response)?;
    let cors = subscription_cors(&state, &headers, &subscription).await?;
    let result = async {
        let key = idempotency_key(&headers)?;
        change_tier(
            &state,
            &subscription,
            &body.value.tier_id,
            &key,
            &change_hash("upgrade", &body.raw),
        )
        .await
    }
    .await;
    match result {
        Ok(response) => {
            let mut headers = cors;
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok((
                StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK),
                headers,
                response.body,
            )
                .into_response())
        }
        Err(error) => Err((cors, error).into_response()),
    }
}

#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/cancel", tag = "subscriptions", operation_id = "cancel_subscription",
    description = "Cancels at once (in live mode on Stripe first).",
    params(("id" = String, Path, description = "The subscription id.")),
    security(("customer" = []), ("seller" = [])),
    responses(
        (status = 200, description = "The canceled subscription.", body = crate::openapi::schemas::Subscription),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden` or `origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such subscription.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
) -> Result<Response, Response> {
    let subscription = authorized(&state, &headers, client, &id)
        .await
        .map_err(IntoResponse::into_response)?;
    let cors = subscription_cors(&state, &headers, &subscription).await?;
    let canceled = cancel_now(&state, &subscription)
        .await
        .map_err(|error| (cors.clone(), error).into_response())?;
    Ok((cors, Json(subscription_json(&canceled))).into_response())
}

/// Cancels a membership at once (shared by the API and the manage page); in live mode the
/// Stripe subscription is canceled first.
pub async fn cancel_now(
    state: &AppState,
    subscription: &Subscription,
) -> Result<Subscription, AppError> {
    if state.config().live().is_some() && subscription.status != "canceled" {
        crate::live::cancel(state, subscription).await?;
    }
    let now = state.now_for(&subscription.seller_id).0;
    let id = subscription.id.clone();
    let canceled = state
        .store(move |store| store.cancel_subscription(&id, now))
        .await;
    state.outbox_changed();
    canceled
}

/// `GET /v1/subscriptions/{id}`: readable from the listing's directory origins, so the
/// widget can show what an upgrade costs before making it.
#[utoipa::path(
    get, path = "/v1/subscriptions/{id}", tag = "subscriptions", operation_id = "get_subscription",
    description = "The subscription and its current period (what the widget prices an upgrade from).",
    params(("id" = String, Path, description = "The subscription id.")),
    security(("customer" = []), ("seller" = [])),
    responses(
        (status = 200, description = "The subscription.", body = crate::openapi::schemas::Subscription),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden` or `origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such subscription.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn get_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
) -> Result<Response, Response> {
    let subscription = authorized(&state, &headers, client, &id)
        .await
        .map_err(IntoResponse::into_response)?;
    let cors = subscription_cors(&state, &headers, &subscription).await?;
    // The card reads this to show what an upgrade costs: in live mode that instant is the
    // upgrade's `proration_date` (`live::proration_date`).
    crate::live::record_quote(&state, &subscription).await;
    Ok((cors, Json(subscription_json(&subscription))).into_response())
}

/// The CORS headers for a call about `subscription` from `headers`' Origin; a page off the
/// listing's `allowed_origins` gets the CORS-readable 403 before anything changes.
pub(crate) async fn subscription_cors(
    state: &AppState,
    headers: &HeaderMap,
    subscription: &Subscription,
) -> Result<HeaderMap, Response> {
    let origins = listing_origins(state, &subscription.listing_id)
        .await
        .map_err(IntoResponse::into_response)?;
    cors_for_listing(headers, &origins).map_err(IntoResponse::into_response)
}
