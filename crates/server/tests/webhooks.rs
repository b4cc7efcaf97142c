//! Signed webhooks, checked by an independent receiver over a real socket: signature and
//! timestamp verified with core's `verify_webhook`, retries after failures, the delivery log,
//! and every event type.

mod support;

use std::time::Duration;

use axum::http::StatusCode;
use mighty_core::signing::verify_webhook;
use mighty_server::config::WebhookDestinations;
use mighty_server::webhooks::{deliver_due, delivery_client};
use mighty_server::{AppState, Config};
use serde_json::json;
use support::receiver;
use support::{SELLER, TestServer};

async fn register(server: &TestServer, address: std::net::SocketAddr) -> (String, String) {
    let response = server
        .seller_post(
            "/v1/webhooks",
            json!({ "url": format!("http://{address}/hook") }),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let body = response.json();
    let (id, secret) = (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    );
    // The signing secret is derived from the endpoint id with the server key: the
    // database never holds it (security review 10).
    let lookup = id.clone();
    let stored = server
        .state
        .store(move |store| store.webhook(&lookup))
        .await
        .unwrap()
        .unwrap();
    assert!(secret.starts_with("whsec_") && stored.secret.is_empty());
    (id, secret)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn deliveries_are_signed_and_verify_with_the_secret_and_timestamp() {
    let server = TestServer::with_listing().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let (webhook_id, secret) = register(&server, address).await;
    assert!(secret.starts_with("whsec_"));
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;

    assert_eq!(deliver_due(&server.state, &client()).await.unwrap(), 1);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let delivery = &received[0];
    let now = mighty_server::clock::real_now();
    assert_eq!(
        verify_webhook(&secret, &delivery.signature, &delivery.body, now),
        Ok(())
    );
    assert!(verify_webhook("whsec_wrong", &delivery.signature, &delivery.body, now).is_err());
    assert!(verify_webhook(&secret, &delivery.signature, b"{\"tampered\":true}", now).is_err());
    let event = delivery.json();
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["id"], delivery.event_id_header.as_str());
    assert!(event["created"].as_str().is_some());
    assert_eq!(event["data"]["session"]["session_id"], session.as_str());
    assert_eq!(event["data"]["order"]["amount"], 2400);
    assert_eq!(event["data"]["session"]["creator"], "ana");
    assert_eq!(event["data"]["session"]["creator_verified"], false);

    let log = server
        .seller_get(&format!("/v1/webhooks/{webhook_id}/deliveries"))
        .await
        .json();
    assert_eq!(log["events"][0]["delivered"], true);
    assert_eq!(log["attempts"][0]["status_code"], 204);
    // Nothing is sent twice.
    assert_eq!(deliver_due(&server.state, &client()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_removed_endpoint_gets_nothing_more_and_only_its_seller_can_remove_it() {
    let server = TestServer::with_listing().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let (webhook_id, _secret) = register(&server, address).await;
    // One event queued, not yet delivered, when the endpoint goes.
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;

    let remove = |authorization: String, id: String| {
        let server = &server;
        async move {
            server
                .request(
                    axum::http::Method::DELETE,
                    &format!("/v1/webhooks/{id}"),
                    &[("authorization", &authorization)],
                    None,
                )
                .await
        }
    };
    let anonymous = remove(String::new(), webhook_id.clone()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    server
        .state
        .store(|store| store.add_seller("Other", "msk_other_seller_token_1", 0))
        .await
        .unwrap();
    let not_yours = remove(
        "Bearer msk_other_seller_token_1".to_string(),
        webhook_id.clone(),
    )
    .await;
    assert_eq!(not_yours.status, StatusCode::FORBIDDEN);
    let removed = remove(format!("Bearer {SELLER}"), webhook_id.clone()).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    assert_eq!(removed.json()["undelivered_given_up"], 1);

    assert_eq!(deliver_due(&server.state, &client()).await.unwrap(), 0);
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    assert_eq!(deliver_due(&server.state, &client()).await.unwrap(), 0);
    assert!(receiver.received().is_empty());

    let again = remove(format!("Bearer {SELLER}"), webhook_id.clone()).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.error_code(), "not_found");
    let log = server
        .seller_get(&format!("/v1/webhooks/{webhook_id}/deliveries"))
        .await;
    assert_eq!(log.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_receiver_that_fails_at_first_gets_the_event_later() {
    let server = TestServer::with_listing().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 1).await;
    let (webhook_id, _) = register(&server, address).await;
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;

    assert_eq!(deliver_due(&server.state, &client()).await.unwrap(), 1);
    assert!(receiver.received().is_empty());
    assert_eq!(
        deliver_due(&server.state, &client()).await.unwrap(),
        0,
        "the retry waits for its backoff"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(deliver_due(&server.state, &client()).await.unwrap(), 1);
    assert_eq!(receiver.types(), ["checkout.session.completed"]);

    let log = server
        .seller_get(&format!("/v1/webhooks/{webhook_id}/deliveries"))
        .await
        .json();
    let statuses: Vec<i64> = log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 204]);
    assert_eq!(log["events"][0]["attempts"], 2);
    assert_eq!(log["attempts"][0]["error"], "the receiver answered 500");
}

#[tokio::test]
async fn every_event_type_reaches_the_seller() {
    let server = TestServer::with_listing().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    register(&server, address).await;

    let (_, subscription, token) = server.buy_membership().await;
    let upgrade = server
        .request(
            axum::http::Method::POST,
            &format!("/v1/subscriptions/{subscription}/upgrade"),
            &[
                ("authorization", &format!("Bearer {token}")),
                ("idempotency-key", "up"),
            ],
            Some(json!({ "tier_id": "plus" }).to_string()),
        )
        .await;
    assert_eq!(upgrade.status, StatusCode::OK);
    server.open_session("trio", None).await; // left unpaid: it expires
    server.advance_clock(32 * 86_400).await;
    server
        .request(
            axum::http::Method::POST,
            &format!("/v1/subscriptions/{subscription}/cancel"),
            &[("authorization", &format!("Bearer {SELLER}"))],
            None,
        )
        .await;
    let order = server.seller_get("/v1/orders").await.json()["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .seller_post(&format!("/v1/orders/{order}/refund"), json!({}))
        .await;

    while deliver_due(&server.state, &client()).await.unwrap() > 0 {}
    let mut types = receiver.types();
    types.sort();
    assert_eq!(
        types,
        [
            "checkout.session.completed",
            "checkout.session.expired",
            "order.refunded",
            "subscription.canceled",
            "subscription.created",
            "subscription.renewed",
            "subscription.updated",
        ]
    );
    let renewed = receiver
        .received()
        .into_iter()
        .map(|delivery| delivery.json())
        .find(|event| event["type"] == "subscription.renewed")
        .unwrap();
    assert_eq!(renewed["data"]["subscription"]["tier_id"], "plus");
    assert_eq!(
        renewed["data"]["subscription"]["attribution"]["variant"], "ana",
        "the attribution travels with the subscription"
    );
}

#[tokio::test]
async fn webhook_registration_errors() {
    let server = TestServer::new().await;
    let bad = server
        .seller_post("/v1/webhooks", json!({ "url": "ftp://x" }))
        .await;
    assert_eq!(bad.json()["error"]["field"], "url");
    let missing = server.seller_post("/v1/webhooks", json!({})).await;
    assert_eq!(missing.json()["error"]["field"], "url");
    assert_eq!(
        server
            .seller_get("/v1/webhooks/we_nope/deliveries")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A second seller with the standard listing under another id, a receiver, and a paid
/// session whose event is now in the outbox.
async fn second_seller_pays(server: &TestServer, address: std::net::SocketAddr) {
    const OTHER: &str = "msk_second_seller_token_01";
    server
        .state
        .store(|store| store.add_seller("Second seller", OTHER, 0))
        .await
        .unwrap();
    let authorization = format!("Bearer {OTHER}");
    let put = server
        .request(
            axum::http::Method::PUT,
            "/v1/listings/other-trio",
            &[("authorization", &authorization)],
            Some(support::listing("other-trio", None).to_string()),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text());
    let hook = server
        .request(
            axum::http::Method::POST,
            "/v1/webhooks",
            &[("authorization", &authorization)],
            Some(json!({ "url": format!("http://{address}/hook") }).to_string()),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());
    let mut body = TestServer::checkout_body("trio", None, 1);
    body["listing_id"] = json!("other-trio");
    let session = server.checkout("other-key", &body).await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.text());
    let session = session.json()["session_id"].as_str().unwrap().to_string();
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_does_not_delay_another_sellers_webhooks() {
    let server = TestServer::with_listing().await;
    let (slow, slow_address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    slow.answer_after(Duration::from_secs(9));
    register(&server, slow_address).await;
    let (quick, quick_address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    tokio::spawn(mighty_server::webhooks::deliver_forever(
        server.state.clone(),
    ));

    // Seller A's event first (its receiver takes 9 s to answer), then seller B's.
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let paid_at = std::time::Instant::now();
    second_seller_pays(&server, quick_address).await;

    while quick.received().is_empty() {
        assert!(
            paid_at.elapsed() < Duration::from_secs(2),
            "seller B's webhook waited behind seller A's slow receiver"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(quick.types(), ["checkout.session.completed"]);
    assert!(
        slow.received().is_empty(),
        "A's receiver is still answering"
    );
}

/// A server with the standard listing whose webhooks may go only where `destinations` says.
async fn server_with(destinations: WebhookDestinations) -> TestServer {
    let root = support::temp_root();
    let mut config = Config::for_tests(root.0.clone());
    config.webhook_destinations = destinations;
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .unwrap()
        .unwrap();
    let server = TestServer { state, root };
    let put = server
        .put_listing("candle-trio", support::listing("candle-trio", None))
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text());
    server
}

/// Adds an endpoint straight to the store, past registration's checks (as if its name
/// answered differently when it was registered).
async fn add_endpoint(server: &TestServer, url: String) -> String {
    server
        .state
        .store(move |store| {
            let seller = store
                .seller_by_token(SELLER)?
                .expect("the test seller exists");
            store.add_webhook(&mighty_server::store::new_id("we"), &seller.id, &url, 0)
        })
        .await
        .unwrap()
        .id
}

async fn log_of(server: &TestServer, webhook_id: &str) -> serde_json::Value {
    server
        .seller_get(&format!("/v1/webhooks/{webhook_id}/deliveries"))
        .await
        .json()
}

#[tokio::test]
async fn public_only_refuses_this_machine_and_private_networks_at_registration() {
    let server = server_with(WebhookDestinations::PublicOnly).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://2130706433/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:9/hook",
        "http://0.0.0.0/hook",
    ] {
        let refused = server
            .seller_post("/v1/webhooks", json!({ "url": url }))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(refused.json()["error"]["field"], "url", "{url}");
    }
    for url in [
        "https://hooks.example.com/mighty",
        "http://93.184.216.34/hook",
    ] {
        let accepted = server
            .seller_post("/v1/webhooks", json!({ "url": url }))
            .await;
        assert_eq!(
            accepted.status,
            StatusCode::CREATED,
            "{url}: {}",
            accepted.text()
        );
    }
}

#[tokio::test]
async fn public_only_never_delivers_to_a_name_or_literal_of_this_machine() {
    let server = server_with(WebhookDestinations::PublicOnly).await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let port = address.port();
    // `localhost` goes through the resolver, which drops every address off the public
    // internet; the IP literal is checked before sending.
    let by_name = add_endpoint(&server, format!("http://localhost:{port}/hook")).await;
    let by_literal = add_endpoint(&server, format!("http://127.0.0.1:{port}/hook")).await;
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;

    let client = delivery_client(WebhookDestinations::PublicOnly).unwrap();
    assert_eq!(deliver_due(&server.state, &client).await.unwrap(), 2);
    assert!(receiver.received().is_empty());
    for webhook_id in [by_name, by_literal] {
        let log = log_of(&server, &webhook_id).await;
        assert_eq!(
            log["attempts"][0]["error"], "destination not allowed",
            "{log}"
        );
        assert_eq!(log["attempts"][0]["status_code"], serde_json::Value::Null);
        assert_eq!(log["events"][0]["delivered"], false);
        assert_eq!(log["events"][0]["last_error"], "destination not allowed");
    }
}

#[tokio::test]
async fn any_address_delivers_to_this_machine_and_says_little_when_it_cannot() {
    let server = server_with(WebhookDestinations::AnyAddress).await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let by_name = add_endpoint(&server, format!("http://localhost:{}/hook", address.port())).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let nobody = add_endpoint(&server, format!("http://127.0.0.1:{closed_port}/hook")).await;
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;

    let client = delivery_client(WebhookDestinations::AnyAddress).unwrap();
    assert_eq!(deliver_due(&server.state, &client).await.unwrap(), 2);
    assert_eq!(receiver.types(), ["checkout.session.completed"]);
    assert_eq!(
        log_of(&server, &by_name).await["events"][0]["delivered"],
        true
    );
    let log = log_of(&server, &nobody).await;
    assert_eq!(log["attempts"][0]["error"], "could not connect", "{log}");
}

#[tokio::test]
async fn claims_stop_at_the_bound_of_each_endpoint() {
    let server = TestServer::with_listing().await;
    let (_receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let (busy, _) = register(&server, address).await;
    for _ in 0..6 {
        let session = server.open_session("trio", None).await;
        server
            .pay(&session, "4242424242424242", TestServer::SHIPPING)
            .await;
    }
    let claim = |in_flight: usize| {
        let busy = busy.clone();
        server.state.store(move |store| {
            let in_flight: std::collections::HashMap<String, usize> = [(busy, in_flight)]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect();
            let now = mighty_server::clock::real_now();
            Ok(store
                .claim_due_deliveries(now, 15, 64, 4, &in_flight)?
                .len())
        })
    };
    assert_eq!(claim(4).await.unwrap(), 0, "at its bound: nothing more");
    assert_eq!(claim(3).await.unwrap(), 1);
    assert_eq!(
        claim(0).await.unwrap(),
        4,
        "the next four, under their lease now"
    );
    assert_eq!(claim(0).await.unwrap(), 1, "the last one");
    assert_eq!(claim(0).await.unwrap(), 0, "everything is leased");
}
