//! `POST /v1/checkout/sessions` and `GET /v1/checkout/sessions/{id}`: the partner side of the
//! checkout protocol (SPEC section 4), with idempotency, drop stock, sandbox faults and
//! creator-token verification.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mighty_core::listing::OfferKind;
use mighty_core::protocol::{
    CheckoutRequest, CheckoutSessionCreated, CheckoutSessionState, SESSION_SECRET_HEADER,
    SessionStatus,
};
use mighty_core::signing::CreatorToken;
use serde_json::Value;

use crate::AppState;
use crate::error::AppError;
use crate::http::{JsonBody, cors_for_listing, idempotency_key, public_base, request_hash};
use crate::store::{
    CreateSessionOutcome, FaultMode, NewSession, OfferKindName, Session, StoredAttribution,
    StoredResponse, new_id,
};

/// How long a shopper has to pay.
pub const SESSION_LIFETIME_SECONDS: i64 = 30 * 60;
/// How long a `hang` fault holds the request: past the widget's 15 s timeout.
const HANG_SECONDS: u64 = 20;
/// The reference partner's own limit, stricter than core's `money::MAX_QUANTITY` (999).
const MAX_QUANTITY: u32 = 10;

fn status_name(status: &str) -> SessionStatus {
    match status {
        "paid" => SessionStatus::Paid,
        "failed" => SessionStatus::Failed,
        "expired" => SessionStatus::Expired,
        _ => SessionStatus::Open,
    }
}

fn created_body(session: &Session) -> CheckoutSessionCreated {
    CheckoutSessionCreated {
        session_id: session.id.clone(),
        status: status_name(&session.status),
        redirect_url: session.redirect_url.clone(),
        expires_at: mighty_core::Timestamp(session.expires_at).to_rfc3339(),
        amount: session.amount,
        currency: session.currency.clone(),
        session_secret: None,
    }
}

/// The stored answer of each outcome: replays return exactly this.
pub fn render(outcome: &CreateSessionOutcome) -> StoredResponse {
    let error = |error: AppError| StoredResponse {
        status: error.status().as_u16(),
        body: serde_json::to_string(&error.body()).unwrap_or_default(),
    };
    match outcome {
        CreateSessionOutcome::Created(session) => StoredResponse {
            status: 201,
            body: serde_json::to_string(&created_body(session)).unwrap_or_default(),
        },
        CreateSessionOutcome::SoldOut => {
            error(AppError::conflict("sold_out", "This drop is sold out."))
        }
        CreateSessionOutcome::DropClosed => error(AppError::conflict(
            "drop_closed",
            "This drop is not open right now.",
        )),
        CreateSessionOutcome::Replayed(response) => response.clone(),
        CreateSessionOutcome::IdempotencyConflict => error(AppError::conflict(
            "idempotency_conflict",
            "This Idempotency-Key was used for a different checkout request; use a new key for a new intent.",
        )),
    }
}

/// The price of the bundle offer variant a checkout names (`offer_variant`), from the stored
/// listing. A checkout that names none pays the offer's own price: what a client that
/// predates variants showed (core's `Bundle::price_for`), and it counts for no variant. An
/// id the offer does not have is refused (SPEC 4), naming the ones it has.
fn offer_variant_price(
    bundle: &mighty_core::listing::Bundle,
    offer_id: &str,
    offer_variant: Option<&str>,
) -> Result<mighty_core::Money, AppError> {
    bundle.price_for(offer_variant).ok_or_else(|| {
        let given = offer_variant.unwrap_or_default();
        let ids: Vec<&str> = bundle.variants.iter().map(|variant| variant.id.as_str()).collect();
        AppError::invalid(
            "offer_variant",
            if ids.is_empty() {
                format!("\"{given}\" is not an offer variant: \"{offer_id}\" has none; send no offer_variant")
            } else {
                format!(
                    "\"{given}\" is not an offer variant of \"{offer_id}\"; use one of {}",
                    ids.join(", ")
                )
            },
        )
    })
}

