//! `POST /v1/events`: the event collector (SPEC section 6). Batches of at most 100 events and
//! 64 KB, sent as `text/plain` JSON (no CORS preflight) or by `navigator.sendBeacon`;
//! validated with the error conventions of SPEC section 7 (400 malformed, 413 too large, 422
//! naming the event and field), rate limited per client, de-duplicated by event id, and
//! stored durably before the 2xx.
//!
//! Who may send events for a listing: a browser batch (it has an `Origin` header: browsers
//! send one with every `sendBeacon` and `fetch` POST) must come from an origin on each of
//! its listings' `allowed_origins`, else the whole batch is `403 origin_not_allowed`; a
//! batch without `Origin` comes from a server and must carry the seller token of its
//! listings' seller (`Authorization: Bearer`): none or a wrong one is `401`, a listing of
//! another seller `403 forbidden`.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mighty_core::Timestamp;
use mighty_core::listing::{is_valid_handle, is_valid_listing_id};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::{RawBody, SellerAuth, bearer_token, cors_for_listing};
use crate::store::{Seller, StoredEvent};

/// The event types, as the widget's DOM events name them (without `mighty:`).
pub const EVENT_TYPES: &[&str] = &[
    "view",
    "demo-play",
    "demo-complete",
    "offer-select",
    "checkout-start",
    "checkout-complete",
    "checkout-error",
    "share",
];
pub const MAX_EVENTS_PER_BATCH: usize = 100;

/// Reads and checks a batch: `{"events": [...]}` or a bare array.
pub fn parse_batch(raw: &[u8]) -> Result<Vec<StoredEvent>, AppError> {
    let document: Value = serde_json::from_slice(raw)
        .map_err(|error| AppError::Malformed(format!("the batch is not valid JSON: {error}")))?;
    let events = match &document {
        Value::Array(events) => events,
        Value::Object(object) => match object.get("events") {
            Some(Value::Array(events)) => events,
            _ => {
                return Err(AppError::invalid(
                    "events",
                    "is missing; send {\"events\": [...]} or a JSON array of events",
                ));
            }
        },
        _ => {
            return Err(AppError::invalid(
                "events",
                "send {\"events\": [...]} or a JSON array of events",
            ));
        }
    };
    if events.is_empty() {
        return Err(AppError::invalid(
            "events",
            "is empty; send at least one event",
        ));
    }
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(AppError::TooLarge(format!(
            "{} events in one batch; send at most {MAX_EVENTS_PER_BATCH}",
            events.len()
        )));
    }
    events
        .iter()
        .enumerate()
        .map(|(index, event)| parse_event(index, event))
        .collect()
}

