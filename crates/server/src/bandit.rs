//! Dynamic value bundles on the server (issue 15, SPEC 3.1): each bundle offer with variants
//! is a test whose allocation (the share of new visitors each variant gets) is recomputed by
//! core's `bandit` from the stored counts, at most every [`RECOMPUTE_SECONDS`] of the
//! seller's clock, by whichever comes first: the scheduler's tick, or a read of the listing
//! (`GET /v1/listings/{id}`, the metrics) that finds it due. Between recomputes every read
//! serves the stored allocation, so all instances serve the same shares.
//!
//! A recompute is seeded from what it is computed from (listing, offer and the counts), so
//! the same counts give the same shares and a recompute without new data changes nothing
//! (no history point is added then). A different set of variant ids (the seller replaced the
//! listing) reopens the test: it explores again, keeping the counts of the ids that remain.
//! What is decided (shares, stopping, the winner) is core's; this module reads and stores.

use mighty_core::Timestamp;
use mighty_core::bandit::{
    self, MONTE_CARLO_DRAWS, Rng, STOP_PROBABILITY, StopReason, TestStatus, VariantData,
    YOUNG_FLOOR_SHARE, YOUNG_UNTIL_VIEWS,
};
use mighty_core::listing::{Listing, OfferKind};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::store::{AllocationClaim, ShareSnapshot, StoredVariantTest, VariantCounts};

/// Seconds of the seller's clock between two recomputes of a test. Hourly: shares move with
/// the evidence within the day, and a visitor's page view never sees more than one change.
pub const RECOMPUTE_SECONDS: i64 = 3_600;

/// A bundle offer with variants, as the stored listing has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantOffer {
    pub offer_id: String,
    /// Each variant's id and the price it is charged at (its own, else the offer's).
    pub variants: Vec<(String, i64)>,
}

/// The bundle offers of `listing` that have variants, in the listing's order.
pub fn variant_offers(listing: &Listing) -> Vec<VariantOffer> {
    listing
        .offers
        .iter()
        .filter_map(|offer| match &offer.kind {
            OfferKind::Bundle(bundle) if !bundle.variants.is_empty() => Some(VariantOffer {
                offer_id: offer.id.clone(),
                variants: bundle
                    .variants
                    .iter()
                    .map(|variant| (variant.id.clone(), bundle.variant_price(variant).minor))
                    .collect(),
            }),
            _ => None,
        })
        .collect()
}

/// One variant as a test serves it now.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedVariant {
    pub data: VariantData,
    pub share: f64,
    pub probability_best: f64,
}

/// A bundle offer's test now.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferTest {
    pub offer_id: String,
    pub status: TestStatus,
    pub young: bool,
    pub started_at: i64,
    pub computed_at: i64,
    pub stopped_at: Option<i64>,
    /// In the listing's order.
    pub variants: Vec<ServedVariant>,
}

fn status_of(test: &StoredVariantTest) -> TestStatus {
    match (test.status.as_str(), &test.winner) {
        ("stopped", Some(winner)) => TestStatus::Stopped {
            winner: winner.clone(),
            reason: test
                .stop_reason
                .as_deref()
                .and_then(StopReason::parse)
                .unwrap_or(StopReason::Seller),
        },
        _ => TestStatus::Exploring,
    }
}

fn allocation_json(variants: &[ServedVariant]) -> Value {
    Value::Array(
        variants
            .iter()
            .map(|variant| {
                json!({
                    "id": variant.data.id, "price": variant.data.price, "views": variant.data.views,
                    "commits": variant.data.commits, "revenue": variant.data.revenue,
                    "share": variant.share, "probability_best": variant.probability_best,
                })
            })
            .collect(),
    )
}

/// The test as stored (the allocation written at its last recompute).
fn from_stored(test: &StoredVariantTest) -> OfferTest {
    let variants: Vec<ServedVariant> = test
        .allocation
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            let number = |key: &str| entry.get(key).and_then(Value::as_u64).unwrap_or(0);
            ServedVariant {
                data: VariantData {
                    id: entry
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    price: entry.get("price").and_then(Value::as_i64).unwrap_or(0),
                    views: number("views"),
                    commits: number("commits"),
                    revenue: entry.get("revenue").and_then(Value::as_i64).unwrap_or(0),
                },
                share: entry.get("share").and_then(Value::as_f64).unwrap_or(0.0),
                probability_best: entry
                    .get("probability_best")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
            }
        })
        .collect();
    let data: Vec<VariantData> = variants
        .iter()
        .map(|variant| variant.data.clone())
        .collect();
    OfferTest {
        offer_id: test.offer_id.clone(),
        status: status_of(test),
        young: bandit::is_young(&data),
        started_at: test.started_at,
        computed_at: test.computed_at,
        stopped_at: test.stopped_at,
        variants,
    }
}

