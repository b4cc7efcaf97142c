//! Retention by value (issue 15): pause, resume and downgrade through the API and the manage
//! page, renewals that skip paused periods on the sandbox clock, downgrades applied at the
//! period's end, their webhooks (checked by a receiver over a real socket against the OpenAPI
//! description), idempotent retries, who may ask, and the saves `GET /v1/metrics` counts.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use mighty_core::Timestamp;
use mighty_server::webhooks::deliver_due;
use serde_json::{Value, json};
use support::{SELLER, TestServer, receiver};

const OWN_ORIGIN: &str = "http://127.0.0.1:8080";

/// The standard listing with four tiers: basic 9 €, monthly 15 €, plus 25 € a month and a
/// yearly one (another interval).
async fn server_with_tiers() -> TestServer {
    let server = TestServer::new().await;
    let mut document = support::listing("candle-trio", None);
    document["offers"][1]["tiers"] = json!([
        { "id": "basic", "name": "Basic", "price": 900, "interval": "month" },
        { "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month" },
        { "id": "plus", "name": "Plus", "price": 2500, "interval": "month" },
        { "id": "annual", "name": "Annual", "price": 12000, "interval": "year" }
    ]);
    let stored = server.put_listing("candle-trio", document).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text());
    server
}

/// Buys `tier` of the club: (subscription id, customer token).
async fn buy(server: &TestServer, tier: &str) -> (String, String) {
    let (id, secret) = server.open_session_with_secret("club", Some(tier)).await;
    let receipt = server.pay(&id, "4242424242424242", &[]).await;
    assert!(
        receipt.text().contains("Payment received"),
        "{}",
        receipt.text()
    );
    let state = server.session_state(&id, Some(&secret)).await;
    (
        state["subscription_id"].as_str().unwrap().to_string(),
        state["customer_token"].as_str().unwrap().to_string(),
    )
}

/// `POST /v1/subscriptions/{subscription}/{action}` with `token` and `key`.
async fn act(
    server: &TestServer,
    subscription: &str,
    action: &str,
    token: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> support::Response {
    let authorization = format!("Bearer {token}");
    let mut headers = vec![("authorization", authorization.as_str())];
    if let Some(key) = key {
        headers.push(("idempotency-key", key));
    }
    server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/{action}"),
            &headers,
            body.map(|body| body.to_string()),
        )
        .await
}

async fn subscription(server: &TestServer, id: &str) -> Value {
    server
        .seller_get(&format!("/v1/subscriptions/{id}"))
        .await
        .json()
}

/// The orders of `subscription` of `kind`, oldest first.
async fn orders_of(server: &TestServer, subscription: &str, kind: &str) -> Vec<Value> {
    let mut orders: Vec<Value> = server.seller_get("/v1/orders").await.json()["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|order| order["subscription_id"] == subscription && order["kind"] == kind)
        .cloned()
        .collect();
    orders.sort_by_key(|order| order["created_at"].as_str().unwrap_or_default().to_string());
    orders
}

fn at(value: &Value) -> i64 {
    Timestamp::parse_rfc3339(value.as_str().unwrap()).unwrap().0
}

/// The end of the `n`th monthly period of a membership that started at `anchor` (core's
/// `billing`: on the anchor's day of the month, or the month's last day).
fn nth_month_end(anchor: &Value, n: i64) -> i64 {
    mighty_core::billing::nth_period_end(
        Timestamp(at(anchor)),
        mighty_core::listing::Interval::Month,
        n,
    )
    .0
}

/// Moves the test seller's clock to just past `instant`.
async fn advance_past(server: &TestServer, instant: i64) {
    let now = server.seller_now().await.0;
    if instant >= now {
        let advanced = server.advance_clock(instant - now + 60).await;
        assert_eq!(advanced.status, StatusCode::OK, "{}", advanced.text());
    }
}

#[tokio::test]
async fn a_pause_asks_for_one_to_three_months() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "monthly").await;
    for (body, why) in [
        (json!({ "months": 0 }), "zero"),
        (json!({ "months": 4 }), "four"),
        (json!({ "months": -1 }), "negative"),
        (json!({ "months": "2" }), "a string"),
        (json!({ "months": 1.5 }), "a fraction"),
        (json!({}), "missing"),
    ] {
        let refused = act(&server, &id, "pause", &token, Some(why), Some(body)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{why}: {}",
            refused.text()
        );
        assert_eq!(refused.json()["error"]["field"], "months", "{why}");
    }
    let no_key = act(
        &server,
        &id,
        "pause",
        &token,
        None,
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(no_key.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_key.json()["error"]["field"], "Idempotency-Key");
    assert_eq!(
        subscription(&server, &id).await["status"],
        "active",
        "nothing changed"
    );
}

