//! `POST /v1/webhooks {"url"}` registers a seller's receiver and returns its signing secret;
//! `GET /v1/webhooks/{id}/deliveries` is the delivery log; `DELETE /v1/webhooks/{id}` removes
//! the receiver (what it has not been sent yet is given up). Delivery itself is in
//! `crate::webhooks`. In live mode ([`WebhookDestinations::PublicOnly`]) a URL whose host is a
//! non-public IP literal or `localhost` is refused here; names are checked at every delivery.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::config::WebhookDestinations;
use crate::error::AppError;
use crate::http::{JsonBody, SellerAuth};

#[derive(Deserialize)]
pub struct NewWebhook {
    url: String,
}

#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    description = "Registers a receiver of the seller's webhooks (see `webhooks`). Live mode refuses loopback, private and link-local destinations.",
    request_body = crate::openapi::schemas::NewWebhook,
    security(("seller" = [])),
    responses(
        (status = 201, description = "The receiver and its signing secret.", body = crate::openapi::schemas::WebhookEndpoint),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: `url` is not an http(s) URL, or not allowed.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    body: JsonBody<NewWebhook>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let url = body.value.url.trim().to_string();
    if mighty_core::url::origin(&url).is_none() {
        return Err(AppError::invalid(
            "url",
            "must be an absolute http(s) URL of your webhook receiver",
        ));
    }
    let refused = |text: &str| match url::Url::parse(text) {
        Ok(parsed) => crate::webhooks::is_refused_at_registration(&parsed),
        Err(_) => true,
    };
    if state.config().webhook_destinations == WebhookDestinations::PublicOnly && refused(&url) {
        return Err(AppError::invalid(
            "url",
            "must reach your receiver on the public internet: loopback, private, link-local and other non-public addresses (and localhost) are refused in live mode",
        ));
    }
    let id = crate::store::new_id("we");
    // Derived from the id with the server key, not stored: the database alone cannot sign.
    let secret = state.secrets().webhook_secret(&id);
    let now = state.now().0;
    let endpoint = state
        .store(move |store| store.add_webhook(&id, &seller.id, &url, now))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": endpoint.id, "url": endpoint.url, "secret": secret })),
    ))
}

/// The seller's own endpoint `id`: 404 when there is none, 403 when it is another seller's.
async fn own_endpoint(
    state: &AppState,
    seller_id: &str,
    id: &str,
) -> Result<crate::store::WebhookEndpoint, AppError> {
    let lookup = id.to_string();
    let endpoint = state
        .store(move |store| store.webhook(&lookup))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no webhook {id}")))?;
    if endpoint.seller_id != seller_id {
        return Err(AppError::Forbidden(format!("webhook {id} is not yours")));
    }
    Ok(endpoint)
}

#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    description = "Removes a receiver; events not yet delivered to it are given up.",
    params(("id" = String, Path, description = "The receiver's id.")),
    security(("seller" = [])),
    responses(
        (status = 200, description = "Removed.", body = crate::openapi::schemas::WebhookRemoved),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such receiver.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let endpoint = own_endpoint(&state, &seller.id, &id).await?;
    let now = state.now().0;
    let given_up = state
        .store(move |store| store.remove_webhook(&endpoint.id, now))
        .await?;
    Ok(Json(
        json!({ "id": id, "deleted": true, "undelivered_given_up": given_up }),
    ))
}

#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "webhook_deliveries",
    description = "Every event's state and every attempt (status, error, duration).",
    params(("id" = String, Path, description = "The receiver's id.")),
    security(("seller" = [])),
    responses(
        (status = 200, description = "The delivery log.", body = crate::openapi::schemas::Deliveries),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such receiver.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn deliveries(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let endpoint = own_endpoint(&state, &seller.id, &id).await?;
    let (attempts, events) = state
        .store(move |store| store.deliveries(&endpoint.id))
        .await?;
    Ok(Json(
        json!({ "webhook_id": id, "events": events, "attempts": attempts }),
    ))
}
