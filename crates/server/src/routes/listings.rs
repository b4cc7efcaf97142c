//! `GET /v1/listings/{id}` (the document with live drop stock and `server_time`, CORS-limited
//! to the listing's `allowed_origins`) and `PUT /v1/listings/{id}` (a seller creates or
//! replaces a listing, validated by core).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::AppState;
use crate::error::AppError;
use crate::http::{RawBody, SellerAuth, cors_for_listing};

/// A listing document checked for storage.
pub struct PreparedListing {
    pub id: String,
    /// The document without `allowed_origins` (unknown fields kept).
    pub document: Value,
    pub allowed_origins: Vec<String>,
    pub inventory: Option<i64>,
}

/// Validates a stored-form document (listing + `allowed_origins`) with core; `path_id` is the
/// id of the URL, which the document's `id` must equal (or take when absent).
pub fn prepare_listing(text: &str, path_id: Option<&str>) -> Result<PreparedListing, AppError> {
    let mut document: Value = serde_json::from_str(text)
        .map_err(|error| AppError::Malformed(format!("the body is not valid JSON: {error}")))?;
    let Some(object) = document.as_object_mut() else {
        return Err(AppError::invalid(
            "",
            "the body must be a listing document (a JSON object)",
        ));
    };
    match (object.get("id").and_then(Value::as_str), path_id) {
        (Some(id), Some(path_id)) if id != path_id => {
            return Err(AppError::invalid(
                "id",
                format!("\"{id}\" differs from the URL's listing id \"{path_id}\""),
            ));
        }
        (None, Some(path_id)) => {
            object.insert("id".into(), Value::String(path_id.to_string()));
        }
        _ => {}
    }
    let allowed_origins = match object.remove("allowed_origins") {
        None => {
            return Err(AppError::invalid(
                "allowed_origins",
                "is missing; list the directory origins that may embed this listing, e.g. [\"https://directory.example\"], or [\"*\"] for any",
            ));
        }
        Some(Value::Array(items)) => {
            let mut origins = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let Some(text) = item.as_str() else {
                    return Err(AppError::invalid(
                        format!("allowed_origins[{index}]"),
                        "must be a string such as \"https://directory.example\"",
                    ));
                };
                let origin = if text == "*" {
                    Some("*".to_string())
                } else {
                    mighty_core::url::origin(text)
                        .filter(|origin| origin == &text.trim_end_matches('/').to_ascii_lowercase())
                };
                match origin {
                    Some(origin) => origins.push(origin),
                    None => {
                        return Err(AppError::invalid(
                            format!("allowed_origins[{index}]"),
                            format!(
                                "\"{text}\" is not an origin; write scheme and host only, e.g. \"https://directory.example\""
                            ),
                        ));
                    }
                }
            }
            origins
        }
        Some(_) => {
            return Err(AppError::invalid(
                "allowed_origins",
                "must be a list of origins",
            ));
        }
    };
    let listing = mighty_core::parse_listing(&document.to_string()).map_err(|errors| {
        let first = errors.first();
        AppError::invalid(first.at.clone(), errors.to_string())
    })?;
    // Core knows the zone's shape only; the database says whether it exists and its offsets.
    crate::time_zones::check_popup(&document)?;
    Ok(PreparedListing {
        id: listing.id.clone(),
        document,
        allowed_origins,
        inventory: listing.drop.map(|drop| drop.inventory as i64),
    })
}

