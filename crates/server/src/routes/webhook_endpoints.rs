//! `POST /v1/webhooks {"url"}` registers a seller's receiver and returns its signing secret;
//! `GET /v1/webhooks/{id}/deliveries` is the delivery log; `DELETE /v1/webhooks/{id}` removes
//! the receiver (what it has not been sent yet is given up). Delivery itself is in
//! `crate::webhooks`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::{JsonBody, SellerAuth};

#[derive(Deserialize)]
pub struct NewWebhook {
    url: String,
}

pub async fn create(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    body: JsonBody<NewWebhook>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let url = body.value.url.trim().to_string();
    let scheme = mighty_core::url::scheme(&url);
    if !matches!(scheme.as_deref(), Some("http" | "https"))
        || mighty_core::url::host(&url).is_none()
    {
        return Err(AppError::invalid(
            "url",
            "must be an absolute http(s) URL of your webhook receiver",
        ));
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|error| AppError::Internal(error.to_string()))?;
    let secret = format!("whsec_{}", mighty_core::signing::hex(&bytes));
    let now = state.now().0;
    let endpoint = state
        .store(move |store| store.add_webhook(&seller.id, &url, &secret, now))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": endpoint.id, "url": endpoint.url, "secret": endpoint.secret })),
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
