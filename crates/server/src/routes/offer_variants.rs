//! `GET /v1/listings/{id}/offers/{offer_id}/variants` (a bundle test as the seller reads it)
//! and `POST /v1/listings/{id}/offers/{offer_id}/variants/stop` (the seller ends it, with the
//! winner they choose or the current best). The allocation itself is `crate::bandit`'s.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::AppState;
use crate::error::AppError;
use crate::http::{RawBody, SellerAuth, owned_listing};

async fn seller_listing(
    state: &AppState,
    seller_id: &str,
    id: &str,
) -> Result<mighty_core::Listing, AppError> {
    let stored = owned_listing(state, seller_id, id).await?;
    mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(format!("stored listing {id} is invalid: {errors}")))
}

#[utoipa::path(
    get, path = "/v1/listings/{id}/offers/{offer_id}/variants", tag = "listings", operation_id = "get_offer_variants",
    description = "A bundle offer's test of its offer variants (SPEC 3.1): per variant its views, paid commits and revenue (since the test began; refunds excluded), conversion and revenue per view with 95 % intervals, the share of new visitors it gets now and the probability it is best; whether the test explores or has stopped (and its winner); the history of shares. Recomputed first when due.",
    params(
        ("id" = String, Path, description = "The listing id."),
        ("offer_id" = String, Path, description = "A bundle offer with `variants`."),
    ),
    security(("seller" = [])),
    responses(
        (status = 200, description = "The test.", body = crate::openapi::schemas::OfferVariantTest),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing, or no such bundle offer with variants.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn get_test(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path((id, offer_id)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let listing = seller_listing(&state, &seller.id, &id).await?;
    crate::bandit::variant_offer(&listing, &offer_id)?;
    let tests = crate::bandit::tests_for(&state, &seller.id, &listing, false).await?;
    let test = tests
        .iter()
        .find(|test| test.offer_id == offer_id)
        .ok_or_else(|| AppError::Internal(format!("no test for offer {offer_id}")))?;
    Ok(Json(crate::bandit::test_json(&state, &id, test).await?))
}

#[utoipa::path(
    post, path = "/v1/listings/{id}/offers/{offer_id}/variants/stop", tag = "listings", operation_id = "stop_offer_variants",
    description = "Stops a bundle offer's test: the winner (`winner`, else the variant most likely to be best now) gets every new visitor from now on; visitors already shown another variant keep it and are charged its price. Stopping a stopped test again changes its winner. Replacing the listing with another set of variant ids starts a new test.",
    params(
        ("id" = String, Path, description = "The listing id."),
        ("offer_id" = String, Path, description = "A bundle offer with `variants`."),
    ),
    request_body(content = crate::openapi::schemas::StopOfferVariants, description = "Optional: an empty body stops with the current best."),
    security(("seller" = [])),
    responses(
        (status = 200, description = "The stopped test.", body = crate::openapi::schemas::OfferVariantTest),
        (status = 400, description = "`malformed_body`: not JSON.", body = crate::openapi::schemas::ErrorBody),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing, or no such bundle offer with variants.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`, `field: \"winner\"`: not one of the offer's variant ids.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn stop(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path((id, offer_id)): Path<(String, String)>,
    RawBody(raw): RawBody,
) -> Result<Json<Value>, AppError> {
    let winner = if raw.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let body: Value = serde_json::from_slice(&raw)
            .map_err(|error| AppError::Malformed(format!("the body is not valid JSON: {error}")))?;
        let Value::Object(body) = body else {
            return Err(AppError::Malformed(
                "the body must be a JSON object ({\"winner\": \"<variant id>\"}) or empty".into(),
            ));
        };
        match body.get("winner") {
            None | Some(Value::Null) => None,
            Some(Value::String(winner)) => Some(winner.clone()),
            Some(other) => {
                return Err(AppError::invalid(
                    "winner",
                    format!("must be a variant id (a string) or null, not {other}"),
                ));
            }
        }
    };
    let listing = seller_listing(&state, &seller.id, &id).await?;
    let test =
        crate::bandit::stop(&state, &seller.id, &listing, &offer_id, winner.as_deref()).await?;
    Ok(Json(crate::bandit::test_json(&state, &id, &test).await?))
}