#[tokio::test]
async fn pausing_twice_resuming_unpaused_and_acting_on_a_canceled_membership_conflict() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "plus").await;
    let resumed = act(&server, &id, "resume", &token, Some("r0"), None).await;
    assert_eq!(
        resumed.status,
        StatusCode::CONFLICT,
        "not paused: {}",
        resumed.text()
    );

    let paused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("p1"),
        Some(json!({ "months": 2 })),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text());
    let body = paused.json();
    assert_eq!(body["status"], "paused");
    assert_eq!(
        body["paused_from"], body["current_period_end"],
        "the period paid for is kept"
    );
    // The first period ends at the anchor's first month end; two more are skipped.
    assert_eq!(
        at(&body["current_period_end"]),
        nth_month_end(&body["current_period_start"], 1)
    );
    assert_eq!(
        at(&body["paused_until"]),
        nth_month_end(&body["current_period_start"], 3),
        "two monthly renewals skipped"
    );

    let again = act(
        &server,
        &id,
        "pause",
        &token,
        Some("p2"),
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert!(
        again.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("paused")
    );

    let resumed = act(&server, &id, "resume", &token, Some("r1"), None).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.text());
    assert_eq!(resumed.json()["status"], "active");
    assert_eq!(resumed.json()["paused_until"], Value::Null);

    let canceled = act(&server, &id, "cancel", &token, None, None).await;
    assert_eq!(canceled.json()["status"], "canceled");
    for (action, body) in [
        ("pause", Some(json!({ "months": 1 }))),
        ("resume", None),
        ("downgrade", Some(json!({ "tier_id": "basic" }))),
    ] {
        let refused = act(&server, &id, action, &token, Some("after-cancel"), body).await;
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            refused.text()
        );
    }
}

