//! Sandbox controls for sellers testing an integration: move the clock forward
//! (`POST /sandbox/clock/advance`, renewals and expiries follow) and arm faults on a
//! listing's next checkout requests (`POST /sandbox/faults`).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::config::Mode;
use crate::error::AppError;
use crate::http::{JsonBody, SellerAuth};
use crate::store::FaultMode;

/// The longest single clock move: a bit over a year.
const MAX_ADVANCE_SECONDS: i64 = 400 * 86_400;

#[derive(Deserialize)]
pub struct Advance {
    seconds: i64,
}

/// The sandbox's controls do not exist in live mode (404, as for any unknown path).
fn sandbox_only(state: &AppState) -> Result<(), AppError> {
    match state.config().mode {
        Mode::Sandbox => Ok(()),
        Mode::Live => Err(AppError::NotFound(
            "there is no sandbox in live mode".to_string(),
        )),
    }
}

#[utoipa::path(
    post, path = "/sandbox/clock/advance", tag = "sandbox", operation_id = "advance_sandbox_clock",
    description = "Moves the calling seller's clock forward (their sessions, subscriptions, drops, renewals; no other seller's); their expiries and renewals run at once.",
    request_body = crate::openapi::schemas::ClockAdvance,
    security(("seller" = [])),
    extensions(("x-mighty-mode" = json!("sandbox"))),
    responses(
        (status = 200, description = "The seller's clock now.", body = crate::openapi::schemas::ClockAdvanced),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: `seconds` out of range.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn advance_clock(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    body: JsonBody<Advance>,
) -> Result<Json<Value>, AppError> {
    sandbox_only(&state)?;
    let seconds = body.value.seconds;
    if !(1..=MAX_ADVANCE_SECONDS).contains(&seconds) {
        return Err(AppError::invalid(
            "seconds",
            format!("must be from 1 to {MAX_ADVANCE_SECONDS} (the clock only moves forward)"),
        ));
    }
    // This seller's clock only: other sellers' sessions, subscriptions and drops stay put.
    let seller_id = seller.id.clone();
    let offset = state
        .store(move |store| store.advance_clock(&seller_id, seconds))
        .await?;
    state.clock().set_offset(&seller.id, offset);
    let report = crate::scheduler::tick(&state).await?;
    Ok(Json(json!({
        "now": state.now_for(&seller.id).to_rfc3339(), "offset_seconds": offset,
        "expired_sessions": report.expired_sessions, "renewals": report.renewals,
    })))
}

#[derive(Deserialize)]
pub struct NewFault {
    listing_id: String,
    mode: String,
    count: i64,
}

#[utoipa::path(
    post, path = "/sandbox/faults", tag = "sandbox", operation_id = "set_sandbox_fault",
    description = "Makes the listing's next `count` checkout requests fail on purpose.",
    request_body = crate::openapi::schemas::SandboxFault,
    security(("seller" = [])),
    extensions(("x-mighty-mode" = json!("sandbox"))),
    responses(
        (status = 200, description = "Armed (or disarmed with 0).", body = crate::openapi::schemas::SandboxFault),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: unknown `mode`, or `count` out of range.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn set_fault(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    body: JsonBody<NewFault>,
) -> Result<Json<Value>, AppError> {
    sandbox_only(&state)?;
    let NewFault {
        listing_id,
        mode,
        count,
    } = body.value;
    let mode = FaultMode::parse(&mode).ok_or_else(|| {
        AppError::invalid(
            "mode",
            format!("\"{mode}\" is not a fault; use \"503\", \"429\", \"hang\" or \"malformed\""),
        )
    })?;
    if !(0..=100).contains(&count) {
        return Err(AppError::invalid("count", "must be from 0 (disarm) to 100"));
    }
    let lookup = listing_id.clone();
    let listing = state
        .store(move |store| store.listing(&lookup))
        .await?
        .ok_or_else(|| AppError::invalid("listing_id", format!("no listing \"{listing_id}\"")))?;
    if listing.seller_id != seller.id {
        return Err(AppError::Forbidden(format!(
            "listing \"{listing_id}\" is not yours"
        )));
    }
    let id = listing_id.clone();
    state
        .store(move |store| store.set_fault(&id, mode, count))
        .await?;
    Ok(Json(
        json!({ "listing_id": listing_id, "mode": mode.as_str(), "count": count }),
    ))
}
