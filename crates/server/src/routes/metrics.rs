//! `PUT /v1/listings/{id}/creator-fees` and `GET /v1/metrics?listing=&from=&to=`: the KPIs of
//! SPEC section 6 as JSON, computed by core's KPI engine from stored events and orders.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Path, State};
use mighty_core::Timestamp;
use mighty_core::concentration::{Concentration, LIMIT_PERCENT, Part, concentration};
use mighty_core::kpi::{self, Payment, PaymentKind, Rate, Segment};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::{QueryParams, RawBody, SellerAuth, owned_listing};
use crate::store::Order;

/// `{"<handle>": <minor units>, ...}`: what each creator is paid.
#[utoipa::path(
    put, path = "/v1/listings/{id}/creator-fees", tag = "measurement", operation_id = "put_creator_fees",
    description = "What each creator is paid, for CAC payback.",
    params(("id" = String, Path, description = "The listing id.")),
    request_body = crate::openapi::schemas::CreatorFees,
    security(("seller" = [])),
    responses(
        (status = 200, description = "Saved.", body = crate::openapi::schemas::CreatorFeesSaved),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: not a creator of the listing, or not a whole number ≥ 0.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn put_creator_fees(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path(id): Path<String>,
    RawBody(raw): RawBody,
) -> Result<Json<Value>, AppError> {
    let stored = owned_listing(&state, &seller.id, &id).await?;
    let listing = mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(errors.to_string()))?;
    let body: Value = serde_json::from_slice(&raw)
        .map_err(|error| AppError::Malformed(format!("the body is not valid JSON: {error}")))?;
    let Value::Object(entries) = body else {
        return Err(AppError::invalid(
            "",
            "send an object {\"<creator handle>\": <fee in minor units>}",
        ));
    };
    let mut fees = Vec::new();
    for (handle, fee) in entries {
        if !listing
            .creators
            .iter()
            .any(|creator| creator.handle == handle)
        {
            return Err(AppError::invalid(
                handle.clone(),
                format!("\"{handle}\" is not a creator of \"{id}\""),
            ));
        }
        match fee.as_i64() {
            Some(fee) if fee >= 0 => fees.push((handle, fee)),
            _ => {
                return Err(AppError::invalid(
                    handle,
                    "must be a whole number of minor units, 0 or more",
                ));
            }
        }
    }
    let (listing_id, stored_fees) = (id.clone(), fees.clone());
    state
        .store(move |store| store.set_creator_fees(&listing_id, &stored_fees))
        .await?;
    Ok(Json(
        json!({ "listing_id": id, "creator_fees": fees.into_iter().collect::<BTreeMap<_, _>>() }),
    ))
}