#[tokio::test]
async fn retries_with_the_same_key_answer_the_same_and_another_body_conflicts() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "plus").await;
    let first = act(
        &server,
        &id,
        "pause",
        &token,
        Some("k"),
        Some(json!({ "months": 3 })),
    )
    .await;
    let retry = act(
        &server,
        &id,
        "pause",
        &token,
        Some("k"),
        Some(json!({ "months": 3 })),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        retry.status,
        StatusCode::OK,
        "a retry is not a second pause"
    );
    assert_eq!(first.json(), retry.json());
    let changed = act(
        &server,
        &id,
        "pause",
        &token,
        Some("k"),
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert_eq!(changed.json()["error"]["code"], "idempotency_conflict");

    let downgrade = json!({ "tier_id": "basic" });
    let first = act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d"),
        Some(downgrade.clone()),
    )
    .await;
    let retry = act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d"),
        Some(downgrade),
    )
    .await;
    assert_eq!(
        (first.status, retry.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(first.json(), retry.json());
    let other = act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d"),
        Some(json!({ "tier_id": "monthly" })),
    )
    .await;
    assert_eq!(other.json()["error"]["code"], "idempotency_conflict");

    let resumed = act(&server, &id, "resume", &token, Some("r"), None).await;
    let retried = act(&server, &id, "resume", &token, Some("r"), None).await;
    assert_eq!(
        (resumed.status, retried.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(resumed.json()["status"], "active");
}

#[tokio::test]
async fn only_the_customer_and_their_seller_may_pause_resume_or_downgrade() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "plus").await;
    let (_, other_customer) = buy(&server, "monthly").await;
    let other_seller = "msk_other_seller_token_0002";
    server
        .state
        .store(move |store| store.add_seller("Other", other_seller, 0))
        .await
        .unwrap();
    for action in ["pause", "resume", "downgrade"] {
        let body = Some(json!({ "months": 1, "tier_id": "basic" }));
        for (who, token, status) in [
            ("another seller", other_seller, StatusCode::FORBIDDEN),
            (
                "another customer",
                other_customer.as_str(),
                StatusCode::FORBIDDEN,
            ),
            ("a made-up token", "cus_made_up", StatusCode::UNAUTHORIZED),
        ] {
            let refused = act(&server, &id, action, token, Some("x"), body.clone()).await;
            assert_eq!(
                refused.status,
                status,
                "{action} by {who}: {}",
                refused.text()
            );
        }
    }
    let no_token = server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{id}/pause"),
            &[("idempotency-key", "x")],
            Some(json!({ "months": 1 }).to_string()),
        )
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    // The seller may.
    let by_seller = act(
        &server,
        &id,
        "pause",
        SELLER,
        Some("s"),
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(by_seller.status, StatusCode::OK, "{}", by_seller.text());
    assert_eq!(subscription(&server, &id).await["status"], "paused");
    // And the customer.
    let by_customer = act(&server, &id, "resume", &token, Some("c"), None).await;
    assert_eq!(by_customer.status, StatusCode::OK, "{}", by_customer.text());
    let unknown = act(
        &server,
        "sub_nope",
        "pause",
        SELLER,
        Some("s"),
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn renewals_skip_the_paused_months_and_the_membership_resumes_by_itself() {
    let server = server_with_tiers().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let registered = server
        .seller_post(
            "/v1/webhooks",
            json!({ "url": format!("http://{address}/hook") }),
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED);
    let (id, token) = buy(&server, "plus").await;
    let paused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("p"),
        Some(json!({ "months": 2 })),
    )
    .await;
    let paused = paused.json();
    let (period_end, resumes_at) = (
        at(&paused["current_period_end"]),
        at(&paused["paused_until"]),
    );
    let anchor = paused["current_period_start"].clone();

    // Through the two paused months: no charge, no renewal order, still paused.
    advance_past(&server, nth_month_end(&anchor, 2)).await;
    let during = subscription(&server, &id).await;
    assert_eq!(during["status"], "paused");
    assert!(
        orders_of(&server, &id, "renewal").await.is_empty(),
        "nothing charged while paused"
    );
    assert!(
        at(&during["current_period_start"]) > period_end,
        "the periods moved on"
    );

    // At `paused_until` it comes back and that period is charged, once.
    advance_past(&server, resumes_at).await;
    let after = subscription(&server, &id).await;
    assert_eq!(after["status"], "active", "{after}");
    assert_eq!(after["paused_until"], Value::Null);
    assert_eq!(at(&after["current_period_start"]), resumes_at);
    let renewals = orders_of(&server, &id, "renewal").await;
    assert_eq!(renewals.len(), 1, "{renewals:?}");
    assert_eq!(renewals[0]["amount"], 2500);
    assert_eq!(at(&renewals[0]["created_at"]), resumes_at);

    // A period later (on the anchor's day) it renews as usual.
    assert_eq!(at(&after["current_period_end"]), nth_month_end(&anchor, 4));
    advance_past(&server, nth_month_end(&anchor, 4)).await;
    assert_eq!(orders_of(&server, &id, "renewal").await.len(), 2);

    while deliver_due(&server.state, &reqwest::Client::new())
        .await
        .unwrap()
        > 0
    {}
    let events: Vec<Value> = receiver
        .received()
        .iter()
        .map(|delivery| {
            delivery.check_described().expect("a described webhook");
            delivery.json()
        })
        .collect();
    let types: Vec<&str> = events
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "checkout.session.completed",
            "subscription.created",
            "subscription.paused",
            "subscription.resumed",
            "subscription.renewed",
            "subscription.renewed"
        ],
    );
    let paused_event = &events[2]["data"]["subscription"];
    assert_eq!(paused_event["status"], "paused");
    assert_eq!(at(&paused_event["paused_until"]), resumes_at);
    let resumed_event = &events[3];
    assert_eq!(resumed_event["data"]["subscription"]["status"], "active");
    assert_eq!(
        at(&resumed_event["created"]),
        resumes_at,
        "resumed on the seller's clock at paused_until"
    );
}

#[tokio::test]
async fn resuming_early_charges_the_next_period_as_usual() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "plus").await;
    let paused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("p"),
        Some(json!({ "months": 3 })),
    )
    .await
    .json();
    let period_end = at(&paused["current_period_end"]);
    // One renewal skipped, then the shopper comes back.
    advance_past(&server, period_end).await;
    assert!(orders_of(&server, &id, "renewal").await.is_empty());
    let resumed = act(&server, &id, "resume", &token, Some("r"), None).await;
    assert_eq!(resumed.json()["status"], "active");
    let next = nth_month_end(&paused["current_period_start"], 2);
    assert_eq!(
        at(&resumed.json()["current_period_end"]),
        next,
        "the skipped period runs to its end"
    );
    advance_past(&server, next).await;
    let renewals = orders_of(&server, &id, "renewal").await;
    assert_eq!(renewals.len(), 1);
    assert_eq!(at(&renewals[0]["created_at"]), next);
}

