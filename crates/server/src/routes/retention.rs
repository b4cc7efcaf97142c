//! Retention by value (issue 15): `POST /v1/subscriptions/{id}/pause` `{"months": 1..3}`,
//! `POST /v1/subscriptions/{id}/resume` and `POST /v1/subscriptions/{id}/downgrade`
//! `{"tier_id"}`, authorized like upgrade and cancel (the customer token or the seller's) and
//! idempotent by key like upgrade. Nothing here makes leaving harder: the API's cancel still
//! cancels at once, and these are only offered beside it.
//!
//! A body may say `"instead_of_cancel": true` (the manage page does when the shopper chose a
//! pause or a lower tier on its cancel screen): the change is then recorded as a save, with
//! the monthly recurring revenue it kept, which `GET /v1/metrics` counts.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mighty_core::Timestamp;
use mighty_core::listing::{Interval, OfferKind, Tier};
use mighty_core::retention::{self, SaveKind};
use serde::Deserialize;

use super::subscriptions::{authorized, change_hash, subscription_cors, subscription_json};
use crate::AppState;
use crate::error::AppError;
use crate::http::{JsonBody, idempotency_key, request_hash};
use crate::store::{NewSave, RetentionChange, StoredResponse, Subscription};
use crate::throttle::ClientAddress;

/// `{"months": 1..3, "instead_of_cancel"?: bool}`.
#[derive(Debug, Deserialize)]
pub struct PauseRequest {
    pub months: i64,
    #[serde(default)]
    pub instead_of_cancel: bool,
}

/// `{"tier_id", "instead_of_cancel"?: bool}`.
#[derive(Debug, Deserialize)]
pub struct DowngradeRequest {
    pub tier_id: String,
    #[serde(default)]
    pub instead_of_cancel: bool,
}

/// What the shopper asked for, before it is checked.
#[derive(Debug, Clone)]
pub enum Ask {
    Pause {
        months: i64,
        instead_of_cancel: bool,
    },
    Resume,
    Downgrade {
        tier_id: String,
        instead_of_cancel: bool,
    },
}

impl Ask {
    /// What the request asks, as text: the manage page's forms hash it for their key (the
    /// same choice posted again under the same key is the same request).
    pub fn fingerprint(&self) -> String {
        match self {
            Ask::Pause {
                months,
                instead_of_cancel,
            } => format!("pause months={months} instead_of_cancel={instead_of_cancel}"),
            Ask::Resume => "resume".to_string(),
            Ask::Downgrade {
                tier_id,
                instead_of_cancel,
            } => format!("downgrade tier_id={tier_id} instead_of_cancel={instead_of_cancel}"),
        }
    }
}

/// The tiers of the subscription's retainer, from the stored listing.
pub async fn retainer_tiers(
    state: &AppState,
    subscription: &Subscription,
) -> Result<Vec<Tier>, AppError> {
    let listing_id = subscription.listing_id.clone();
    let stored = state
        .store(move |store| store.listing(&listing_id))
        .await?
        .ok_or_else(|| AppError::NotFound("the subscription's listing is gone".into()))?;
    let listing = mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(errors.to_string()))?;
    Ok(listing
        .offer(&subscription.offer_id)
        .and_then(|offer| match &offer.kind {
            OfferKind::Retainer(retainer) => Some(retainer.tiers.clone()),
            OfferKind::Bundle(_) => None,
        })
        .unwrap_or_default())
}

fn interval_of(subscription: &Subscription) -> Interval {
    Interval::parse(&subscription.interval).unwrap_or(Interval::Month)
}

fn not_now(subscription: &Subscription, what: &str) -> AppError {
    AppError::conflict(
        "conflict",
        format!(
            "subscription {} is {}: {what}",
            subscription.id, subscription.status
        ),
    )
}