#[utoipa::path(
    get, path = "/v1/listings/{id}", tag = "listings", operation_id = "get_listing",
    description = "The listing document with `drop.remaining`, `server_time` and `test_mode`, and each bundle offer variant's current `share` of new visitors (SPEC 3.1); `allowed_origins` is not served. CORS: the listing's `allowed_origins` (`Cache-Control: no-store`).",
    params(("id" = String, Path, description = "The listing id, `[A-Za-z0-9_-]{1,64}`.")),
    responses(
        (status = 200, description = "The document.", body = crate::openapi::schemas::ListingDocument),
        (status = 403, description = "`origin_not_allowed`: the page's origin is not on the listing's `allowed_origins` (CORS-readable).", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn get_listing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lookup = id.clone();
    let stored = match state.store(move |store| store.listing(&lookup)).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return AppError::NotFound(format!("no listing \"{id}\"")).into_response(),
        Err(error) => return error.into_response(),
    };
    let cors = match cors_for_listing(&headers, &stored.allowed_origins) {
        Ok(cors) => cors,
        Err(refusal) => return refusal.into_response(),
    };
    let mut document = stored.document;
    // Bundle offer variants: each one's current share of new visitors (SPEC 3.1).
    if crate::bandit::has_offer_variants(&document)
        && let Ok(listing) = mighty_core::parse_listing(&document.to_string())
    {
        match crate::bandit::tests_for(&state, &stored.seller_id, &listing, false).await {
            Ok(tests) => crate::bandit::add_shares(&mut document, &tests),
            Err(error) => return (cors, error).into_response(),
        }
    }
    if let Some(object) = document.as_object_mut() {
        object.insert(
            "server_time".into(),
            Value::String(state.now_for(&stored.seller_id).to_rfc3339()),
        );
        // The sandbox, or live mode with a Stripe test key.
        object.insert("test_mode".into(), Value::Bool(state.config().test_mode()));
        if let (Some(stock), Some(drop)) = (
            stored.stock,
            object.get_mut("drop").and_then(Value::as_object_mut),
        ) {
            drop.insert("remaining".into(), Value::from(stock.remaining().max(0)));
        }
    }
    let mut response = (cors, Json(document)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(
    put, path = "/v1/listings/{id}", tag = "listings", operation_id = "put_listing",
    description = "Creates (201) or replaces (200) a listing of the calling seller: the document plus `allowed_origins`, validated by core, and a pop-up's `timezone` and its times' offsets against the IANA time zone database (422 names the JSON path).",
    params(("id" = String, Path, description = "The listing id; the document's `id` must equal it (or is taken from it).")),
    request_body = crate::openapi::schemas::StoredListing,
    security(("seller" = [])),
    responses(
        (status = 200, description = "Replaced: the stored document.", body = crate::openapi::schemas::StoredListing),
        (status = 201, description = "Created: the stored document.", body = crate::openapi::schemas::StoredListing),
        (status = 400, description = "`malformed_body`: not JSON.", body = crate::openapi::schemas::ErrorBody),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 413, description = "`too_large`: over 64 KB.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: `field` is the JSON path of the first problem, `message` lists them all.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn put_listing(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, AppError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::Malformed("the body is not UTF-8".into()))?;
    let prepared = prepare_listing(text, Some(&id))?;
    if state.config().live().is_some()
        && let Ok(listing) = mighty_core::parse_listing(&prepared.document.to_string())
    {
        // Live mode: every price is one Stripe can charge exactly (KWD in steps of 0.010).
        crate::live::check_listing_prices(&listing)?;
    }
    let now = state.now_for(&seller.id).0;
    let seller_id = seller.id.clone();
    let (document, origins, inventory) = (
        prepared.document.clone(),
        prepared.allowed_origins.clone(),
        prepared.inventory,
    );
    let created = state
        .store(move |store| store.put_listing(&seller_id, &id, &document, &origins, inventory, now))
        .await
        .map_err(|error| match error {
            AppError::Conflict { message, .. } if message.contains("another seller") => {
                AppError::Forbidden(message)
            }
            other => other,
        })?;
    // A bundle with offer variants starts (or, with another set of ids, restarts) its test
    // now, so its history begins with the listing.
    if crate::bandit::has_offer_variants(&prepared.document)
        && let Ok(listing) = mighty_core::parse_listing(&prepared.document.to_string())
    {
        crate::bandit::tests_for(&state, &seller.id, &listing, false).await?;
    }
    let mut stored = prepared.document;
    if let Some(object) = stored.as_object_mut() {
        object.insert(
            "allowed_origins".into(),
            Value::from(prepared.allowed_origins),
        );
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(stored)).into_response())
}