#[tokio::test]
async fn a_downgrade_is_only_to_a_cheaper_tier_and_applies_at_the_periods_end() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "monthly").await;
    for (tier, why) in [
        ("plus", "dearer"),
        ("monthly", "the same"),
        ("gold", "unknown"),
        ("annual", "another interval"),
        ("", "empty"),
    ] {
        let refused = act(
            &server,
            &id,
            "downgrade",
            &token,
            Some(&why.replace(' ', "-")),
            Some(json!({ "tier_id": tier })),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{why}: {}",
            refused.text()
        );
        assert_eq!(refused.json()["error"]["field"], "tier_id", "{why}");
    }
    let missing = act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("m"),
        Some(json!({})),
    )
    .await;
    assert_eq!(missing.json()["error"]["field"], "tier_id");

    let orders_before = server.seller_get("/v1/orders").await.json()["orders"]
        .as_array()
        .unwrap()
        .len();
    let scheduled = act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d"),
        Some(json!({ "tier_id": "basic" })),
    )
    .await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.text());
    let body = scheduled.json();
    assert_eq!(
        (body["tier_id"].as_str(), body["price"].as_i64()),
        (Some("monthly"), Some(1500)),
        "nothing changes now"
    );
    assert_eq!(body["pending_tier_id"], "basic");
    assert_eq!(body["pending_price"], 900);
    assert_eq!(body["pending_effective_at"], body["current_period_end"]);
    let orders_after = server.seller_get("/v1/orders").await.json()["orders"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(orders_before, orders_after, "no charge and no credit now");

    // The renewal charges the lower price.
    advance_past(&server, at(&body["current_period_end"])).await;
    let renewed = subscription(&server, &id).await;
    assert_eq!(
        (renewed["tier_id"].as_str(), renewed["price"].as_i64()),
        (Some("basic"), Some(900))
    );
    assert_eq!(renewed["pending_tier_id"], Value::Null);
    let renewals = orders_of(&server, &id, "renewal").await;
    assert_eq!(renewals.len(), 1);
    assert_eq!(
        (
            renewals[0]["amount"].as_i64(),
            renewals[0]["tier_id"].as_str()
        ),
        (Some(900), Some("basic"))
    );
    // From basic there is nothing lower.
    let lowest = act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d2"),
        Some(json!({ "tier_id": "basic" })),
    )
    .await;
    assert_eq!(lowest.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_upgrade_or_a_cancel_after_a_downgrade_replaces_it() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "monthly").await;
    let upgrade = |key: &'static str, tier: &'static str| {
        let (server, id, token) = (&server, id.clone(), token.clone());
        async move {
            act(
                server,
                &id,
                "upgrade",
                &token,
                Some(key),
                Some(json!({ "tier_id": tier })),
            )
            .await
        }
    };
    act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d1"),
        Some(json!({ "tier_id": "basic" })),
    )
    .await;
    // Choosing the current tier again calls the downgrade off, for nothing.
    let kept = upgrade("keep", "monthly").await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text());
    assert_eq!(kept.json()["amount_due"], 0);
    assert_eq!(
        subscription(&server, &id).await["pending_tier_id"],
        Value::Null
    );
    // Without a waiting downgrade, the current tier is no change.
    assert_eq!(
        upgrade("again", "monthly").await.status,
        StatusCode::CONFLICT
    );

    // An upgrade replaces a waiting downgrade.
    act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d2"),
        Some(json!({ "tier_id": "basic" })),
    )
    .await;
    let upgraded = upgrade("up", "plus").await;
    assert_eq!(upgraded.status, StatusCode::OK);
    assert!(upgraded.json()["amount_due"].as_i64().unwrap() > 0);
    let now = subscription(&server, &id).await;
    assert_eq!(
        (now["tier_id"].as_str(), now["pending_tier_id"].clone()),
        (Some("plus"), Value::Null)
    );

    // A cancel drops a waiting downgrade (and a pause).
    act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d3"),
        Some(json!({ "tier_id": "monthly" })),
    )
    .await;
    act(
        &server,
        &id,
        "pause",
        &token,
        Some("p"),
        Some(json!({ "months": 1 })),
    )
    .await;
    let canceled = act(&server, &id, "cancel", &token, None, None).await.json();
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(
        (
            canceled["pending_tier_id"].clone(),
            canceled["paused_until"].clone()
        ),
        (Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn saves_are_counted_with_the_recurring_revenue_they_kept() {
    let server = server_with_tiers().await;
    let (paused, paused_token) = buy(&server, "plus").await;
    let (downgraded, downgraded_token) = buy(&server, "monthly").await;
    let (plain, plain_token) = buy(&server, "plus").await;
    let save = json!({ "months": 1, "instead_of_cancel": true });
    act(
        &server,
        &paused,
        "pause",
        &paused_token,
        Some("s1"),
        Some(save),
    )
    .await;
    let save = json!({ "tier_id": "basic", "instead_of_cancel": true });
    act(
        &server,
        &downgraded,
        "downgrade",
        &downgraded_token,
        Some("s2"),
        Some(save),
    )
    .await;
    // Not from a cancellation: not a save.
    act(
        &server,
        &plain,
        "pause",
        &plain_token,
        Some("s3"),
        Some(json!({ "months": 1 })),
    )
    .await;
    // A pause over a waiting downgrade keeps the lower price that resumes.
    let (lowered, lowered_token) = buy(&server, "plus").await;
    let lower = json!({ "tier_id": "monthly" });
    act(
        &server,
        &lowered,
        "downgrade",
        &lowered_token,
        Some("s4"),
        Some(lower),
    )
    .await;
    let save = json!({ "months": 2, "instead_of_cancel": true });
    act(
        &server,
        &lowered,
        "pause",
        &lowered_token,
        Some("s5"),
        Some(save),
    )
    .await;

    let metrics = server.seller_get("/v1/metrics?listing=candle-trio").await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text());
    let saves = &metrics.json()["saves"];
    assert_eq!(
        (
            saves["total"].as_i64(),
            saves["pauses"].as_i64(),
            saves["downgrades"].as_i64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(
        saves["revenue"],
        json!([{ "currency": "EUR", "mrr_kept": 2500 + 900 + 1500, "mrr_given_up": 1500 - 900 }])
    );
    // A range before them has none.
    let earlier = server
        .seller_get(
            "/v1/metrics?listing=candle-trio&from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
        )
        .await;
    assert_eq!(
        earlier.json()["saves"],
        json!({ "total": 0, "pauses": 0, "downgrades": 0, "revenue": [] })
    );
}

#[tokio::test]
async fn webhooks_say_paused_resumed_and_updated_with_the_change() {
    let server = server_with_tiers().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    server
        .seller_post(
            "/v1/webhooks",
            json!({ "url": format!("http://{address}/hook") }),
        )
        .await;
    let (id, token) = buy(&server, "plus").await;
    act(
        &server,
        &id,
        "pause",
        &token,
        Some("p"),
        Some(json!({ "months": 1 })),
    )
    .await;
    act(&server, &id, "resume", &token, Some("r"), None).await;
    act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("d"),
        Some(json!({ "tier_id": "monthly" })),
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    while deliver_due(&server.state, &client).await.unwrap() > 0 {}
    let events: Vec<Value> = receiver
        .received()
        .iter()
        .map(|delivery| {
            delivery.check_described().expect("a described webhook");
            delivery.json()
        })
        .filter(|event| {
            event["type"].as_str().unwrap().starts_with("subscription.")
                && event["type"] != "subscription.created"
        })
        .collect();
    let types: Vec<&str> = events
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "subscription.paused",
            "subscription.resumed",
            "subscription.updated"
        ]
    );
    assert_eq!(
        events[0]["data"]["subscription"]["subscription_id"],
        id.as_str()
    );
    assert_eq!(events[0]["data"]["subscription"]["status"], "paused");
    assert!(events[0]["data"]["subscription"]["paused_until"].is_string());
    assert_eq!(events[1]["data"]["subscription"]["status"], "active");
    assert_eq!(
        events[1]["data"]["subscription"]["paused_until"],
        Value::Null
    );
    let updated = &events[2]["data"];
    assert_eq!(updated["amount_due"], 0);
    assert_eq!(updated["subscription"]["tier_id"], "plus");
    assert_eq!(updated["subscription"]["pending_tier_id"], "monthly");
    assert_eq!(updated["subscription"]["pending_price"], 1500);
}

async fn form_post(server: &TestServer, path: &str, body: &str, origin: &str) -> support::Response {
    let request = Request::post(path)
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", origin)
        .header(
            "sec-fetch-site",
            if origin == OWN_ORIGIN {
                "same-origin"
            } else {
                "cross-site"
            },
        )
        .body(Body::from(body.to_string()))
        .unwrap();
    server.send(request).await
}

#[tokio::test]
async fn the_cancel_screen_offers_a_pause_and_lower_tiers_beside_a_one_click_cancel() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "plus").await;
    let manage = server.get(&format!("/manage/{token}")).await.text();
    assert!(
        manage.contains(&format!("href=\"/manage/{token}/cancel\"")),
        "{manage}"
    );

    let screen = server.get(&format!("/manage/{token}/cancel")).await;
    assert_eq!(screen.status, StatusCode::OK);
    let html = screen.text();
    // Cancel now: one form, one button, first on the screen.
    let cancel_form = format!("action=\"/manage/{token}/cancel\"");
    assert!(html.contains(&cancel_form), "{html}");
    assert!(
        html.find(&cancel_form) < html.find("Pause for 1 month"),
        "cancel comes first"
    );
    assert!(html.contains(">Cancel now</button>"));
    for offer in [
        "Pause for 1 month",
        "Pause for 2 months",
        "Pause for 3 months",
        "Switch to Monthly: 15.00 EUR / month",
        "Switch to Basic: 9.00 EUR / month",
    ] {
        assert!(html.contains(offer), "{offer}: {html}");
    }
    assert!(
        !html.contains("Switch to Annual") && !html.contains("Switch to Plus"),
        "only lower tiers of the same interval"
    );
    assert!(
        !html.contains("<script") && !html.contains("style="),
        "no script, no inline style"
    );

    // Cross-site posts are refused.
    let evil = form_post(
        &server,
        &format!("/manage/{token}/pause"),
        "months=1&key=e",
        "https://evil.example",
    )
    .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);

    // Pause from the cancel screen: a save; the page says until when, with Resume.
    let paused = form_post(
        &server,
        &format!("/manage/{token}/pause"),
        "months=2&instead_of_cancel=1&key=m1",
        OWN_ORIGIN,
    )
    .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.text());
    let until = at(&subscription(&server, &id).await["paused_until"]);
    let page = server.get(&format!("/manage/{token}")).await.text();
    let date = Timestamp(until).to_rfc3339();
    assert!(page.contains("Paused until"), "{page}");
    assert!(page.contains(date[0..4].trim_start_matches('0')), "{page}");
    assert!(
        page.contains(&format!("action=\"/manage/{token}/resume\"")) && page.contains("Resume now")
    );
    let again = form_post(
        &server,
        &format!("/manage/{token}/pause"),
        "months=2&instead_of_cancel=1&key=m1",
        OWN_ORIGIN,
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::SEE_OTHER,
        "the same form twice is one pause"
    );
    let bad = form_post(
        &server,
        &format!("/manage/{token}/pause"),
        "months=9&key=m9",
        OWN_ORIGIN,
    )
    .await;
    assert!(bad.text().contains("1 to 3 months"), "{}", bad.text());

    let resumed = form_post(
        &server,
        &format!("/manage/{token}/resume"),
        "key=m2",
        OWN_ORIGIN,
    )
    .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER);
    assert_eq!(subscription(&server, &id).await["status"], "active");

    let downgraded = form_post(
        &server,
        &format!("/manage/{token}/downgrade"),
        "tier_id=basic&instead_of_cancel=1&key=m3",
        OWN_ORIGIN,
    )
    .await;
    assert_eq!(downgraded.status, StatusCode::SEE_OTHER);
    let page = server.get(&format!("/manage/{token}")).await.text();
    assert!(page.contains("Moving to Basic on"), "{page}");
    assert!(page.contains("Keep Plus instead"), "{page}");

    let saves = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json()["saves"]
        .clone();
    assert_eq!(
        (saves["pauses"].as_i64(), saves["downgrades"].as_i64()),
        (Some(1), Some(1))
    );

    let canceled = form_post(&server, &format!("/manage/{token}/cancel"), "", OWN_ORIGIN).await;
    assert_eq!(canceled.status, StatusCode::SEE_OTHER);
    assert_eq!(subscription(&server, &id).await["status"], "canceled");
    let after = server.get(&format!("/manage/{token}/cancel")).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "a canceled membership has no cancel screen"
    );
}