fn parse_event(index: usize, event: &Value) -> Result<StoredEvent, AppError> {
    let at = |field: &str| format!("events[{index}].{field}");
    let text = |field: &str| {
        event
            .get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
    };
    if !event.is_object() {
        return Err(AppError::invalid(
            format!("events[{index}]"),
            "must be an object {id, type, listing_id, creator, variant, visitor_id, at}",
        ));
    }
    // What is wrong with a text field `text` refused: missing, empty, not a string, or a
    // string that does not fit; then what it should be.
    let refused = |field: &str, wanted: &str| {
        let problem = match event.get(field) {
            None | Some(Value::Null) => "is missing".to_string(),
            Some(Value::String(text)) if text.trim().is_empty() => "is empty".to_string(),
            Some(Value::String(_)) => "is not valid".to_string(),
            Some(other) => format!("must be a string, not {other}"),
        };
        AppError::invalid(at(field), format!("{problem}; {wanted}"))
    };
    let id = text("id")
        .filter(|id| id.len() <= 128 && !id.chars().any(char::is_control))
        .ok_or_else(|| {
            refused(
                "id",
                "give each event a unique id of at most 128 characters, without control characters",
            )
        })?;
    let event_type = text("type")
        .ok_or_else(|| refused("type", &format!("use one of {}", EVENT_TYPES.join(", "))))?;
    if !EVENT_TYPES.contains(&event_type) {
        return Err(AppError::invalid(
            at("type"),
            format!(
                "\"{event_type}\" is not an event type; use one of {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    let listing_id = text("listing_id")
        .filter(|id| is_valid_listing_id(id))
        .ok_or_else(|| {
            refused(
                "listing_id",
                "give the listing's id (1 to 64 letters, digits, '-' or '_')",
            )
        })?;
    let handle = |field: &str| -> Result<Option<String>, AppError> {
        match event.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(handle)) if is_valid_handle(handle) => Ok(Some(handle.clone())),
            Some(_) => Err(AppError::invalid(
                at(field),
                "must be a creator handle or null",
            )),
        }
    };
    let (creator, variant) = (handle("creator")?, handle("variant")?);
    // The bundle offer variant shown (SPEC 3.1), kept when it has an id's shape. Anything
    // else (a number, junk, an over-long text) counts as `null` rather than losing the
    // batch's other events: it only ever decides which variant a view counts for, and the
    // counts take only the ids the offer has.
    let offer_variant = event
        .get("offer_variant")
        .and_then(Value::as_str)
        .filter(|id| is_valid_listing_id(id))
        .map(String::from);
    let visitor_id = text("visitor_id")
        .filter(|id| id.len() <= 128 && !id.chars().any(char::is_control))
        .ok_or_else(|| {
            refused(
                "visitor_id",
                "give the visitor's id, at most 128 characters, without control characters",
            )
        })?;
    let stamp = text("at").ok_or_else(|| {
        refused(
            "at",
            "give the event's time as an RFC 3339 string (2026-11-20T10:00:00Z)",
        )
    })?;
    let when = Timestamp::parse_rfc3339(stamp)
        .map_err(|error| AppError::invalid(at("at"), error.to_string()))?;
    Ok(StoredEvent {
        id: id.into(),
        event_type: event_type.into(),
        listing_id: listing_id.into(),
        creator,
        variant,
        offer_variant,
        visitor_id: visitor_id.into(),
        at: when.0,
    })
}

/// Batches a client may send per minute.
pub const BATCHES_PER_MINUTE: u32 = 120;

/// A fixed one-minute window per client: `Err(seconds to wait)` past the limit.
#[derive(Default)]
pub struct RateLimiter {
    windows: std::sync::Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    pub fn check(&self, client: &str, now: i64, limit: u32) -> Result<(), u64> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now - *start < 60);
        }
        let window = windows.entry(client.to_string()).or_insert((now, 0));
        if now - window.0 >= 60 {
            *window = (now, 0);
        }
        if window.1 >= limit {
            return Err((60 - (now - window.0)).max(1) as u64);
        }
        window.1 += 1;
        Ok(())
    }
}

/// Who sent a batch without an `Origin` header: the seller its bearer token names, or why
/// not (a batch with an `Origin` is a browser's: `None`).
pub struct ServerSender(Option<Result<Seller, AppError>>);

impl axum::extract::FromRequestParts<AppState> for ServerSender {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(axum::http::header::ORIGIN) {
            return Ok(ServerSender(None));
        }
        if bearer_token(&parts.headers).is_none() {
            return Ok(ServerSender(Some(Err(AppError::Unauthorized(
                "a batch without an Origin header is taken from a server only: send the listings' seller token as Authorization: Bearer <token> (browsers send Origin themselves)".into(),
            )))));
        }
        let seller = SellerAuth::from_request_parts(parts, state)
            .await
            .map(|SellerAuth(seller)| seller);
        Ok(ServerSender(Some(seller)))
    }
}

/// The client's IP address when the server runs on a socket ("local" in-process).
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string());
        Ok(ClientAddress(
            address.unwrap_or_else(|| "local".to_string()),
        ))
    }
}

