//! Dynamic value bundles (issue 15, SPEC 3.1): the shares served in the listing document,
//! checkout priced per offer variant (never from the browser), refusals, views counted per
//! offer variant from the events, the seller's stop, the metrics, and a bandit driven through
//! the public API by simulated traffic and the sandbox clock.

mod support;

use axum::http::{Method, StatusCode};
use mighty_core::bandit::{STOP_PROBABILITY, YOUNG_FLOOR_SHARE, YOUNG_UNTIL_VIEWS};
use mighty_core::listing::OfferKind;
use serde_json::{Value, json};
use support::{DIRECTORY, SELLER, TestServer, listing, receiver};

/// `candle-trio` whose bundle has two offer variants: `a` at the offer's price (24.00) and
/// `b` at 22.00 with one more item.
fn variant_listing() -> Value {
    let mut document = listing("candle-trio", None);
    document["offers"][0]["variants"] = json!([
        { "id": "a" },
        { "id": "b", "price": 2200, "items": ["3 candles", "gift box", "matches"] }
    ]);
    document["offers"][0]["variant_bounds"] = json!({ "floor": 1800, "ceiling": 3000 });
    document
}

async fn server_with_variants() -> TestServer {
    let server = TestServer::new().await;
    let response = server.put_listing("candle-trio", variant_listing()).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    server
}

/// The shares the listing document serves, by variant id.
async fn served_shares(server: &TestServer) -> Vec<(String, f64)> {
    let document = server.get("/v1/listings/candle-trio").await.json();
    document["offers"][0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| {
            (
                variant["id"].as_str().unwrap().to_string(),
                variant["share"].as_f64().expect("a share per variant"),
            )
        })
        .collect()
}

fn share_of(shares: &[(String, f64)], id: &str) -> f64 {
    shares.iter().find(|(variant, _)| variant == id).unwrap().1
}

fn view(id: &str, offer_variant: Value, at: &str) -> Value {
    json!({ "id": id, "type": "view", "listing_id": "candle-trio", "creator": null, "variant": "ana",
            "offer_variant": offer_variant, "visitor_id": format!("visitor-{id}"), "at": at })
}

async fn send_events(server: &TestServer, events: &[Value]) -> support::Response {
    server
        .request(
            Method::POST,
            "/v1/events",
            &[
                ("content-type", "text/plain;charset=UTF-8"),
                ("origin", DIRECTORY),
            ],
            Some(json!({ "events": events }).to_string()),
        )
        .await
}

/// Posts `count` views of `offer_variant`, in batches of 100, with ids from `prefix`.
async fn post_views(server: &TestServer, prefix: &str, offer_variant: &str, count: usize) {
    let at = server.seller_now().await.to_rfc3339();
    let events: Vec<Value> = (0..count)
        .map(|index| view(&format!("{prefix}-{index}"), json!(offer_variant), &at))
        .collect();
    for batch in events.chunks(100) {
        let response = send_events(server, batch).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    }
}

fn variant_checkout(offer_variant: Option<&str>, quantity: u32) -> Value {
    let mut body = TestServer::checkout_body("trio", None, quantity);
    if let Some(offer_variant) = offer_variant {
        body["offer_variant"] = json!(offer_variant);
    }
    body
}

/// Buys `offer_variant` through a checkout session and the sandbox pay page.
async fn buy(server: &TestServer, offer_variant: &str) {
    let key = mighty_server::store::new_id("key");
    let created = server
        .checkout(&key, &variant_checkout(Some(offer_variant), 1))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let session = created.json()["session_id"].as_str().unwrap().to_string();
    let receipt = server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    assert!(receipt.text().contains("Payment received"));
}

async fn metrics_test(server: &TestServer) -> Value {
    let metrics = server.seller_get("/v1/metrics?listing=candle-trio").await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text());
    metrics.json()["offer_variants"][0].clone()
}