fn stored_form(
    listing_id: &str,
    seller_id: &str,
    offer: &VariantOffer,
    test: &OfferTest,
) -> StoredVariantTest {
    let (status, winner, stop_reason) = match &test.status {
        TestStatus::Exploring => ("exploring", None, None),
        TestStatus::Stopped { winner, reason } => {
            ("stopped", Some(winner.clone()), Some(reason.as_str()))
        }
    };
    StoredVariantTest {
        listing_id: listing_id.to_string(),
        offer_id: offer.offer_id.clone(),
        seller_id: seller_id.to_string(),
        variant_ids: offer.variants.iter().map(|(id, _)| id.clone()).collect(),
        status: status.to_string(),
        winner,
        stop_reason: stop_reason.map(String::from),
        stopped_at: test.stopped_at,
        started_at: test.started_at,
        computed_at: test.computed_at,
        allocation: allocation_json(&test.variants),
    }
}

fn snapshots(test: &OfferTest) -> Vec<ShareSnapshot> {
    test.variants
        .iter()
        .map(|variant| ShareSnapshot {
            at: test.computed_at,
            variant_id: variant.data.id.clone(),
            share: variant.share,
            probability_best: variant.probability_best,
            views: variant.data.views,
            commits: variant.data.commits,
            revenue: variant.data.revenue,
        })
        .collect()
}

/// The measured data of each of `offer`'s variants (ids without any: zeros).
fn variant_data(offer: &VariantOffer, counts: &[VariantCounts]) -> Vec<VariantData> {
    offer
        .variants
        .iter()
        .map(|(id, price)| {
            let measured = counts.iter().find(|count| &count.variant_id == id);
            VariantData {
                id: id.clone(),
                price: *price,
                views: measured.map_or(0, |count| count.views),
                commits: measured.map_or(0, |count| count.commits),
                revenue: measured.map_or(0, |count| count.revenue),
            }
        })
        .collect()
}

/// The seed of a recompute: what it is computed from, so equal inputs give equal shares.
fn seed(listing_id: &str, offer_id: &str, data: &[VariantData], previous: &TestStatus) -> u64 {
    let mut text = format!("{listing_id}/{offer_id}/{previous:?}");
    for variant in data {
        text.push_str(&format!(
            "/{}:{}:{}:{}:{}",
            variant.id, variant.price, variant.views, variant.commits, variant.revenue
        ));
    }
    bandit::seed_from(&text)
}

/// Whether a stored test must be recomputed at `now`: its interval has passed (or the
/// seller's clock is behind it), or the seller changed the variants (their ids or prices).
fn is_due(test: &StoredVariantTest, offer: &VariantOffer, now: i64) -> bool {
    let ids: Vec<&String> = offer.variants.iter().map(|(id, _)| id).collect();
    let same_set = test.variant_ids.iter().collect::<Vec<_>>() == ids;
    let served: Vec<(String, i64)> = from_stored(test)
        .variants
        .into_iter()
        .map(|variant| (variant.data.id, variant.data.price))
        .collect();
    !same_set
        || served != offer.variants
        || now - test.computed_at >= RECOMPUTE_SECONDS
        || now < test.computed_at
}

/// Whether two lists hold the same variant ids, in whatever order.
fn same_ids(stored: &[String], now: &[String]) -> bool {
    let sorted = |ids: &[String]| {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids
    };
    sorted(stored) == sorted(now)
}

/// What changes decide: `status` (a seller's stop) replaces the test's own.
enum Decision {
    /// Core's allocation from the counts.
    Recompute,
    /// The seller stopped it with this status.
    Stop(TestStatus),
}