#[derive(Deserialize)]
pub struct MetricsQuery {
    listing: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn rate_json(rate: &Rate) -> Value {
    json!({ "successes": rate.successes, "trials": rate.trials, "value": rate.value, "low": rate.low, "high": rate.high })
}

/// The KPI engine's view of an order.
pub fn payment_from_order(order: &Order) -> Option<Payment> {
    let at = Timestamp::parse_rfc3339(&order.created_at).ok()?.0;
    Some(Payment {
        segment: Segment {
            listing_id: order.listing_id.clone(),
            creator: order.creator.clone(),
            variant: order
                .attribution
                .get("variant")
                .and_then(Value::as_str)
                .map(String::from),
        },
        customer: order.customer.clone().unwrap_or_else(|| order.id.clone()),
        kind: match order.kind.as_str() {
            "renewal" => PaymentKind::Renewal,
            "upgrade" => PaymentKind::Upgrade,
            _ => PaymentKind::Purchase,
        },
        recurring: order.subscription_id.is_some(),
        amount: order.amount,
        at,
        refunded: order.status == "refunded",
    })
}

#[utoipa::path(
    get, path = "/v1/metrics", tag = "measurement", operation_id = "get_metrics",
    description = "The KPIs of a listing per creator × variant over [from, to): views, paid commits, conversion with a Wilson 95 % interval, 30-day repeat rate, recurring revenue per active customer, revenue; variant comparisons; CAC payback per creator; drop sell-through; the funnel (views → demo plays → checkout starts → paid commits); revenue by creator and by UTM source over the last 30 days of the seller's clock, with the part over 60 % if one is; saves (cancellations turned into a pause or a lower tier) and the monthly recurring revenue they kept.",
    params(
        ("listing" = String, Query, description = "The listing id. Required."),
        ("from" = Option<String>, Query, description = "RFC 3339 (default: 30 days before `to`)."),
        ("to" = Option<String>, Query, description = "RFC 3339 (default: now)."),
    ),
    security(("seller" = [])),
    responses(
        (status = 200, description = "The KPIs.", body = crate::openapi::schemas::Metrics),
        (status = 400, description = "`malformed_body`: unreadable query parameters.", body = crate::openapi::schemas::ErrorBody),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: `listing` missing, or `from`/`to` not RFC 3339.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn metrics(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    QueryParams(query): QueryParams<MetricsQuery>,
) -> Result<Json<Value>, AppError> {
    let listing_id = query
        .listing
        .ok_or_else(|| AppError::invalid("listing", "is required: /v1/metrics?listing=<id>"))?;
    let (from, to) = parse_range(query.from, query.to, state.now_for(&seller.id).0)?;
    Ok(Json(
        compute(&state, &seller.id, &listing_id, from, to).await?,
    ))
}

/// `from`/`to` query values (RFC 3339) with their defaults: all time, up to now.
pub fn parse_range(
    from: Option<String>,
    to: Option<String>,
    now: i64,
) -> Result<(i64, i64), AppError> {
    let time = |field: &str, value: Option<String>, default: i64| -> Result<i64, AppError> {
        match value.filter(|text| !text.is_empty()) {
            Some(text) => Timestamp::parse_rfc3339(&text)
                .map(|stamp| stamp.0)
                .map_err(|error| AppError::invalid(field, error.to_string())),
            None => Ok(default),
        }
    };
    let (from, to) = (time("from", from, 0)?, time("to", to, now + 1)?);
    if to <= from {
        return Err(AppError::invalid("to", "must be after from"));
    }
    Ok((from, to))
}

/// A listing's orders (as the KPI engine's payments too), for its seller.
pub async fn listing_payments(
    state: &AppState,
    seller_id: &str,
    listing_id: &str,
) -> Result<(Vec<Order>, Vec<Payment>), AppError> {
    let (seller_id, lookup) = (seller_id.to_string(), listing_id.to_string());
    let orders = state
        .store(move |store| store.orders(&seller_id, Some(&lookup)))
        .await?;
    let payments = orders.iter().filter_map(payment_from_order).collect();
    Ok((orders, payments))
}

/// The metrics document of a listing (what `/v1/metrics` answers and the dashboard shows).
pub async fn compute(
    state: &AppState,
    seller_id: &str,
    listing_id: &str,
    from: i64,
    to: i64,
) -> Result<Value, AppError> {
    let stored = owned_listing(state, seller_id, listing_id).await?;
    let listing_id = listing_id.to_string();
    let now = state.now_for(seller_id).0;
    let (orders, payments) = listing_payments(state, seller_id, &listing_id).await?;
    let lookup = listing_id.clone();
    let views = state
        .store(move |store| store.view_counts(&lookup, from, to))
        .await?;
    let lookup = listing_id.clone();
    let fees: BTreeMap<String, i64> = state
        .store(move |store| store.creator_fees(&lookup))
        .await?
        .into_iter()
        .collect();
    let in_range: Vec<&Payment> = payments
        .iter()
        .filter(|payment| payment.at >= from && payment.at < to)
        .collect();
    let mut segments: BTreeSet<(Option<String>, Option<String>)> = views
        .iter()
        .map(|count| (count.creator.clone(), count.variant.clone()))
        .collect();
    segments.extend(in_range.iter().map(|payment| {
        (
            payment.segment.creator.clone(),
            payment.segment.variant.clone(),
        )
    }));

    let mut rows = Vec::new();
    let mut rates = Vec::new();
    for (creator, variant) in &segments {
        let segment_views = views
            .iter()
            .filter(|count| &count.creator == creator && &count.variant == variant)
            .map(|count| count.views)
            .sum::<u64>();
        let segment_payments: Vec<&Payment> = in_range
            .iter()
            .copied()
            .filter(|payment| {
                &payment.segment.creator == creator && &payment.segment.variant == variant
            })
            .collect();
        let all_segment_payments: Vec<&Payment> = payments
            .iter()
            .filter(|payment| {
                &payment.segment.creator == creator && &payment.segment.variant == variant
            })
            .collect();
        let conversion = kpi::conversion(segment_views, &segment_payments);
        let repeat = kpi::repeat_rate(&all_segment_payments, from, to, now);
        rates.push((variant.clone(), conversion));
        rows.push(json!({
            "creator": creator, "variant": variant, "views": segment_views,
            "paid_commits": conversion.successes, "conversion": rate_json(&conversion),
            "repeat_rate_30d": { "customers": repeat.customers, "repeated": repeat.repeated, "eligible": repeat.eligible, "value": repeat.rate },
            "recurring_revenue_per_active_customer": kpi::recurring_revenue_per_active_customer(&segment_payments, from, to),
            // A display sum: saturating (`kpi::total`), never wrapping.
            "revenue": kpi::total(segment_payments.iter().filter(|payment| !payment.refunded).map(|payment| payment.amount)),
        }));
    }
    let comparisons: Vec<Value> = rates
        .iter()
        .skip(1)
        .map(|(variant, rate)| {
            let comparison = kpi::compare(&rates[0].1, rate);
            json!({ "a": rates[0].0, "b": variant, "difference": comparison.difference, "probability_b_beats_a": comparison.probability_b_beats_a })
        })
        .collect();
    let creators: Vec<Value> = fees
        .iter()
        .map(|(handle, fee)| {
            // Acquired through the creator: by their link, or (without a link) by their demo.
            let theirs: Vec<&Payment> = payments
                .iter()
                .filter(|payment| payment.segment.creator.as_deref().or(payment.segment.variant.as_deref()) == Some(handle.as_str()))
                .collect();
            json!({ "creator": handle, "fee": fee, "cac_payback_months": kpi::cac_payback_months(*fee, &theirs, from, to) })
        })
        .collect();
    let overall = kpi::repeat_rate(&payments.iter().collect::<Vec<_>>(), from, to, now);
    let lookup = listing_id.clone();
    let event_counts: BTreeMap<String, u64> = state
        .store(move |store| store.event_type_counts(&lookup, from, to))
        .await?
        .into_iter()
        .collect();
    let count = |event_type: &str| event_counts.get(event_type).copied().unwrap_or(0);
    let funnel = json!({
        "views": count("view"), "demo_plays": count("demo-play"),
        "checkout_starts": count("checkout-start"),
        "paid_commits": kpi::conversion(0, &in_range).successes,
    });
    let drop = stored.stock.map(|stock| json!({ "inventory": stock.inventory, "sold": stock.sold, "reserved": stock.reserved,
        "sell_through": kpi::sell_through(stock.sold.max(0) as u64, stock.inventory.max(0) as u64) }));
    Ok(json!({
        "listing_id": listing_id,
        "from": Timestamp(from).to_rfc3339(), "to": Timestamp(to).to_rfc3339(),
        "currency": orders.first().map(|order| order.currency.clone()),
        "segments": rows,
        "comparisons": comparisons,
        "creators": creators,
        "repeat_rate_30d": { "customers": overall.customers, "repeated": overall.repeated, "eligible": overall.eligible, "value": overall.rate },
        "drop": drop,
        "funnel": funnel,
        "concentration": concentration_json(&orders, now),
        "saves": saves_json(state, &listing_id, from, to).await?,
        "offer_variants": offer_variants_json(state, seller_id, &stored).await?,
    }))
}

/// Cancellations turned into a pause or a downgrade in [from, to) (issue 15), and the monthly
/// recurring revenue they kept (per currency; what a pause resumes at, a downgrade's lower
/// price) and gave up (a downgrade's difference).
async fn saves_json(
    state: &AppState,
    listing_id: &str,
    from: i64,
    to: i64,
) -> Result<Value, AppError> {
    let lookup = listing_id.to_string();
    let totals = state
        .store(move |store| store.save_totals(&lookup, from, to))
        .await?;
    let revenue: Vec<Value> = totals
        .by_currency
        .iter()
        .map(|(currency, kept, given_up)| {
            json!({ "currency": currency, "mrr_kept": kept, "mrr_given_up": given_up })
        })
        .collect();
    Ok(json!({
        "total": totals.pauses + totals.downgrades,
        "pauses": totals.pauses,
        "downgrades": totals.downgrades,
        "revenue": revenue,
    }))
}

/// Each bundle offer's test of its offer variants (`crate::bandit`), recomputed first when
/// due; counts since the test began.
async fn offer_variants_json(
    state: &AppState,
    seller_id: &str,
    stored: &crate::store::StoredListing,
) -> Result<Vec<Value>, AppError> {
    if !crate::bandit::has_offer_variants(&stored.document) {
        return Ok(Vec::new());
    }
    let listing = mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(errors.to_string()))?;
    crate::bandit::listing_tests_json(state, seller_id, &listing).await
}

/// How many days back the concentration figures look, on the seller's clock.
pub const CONCENTRATION_DAYS: i64 = 30;

/// Who brought an order: the creator of the link it came by, else the creator whose demo was
/// shown (as for CAC payback).
pub fn order_creator(order: &Order) -> Option<String> {
    order.creator.clone().or_else(|| {
        order
            .attribution
            .get("variant")
            .and_then(Value::as_str)
            .map(String::from)
    })
}

/// The UTM source an order's checkout carried (renewals keep their subscription's).
pub fn order_source(order: &Order) -> Option<String> {
    order
        .attribution
        .pointer("/utm/source")
        .and_then(Value::as_str)
        .map(String::from)
}

/// Non-refunded revenue of the last [`CONCENTRATION_DAYS`] by creator and by UTM source
/// (grouped without regard to case, `concentration::case_folded`), with core's rule (`concentration`): one creator or one source over 60 % is a warning.
pub fn concentration_of(orders: &[Order], now: i64) -> (i64, Concentration, Concentration) {
    let from = now - CONCENTRATION_DAYS * 86_400;
    let recent: Vec<&Order> = orders
        .iter()
        .filter(|order| order.status != "refunded")
        .filter(|order| {
            Timestamp::parse_rfc3339(&order.created_at).is_ok_and(|at| at.0 >= from && at.0 <= now)
        })
        .collect();
    (
        from,
        concentration(
            recent
                .iter()
                .map(|order| (order_creator(order), order.amount)),
        ),
        // Sources are typed by hand in links: "Instagram" and "instagram" are one.
        concentration(mighty_core::concentration::case_folded(
            recent
                .iter()
                .map(|order| (order_source(order), order.amount)),
        )),
    )
}

fn concentration_json(orders: &[Order], now: i64) -> Value {
    let (from, by_creator, by_source) = concentration_of(orders, now);
    let part =
        |part: &Part| json!({ "key": part.key, "revenue": part.revenue, "share": part.share });
    let split = |split: &Concentration| {
        json!({
            "total": split.total,
            "parts": split.parts.iter().map(part).collect::<Vec<_>>(),
            "dominant": split.dominant.as_ref().map(part),
        })
    };
    json!({
        "from": Timestamp(from).to_rfc3339(), "to": Timestamp(now).to_rfc3339(),
        "limit": LIMIT_PERCENT as f64 / 100.0,
        "by_creator": split(&by_creator),
        "by_source": split(&by_source),
    })
}