/// Verifies the creator of a checkout's attribution: only a genuine, unexpired, unrevoked
/// token for this listing and one of its current creators makes it verified. A creator sent
/// without core's handle syntax is dropped (`crate::attribution`); a well-formed handle the
/// listing does not have is kept, unverified.
async fn verify_attribution(
    state: &AppState,
    listing: &mighty_core::Listing,
    attribution: &mighty_core::protocol::Attribution,
) -> Result<(Option<String>, bool), AppError> {
    let listing_id = listing.id.as_str();
    let parsed = attribution
        .token
        .as_deref()
        .and_then(|token| CreatorToken::parse(token.trim()).ok());
    let creator = crate::attribution::handle(attribution.creator.as_deref())
        .or_else(|| parsed.as_ref().map(|token| token.handle.clone()));
    let (Some(parsed), Some(handle)) = (parsed, creator.clone()) else {
        return Ok((creator, false));
    };
    if !listing
        .creators
        .iter()
        .any(|listed| listed.handle == handle)
    {
        return Ok((creator, false));
    }
    let now = state.now().0;
    if parsed
        .verify(state.link_key(), listing_id, &handle, now)
        .is_err()
    {
        return Ok((creator, false));
    }
    let (listing, revoked_handle) = (listing_id.to_string(), handle.clone());
    let revoked_at = state
        .store(move |store| store.creator_links_revoked_at(&listing, &revoked_handle))
        .await?;
    let revoked = revoked_at.is_some_and(|revoked_at| parsed.issued_at <= revoked_at);
    Ok((creator, !revoked))
}