#[tokio::test]
async fn the_manage_page_offers_a_pause_and_lower_tiers_outside_a_cancel_too_and_those_are_no_saves()
 {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "plus").await;
    let page = server.get(&format!("/manage/{token}")).await.text();
    assert!(
        page.contains("<summary>Take a break or pay less</summary>"),
        "{page}"
    );
    assert!(
        page.contains("Pause for 3 months") && page.contains("Switch to Basic: 9.00 EUR / month")
    );
    assert!(
        !page.contains("instead_of_cancel"),
        "not a cancellation: no save"
    );
    let paused = form_post(
        &server,
        &format!("/manage/{token}/pause"),
        "months=1&key=n1",
        OWN_ORIGIN,
    )
    .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    assert_eq!(subscription(&server, &id).await["status"], "paused");
    let saves = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json()["saves"]
        .clone();
    assert_eq!(saves["total"], 0);
    // Paused: no pause offered again, the lower tiers still are.
    let page = server.get(&format!("/manage/{token}")).await.text();
    assert!(
        !page.contains("Pause for 1 month") && page.contains("Switch to Monthly"),
        "{page}"
    );
}

/// One Idempotency-Key is one intent: the key of a pause cannot then downgrade, resume or
/// upgrade the same membership (SPEC section 8: a changed request under a used key is
/// refused), and nothing changes.
#[tokio::test]
async fn a_key_used_for_one_change_is_refused_for_another() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "monthly").await;
    let paused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("one-intent"),
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text());
    let before = subscription(&server, &id).await;
    for (action, body) in [
        ("downgrade", Some(json!({ "tier_id": "basic" }))),
        ("resume", None),
        ("upgrade", Some(json!({ "tier_id": "plus" }))),
    ] {
        let reused = act(&server, &id, action, &token, Some("one-intent"), body).await;
        assert_eq!(
            reused.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            reused.text()
        );
        assert_eq!(
            reused.json()["error"]["code"],
            "idempotency_conflict",
            "{action}"
        );
    }
    assert_eq!(subscription(&server, &id).await, before, "nothing changed");
    assert!(orders_of(&server, &id, "upgrade").await.is_empty());
    // And the other way round: an upgrade's key cannot then pause.
    let resumed = act(&server, &id, "resume", &token, Some("r"), None).await;
    assert_eq!(resumed.status, StatusCode::OK);
    let upgraded = act(
        &server,
        &id,
        "upgrade",
        &token,
        Some("up"),
        Some(json!({ "tier_id": "plus" })),
    )
    .await;
    assert_eq!(upgraded.status, StatusCode::OK, "{}", upgraded.text());
    let reused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("up"),
        Some(json!({ "months": 2 })),
    )
    .await;
    assert_eq!(reused.json()["error"]["code"], "idempotency_conflict");
    assert_eq!(subscription(&server, &id).await["status"], "active");
}