#[utoipa::path(
    post, path = "/v1/events", tag = "measurement", operation_id = "collect_events",
    description = "An event batch (SPEC section 6), any `Content-Type` (`text/plain` avoids a preflight). A batch with `Origin` must come from the `allowed_origins` of each of its listings; one without must carry the seller token of its listings' seller. De-duplicated by event id; stored before the answer. 120 batches a minute per client.",
    request_body(content = crate::openapi::schemas::EventBatch, content_type = "text/plain"),
    security((), ("seller" = [])),
    responses(
        (status = 200, description = "Stored.", body = crate::openapi::schemas::EventsAccepted),
        (status = 400, description = "`malformed_body`.", body = crate::openapi::schemas::ErrorBody),
        (status = 401, description = "`unauthorized`: a batch without `Origin` needs the seller token.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`origin_not_allowed` or `forbidden`.", body = crate::openapi::schemas::ErrorBody),
        (status = 413, description = "`too_large`: over 100 events or 64 KB.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: `field` names the event and field (`events[3].type`).", body = crate::openapi::schemas::ErrorBody),
        (status = 429, description = "`rate_limited`, with `Retry-After`.", body = crate::openapi::schemas::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait."))),
    )
)]
pub async fn collect(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ServerSender(sender): ServerSender,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Response {
    let limit = state.config().events_per_minute;
    if let Err(retry_after_seconds) =
        state
            .event_limiter()
            .check(&client, crate::clock::real_now(), limit)
    {
        return AppError::RateLimited {
            message: format!("more than {limit} batches a minute from this client"),
            retry_after_seconds,
        }
        .into_response();
    }
    let seller = match sender {
        None => None,
        Some(Ok(seller)) => Some(seller),
        Some(Err(error)) => return error.into_response(),
    };
    let events = match parse_batch(&raw) {
        Ok(events) => events,
        Err(error) => return error.into_response(),
    };
    let mut cors = HeaderMap::new();
    let mut listing_ids: Vec<&str> = events
        .iter()
        .map(|event| event.listing_id.as_str())
        .collect();
    listing_ids.sort_unstable();
    listing_ids.dedup();
    for listing_id in listing_ids {
        let lookup = listing_id.to_string();
        let stored = match state.store(move |store| store.listing(&lookup)).await {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                let index = events
                    .iter()
                    .position(|event| event.listing_id == listing_id)
                    .unwrap_or(0);
                return AppError::invalid(
                    format!("events[{index}].listing_id"),
                    format!("no listing \"{listing_id}\""),
                )
                .into_response();
            }
            Err(error) => return error.into_response(),
        };
        if let Some(seller) = &seller
            && stored.seller_id != seller.id
        {
            return AppError::Forbidden(format!(
                "listing \"{listing_id}\" is not yours: a batch without an Origin carries events of the token's seller's listings only"
            ))
            .into_response();
        }
        match cors_for_listing(&headers, &stored.allowed_origins) {
            Ok(allowed) => cors = allowed,
            Err(refusal) => return refusal.into_response(),
        }
    }
    let received_at = crate::clock::real_now();
    match state
        .store(move |store| store.record_events(&events, received_at))
        .await
    {
        Ok((accepted, duplicates)) => (
            StatusCode::OK,
            cors,
            Json(json!({ "accepted": accepted, "duplicates": duplicates })),
        )
            .into_response(),
        Err(error) => (cors, error).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widgets_batches_are_accepted() {
        use mighty_core::protocol::{MeasurementEvent, event_batch_json};
        let events: Vec<MeasurementEvent> = EVENT_TYPES
            .iter()
            .enumerate()
            .map(|(index, event_type)| MeasurementEvent {
                id: format!("event-{index}"),
                event_type: (*event_type).into(),
                listing_id: "candle-studio".into(),
                creator: (index % 2 == 0).then(|| "ana".into()),
                variant: Some("theo".into()),
                offer_variant: (index % 3 == 0).then(|| "b".into()),
                visitor_id: "visitor-1".into(),
                at: "2026-11-26T23:40:00.123Z".into(),
            })
            .collect();
        let written: Vec<String> = events.iter().map(MeasurementEvent::to_json).collect();
        let stored =
            parse_batch(event_batch_json(written.iter().map(String::as_str)).as_bytes()).unwrap();
        assert_eq!(stored.len(), EVENT_TYPES.len());
        for (event, stored) in events.iter().zip(&stored) {
            assert_eq!(stored.id, event.id);
            assert_eq!(stored.event_type, event.event_type);
            assert_eq!(stored.creator, event.creator);
            assert_eq!(stored.variant, event.variant);
            assert_eq!(stored.offer_variant, event.offer_variant);
            assert_eq!(stored.at, 1_795_736_400);
        }
    }

    #[test]
    fn the_rate_limiter_opens_a_new_window_each_minute() {
        let limiter = RateLimiter::default();
        for _ in 0..BATCHES_PER_MINUTE {
            assert_eq!(limiter.check("1.2.3.4", 100, BATCHES_PER_MINUTE), Ok(()));
        }
        assert_eq!(limiter.check("1.2.3.4", 130, BATCHES_PER_MINUTE), Err(30));
        assert_eq!(
            limiter.check("5.6.7.8", 130, BATCHES_PER_MINUTE),
            Ok(()),
            "clients are counted apart"
        );
        assert_eq!(limiter.check("1.2.3.4", 160, BATCHES_PER_MINUTE), Ok(()));
    }
}
