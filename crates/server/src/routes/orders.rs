//! `GET /v1/orders` (the seller's paid orders, with attribution) and
//! `POST /v1/orders/{id}/refund` (webhook `order.refunded`).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::{QueryParams, SellerAuth, owned_listing};
use crate::store::Order;

#[derive(Deserialize)]
pub struct OrderFilter {
    listing: Option<String>,
}

#[utoipa::path(
    get, path = "/v1/orders", tag = "orders", operation_id = "list_orders",
    description = "Every payment of the seller (purchases, renewals, upgrade charges) with attribution, email and shipping.",
    params(("listing" = Option<String>, Query, description = "Only this listing's.")),
    security(("seller" = [])),
    responses(
        (status = 200, description = "The orders, oldest first.", body = crate::openapi::schemas::Orders),
        (status = 400, description = "`malformed_body`: unreadable query parameters.", body = crate::openapi::schemas::ErrorBody),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
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
    let orders = state
        .store(move |store| store.orders(&seller.id, filter.listing.as_deref()))
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
