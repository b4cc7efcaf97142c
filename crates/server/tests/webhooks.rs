//! Signed webhooks, checked by an independent receiver over a real socket: signature and
//! timestamp verified with core's `verify_webhook`, retries after failures, the delivery log,
//! and every event type.

mod support;

use std::time::Duration;

use axum::http::StatusCode;
use mighty_core::signing::verify_webhook;
use mighty_server::webhooks::deliver_due;
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
    (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
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
    assert_eq!(
        log["attempts"][0]["error"],
        "the receiver answered 500 Internal Server Error"
    );
}

#[tokio::test]
async fn every_event_type_reaches_the_seller() {
    let server = TestServer::with_listing().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    register(&server, address).await;

    let membership = server.open_session("club", Some("monthly")).await;
    server.pay(&membership, "4242424242424242", &[]).await;
    let state = server
        .get(&format!("/v1/checkout/sessions/{membership}"))
        .await
        .json();
    let (subscription, token) = (
        state["subscription_id"].as_str().unwrap().to_string(),
        state["customer_token"].as_str().unwrap().to_string(),
    );
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
