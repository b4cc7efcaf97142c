//! `POST /v1/partners/stripe/webhook` (live mode): Stripe's events. Each is verified first
//! (`Stripe-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` keyed with
//! `STRIPE_WEBHOOK_SECRET`, one or more `v1`, five minutes' tolerance, compared in constant
//! time: the same scheme as Mighty's own webhooks, so core's `verify_webhook` checks it); one
//! that cannot be verified is refused with 400 and changes nothing. Each event id is handled
//! once, in any order (`live::handle_event`).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::RawBody;
use crate::stripe::Event;

/// Stripe's events can be larger than the API's 64 KB bodies (an invoice with its lines).
pub const BODY_LIMIT_BYTES: usize = 512 * 1024;

#[utoipa::path(
    post, path = "/v1/partners/stripe/webhook", tag = "live", operation_id = "receive_stripe_event",
    description = "Stripe's events (docs/server.md, Live mode), verified with `Stripe-Signature`; each event id handled once. Bodies up to 512 KB.",
    request_body(content = Object, content_type = "application/json", description = "A Stripe event."),
    security(("stripe_signature" = [])),
    extensions(("x-mighty-mode" = json!("live"))),
    responses(
        (status = 200, description = "Handled (or handled before).", body = crate::openapi::schemas::StripeEventReceived),
        (status = 400, description = "The signature does not verify, or the body is not an event: nothing changed.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Value>, AppError> {
    let Some(stripe) = state.config().live() else {
        return Err(AppError::NotFound("live mode only".into()));
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| AppError::Malformed("the Stripe-Signature header is missing".into()))?;
    mighty_core::signing::verify_webhook(
        stripe.webhook_secret.expose(),
        signature,
        &body,
        state.now().0,
    )
    .map_err(|error| {
        tracing::warn!(?error, "a Stripe webhook did not verify");
        AppError::Malformed(
            "Stripe-Signature does not verify with STRIPE_WEBHOOK_SECRET (or is older than five minutes)"
                .into(),
        )
    })?;
    let event: Event = serde_json::from_slice(&body)
        .map_err(|error| AppError::Malformed(format!("not a Stripe event: {error}")))?;
    let id = event.id.clone();
    if state
        .store(move |store| store.stripe_event_handled(&id))
        .await?
    {
        return Ok(Json(json!({ "received": true, "duplicate": true })));
    }
    if let Err(error) = crate::live::handle_event(&state, &event).await {
        tracing::warn!(event = %event.id, kind = %event.event_type, %error, "a Stripe event was not handled; Stripe will send it again");
        // A malformed event will not get better: acknowledged (and logged) so Stripe stops.
        if !matches!(error, AppError::Malformed(_)) {
            return Err(error);
        }
    }
    let (id, kind, now) = (event.id.clone(), event.event_type.clone(), state.now().0);
    state
        .store(move |store| store.mark_stripe_event(&id, &kind, now))
        .await?;
    Ok(Json(json!({ "received": true })))
}