/// A pause is worked out from the period the request read; if a renewal moved the period on
/// before the change is stored (another instance's scheduler, the seller's clock), the pause
/// must not start at the old period's end (that would skip nothing): it is refused as a
/// conflict, and the same key then works on the current period.
#[tokio::test]
async fn a_pause_read_before_a_renewal_does_not_start_in_the_past() {
    use mighty_server::routes::retention::{Ask, apply};
    let server = server_with_tiers().await;
    let (id, _token) = buy(&server, "monthly").await;
    let lookup = id.clone();
    let stale = server
        .state
        .store(move |store| store.subscription(&lookup))
        .await
        .unwrap()
        .unwrap();
    advance_past(&server, stale.current_period_end).await;
    let renewed = subscription(&server, &id).await;
    assert_eq!(
        at(&renewed["current_period_start"]),
        stale.current_period_end
    );
    let ask = Ask::Pause {
        months: 1,
        instead_of_cancel: false,
    };
    let hash = mighty_server::http::request_hash(ask.fingerprint().as_bytes());
    let raced = apply(&server.state, &stale, &ask, "race", &hash).await;
    assert!(
        matches!(raced, Err(mighty_server::error::AppError::Conflict { .. })),
        "a pause from a period already renewed: {raced:?}"
    );
    assert_eq!(subscription(&server, &id).await["status"], "active");
    let lookup = id.clone();
    let current = server
        .state
        .store(move |store| store.subscription(&lookup))
        .await
        .unwrap()
        .unwrap();
    let paused = apply(&server.state, &current, &ask, "race", &hash).await;
    assert!(paused.is_ok(), "{paused:?}");
    let paused = subscription(&server, &id).await;
    assert_eq!(
        at(&paused["paused_from"]),
        at(&renewed["current_period_end"])
    );
}

