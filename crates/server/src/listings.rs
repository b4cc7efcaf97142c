//! `GET /v1/listings/{id}`: the listing document with `server_time` (and live drop stock),
//! CORS-limited to the listing's `allowed_origins`.
//!
//! In this slice the feed is read from `www/listings/{id}.json` (the demo's documents); the
//! stored form is the listing document plus `"allowed_origins": [...]`, which is not served.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mighty_core::Timestamp;
use mighty_core::listing::is_valid_listing_id;
use serde_json::Value;

use crate::AppState;
use crate::error::AppError;

/// The request headers a widget may send (SPEC section 4).
pub const ALLOWED_REQUEST_HEADERS: &str = "Content-Type, Idempotency-Key, Authorization";

pub fn now() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_secs() as i64)
        .unwrap_or_default();
    Timestamp(seconds)
}

async fn stored_listing(state: &AppState, id: &str) -> Result<Value, AppError> {
    if !is_valid_listing_id(id) {
        return Err(AppError::NotFound(format!(
            "no listing \"{id}\": listing ids are 1 to 64 letters, digits, '-' or '_'"
        )));
    }
    let path = state.root().join("www/listings").join(format!("{id}.json"));
    let text = match tokio::fs::read_to_string(&path).await {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::NotFound(format!("no listing \"{id}\"")));
        }
        Err(error) => {
            return Err(AppError::Internal(format!(
                "reading {}: {error}",
                path.display()
            )));
        }
    };
    // Stored documents are validated by core like any other; a broken one is the operator's
    // problem, reported in the log rather than passed on to widgets.
    mighty_core::parse_listing(&text)
        .map_err(|errors| AppError::Internal(format!("{}: {errors}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|error| AppError::Internal(format!("{}: {error}", path.display())))
}

/// The origins a stored listing may be embedded on; `None` (no list, or `"*"`) means any.
fn allowed_origins(stored: &Value) -> Option<Vec<String>> {
    let list = stored.get("allowed_origins")?.as_array()?;
    let origins: Vec<String> = list
        .iter()
        .filter_map(Value::as_str)
        .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
        .collect();
    (!origins.iter().any(|origin| origin == "*")).then_some(origins)
}

/// CORS headers for `origin` against the listing's allowlist, or `403 origin_not_allowed`
/// carrying `Access-Control-Allow-Origin` so the widget can read why.
fn cors_headers(request_headers: &HeaderMap, stored: &Value) -> Result<HeaderMap, Response> {
    let mut headers = HeaderMap::new();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = request_headers.get(header::ORIGIN) else {
        return Ok(headers);
    };
    let origin_text = origin.to_str().unwrap_or_default().to_ascii_lowercase();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    match allowed_origins(stored) {
        Some(origins) if !origins.contains(&origin_text) => {
            let error = AppError::OriginNotAllowed(format!(
                "{origin_text} is not on this listing's allowed_origins"
            ));
            Err((headers, error).into_response())
        }
        _ => Ok(headers),
    }
}

pub async fn get_listing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request_headers: HeaderMap,
) -> Response {
    let mut stored = match stored_listing(&state, &id).await {
        Ok(stored) => stored,
        Err(error) => return error.into_response(),
    };
    let headers = match cors_headers(&request_headers, &stored) {
        Ok(headers) => headers,
        Err(refusal) => return refusal,
    };
    if let Some(document) = stored.as_object_mut() {
        document.remove("allowed_origins");
        document.insert("server_time".to_string(), Value::String(now().to_rfc3339()));
        document.insert("test_mode".to_string(), Value::Bool(true));
        // No sales are recorded by this feed yet: the whole inventory remains.
        if let Some(drop) = document.get_mut("drop").and_then(Value::as_object_mut)
            && !drop.contains_key("remaining")
            && let Some(inventory) = drop.get("inventory").cloned()
        {
            drop.insert("remaining".to_string(), inventory);
        }
    }
    let mut response = (headers, axum::Json(stored)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// CORS preflight: allowed methods and headers, for allowed origins only.
pub async fn preflight(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request_headers: HeaderMap,
) -> Response {
    let stored = match stored_listing(&state, &id).await {
        Ok(stored) => stored,
        Err(error) => return error.into_response(),
    };
    match cors_headers(&request_headers, &stored) {
        Ok(mut headers) => {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOWED_REQUEST_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            (StatusCode::NO_CONTENT, headers).into_response()
        }
        Err(refusal) => refusal,
    }
}