/// Pauses, resumes or downgrades `subscription` under `key` (shared by the API and the manage
/// page). A key already used answers as it did (or conflicts) before any other check; then
/// the request is checked (422 naming the field, 409 for the subscription's state), Stripe is
/// told first in live mode, and the store makes the change with its webhook (and its save).
pub async fn apply(
    state: &AppState,
    subscription: &Subscription,
    ask: &Ask,
    key: &str,
    hash: &str,
) -> Result<StoredResponse, AppError> {
    let (scope, lookup_key) = (
        crate::store::subscription_change_scope(&subscription.id),
        key.to_string(),
    );
    if let Some((stored_hash, response)) = state
        .store(move |store| store.stored_response(&scope, &lookup_key))
        .await?
    {
        return if stored_hash == hash {
            Ok(response)
        } else {
            Err(idempotency_conflict())
        };
    }
    let interval = interval_of(subscription);
    let change = match ask {
        Ask::Pause {
            months,
            instead_of_cancel,
        } => {
            let months = retention::pause_months(*months)
                .map_err(|message| AppError::invalid("months", message))?;
            if !retention::pausable(interval) {
                return Err(AppError::invalid("months", retention::NOT_PAUSABLE));
            }
            if subscription.status != "active" {
                return Err(not_now(
                    subscription,
                    "only an active membership can be paused",
                ));
            }
            let window = retention::pause_window(
                Timestamp(subscription.billing_anchor),
                Timestamp(subscription.current_period_end),
                interval,
                months,
            );
            let save = instead_of_cancel.then(|| {
                // What resumes: a downgrade already waiting lowers it.
                let resumes = subscription.pending_price.unwrap_or(subscription.price);
                let value = retention::save_value(SaveKind::Pause, resumes, 0, interval);
                NewSave {
                    kind: SaveKind::Pause,
                    mrr_kept: value.kept,
                    mrr_given_up: value.given_up,
                }
            });
            RetentionChange::Pause {
                starts_at: window.starts_at.0,
                resumes_at: window.resumes_at.0,
                save,
            }
        }
        Ask::Resume => {
            if subscription.status != "paused" {
                return Err(not_now(
                    subscription,
                    "only a paused membership can be resumed",
                ));
            }
            RetentionChange::Resume
        }
        Ask::Downgrade {
            tier_id,
            instead_of_cancel,
        } => {
            let tiers = retainer_tiers(state, subscription).await?;
            let tier = retention::downgrade_target(&tiers, subscription.price, interval, tier_id)
                .map_err(|refusal| AppError::invalid("tier_id", refusal.message(tier_id)))?;
            if subscription.status == "canceled" {
                return Err(not_now(
                    subscription,
                    "a canceled membership cannot change tier",
                ));
            }
            let save = instead_of_cancel.then(|| {
                let value = retention::save_value(
                    SaveKind::Downgrade,
                    subscription.price,
                    tier.price.minor,
                    interval,
                );
                NewSave {
                    kind: SaveKind::Downgrade,
                    mrr_kept: value.kept,
                    mrr_given_up: value.given_up,
                }
            });
            RetentionChange::Downgrade {
                tier_id: tier.id.clone(),
                price: tier.price.minor,
                save,
            }
        }
    };
    if state.config().live().is_some() {
        crate::live::retention_change(state, subscription, &change, key).await?;
    }
    let now = state.now_for(&subscription.seller_id).0;
    let (id, key, hash) = (subscription.id.clone(), key.to_string(), hash.to_string());
    let result = state
        .store(move |store| {
            store.change_retention(&id, &key, &hash, &change, now, &|updated| StoredResponse {
                status: 200,
                body: subscription_json(updated).to_string(),
            })
        })
        .await;
    state.outbox_changed();
    match result {
        Err(AppError::Conflict { message, .. }) if message == "idempotency_conflict" => {
            Err(idempotency_conflict())
        }
        other => other,
    }
}

fn idempotency_conflict() -> AppError {
    AppError::conflict(
        "idempotency_conflict",
        "this Idempotency-Key was used with another body",
    )
}

/// The shared shape of the three endpoints: authorize, CORS, key, apply, answer.
async fn respond(
    state: &AppState,
    headers: &HeaderMap,
    client: ClientAddress,
    id: &str,
    ask: Result<(Ask, String), AppError>,
) -> Result<Response, Response> {
    let subscription = authorized(state, headers, client, id)
        .await
        .map_err(IntoResponse::into_response)?;
    let cors = subscription_cors(state, headers, &subscription).await?;
    let result = async {
        let (ask, hash) = ask?;
        let key = idempotency_key(headers)?;
        apply(state, &subscription, &ask, &key, &hash).await
    }
    .await;
    match result {
        Ok(response) => {
            let mut headers = cors;
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok((
                StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK),
                headers,
                response.body,
            )
                .into_response())
        }
        Err(error) => Err((cors, error).into_response()),
    }
}

