//! `GET /v1/orders` (the seller's paid orders, with attribution; `?pickup_code=` finds the
//! one to hand over at the pop-up stand) and
//! `POST /v1/orders/{id}/refund` (webhook `order.refunded`).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::{QueryParams, SellerAuth, owned_listing};
use crate::store::Order;
use mighty_core::pickup::normalize_pickup_code;

#[derive(Deserialize)]
pub struct OrderFilter {
    listing: Option<String>,
    /// A pick-up code as a person typed it (any case, spaces or dashes between).
    pickup_code: Option<String>,
}

#[utoipa::path(
    get, path = "/v1/orders", tag = "orders", operation_id = "list_orders",
    description = "Every payment of the seller (purchases, renewals, upgrade charges) with attribution, email and shipping.",
    params(
        ("listing" = Option<String>, Query, description = "Only this listing's."),
        ("pickup_code" = Option<String>, Query, description = "Only the order with this pick-up code (the one to hand over at the pop-up stand): any case, spaces and dashes ignored. Another seller's code finds nothing."),
    ),
    security(("seller" = [])),
    responses(
        (status = 200, description = "The orders, oldest first.", body = crate::openapi::schemas::Orders),
        (status = 400, description = "`malformed_body`: unreadable query parameters.", body = crate::openapi::schemas::ErrorBody),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request` (`field`: `pickup_code`): not a pick-up code.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    QueryParams(filter): QueryParams<OrderFilter>,
) -> Result<Json<Value>, AppError> {
    // Filtering by another seller's listing is "not yours" (403), not an empty list.
    if let Some(listing) = &filter.listing {
        owned_listing(&state, &seller.id, listing).await?;
    }
    let pickup_code = match filter.pickup_code.as_deref() {
        Some(typed) => Some(normalize_pickup_code(typed).ok_or_else(|| {
            AppError::invalid(
                "pickup_code",
                format!(
                    "\"{typed}\" is not a pick-up code; they are 6 letters and digits, e.g. 7KQ-4XP"
                ),
            )
        })?),
        None => None,
    };
    let orders = state
        .store(move |store| match pickup_code {
            Some(code) => store
                .orders_with_pickup_code(&seller.id, &code)
                .map(|orders| {
                    orders
                        .into_iter()
                        .filter(|order| {
                            filter
                                .listing
                                .as_ref()
                                .is_none_or(|listing| &order.listing_id == listing)
                        })
                        .collect()
                }),
            None => store.orders(&seller.id, filter.listing.as_deref()),
        })
        .await?;
    Ok(Json(json!({ "orders": orders })))
}

#[utoipa::path(
    post, path = "/v1/orders/{id}/refund", tag = "orders", operation_id = "refund_order",
    description = "Refunds once (webhook `order.refunded`).",
    params(("id" = String, Path, description = "The order id.")),
    security(("seller" = [])),
    responses(
        (status = 200, description = "The refunded order.", body = crate::openapi::schemas::Order),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's order.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such order.", body = crate::openapi::schemas::ErrorBody),
        (status = 409, description = "`conflict`: already refunded.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn refund(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path(id): Path<String>,
) -> Result<Json<Order>, AppError> {
    if state.config().live().is_some() {
        // Live mode: Stripe refunds the payment first (`live::refund`).
        return crate::live::refund(&state, &seller.id, &id).await.map(Json);
    }
    let now = state.now_for(&seller.id).0;
    let refunded = state
        .store(move |store| store.refund_order(&seller.id, &id, now))
        .await?;
    state.outbox_changed();
    Ok(Json(refunded))
}
