//! The event collector and the metrics endpoint: malformed, oversize, duplicate and
//! out-of-order batches; creator fees; KPIs from real orders and events.

mod support;

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use support::{DIRECTORY, SELLER, TestServer};

fn event(id: &str, kind: &str, variant: &str, at: &str) -> Value {
    json!({ "id": id, "type": kind, "listing_id": "candle-trio", "creator": null, "variant": variant, "visitor_id": format!("visitor-{id}"), "at": at })
}

async fn send_batch(server: &TestServer, body: &str) -> support::Response {
    server
        .request(
            Method::POST,
            "/v1/events",
            &[
                ("content-type", "text/plain;charset=UTF-8"),
                ("origin", DIRECTORY),
            ],
            Some(body.to_string()),
        )
        .await
}

#[tokio::test]
async fn batches_are_stored_once_and_bad_ones_refused_with_the_field() {
    let server = TestServer::with_listing().await;
    let batch = json!({ "events": [event("e1", "view", "ana", "2026-11-20T10:00:00Z"), event("e2", "demo-play", "ana", "2026-11-20T10:00:02Z")] }).to_string();
    let first = send_batch(&server, &batch).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(
        first.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        DIRECTORY
    );
    assert_eq!(first.json(), json!({ "accepted": 2, "duplicates": 0 }));
    assert_eq!(
        send_batch(&server, &batch).await.json(),
        json!({ "accepted": 0, "duplicates": 2 }),
        "a resent batch is not counted twice"
    );
    // A bare array, arriving out of order (an older event after newer ones), is fine.
    let late = json!([event("e0", "view", "theo", "2026-11-19T09:00:00Z")]).to_string();
    assert_eq!(send_batch(&server, &late).await.json()["accepted"], 1);

    let malformed = send_batch(&server, "{\"events\": [").await;
    assert_eq!(
        (malformed.status, malformed.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "malformed_body")
    );
    let many: Vec<Value> = (0..101)
        .map(|index| event(&format!("m{index}"), "view", "ana", "2026-11-20T10:00:00Z"))
        .collect();
    let too_many = send_batch(&server, &json!({ "events": many }).to_string()).await;
    assert_eq!(
        (too_many.status, too_many.error_code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let huge = send_batch(
        &server,
        &format!(
            "{{\"events\": [], \"padding\": \"{}\"}}",
            "x".repeat(70_000)
        ),
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let cases = [
        (
            json!([
                event("a", "view", "ana", "2026-11-20T10:00:00Z"),
                event("b", "click", "ana", "2026-11-20T10:00:00Z")
            ]),
            "events[1].type",
        ),
        (
            json!([event("a", "view", "ana", "yesterday")]),
            "events[0].at",
        ),
        (
            json!([{ "type": "view", "listing_id": "candle-trio", "visitor_id": "v", "at": "2026-11-20T10:00:00Z" }]),
            "events[0].id",
        ),
        (
            json!([event("a", "view", "not a handle", "2026-11-20T10:00:00Z")]),
            "events[0].variant",
        ),
        (
            json!([
                json!({ "id": "a", "type": "view", "listing_id": "nope", "visitor_id": "v", "at": "2026-11-20T10:00:00Z" })
            ]),
            "events[0].listing_id",
        ),
        (json!({ "events": [] }), "events"),
        (json!("hello"), "events"),
    ];
    for (body, field) in cases {
        let response = send_batch(&server, &body.to_string()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.json()["error"]["field"], field, "{body}");
    }
    // A field of the wrong type says so (not "missing").
    let numeric_time = send_batch(
        &server,
        &json!([{ "id": "a", "type": "view", "listing_id": "candle-trio", "visitor_id": "v", "at": 1_764_201_600 }]).to_string(),
    )
    .await;
    assert_eq!(
        numeric_time.json()["error"]["message"],
        "must be a string, not 1764201600; give the event's time as an RFC 3339 string (2026-11-20T10:00:00Z)"
    );
    let foreign = server
        .request(
            Method::POST,
            "/v1/events",
            &[("origin", "https://elsewhere.example")],
            Some(json!([event("f", "view", "ana", "2026-11-20T10:00:00Z")]).to_string()),
        )
        .await;
    assert_eq!(foreign.error_code(), "origin_not_allowed");
}

#[tokio::test]
async fn clients_are_rate_limited() {
    let server = TestServer::with_listing().await;
    for index in 0..mighty_server::routes::events::BATCHES_PER_MINUTE {
        let response = send_batch(
            &server,
            &json!([event(
                &format!("r{index}"),
                "view",
                "ana",
                "2026-11-20T10:00:00Z"
            )])
            .to_string(),
        )
        .await;
        assert_eq!(response.status, StatusCode::OK);
    }
    let limited = send_batch(
        &server,
        &json!([event("over", "view", "ana", "2026-11-20T10:00:00Z")]).to_string(),
    )
    .await;
    assert_eq!(
        (limited.status, limited.error_code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn creator_fees_are_validated() {
    let server = TestServer::with_listing().await;
    let auth = format!("Bearer {SELLER}");
    let (server, auth) = (&server, auth.as_str());
    let put = |body: Value| async move {
        server
            .request(
                Method::PUT,
                "/v1/listings/candle-trio/creator-fees",
                &[("authorization", auth)],
                Some(body.to_string()),
            )
            .await
    };
    assert_eq!(
        put(json!({ "ana": 5000, "theo": 0 })).await.json()["creator_fees"],
        json!({ "ana": 5000, "theo": 0 })
    );
    assert_eq!(
        put(json!({ "eve": 100 })).await.json()["error"]["field"],
        "eve"
    );
    assert_eq!(
        put(json!({ "ana": -1 })).await.json()["error"]["field"],
        "ana"
    );
    assert_eq!(
        put(json!({ "ana": 1.5 })).await.json()["error"]["field"],
        "ana"
    );
}

#[tokio::test]
async fn metrics_count_views_and_paid_commits_per_variant() {
    let server = TestServer::with_listing().await;
    let now = server.state.now();
    let at = |seconds_ago: i64| mighty_core::Timestamp(now.0 - seconds_ago).to_rfc3339();
    let mut events = Vec::new();
    for index in 0..40 {
        events.push(event(&format!("va{index}"), "view", "ana", &at(3600)));
    }
    for index in 0..10 {
        events.push(event(&format!("vt{index}"), "view", "theo", &at(3600)));
    }
    assert_eq!(
        send_batch(&server, &json!(events[..50]).to_string())
            .await
            .json()["accepted"],
        50
    );
    // Two purchases shown ana's demo, one shown theo's.
    for variant in ["ana", "ana", "theo"] {
        let mut body = TestServer::checkout_body("trio", None, 1);
        body["attribution"]["variant"] = json!(variant);
        body["attribution"]["creator"] = Value::Null; // no creator link: the A/B variant only
        let session = server
            .checkout(&mighty_server::store::new_id("k"), &body)
            .await
            .json()["session_id"]
            .as_str()
            .unwrap()
            .to_string();
        server
            .pay(&session, "4242424242424242", TestServer::SHIPPING)
            .await;
    }
    server
        .request(
            Method::PUT,
            "/v1/listings/candle-trio/creator-fees",
            &[("authorization", &format!("Bearer {SELLER}"))],
            Some(json!({ "ana": 4800 }).to_string()),
        )
        .await;

    let metrics = server.seller_get("/v1/metrics?listing=candle-trio").await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text());
    let metrics = metrics.json();
    let segments = metrics["segments"].as_array().unwrap();
    let ana = segments
        .iter()
        .find(|segment| segment["variant"] == "ana")
        .unwrap();
    let theo = segments
        .iter()
        .find(|segment| segment["variant"] == "theo")
        .unwrap();
    assert_eq!(
        (ana["views"].as_u64(), ana["paid_commits"].as_u64()),
        (Some(40), Some(2))
    );
    assert_eq!(
        (theo["views"].as_u64(), theo["paid_commits"].as_u64()),
        (Some(10), Some(1))
    );
    let expected = mighty_core::kpi::wilson(2, 40);
    assert_eq!(ana["conversion"]["value"].as_f64(), expected.value);
    assert_eq!(ana["conversion"]["low"].as_f64(), expected.low);
    assert_eq!(ana["revenue"], 4800);
    assert_eq!(metrics["comparisons"].as_array().unwrap().len(), 1);
    assert_eq!(metrics["creators"][0]["creator"], "ana");
    assert!(
        metrics["creators"][0]["cac_payback_months"]
            .as_f64()
            .is_some(),
        "ana's demo acquired a customer"
    );
    assert_eq!(
        metrics["repeat_rate_30d"]["customers"], 1,
        "one customer (one email) bought three times"
    );
    assert_eq!(metrics["repeat_rate_30d"]["repeated"], 1);

    // The report command prints the same numbers.
    let report = mighty_server::cli::render_report(&metrics);
    assert!(
        report.contains("views") && report.contains("95% interval"),
        "{report}"
    );
    let ana_line = report
        .lines()
        .find(|line| line.contains(" ana "))
        .expect("a row for ana's variant");
    assert!(
        ana_line.contains("40") && ana_line.contains("5.0%"),
        "{ana_line}"
    );
    assert!(
        report.contains("30-day repeat rate: 100.0% (1 of 1 customers)"),
        "{report}"
    );

    // A range before anything happened is empty.
    let empty = server
        .seller_get(
            "/v1/metrics?listing=candle-trio&from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
        )
        .await
        .json();
    assert!(empty["segments"].as_array().unwrap().is_empty());
    assert_eq!(
        server.seller_get("/v1/metrics").await.json()["error"]["field"],
        "listing"
    );
    assert_eq!(
        server
            .seller_get("/v1/metrics?listing=candle-trio&from=soon")
            .await
            .json()["error"]["field"],
        "from"
    );
    assert_eq!(
        server.get("/v1/metrics?listing=candle-trio").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_creator_reads_only_their_own_numbers_through_a_signed_link() {
    let server = TestServer::with_listing().await;
    // One sale through ana's genuine link, one shown theo's demo.
    let link = server
        .seller_post(
            "/v1/listings/candle-trio/creator-links",
            json!({ "handle": "ana" }),
        )
        .await
        .json();
    let mut body = TestServer::checkout_body("trio", None, 1);
    body["attribution"]["token"] = link["token"].clone();
    let session = server.checkout("through-link", &body).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    let mut other = TestServer::checkout_body("trio", None, 1);
    other["attribution"]["creator"] = Value::Null;
    other["attribution"]["variant"] = json!("theo");
    let session = server.checkout("theo-demo", &other).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    let auth = format!("Bearer {SELLER}");
    server
        .request(
            Method::PUT,
            "/v1/listings/candle-trio/creator-fees",
            &[("authorization", auth.as_str())],
            Some(json!({ "ana": 5000 }).to_string()),
        )
        .await;

    let view = server
        .seller_post(
            "/v1/listings/candle-trio/creator-views",
            json!({ "handle": "ana" }),
        )
        .await;
    assert_eq!(view.status, StatusCode::CREATED, "{}", view.text());
    let url = view.json()["url"].as_str().unwrap().to_string();
    let path = url.trim_start_matches("http://127.0.0.1:8080");
    let page = server.get(path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<h1>ana's numbers</h1>"), "{html}");
    assert!(
        html.contains("<dt>Sales</dt><dd>1</dd>"),
        "only ana's sale: {html}"
    );
    assert!(html.contains("<dt>Verified share of those</dt><dd>100 %</dd>"));
    assert!(html.contains("50.00 EUR"), "ana's fee");

    // A share link's token does not open a view, and a tampered view token is refused.
    let share_token = link["token"].as_str().unwrap();
    assert_eq!(
        server.get(&format!("/creator/{share_token}")).await.status,
        StatusCode::FORBIDDEN
    );
    let tampered = path.replace("~ana~", "~theo~");
    assert_eq!(server.get(&tampered).await.status, StatusCode::FORBIDDEN);
    let not_creator = server
        .seller_post(
            "/v1/listings/candle-trio/creator-views",
            json!({ "handle": "eve" }),
        )
        .await;
    assert_eq!(not_creator.json()["error"]["field"], "handle");
}