#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/pause", tag = "subscriptions", operation_id = "pause_subscription",
    description = "Pauses renewals for whole periods from the end of the period paid for: `months` 1 to 3 (a monthly membership skips that many renewals; daily and weekly ones whole periods until the months have passed; a yearly one cannot pause, 422 naming `months`, as that would skip a whole year). No charge and no renewal order while paused; it resumes by itself at `paused_until` (`subscription.resumed`). Webhook `subscription.paused`. In live mode, Stripe's `pause_collection` (`void`, `resumes_at`). `instead_of_cancel: true` records a save. Idempotent by key.",
    params(
        ("id" = String, Path, description = "The subscription id."),
        ("Idempotency-Key" = String, Header, description = "Required."),
    ),
    request_body = crate::openapi::schemas::PauseRequest,
    security(("customer" = []), ("seller" = [])),
    responses(
        (status = 200, description = "Paused.", body = crate::openapi::schemas::Subscription),
        (status = 401, description = "`unauthorized`: no token, or an unknown one.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden` (another customer's or seller's token) or `origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such subscription.", body = crate::openapi::schemas::ErrorBody),
        (status = 409, description = "`idempotency_conflict`, or the subscription is already paused or canceled.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request` naming `months` (1 to 3) or `Idempotency-Key`.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
    body: Result<JsonBody<PauseRequest>, AppError>,
) -> Result<Response, Response> {
    let ask = body.map(|body| {
        (
            Ask::Pause {
                months: body.value.months,
                instead_of_cancel: body.value.instead_of_cancel,
            },
            change_hash("pause", &body.raw),
        )
    });
    respond(&state, &headers, client, &id, ask).await
}

#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/resume", tag = "subscriptions", operation_id = "resume_subscription",
    description = "Ends a pause now: the next period is charged as usual (a period already skipped stays free). Webhook `subscription.resumed`. In live mode, clears Stripe's `pause_collection`. Idempotent by key.",
    params(
        ("id" = String, Path, description = "The subscription id."),
        ("Idempotency-Key" = String, Header, description = "Required."),
    ),
    security(("customer" = []), ("seller" = [])),
    responses(
        (status = 200, description = "Resumed.", body = crate::openapi::schemas::Subscription),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden` or `origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such subscription.", body = crate::openapi::schemas::ErrorBody),
        (status = 409, description = "`idempotency_conflict`, or the subscription is not paused.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request` naming `Idempotency-Key`.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
) -> Result<Response, Response> {
    let ask = Ok((Ask::Resume, request_hash(b"resume")));
    respond(&state, &headers, client, &id, ask).await
}

#[utoipa::path(
    post, path = "/v1/subscriptions/{id}/downgrade", tag = "subscriptions", operation_id = "downgrade_subscription",
    description = "Moves to a strictly cheaper tier of the same retainer (and interval) from the next period: nothing is charged or credited now, no proration; the subscription shows `pending_tier_id` and `pending_effective_at` until the renewal, which charges the lower price. A later upgrade replaces it (choosing the current tier again calls it off); a cancel drops it. Webhook `subscription.updated` (`amount_due` 0). In live mode the Stripe subscription item's price changes with `proration_behavior=none`. `instead_of_cancel: true` records a save. Idempotent by key.",
    params(
        ("id" = String, Path, description = "The subscription id."),
        ("Idempotency-Key" = String, Header, description = "Required."),
    ),
    request_body = crate::openapi::schemas::DowngradeRequest,
    security(("customer" = []), ("seller" = [])),
    responses(
        (status = 200, description = "The downgrade is scheduled.", body = crate::openapi::schemas::Subscription),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden` or `origin_not_allowed`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such subscription.", body = crate::openapi::schemas::ErrorBody),
        (status = 409, description = "`idempotency_conflict`, or the subscription is canceled.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request` naming `tier_id` (unknown, not cheaper, or another interval) or `Idempotency-Key`.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn downgrade(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
    body: Result<JsonBody<DowngradeRequest>, AppError>,
) -> Result<Response, Response> {
    let ask = body.map(|body| {
        (
            Ask::Downgrade {
                tier_id: body.value.tier_id,
                instead_of_cancel: body.value.instead_of_cancel,
            },
            change_hash("downgrade", &body.raw),
        )
    });
    respond(&state, &headers, client, &id, ask).await
}