#[utoipa::path(
    post, path = "/v1/checkout/sessions", tag = "checkout", operation_id = "create_checkout_session",
    description = "Starts a checkout (SPEC section 4), priced from the stored listing. Idempotent: a replay with the same key and body gets the stored answer (and the `session_secret` again); the same key with another body is 409 `idempotency_conflict`. A drop's stock is reserved for 30 minutes. CORS: the listing's `allowed_origins`.",
    params(("Idempotency-Key" = String, Header, description = "One key per shopper intent; retries reuse it. Required.")),
    request_body = crate::openapi::schemas::CheckoutRequest,
    responses(
        (status = 201, description = "The session.", body = crate::openapi::schemas::CheckoutSessionCreated),
        (status = 400, description = "`malformed_body`, or the `Idempotency-Key` is missing.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 409, description = "`sold_out`, `drop_closed` or `idempotency_conflict`.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: `field` names what to fix (offer, tier, quantity, return_url).", body = crate::openapi::schemas::ErrorBody),
        (status = 429, description = "`rate_limited` (a sandbox fault), with `Retry-After`: retry with the same key.", body = crate::openapi::schemas::ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait."))),
        (status = 503, description = "`unavailable`: retry with the same key.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: JsonBody<CheckoutRequest>,
) -> Response {
    match create(&state, &headers, body).await {
        Ok(response) => response,
        Err((cors, error)) => (cors, error).into_response(),
    }
}

async fn create(
    state: &AppState,
    headers: &HeaderMap,
    body: JsonBody<CheckoutRequest>,
) -> Result<Response, (HeaderMap, AppError)> {
    let plain = |error: AppError| (HeaderMap::new(), error);
    let request = body.value;
    let lookup = request.listing_id.clone();
    let stored = state
        .store(move |store| store.listing(&lookup))
        .await
        .map_err(plain)?;
    let Some(stored) = stored else {
        return Err(plain(AppError::invalid(
            "listing_id",
            format!("no listing \"{}\"", request.listing_id),
        )));
    };
    let cors = cors_for_listing(headers, &stored.allowed_origins)?;
    let with_cors = |error: AppError| (cors.clone(), error);
    let key = idempotency_key(headers).map_err(with_cors)?;

    // Sandbox faults, armed by the seller, answer before anything else happens.
    let fault_listing = request.listing_id.clone();
    if let Some(fault) = state
        .store(move |store| store.take_fault(&fault_listing))
        .await
        .map_err(with_cors)?
    {
        return Ok(fault_response(fault, cors).await);
    }

    let listing = mighty_core::parse_listing(&stored.document.to_string()).map_err(|errors| {
        with_cors(AppError::Internal(format!(
            "stored listing {} is invalid: {errors}",
            request.listing_id
        )))
    })?;
    let offer = listing.offer(&request.offer_id).ok_or_else(|| {
        with_cors(AppError::invalid(
            "offer_id",
            format!(
                "listing \"{}\" has no offer \"{}\"",
                listing.id, request.offer_id
            ),
        ))
    })?;
    if request.quantity == 0 || request.quantity > MAX_QUANTITY {
        return Err(with_cors(AppError::invalid(
            "quantity",
            format!(
                "{} is not a quantity from 1 to {MAX_QUANTITY}",
                request.quantity
            ),
        )));
    }
    let (kind, unit_price, interval, ships, drop_window) = match &offer.kind {
        OfferKind::Bundle(bundle) => {
            if request.tier_id.is_some() {
                return Err(with_cors(AppError::invalid(
                    "tier_id",
                    format!("\"{}\" is a bundle: it has no tiers", offer.id),
                )));
            }
            let window = listing
                .drop
                .as_ref()
                .map(|drop| (drop.starts_at.0, drop.ends_at.0));
            // The stored variant's price, never one from the browser (SPEC 3.1).
            let price = offer_variant_price(bundle, &offer.id, request.offer_variant.as_deref())
                .map_err(with_cors)?;
            (OfferKindName::Bundle, price, None, bundle.ships, window)
        }
        OfferKind::Retainer(retainer) => {
            if request.offer_variant.is_some() {
                return Err(with_cors(AppError::invalid(
                    "offer_variant",
                    format!("\"{}\" is a retainer: it has no offer variants", offer.id),
                )));
            }
            let tier_id = request.tier_id.as_deref().ok_or_else(|| {
                with_cors(AppError::invalid(
                    "tier_id",
                    format!("\"{}\" is a retainer: choose one of its tiers", offer.id),
                ))
            })?;
            let tier = retainer
                .tiers
                .iter()
                .find(|tier| tier.id == tier_id)
                .ok_or_else(|| {
                    with_cors(AppError::invalid(
                        "tier_id",
                        format!("retainer \"{}\" has no tier \"{tier_id}\"", offer.id),
                    ))
                })?;
            if request.quantity != 1 {
                return Err(with_cors(AppError::invalid(
                    "quantity",
                    "a retainer is bought one at a time (quantity 1)",
                )));
            }
            (
                OfferKindName::Retainer,
                tier.price,
                Some(tier.interval.as_str().to_string()),
                false,
                None,
            )
        }
    };
    // What the shopper chose (SPEC 4), against what the offer allows; none asked for is
    // shipping where the offer ships (what clients before pick-up meant), else pick-up.
    let allowed = match &offer.kind {
        OfferKind::Bundle(bundle) => bundle.fulfilment,
        OfferKind::Retainer(_) => mighty_core::listing::FulfilmentOptions::default(),
    };
    let fulfilment = allowed
        .choose(request.fulfilment)
        .map_err(|message| with_cors(AppError::invalid("fulfilment", message)))?;
    // A pick-up only until the pop-up closes: nobody hands it over afterwards.
    if fulfilment == Some(mighty_core::protocol::Fulfilment::Pickup)
        && let Some(popup) = listing.drop.as_ref().and_then(|drop| drop.popup.as_ref())
        && let Some(refusal) = mighty_core::pickup::pickup_refusal(
            popup,
            allowed.ship,
            state.now_for(&stored.seller_id),
        )
    {
        return Err(with_cors(AppError::invalid("fulfilment", refusal)));
    }
    // A pick-up is not shipped: no address is asked for, here or by Stripe.
    let ships = ships && fulfilment != Some(mighty_core::protocol::Fulfilment::Pickup);
    // Checked: a price past core's bounds or an overflow is refused, never wrapped.
    let amount = unit_price.times(request.quantity).ok_or_else(|| {
        with_cors(AppError::invalid(
            "quantity",
            format!(
                "{} × {unit_price} is more than one checkout can take",
                request.quantity
            ),
        ))
    })?;
    // Read as a browser reads it (WHATWG): `https://evil.example\@shop.example/` goes to
    // evil.example, and so its origin is evil.example's. The shopper is later sent to the
    // parser's serialization of it, never to the text as sent.
    let (return_url, return_origin) = url::Url::parse(request.return_url.trim())
        .ok()
        .map(String::from)
        .filter(|parsed| mighty_core::url::is_secure_endpoint(parsed))
        .and_then(|parsed| mighty_core::url::origin(&parsed).map(|origin| (parsed, origin)))
        .ok_or_else(|| {
            with_cors(AppError::invalid(
                "return_url",
                "must be an absolute https URL (http only on localhost)",
            ))
        })?;
    let origin_allowed = stored
        .allowed_origins
        .iter()
        .any(|origin| origin == "*" || origin.eq_ignore_ascii_case(&return_origin));
    if !origin_allowed {
        return Err(with_cors(AppError::invalid(
            "return_url",
            format!("{return_origin} is not on this listing's allowed_origins"),
        )));
    }

    let (creator, creator_verified) = verify_attribution(state, &listing, &request.attribution)
        .await
        .map_err(with_cors)?;
    let now = state.now_for(&stored.seller_id).0;
    let session_id = new_id("cs");
    let new = NewSession {
        id: session_id.clone(),
        listing_id: listing.id.clone(),
        seller_id: stored.seller_id.clone(),
        offer_id: offer.id.clone(),
        tier_id: request.tier_id.clone(),
        quantity: i64::from(request.quantity),
        amount: amount.minor,
        currency: unit_price.currency.code().to_string(),
        kind,
        interval,
        ships,
        fulfilment,
        attribution: StoredAttribution {
            // What the widget sent, as the door keeps it: never raw (`crate::attribution`).
            raw: serde_json::to_value(crate::attribution::cleaned(&request.attribution))
                .unwrap_or(Value::Null),
            creator,
            creator_verified,
        },
        return_url,
        // Live mode: Stripe's hosted page, once Stripe made it (`live::create_checkout`).
        redirect_url: match state.config().live() {
            Some(_) => String::new(),
            None => format!("{}/pay/{session_id}", public_base(state, headers)),
        },
        created_at: now,
        expires_at: now + SESSION_LIFETIME_SECONDS,
        drop_window,
        offer_variant: request.offer_variant.clone(),
    };
    let hash = request_hash(&body.raw);
    let answer = if state.config().live().is_some() {
        // Live mode: a Stripe Checkout Session behind the same protocol (`live.rs`).
        let tier_name = match (&offer.kind, request.tier_id.as_deref()) {
            (OfferKind::Retainer(retainer), Some(tier_id)) => retainer
                .tiers
                .iter()
                .find(|tier| tier.id == tier_id)
                .map(|tier| format!(" · {}", tier.name)),
            _ => None,
        };
        let product_name = format!(
            "{} — {}{}",
            listing.title,
            offer.name,
            tier_name.unwrap_or_default()
        );
        let base = public_base(state, headers);
        crate::live::create_checkout(state, &key, &hash, new, &product_name, &base)
            .await
            .map_err(with_cors)?
    } else {
        let outcome = state
            .store(move |store| store.create_session(&key, &hash, &new, &render))
            .await
            .map_err(with_cors)?;
        render(&outcome)
    };
    let response = with_session_secret(state, answer);
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = cors;
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok((status, headers, response.body).into_response())
}

/// A `201` answer with the session's `session_secret`, derived at answer time (a replay gets
/// it too) and never stored with the idempotent answer.
fn with_session_secret(state: &AppState, response: StoredResponse) -> StoredResponse {
    if response.status != 201 {
        return response;
    }
    match serde_json::from_str::<CheckoutSessionCreated>(&response.body) {
        Ok(mut created) => {
            created.session_secret = Some(state.secrets().session_secret(&created.session_id));
            StoredResponse {
                status: 201,
                body: serde_json::to_string(&created).unwrap_or(response.body),
            }
        }
        Err(_) => response,
    }
}

async fn fault_response(fault: FaultMode, cors: HeaderMap) -> Response {
    match fault {
        FaultMode::ServiceUnavailable => (
            cors,
            AppError::Unavailable("sandbox fault: the partner is unavailable (503)".into()),
        )
            .into_response(),
        FaultMode::TooManyRequests => (
            cors,
            AppError::RateLimited {
                message: "sandbox fault: too many requests (429)".into(),
                retry_after_seconds: 1,
            },
        )
            .into_response(),
        FaultMode::Hang => {
            tokio::time::sleep(Duration::from_secs(HANG_SECONDS)).await;
            (
                cors,
                AppError::Unavailable("sandbox fault: the partner hung".into()),
            )
                .into_response()
        }
        FaultMode::Malformed => {
            let mut headers = cors;
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            (
                StatusCode::CREATED,
                headers,
                "{\"session_id\": \"cs_malformed\", \"status\": ",
            )
                .into_response()
        }
    }
}

#[utoipa::path(
    get, path = "/v1/checkout/sessions/{id}", tag = "checkout", operation_id = "get_checkout_session",
    description = "A session's status and amounts. `customer_token` only with the `Mighty-Session-Secret` of the 201 answer: a session id alone never yields it. An open session past its time is expired first. CORS: the listing's `allowed_origins`.",
    params(
        ("id" = String, Path, description = "The session id."),
        ("Mighty-Session-Secret" = Option<String>, Header, description = "The `session_secret` of the 201 answer."),
    ),
    responses(
        (status = 200, description = "The session.", body = crate::openapi::schemas::CheckoutSessionState),
        (status = 403, description = "`origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such session.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn get_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lookup = id.clone();
    let session = match state.store(move |store| store.session(&lookup)).await {
        Ok(Some(session)) => session,
        Ok(None) => return AppError::NotFound(format!("no checkout session {id}")).into_response(),
        Err(error) => return error.into_response(),
    };
    let now = state.now_for(&session.seller_id).0;
    // An open session past its time expires now rather than at the next scheduler tick (in
    // live mode on Stripe first: `live::expire_one`).
    let session =
        if session.status == "open" && session.expires_at <= now && state.config().live().is_some()
        {
            if let Err(error) = crate::live::expire_one(&state, &session).await {
                tracing::warn!(%error, "expiring a live session");
            }
            let lookup = id.clone();
            match state.store(move |store| store.session(&lookup)).await {
                Ok(Some(session)) => session,
                Ok(None) => {
                    return AppError::NotFound(format!("no checkout session {id}")).into_response();
                }
                Err(error) => return error.into_response(),
            }
        } else if session.status == "open" && session.expires_at <= now {
            let lookup = id.clone();
            let real_now = state.now().0;
            match state
                .store(move |store| {
                    store
                        .expire_due_sessions(real_now)
                        .and_then(|_| store.session(&lookup))
                })
                .await
            {
                Ok(Some(session)) => {
                    state.outbox_changed();
                    session
                }
                Ok(None) => {
                    return AppError::NotFound(format!("no checkout session {id}")).into_response();
                }
                Err(error) => return error.into_response(),
            }
        } else {
            session
        };
    let listing_id = session.listing_id.clone();
    let allowed = match state.store(move |store| store.listing(&listing_id)).await {
        Ok(listing) => listing
            .map(|listing| listing.allowed_origins)
            .unwrap_or_default(),
        Err(error) => return error.into_response(),
    };
    let cors = match cors_for_listing(&headers, &allowed) {
        Ok(cors) => cors,
        Err(refusal) => return refusal.into_response(),
    };
    let holds_secret = headers
        .get(SESSION_SECRET_HEADER)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|given| state.secrets().is_session_secret(&session.id, given));
    // A paid pick-up's code, like the customer token, only to the browser that created the
    // session: whoever holds it collects the order at the stand.
    let pickup_code = if holds_secret
        && session.status == "paid"
        && session.fulfilment.as_deref() == Some("pickup")
    {
        let session_id = session.id.clone();
        match state
            .store(move |store| store.order_of_session(&session_id))
            .await
        {
            Ok(order) => order.and_then(|order| order.pickup_code),
            Err(error) => return error.into_response(),
        }
    } else {
        None
    };
    let body = CheckoutSessionState {
        session_id: session.id.clone(),
        status: status_name(&session.status),
        amount: session.amount,
        currency: session.currency.clone(),
        server_time: mighty_core::Timestamp(now).to_rfc3339(),
        subscription_id: session.subscription_id.clone(),
        // Only to the browser that created the session (SPEC section 4): the customer token
        // upgrades and cancels the membership, and a session id travels in URLs.
        customer_token: session
            .subscription_id
            .as_deref()
            .filter(|_| holds_secret)
            .map(|subscription_id| state.secrets().customer_token(subscription_id)),
        fulfilment: session
            .fulfilment
            .as_deref()
            .and_then(mighty_core::protocol::Fulfilment::parse),
        pickup_code,
    };
    (cors, Json(body)).into_response()
}