/// Recomputes `offer`'s test at `now` and saves it (claimed against `existing`); returns
/// what is served (another instance's result when it computed first).
async fn recompute(
    state: &AppState,
    listing_id: &str,
    seller_id: &str,
    offer: &VariantOffer,
    existing: Option<&StoredVariantTest>,
    now: i64,
    decision: Decision,
) -> Result<OfferTest, AppError> {
    let (lookup, offer_id) = (listing_id.to_string(), offer.offer_id.clone());
    let counts = state
        .store(move |store| store.offer_variant_counts(&lookup, &offer_id))
        .await?;
    let data = variant_data(offer, &counts);
    let ids: Vec<String> = offer.variants.iter().map(|(id, _)| id.clone()).collect();
    // The same ids in another order (the seller reordered the card) are the same test: its
    // status, winner and start stay.
    let same_set = existing.is_some_and(|test| same_ids(&test.variant_ids, &ids));
    let previous = match existing {
        Some(test) if same_set => status_of(test),
        // New, or another set of variants: a new test.
        _ => TestStatus::Exploring,
    };
    let mut rng = Rng::seeded(seed(listing_id, &offer.offer_id, &data, &previous));
    let status = match &decision {
        Decision::Stop(status) => status.clone(),
        Decision::Recompute => previous.clone(),
    };
    let allocation = bandit::allocate(&data, &status, MONTE_CARLO_DRAWS, &mut rng);
    let stopped_at = match (&allocation.status, existing) {
        (TestStatus::Exploring, _) => None,
        (TestStatus::Stopped { .. }, Some(test)) if same_set && previous == allocation.status => {
            test.stopped_at
        }
        (TestStatus::Stopped { .. }, _) => Some(now),
    };
    let test = OfferTest {
        offer_id: offer.offer_id.clone(),
        status: allocation.status.clone(),
        young: allocation.young,
        started_at: match existing {
            Some(test) if same_set => test.started_at,
            _ => now,
        },
        computed_at: now,
        stopped_at,
        variants: allocation
            .variants
            .into_iter()
            .map(|variant| ServedVariant {
                data: variant.data,
                share: variant.share,
                probability_best: variant.probability_best,
            })
            .collect(),
    };
    // A point of history when something changed (a recompute on the same counts gives
    // the same shares: seeded from them).
    let changed = existing.is_none_or(|stored| {
        let before = from_stored(stored);
        before.variants != test.variants || before.status != test.status || !same_set
    });
    let history = if changed {
        snapshots(&test)
    } else {
        Vec::new()
    };
    let claim = match (&decision, existing) {
        (Decision::Stop(_), Some(_)) => AllocationClaim::Force,
        (_, Some(stored)) => AllocationClaim::After(stored.computed_at),
        (_, None) => AllocationClaim::New,
    };
    let stored = stored_form(listing_id, seller_id, offer, &test);
    let written = state
        .store(move |store| store.save_offer_variant_test(&stored, claim, &history))
        .await?;
    if written {
        return Ok(test);
    }
    // Another instance computed it first: serve theirs.
    let (lookup, offer_id) = (listing_id.to_string(), offer.offer_id.clone());
    let theirs = state
        .store(move |store| store.offer_variant_tests(&lookup))
        .await?
        .into_iter()
        .find(|stored| stored.offer_id == offer_id);
    Ok(theirs.as_ref().map(from_stored).unwrap_or(test))
}

/// The tests of `listing`'s bundle offers with variants, recomputing the due ones (all of
/// them when `force`).
pub async fn tests_for(
    state: &AppState,
    seller_id: &str,
    listing: &Listing,
    force: bool,
) -> Result<Vec<OfferTest>, AppError> {
    let offers = variant_offers(listing);
    let lookup = listing.id.clone();
    let stored = state
        .store(move |store| store.offer_variant_tests(&lookup))
        .await?;
    // Tests of offers that no longer have variants end (the scheduler would find them due
    // for ever otherwise).
    if stored
        .iter()
        .any(|test| offers.iter().all(|offer| offer.offer_id != test.offer_id))
    {
        let (lookup, keep) = (
            listing.id.clone(),
            offers
                .iter()
                .map(|offer| offer.offer_id.clone())
                .collect::<Vec<_>>(),
        );
        state
            .store(move |store| store.remove_offer_variant_tests(&lookup, &keep))
            .await?;
    }
    let now = state.now_for(seller_id).0;
    let mut tests = Vec::new();
    for offer in &offers {
        let existing = stored.iter().find(|test| test.offer_id == offer.offer_id);
        let test = match existing {
            Some(test) if !force && !is_due(test, offer, now) => from_stored(test),
            _ => {
                recompute(
                    state,
                    &listing.id,
                    seller_id,
                    offer,
                    existing,
                    now,
                    Decision::Recompute,
                )
                .await?
            }
        };
        tests.push(test);
    }
    Ok(tests)
}