/// A membership saved twice (a pause instead of a cancel, then, back on the cancel screen, a
/// lower tier instead of a cancel) is two saves, but it keeps one membership's recurring
/// revenue: the lower tier's price, not the pause's and the tier's added up.
#[tokio::test]
async fn a_membership_saved_twice_keeps_its_recurring_revenue_once() {
    let server = server_with_tiers().await;
    let (id, token) = buy(&server, "plus").await;
    let paused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("save-1"),
        Some(json!({ "months": 1, "instead_of_cancel": true })),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text());
    let lowered = act(
        &server,
        &id,
        "downgrade",
        &token,
        Some("save-2"),
        Some(json!({ "tier_id": "basic", "instead_of_cancel": true })),
    )
    .await;
    assert_eq!(lowered.status, StatusCode::OK, "{}", lowered.text());
    let saves = &server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json()["saves"];
    assert_eq!(
        (
            saves["total"].as_i64(),
            saves["pauses"].as_i64(),
            saves["downgrades"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        saves["revenue"],
        json!([{ "currency": "EUR", "mrr_kept": 900, "mrr_given_up": 2500 - 900 }]),
        "what the membership now keeps, once"
    );
}

/// Two pauses of one membership at the same moment (two tabs, two instances on one
/// database), under different keys: the row lock lets one through, the other is a 409, and
/// there is one pause, one save and one `subscription.paused`.
#[tokio::test]
async fn two_pauses_at_once_pause_once() {
    let server = server_with_tiers().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    server
        .seller_post(
            "/v1/webhooks",
            json!({ "url": format!("http://{address}/hook") }),
        )
        .await;
    let (id, token) = buy(&server, "plus").await;
    let save = json!({ "months": 2, "instead_of_cancel": true });
    let (one, other) = tokio::join!(
        act(
            &server,
            &id,
            "pause",
            &token,
            Some("tab-1"),
            Some(save.clone())
        ),
        act(&server, &id, "pause", &token, Some("tab-2"), Some(save)),
    );
    let mut statuses = [one.status, other.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        one.text(),
        other.text()
    );
    let saves = &server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json()["saves"];
    assert_eq!(saves["pauses"], 1, "{saves}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    while deliver_due(&server.state, &client).await.unwrap() > 0 {}
    let paused = receiver
        .received()
        .iter()
        .filter(|delivery| delivery.json()["type"] == "subscription.paused")
        .count();
    assert_eq!(paused, 1);
}

/// A yearly membership renews once a year: skipping whole periods, a "pause for 1 month"
/// would skip the next year's renewal (twelve months free, back 13 months later). It is not
/// offered on the cancel screen and the API refuses it, naming `months`; the lower tiers and
/// the one-click cancel stay.
#[tokio::test]
async fn a_yearly_membership_is_not_paused_for_a_year_when_a_month_was_asked() {
    let server = server_with_tiers().await;
    let mut document = support::listing("candle-trio", None);
    document["offers"][1]["tiers"] = json!([
        { "id": "annual-lite", "name": "Annual lite", "price": 6000, "interval": "year" },
        { "id": "annual", "name": "Annual", "price": 12000, "interval": "year" }
    ]);
    let stored = server.put_listing("candle-trio", document).await;
    assert!(stored.status.is_success(), "{}", stored.text());
    let (id, token) = buy(&server, "annual").await;
    let paused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("year"),
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(
        paused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        paused.text()
    );
    assert_eq!(paused.json()["error"]["field"], "months");
    assert_eq!(subscription(&server, &id).await["status"], "active");
    let screen = server.get(&format!("/manage/{token}/cancel")).await;
    let page = screen.text();
    assert!(page.contains("Cancel now"), "{page}");
    assert!(!page.contains("Pause for"), "{page}");
    assert!(page.contains("Switch to Annual lite"), "{page}");
}

/// Renewals keep the day the membership started on, as Stripe's billing anchor does: started
/// on Jan 30, it renews on Feb 28 (February has no 30th), then on Mar 30 and Apr 30, never
/// on the 28th from then on; a pause asked in a period after the short month resumes on the
/// anchor's day too.
#[tokio::test]
async fn renewals_and_pauses_keep_the_day_the_membership_started_on() {
    let server = server_with_tiers().await;
    let start = Timestamp::parse_rfc3339("2031-01-30T12:00:00Z").unwrap().0;
    let mut now = server.seller_now().await.0;
    assert!(now < start, "the test's dates are in the future");
    while now < start {
        // The sandbox clock moves at most 400 days at a time.
        let moved = server.advance_clock((start - now).min(400 * 86_400)).await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
        now = server.seller_now().await.0;
    }
    let (id, token) = buy(&server, "monthly").await;
    let bought = subscription(&server, &id).await;
    let anchor = at(&bought["current_period_start"]);
    // The anchor's time of day (the purchase took a moment after noon).
    let time_of_day = Timestamp(anchor).to_rfc3339()[10..].to_string();
    let on = |day: &str| {
        Timestamp::parse_rfc3339(&format!("{day}{time_of_day}"))
            .unwrap()
            .0
    };
    assert_eq!(
        anchor - anchor % 86_400,
        on("2031-01-30") - on("2031-01-30") % 86_400
    );
    assert_eq!(at(&bought["current_period_end"]), on("2031-02-28"));

    // Past Feb 28: one renewal; the next period ends on the 30th again.
    advance_past(&server, on("2031-02-28")).await;
    let renewed = subscription(&server, &id).await;
    assert_eq!(
        (
            at(&renewed["current_period_start"]),
            at(&renewed["current_period_end"])
        ),
        (on("2031-02-28"), on("2031-03-30")),
        "{renewed}"
    );

    // A month's pause from there resumes on Apr 30 (the 30th, not the 28th).
    let paused = act(
        &server,
        &id,
        "pause",
        &token,
        Some("anchor-pause"),
        Some(json!({ "months": 1 })),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text());
    assert_eq!(at(&paused.json()["paused_until"]), on("2031-04-30"));

    // Through the pause and one more renewal: every period ends on the anchor's day.
    advance_past(&server, on("2031-05-30")).await;
    let later = subscription(&server, &id).await;
    assert_eq!(later["status"], "active", "{later}");
    assert_eq!(
        (
            at(&later["current_period_start"]),
            at(&later["current_period_end"])
        ),
        (on("2031-05-30"), on("2031-06-30")),
        "{later}"
    );
    let renewals: Vec<i64> = orders_of(&server, &id, "renewal")
        .await
        .iter()
        .map(|order| at(&order["created_at"]))
        .collect();
    assert_eq!(
        renewals,
        [on("2031-02-28"), on("2031-04-30"), on("2031-05-30")],
        "charged at Feb 28, not during the pause (Mar 30), then from Apr 30 on the 30th"
    );
}