fn stats<'a>(test: &'a Value, id: &str) -> &'a Value {
    test["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|variant| variant["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn the_listing_document_serves_each_variants_share() {
    let server = server_with_variants().await;
    let shares = served_shares(&server).await;
    assert_eq!(
        shares.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let total: f64 = shares.iter().map(|(_, share)| share).sum();
    assert!((total - 1.0).abs() < 1e-3, "{shares:?}");
    // A young test: every variant gets at least the floor.
    assert!(
        shares
            .iter()
            .all(|(_, share)| *share >= YOUNG_FLOOR_SHARE - 1e-4)
    );
    // Without data the dearer variant is a little more likely to bring more per view.
    assert!(
        share_of(&shares, "a") > share_of(&shares, "b"),
        "{shares:?}"
    );
    // A listing without variants has no shares, and the seller's own fields stay as written.
    let plain = TestServer::with_listing().await;
    let document = plain.get("/v1/listings/candle-trio").await.json();
    assert!(document["offers"][0].get("variants").is_none());
    let document = server.get("/v1/listings/candle-trio").await.json();
    assert_eq!(document["offers"][0]["variants"][1]["price"], 2200);
    assert_eq!(document["offers"][0]["variants"][1]["items"][2], "matches");
}

/// The served shares are ten-thousandths that sum to exactly 1 (SPEC 3.1), for three and four
/// variants too, where rounding each share on its own leaves 0.9999 or 1.0001.
#[tokio::test]
async fn the_served_shares_sum_to_exactly_one() {
    let server = TestServer::new().await;
    // Young tests of three and four variants at various prices: floor + 0.7 × P(best) and
    // floor + 0.6 × P(best) are rarely whole ten-thousandths.
    let cases: Vec<Value> = (0..8)
        .flat_map(|step: i64| {
            [
                json!([{ "id": "a" }, { "id": "b", "price": 2000 + 100 * step },
                       { "id": "c", "price": 2600 }]),
                json!([{ "id": "a" }, { "id": "b", "price": 2200 }, { "id": "c", "price": 2600 },
                       { "id": "d", "price": 2000 + 50 * step }]),
            ]
        })
        .collect();
    for (index, variants) in cases.iter().enumerate() {
        let id = format!("trio-{index}");
        let mut document = listing(&id, None);
        document["offers"][0]["variants"] = variants.clone();
        let response = server.put_listing(&id, document).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        let document = server.get(&format!("/v1/listings/{id}")).await.json();
        let shares: Vec<f64> = document["offers"][0]["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|variant| variant["share"].as_f64().unwrap())
            .collect();
        let steps: Vec<u64> = shares
            .iter()
            .map(|share| {
                let steps = share * 10_000.0;
                assert!(
                    (steps - steps.round()).abs() < 1e-6,
                    "{share} has four decimals"
                );
                steps.round() as u64
            })
            .collect();
        assert_eq!(steps.iter().sum::<u64>(), 10_000, "{id}: {shares:?}");
    }
}

#[tokio::test]
async fn checkout_charges_the_stored_price_of_the_variant_shown() {
    let server = server_with_variants().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let registered = server
        .seller_post(
            "/v1/webhooks",
            json!({ "url": format!("http://{address}/hook") }),
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED);
    // (offer_variant, quantity, a price the browser claims) → the amount charged.
    for (offer_variant, quantity, amount) in [
        (Some("b"), 1, 2200),
        (Some("b"), 2, 4400),
        (Some("a"), 1, 2400),
        // No variant named (a client that predates variants): the offer's own price.
        (None, 1, 2400),
    ] {
        let mut body = variant_checkout(offer_variant, quantity);
        body["amount"] = json!(1);
        body["price"] = json!(1);
        let key = mighty_server::store::new_id("key");
        let created = server.checkout(&key, &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        assert_eq!(
            created.json()["amount"],
            amount,
            "{offer_variant:?} × {quantity}"
        );
    }

    let key = mighty_server::store::new_id("key");
    let created = server.checkout(&key, &variant_checkout(Some("b"), 1)).await;
    let session = created.json()["session_id"].as_str().unwrap().to_string();
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    let orders = server
        .seller_get("/v1/orders?listing=candle-trio")
        .await
        .json();
    let order = &orders["orders"][0];
    assert_eq!(
        (order["amount"].as_i64(), order["offer_variant"].as_str()),
        (Some(2200), Some("b"))
    );
    mighty_server::webhooks::deliver_due(
        &server.state,
        &reqwest::Client::builder().build().unwrap(),
    )
    .await
    .unwrap();
    let delivered = receiver.received();
    assert_eq!(delivered.len(), 1);
    let event = delivered[0].json();
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["data"]["session"]["offer_variant"], "b");
    assert_eq!(event["data"]["order"]["offer_variant"], "b");
    assert_eq!(event["data"]["order"]["amount"], 2200);
    delivered[0].check_described().unwrap();
}

#[tokio::test]
async fn unknown_or_misplaced_offer_variants_are_refused_naming_the_field() {
    let server = server_with_variants().await;
    let mut retainer = TestServer::checkout_body("club", Some("monthly"), 1);
    retainer["offer_variant"] = json!("a");
    for (body, says) in [
        (variant_checkout(Some("z"), 1), "use one of a, b"),
        (variant_checkout(Some(""), 1), "use one of a, b"),
        (retainer, "has no offer variants"),
    ] {
        let key = mighty_server::store::new_id("key");
        let refused = server.checkout(&key, &body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text()
        );
        let error = &refused.json()["error"];
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some("invalid_request"), Some("offer_variant"))
        );
        assert!(error["message"].as_str().unwrap().contains(says), "{error}");
    }
    // A bundle without variants refuses one too.
    let plain = TestServer::with_listing().await;
    let key = mighty_server::store::new_id("key");
    let refused = plain.checkout(&key, &variant_checkout(Some("a"), 1)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "offer_variant");
    // A variant not a string is a malformed body, as for every field of the protocol.
    let mut wrong_type = variant_checkout(None, 1);
    wrong_type["offer_variant"] = json!(7);
    let key = mighty_server::store::new_id("key");
    let refused = server.checkout(&key, &wrong_type).await;
    assert!(refused.status.is_client_error(), "{}", refused.text());
    // Nothing was sold.
    let orders = server.seller_get("/v1/orders").await.json();
    assert_eq!(orders["orders"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn views_are_counted_per_offer_variant_and_junk_counts_for_none() {
    let server = server_with_variants().await;
    let at = server.seller_now().await.to_rfc3339();
    let events = [
        view("v1", json!("a"), &at),
        view("v2", json!("a"), &at),
        view("v3", json!("b"), &at),
        // Not counted for any variant, and the batch is still taken.
        view("v4", json!("zz"), &at),
        view("v5", json!(7), &at),
        view("v6", json!("not an id!"), &at),
        view("v7", json!({ "id": "a" }), &at),
        view("v8", Value::Null, &at),
        json!({ "id": "v9", "type": "view", "listing_id": "candle-trio", "creator": null, "variant": "ana",
                "visitor_id": "visitor-v9", "at": at }),
    ];
    let response = send_events(&server, &events).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["accepted"], 9);
    // A resent batch counts once (events are de-duplicated by id).
    send_events(&server, &events[..3]).await;
    // Other event types name the variant too, and are not views.
    let mut play = view("p1", json!("b"), &at);
    play["type"] = json!("demo-play");
    send_events(&server, &[play]).await;

    let test = metrics_test(&server).await;
    assert_eq!(stats(&test, "a")["views"], 2);
    assert_eq!(stats(&test, "b")["views"], 1);
    // Every view still counts for the listing's funnel.
    let metrics = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    assert_eq!(metrics["funnel"]["views"], 9);
}

#[tokio::test]
async fn the_seller_stops_a_test_with_a_winner_or_the_current_best() {
    let server = server_with_variants().await;
    let stop = "/v1/listings/candle-trio/offers/trio/variants/stop";
    // Who and what may be stopped.
    let anonymous = server
        .request(Method::POST, stop, &[], Some("{}".into()))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let not_bundle = server
        .seller_post(
            "/v1/listings/candle-trio/offers/club/variants/stop",
            json!({}),
        )
        .await;
    assert_eq!(not_bundle.status, StatusCode::NOT_FOUND);
    let unknown = server.seller_post(stop, json!({ "winner": "z" })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json()["error"]["field"], "winner");
    let wrong_type = server.seller_post(stop, json!({ "winner": 3 })).await;
    assert_eq!(wrong_type.json()["error"]["field"], "winner");

    let stopped = server.seller_post(stop, json!({ "winner": "b" })).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.text());
    let test = stopped.json();
    assert_eq!(
        (
            test["status"].as_str(),
            test["winner"].as_str(),
            test["stop_reason"].as_str()
        ),
        (Some("stopped"), Some("b"), Some("seller"))
    );
    assert!(test["stopped_at"].is_string());
    assert_eq!(
        served_shares(&server).await,
        [("a".to_string(), 0.0), ("b".to_string(), 1.0)]
    );
    // A visitor already shown `a` still pays a's price.
    let key = mighty_server::store::new_id("key");
    let created = server.checkout(&key, &variant_checkout(Some("a"), 1)).await;
    assert_eq!(created.json()["amount"], 2400);
    // The stop outlives recomputes: hours later the winner still has every visitor.
    server.advance_clock(3 * 3_600).await;
    assert_eq!(share_of(&served_shares(&server).await, "b"), 1.0);

    // Without a winner: the variant most likely to be best now (b converts far better).
    let fresh = server_with_variants().await;
    post_views(&fresh, "a", "a", 100).await;
    post_views(&fresh, "b", "b", 100).await;
    for _ in 0..6 {
        buy(&fresh, "b").await;
    }
    let empty = fresh
        .request(
            Method::POST,
            stop,
            &[("authorization", &format!("Bearer {SELLER}"))],
            None,
        )
        .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text());
    assert_eq!(empty.json()["winner"], "b");
    let seen = fresh
        .seller_get("/v1/listings/candle-trio/offers/trio/variants")
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.json()["status"], "stopped");
}