/// The seller stops `offer_id`'s test: `winner` when given, else the variant most likely to
/// be best now. The winner gets all new visitors from now on.
pub async fn stop(
    state: &AppState,
    seller_id: &str,
    listing: &Listing,
    offer_id: &str,
    winner: Option<&str>,
) -> Result<OfferTest, AppError> {
    let offer = variant_offer(listing, offer_id)?;
    let current = tests_for(state, seller_id, listing, true).await?;
    let test = current
        .into_iter()
        .find(|test| test.offer_id == offer_id)
        .ok_or_else(|| AppError::Internal(format!("no test for offer {offer_id}")))?;
    let data: Vec<VariantData> = test.variants.iter().map(|v| v.data.clone()).collect();
    let probabilities: Vec<f64> = test.variants.iter().map(|v| v.probability_best).collect();
    let status = bandit::stop_by_seller(&data, &probabilities, winner).map_err(|error| {
        let ids: Vec<&str> = data.iter().map(|variant| variant.id.as_str()).collect();
        AppError::invalid(
            "winner",
            format!("{error}; choose one of {}", ids.join(", ")),
        )
    })?;
    let lookup = listing.id.clone();
    let stored = state
        .store(move |store| store.offer_variant_tests(&lookup))
        .await?;
    let existing = stored.iter().find(|test| test.offer_id == offer_id);
    let now = state.now_for(seller_id).0;
    recompute(
        state,
        &listing.id,
        seller_id,
        &offer,
        existing,
        now,
        Decision::Stop(status),
    )
    .await
}

/// `offer_id` of `listing` as a bundle with variants, else a 404 naming what is there.
pub fn variant_offer(listing: &Listing, offer_id: &str) -> Result<VariantOffer, AppError> {
    variant_offers(listing)
        .into_iter()
        .find(|offer| offer.offer_id == offer_id)
        .ok_or_else(|| {
            let known = listing.offers.iter().any(|offer| offer.id == offer_id);
            AppError::NotFound(if known {
                format!(
                    "offer \"{offer_id}\" of \"{}\" has no offer variants",
                    listing.id
                )
            } else {
                format!("listing \"{}\" has no offer \"{offer_id}\"", listing.id)
            })
        })
}

/// Adds each variant's current `share` to a listing document (SPEC 3.1).
pub fn add_shares(document: &mut Value, tests: &[OfferTest]) {
    let Some(offers) = document.get_mut("offers").and_then(Value::as_array_mut) else {
        return;
    };
    for offer in offers {
        let Some(test) = offer
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| tests.iter().find(|test| test.offer_id == id))
        else {
            continue;
        };
        let Some(variants) = offer.get_mut("variants").and_then(Value::as_array_mut) else {
            continue;
        };
        // Four decimals that sum to exactly 1 (core's `served_shares`).
        let exact: Vec<f64> = test.variants.iter().map(|served| served.share).collect();
        let rounded = bandit::served_shares(&exact);
        for variant in variants {
            let share = variant
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| test.variants.iter().position(|served| served.data.id == id))
                .map(|index| rounded[index]);
            if let (Some(share), Some(object)) = (share, variant.as_object_mut()) {
                object.insert("share".into(), json!(share));
            }
        }
    }
}

/// Whether a stored listing document has any offer with `variants` (a cheap look before
/// parsing it on the hot read path).
pub fn has_offer_variants(document: &Value) -> bool {
    document
        .get("offers")
        .and_then(Value::as_array)
        .is_some_and(|offers| offers.iter().any(|offer| offer.get("variants").is_some()))
}

/// The scheduler's part: recomputes every test due on its seller's clock. Returns how many
/// listings were looked at.
pub async fn recompute_due(state: &AppState) -> Result<usize, AppError> {
    let now = crate::clock::real_now();
    let due = state
        .store(move |store| store.due_offer_variant_listings(now, RECOMPUTE_SECONDS))
        .await?;
    for listing_id in &due {
        let lookup = listing_id.clone();
        let Some(stored) = state.store(move |store| store.listing(&lookup)).await? else {
            continue;
        };
        let Ok(listing) = mighty_core::parse_listing(&stored.document.to_string()) else {
            continue;
        };
        tests_for(state, &stored.seller_id, &listing, false).await?;
    }
    Ok(due.len())
}

fn interval_json(interval: &bandit::Interval) -> Value {
    json!({ "value": interval.value, "low": interval.low, "high": interval.high })
}

fn rate_json(rate: &mighty_core::kpi::Rate) -> Value {
    json!({ "successes": rate.successes, "trials": rate.trials, "value": rate.value, "low": rate.low, "high": rate.high })
}