#[tokio::test]
async fn metrics_show_each_variants_numbers_and_the_share_history() {
    let server = server_with_variants().await;
    post_views(&server, "a", "a", 50).await;
    post_views(&server, "b", "b", 40).await;
    buy(&server, "a").await;
    buy(&server, "b").await;
    buy(&server, "b").await;
    // A refunded order is not a commit.
    buy(&server, "b").await;
    let orders = server.seller_get("/v1/orders").await.json();
    let last = orders["orders"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refund = server
        .seller_post(&format!("/v1/orders/{last}/refund"), json!({}))
        .await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.text());
    server.advance_clock(3_600).await;

    let test = metrics_test(&server).await;
    assert_eq!(test["offer_id"], "trio");
    assert_eq!(test["status"], "exploring");
    assert_eq!(test["young"], true);
    assert_eq!(test["rules"]["stop_probability"], STOP_PROBABILITY);
    assert_eq!(test["rules"]["young_until_views"], YOUNG_UNTIL_VIEWS);
    let (a, b) = (stats(&test, "a"), stats(&test, "b"));
    assert_eq!(
        (&a["views"], &a["commits"], &a["revenue"], &a["price"]),
        (&json!(50), &json!(1), &json!(2400), &json!(2400))
    );
    assert_eq!(
        (&b["views"], &b["commits"], &b["revenue"], &b["price"]),
        (&json!(40), &json!(2), &json!(4400), &json!(2200))
    );
    // 2 of 40 at 22.00: 110 per view, with its interval around it.
    let per_view = &b["revenue_per_view"];
    assert!((per_view["value"].as_f64().unwrap() - 110.0).abs() < 1e-9);
    assert!(
        per_view["low"].as_f64().unwrap() < 110.0 && per_view["high"].as_f64().unwrap() > 110.0
    );
    assert_eq!(b["conversion"]["successes"], 2);
    let total = a["share"].as_f64().unwrap() + b["share"].as_f64().unwrap();
    assert!((total - 1.0).abs() < 1e-9);
    let best = a["probability_best"].as_f64().unwrap() + b["probability_best"].as_f64().unwrap();
    assert!((best - 1.0).abs() < 1e-9);
    assert!(b["probability_best"].as_f64().unwrap() > 0.5);
    // The history starts at the listing's PUT (equal data) and has this recompute.
    let history = test["history"].as_array().unwrap();
    assert!(history.len() >= 2, "{history:?}");
    assert_eq!(history[0]["variants"][0]["id"], "a");
    assert_eq!(history.last().unwrap()["variants"][1]["commits"], 2);
    // The seller's read of one test says the same.
    let one = server
        .seller_get("/v1/listings/candle-trio/offers/trio/variants")
        .await
        .json();
    assert_eq!(one["variants"], test["variants"]);
    // A listing without variants has none.
    let plain = TestServer::with_listing().await;
    let metrics = plain
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    assert_eq!(metrics["offer_variants"], json!([]));
    let none = plain
        .seller_get("/v1/listings/candle-trio/offers/trio/variants")
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn replacing_the_listing_keeps_the_counts_of_variants_that_remain() {
    let server = server_with_variants().await;
    post_views(&server, "a", "a", 30).await;
    post_views(&server, "b", "b", 20).await;
    let stop = "/v1/listings/candle-trio/offers/trio/variants/stop";
    server.seller_post(stop, json!({ "winner": "b" })).await;
    // b stays; c arrives; a goes: a new test, exploring again.
    let mut document = variant_listing();
    document["offers"][0]["variants"] =
        json!([{ "id": "b", "price": 2200 }, { "id": "c", "price": 2600 }]);
    let replaced = server.put_listing("candle-trio", document).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    let test = metrics_test(&server).await;
    assert_eq!(test["status"], "exploring");
    assert_eq!(test["winner"], Value::Null);
    let ids: Vec<&str> = test["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| variant["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b", "c"]);
    assert_eq!(stats(&test, "b")["views"], 20);
    assert_eq!(stats(&test, "c")["views"], 0);
    let shares = served_shares(&server).await;
    assert!(
        shares
            .iter()
            .all(|(_, share)| *share >= YOUNG_FLOOR_SHARE - 1e-4)
    );
    // The old id is refused at checkout now.
    let key = mighty_server::store::new_id("key");
    let refused = server.checkout(&key, &variant_checkout(Some("a"), 1)).await;
    assert_eq!(refused.json()["error"]["field"], "offer_variant");

    // Without variants the test ends: nothing left for the scheduler, no shares, no metrics.
    let plain = server
        .put_listing("candle-trio", listing("candle-trio", None))
        .await;
    assert_eq!(plain.status, StatusCode::OK);
    server.advance_clock(3_600).await;
    let tests = server
        .state
        .store(|store| store.offer_variant_tests("candle-trio"))
        .await
        .unwrap();
    assert!(tests.is_empty(), "{tests:?}");
    let metrics = server.seller_get("/v1/metrics?listing=candle-trio").await;
    assert_eq!(metrics.json()["offer_variants"], json!([]));
}

/// The bandit through the public API, as a seller testing it in the sandbox would drive it:
/// each round, 400 new visitors are shown a variant as the widget decides it (core's
/// `offer_variants::choose` on the listing document served, with the shares in it), their
/// views are beaconed, every 25th view of `a` (4 % at 24.00: 0.96 per view)
/// and every 10th view of `b` (10 % at 22.00: 2.20 per view) is bought through a checkout
/// session and the pay page, and the seller's clock moves an hour (the recompute interval).
/// `b`'s share grows from the first recompute, and once `a` has its 300 views the test
/// stops on its own with `b` best at ≥ 95 %.
#[tokio::test]
async fn a_bandit_driven_by_the_sandbox_clock_and_simulated_traffic() {
    let server = server_with_variants().await;
    let mut served = vec![served_shares(&server).await];
    let (mut views_a, mut views_b) = (0usize, 0usize);
    for round in 0..12 {
        let document = server.get("/v1/listings/candle-trio").await.json();
        let listing = mighty_core::parse_listing(&document.to_string()).unwrap();
        let OfferKind::Bundle(bundle) = &listing.offers[0].kind else {
            panic!("the trio is a bundle");
        };
        let (mut round_a, mut round_b) = (0usize, 0usize);
        for visitor in 0..400 {
            let visitor_id = format!("visitor-{round}-{visitor}");
            let shown = mighty_core::offer_variants::choose(
                bundle,
                &visitor_id,
                "candle-trio",
                "trio",
                None,
            );
            match shown.map(|variant| variant.id.as_str()) {
                Some("a") => round_a += 1,
                _ => round_b += 1,
            }
        }
        post_views(&server, &format!("r{round}a"), "a", round_a).await;
        post_views(&server, &format!("r{round}b"), "b", round_b).await;
        for _ in 0..((views_a + round_a) / 25 - views_a / 25) {
            buy(&server, "a").await;
        }
        for _ in 0..((views_b + round_b) / 10 - views_b / 10) {
            buy(&server, "b").await;
        }
        views_a += round_a;
        views_b += round_b;
        // Between recomputes the same shares are served, whatever arrived.
        assert_eq!(&served_shares(&server).await, served.last().unwrap());
        let advanced = server.advance_clock(3_600).await;
        assert_eq!(advanced.status, StatusCode::OK);
        served.push(served_shares(&server).await);
        if share_of(served.last().unwrap(), "b") == 1.0 {
            break;
        }
    }
    let b_shares: Vec<f64> = served.iter().map(|shares| share_of(shares, "b")).collect();
    assert!(b_shares[1] > b_shares[0] + 0.3, "{b_shares:?}");
    assert!(
        b_shares
            .windows(2)
            .skip(1)
            .all(|pair| pair[1] >= pair[0] - 0.02),
        "b's share keeps growing: {b_shares:?}"
    );
    assert_eq!(*b_shares.last().unwrap(), 1.0, "{b_shares:?}");
    let test = metrics_test(&server).await;
    assert_eq!(
        (
            test["status"].as_str(),
            test["winner"].as_str(),
            test["stop_reason"].as_str()
        ),
        (Some("stopped"), Some("b"), Some("confident")),
        "{test}"
    );
    assert!(stats(&test, "b")["probability_best"].as_f64().unwrap() >= STOP_PROBABILITY);
    assert!(stats(&test, "a")["views"].as_u64().unwrap() >= YOUNG_UNTIL_VIEWS);
    assert_eq!(test["young"], false);
    // One history point per recompute that changed the shares, ending at the winner.
    let history = test["history"].as_array().unwrap();
    assert!(history.len() >= served.len() - 1, "{}", history.len());
    assert_eq!(history.last().unwrap()["variants"][1]["share"], 1.0);
    println!(
        "stopped after {} rounds ({} views of a, {} of b); b's share by round: {b_shares:?}",
        served.len() - 1,
        views_a,
        views_b
    );
}

/// Live mode checks every offer variant's own price when the listing is put: one Stripe
/// cannot charge exactly (1.505 KWD) is refused naming it, rather than at the checkout of a
/// shopper who was shown it.
#[test]
fn live_mode_refuses_at_put_a_variant_price_stripe_cannot_charge() {
    let mut document = listing("kwd-box", None);
    document["currency"] = json!("KWD");
    for (prices, refused) in [
        ((2400, 2200), None),
        ((2400, 1505), Some("offers[0].variants[1].price")),
        ((1999, 2200), Some("offers[0].variants[0].price")),
    ] {
        document["offers"][0]["variants"] =
            json!([{ "id": "a", "price": prices.0 }, { "id": "b", "price": prices.1 }]);
        let parsed = mighty_core::parse_listing(&document.to_string()).unwrap();
        let field = match mighty_server::live::check_listing_prices(&parsed) {
            Ok(()) => None,
            Err(mighty_server::error::AppError::Invalid { field, message }) => {
                assert!(message.contains("KWD"), "{message}");
                field
            }
            Err(other) => panic!("{other}"),
        };
        assert_eq!(field.as_deref(), refused, "{prices:?}");
    }
}

/// Two instances recomputing one test at the same moment (both read the same `computed_at`):
/// the conditional `UPDATE` lets the first write its allocation and its history point; the
/// second is told to read that one and adds no history of its own.
#[tokio::test]
async fn two_recomputes_of_one_test_write_once() {
    use mighty_server::store::{AllocationClaim, ShareSnapshot};
    let server = server_with_variants().await;
    let read = || {
        server
            .state
            .store(|store| store.offer_variant_tests("candle-trio"))
    };
    let history = || {
        server
            .state
            .store(|store| store.offer_variant_share_history("candle-trio", "trio"))
    };
    let stored = read().await.unwrap().remove(0);
    let points_before = history().await.unwrap().len();
    let instance = |seconds_later: i64, share_of_a: f64| {
        let mut test = stored.clone();
        test.computed_at += seconds_later;
        let snapshots: Vec<ShareSnapshot> = [("a", share_of_a), ("b", 1.0 - share_of_a)]
            .into_iter()
            .map(|(variant_id, share)| ShareSnapshot {
                at: test.computed_at,
                variant_id: variant_id.into(),
                share,
                probability_best: share,
                views: 0,
                commits: 0,
                revenue: 0,
            })
            .collect();
        (test, snapshots)
    };
    let claim = AllocationClaim::After(stored.computed_at);
    let (first, first_history) = instance(3_600, 0.7);
    let (second, second_history) = instance(3_601, 0.2);
    let wrote_first = server
        .state
        .store(move |store| store.save_offer_variant_test(&first, claim, &first_history))
        .await
        .unwrap();
    let wrote_second = server
        .state
        .store(move |store| store.save_offer_variant_test(&second, claim, &second_history))
        .await
        .unwrap();
    assert_eq!((wrote_first, wrote_second), (true, false));
    assert_eq!(
        read().await.unwrap()[0].computed_at,
        stored.computed_at + 3_600
    );
    let points = history().await.unwrap();
    assert_eq!(points.len(), points_before + 2, "{points:?}");
    assert!(
        points
            .iter()
            .all(|point| point.at != stored.computed_at + 3_601)
    );
}

/// Reordering the variants in the listing (the seller moved one up on the card) is the same
/// test: a stopped test keeps its winner and its start, and every new visitor still gets the
/// winner; another set of ids is a new test.
#[tokio::test]
async fn reordering_the_variants_keeps_the_test() {
    let server = server_with_variants().await;
    let stopped = server
        .seller_post(
            "/v1/listings/candle-trio/offers/trio/variants/stop",
            json!({ "winner": "b" }),
        )
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.text());
    let started_at = stopped.json()["started_at"].clone();
    let mut reordered = variant_listing();
    let variants = reordered["offers"][0]["variants"].as_array_mut().unwrap();
    variants.reverse();
    let put = server.put_listing("candle-trio", reordered.clone()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let test = metrics_test(&server).await;
    assert_eq!(
        (&test["status"], &test["winner"], &test["started_at"]),
        (&json!("stopped"), &json!("b"), &started_at),
        "{test}"
    );
    assert_eq!(
        served_shares(&server).await,
        [("b".to_string(), 1.0), ("a".to_string(), 0.0)]
    );
    // Another set of ids starts again.
    reordered["offers"][0]["variants"][1]["id"] = json!("c");
    let put = server.put_listing("candle-trio", reordered).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(metrics_test(&server).await["status"], "exploring");
}