/// One test as the seller reads it (the metrics' `offer_variants` and
/// `GET /v1/listings/{id}/offers/{offer_id}/variants`): per variant its counts as they are
/// now (since the test began), conversion and revenue per view with their 95 % intervals
/// from them, and the share served and probability of being best as of the last recompute
/// (`computed_at`); the status and winner; and the history of shares.
pub async fn test_json(
    state: &AppState,
    listing_id: &str,
    test: &OfferTest,
) -> Result<Value, AppError> {
    let (lookup, offer_id) = (listing_id.to_string(), test.offer_id.clone());
    let counts = state
        .store(move |store| store.offer_variant_counts(&lookup, &offer_id))
        .await?;
    let mut test = test.clone();
    for variant in &mut test.variants {
        let measured = counts
            .iter()
            .find(|count| count.variant_id == variant.data.id);
        variant.data.views = measured.map_or(0, |count| count.views);
        variant.data.commits = measured.map_or(0, |count| count.commits);
        variant.data.revenue = measured.map_or(0, |count| count.revenue);
    }
    let (lookup, offer_id) = (listing_id.to_string(), test.offer_id.clone());
    let history = state
        .store(move |store| store.offer_variant_share_history(&lookup, &offer_id))
        .await?;
    let order: Vec<&str> = test.variants.iter().map(|v| v.data.id.as_str()).collect();
    let mut points: Vec<Value> = Vec::new();
    let mut index = 0;
    while index < history.len() {
        let at = history[index].at;
        let mut point: Vec<&ShareSnapshot> = history[index..]
            .iter()
            .take_while(|snapshot| snapshot.at == at)
            .collect();
        index += point.len();
        // In the listing's order; ids it no longer has after it.
        point.sort_by_key(|snapshot| {
            order
                .iter()
                .position(|id| *id == snapshot.variant_id)
                .unwrap_or(usize::MAX)
        });
        points.push(json!({
            "at": Timestamp(at).to_rfc3339(),
            "variants": point.iter().map(|snapshot| json!({
                "id": snapshot.variant_id, "share": snapshot.share,
                "probability_best": snapshot.probability_best, "views": snapshot.views,
                "commits": snapshot.commits, "revenue": snapshot.revenue,
            })).collect::<Vec<_>>(),
        }));
    }
    let (status, winner, reason) = match &test.status {
        TestStatus::Exploring => ("exploring", None, None),
        TestStatus::Stopped { winner, reason } => {
            ("stopped", Some(winner.as_str()), Some(reason.as_str()))
        }
    };
    Ok(json!({
        "offer_id": test.offer_id,
        "status": status,
        "winner": winner,
        "stop_reason": reason,
        "young": test.young,
        "started_at": Timestamp(test.started_at).to_rfc3339(),
        "computed_at": Timestamp(test.computed_at).to_rfc3339(),
        "stopped_at": test.stopped_at.map(|at| Timestamp(at).to_rfc3339()),
        "rules": {
            "stop_probability": STOP_PROBABILITY,
            "young_floor_share": YOUNG_FLOOR_SHARE,
            "young_until_views": YOUNG_UNTIL_VIEWS,
            "recompute_seconds": RECOMPUTE_SECONDS,
            "draws": MONTE_CARLO_DRAWS,
        },
        "variants": test.variants.iter().map(|variant| json!({
            "id": variant.data.id,
            "price": variant.data.price,
            "views": variant.data.views,
            "commits": variant.data.commits,
            "revenue": variant.data.revenue,
            "conversion": rate_json(&variant.data.conversion()),
            "revenue_per_view": interval_json(&variant.data.revenue_per_view()),
            "share": variant.share,
            "probability_best": variant.probability_best,
        })).collect::<Vec<_>>(),
        "history": points,
    }))
}

/// Every bundle test of a listing as the seller reads it (the metrics' `offer_variants`).
pub async fn listing_tests_json(
    state: &AppState,
    seller_id: &str,
    listing: &Listing,
) -> Result<Vec<Value>, AppError> {
    let mut out = Vec::new();
    for test in tests_for(state, seller_id, listing, false).await? {
        out.push(test_json(state, &listing.id, &test).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documents_with_offer_variants_are_parsed_on_read() {
        assert!(has_offer_variants(
            &json!({"offers": [{"id": "a"}, {"id": "b", "variants": []}]})
        ));
        assert!(!has_offer_variants(&json!({"offers": [{"id": "a"}]})));
        assert!(!has_offer_variants(&json!({})));
    }
}
