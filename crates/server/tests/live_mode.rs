//! Live mode (`MIGHTY_MODE=live`, issue 13) without Stripe: the configuration it needs, and
//! the sandbox's surfaces gone (no pay page, no sandbox controls, no test cards), with test
//! mode following the Stripe key.

mod support;

use axum::http::StatusCode;
use mighty_server::AppState;
use mighty_server::config::{Config, TEST_SELLER_TOKEN};
use serde_json::json;
use support::{Response, listing, temp_root};

/// An in-process live-mode server; `key` is the Stripe secret key.
async fn live_server(key: &'static str) -> (support::TestServer, support::Root) {
    let root = temp_root();
    let pairs = [
        ("MIGHTY_MODE", "live"),
        ("STRIPE_SECRET_KEY", key),
        ("STRIPE_WEBHOOK_SECRET", "whsec_live_mode_test"),
        ("MIGHTY_STRIPE_API_BASE", "http://127.0.0.1:9"),
        ("MIGHTY_SELLER_TOKEN", TEST_SELLER_TOKEN),
        ("MIGHTY_SECRET_KEY", "live-mode-test-key-0123456789abcdef"),
    ];
    let mut config = Config::from_env(|name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
    .unwrap();
    config.root = root.0.clone();
    config.address = "127.0.0.1:0".parse().unwrap();
    config.database = support::test_database().await;
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .unwrap()
        .unwrap();
    let server = support::TestServer {
        state,
        root: temp_root(),
    };
    let put = server
        .put_listing("candle-trio", listing("candle-trio", None))
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text());
    (server, root)
}

fn assert_not_found(response: &Response, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::NOT_FOUND,
        "{what}: {}",
        response.text()
    );
    assert_eq!(response.error_code(), "not_found", "{what}");
}

#[tokio::test]
async fn the_sandbox_surfaces_do_not_exist_in_live_mode() {
    let (server, _root) = live_server("sk_test_51LiveModeSurfaces").await;
    assert_not_found(&server.get("/pay/cs_0123").await, "the pay page");
    let form = axum::http::Request::post("/pay/cs_0123")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("cc-number=4242424242424242"))
        .unwrap();
    assert_not_found(&server.send(form).await, "a test card on the pay form");
    assert_not_found(
        &server
            .seller_post("/sandbox/clock/advance", json!({ "seconds": 60 }))
            .await,
        "the sandbox clock",
    );
    assert_not_found(
        &server
            .seller_post(
                "/sandbox/faults",
                json!({ "listing_id": "candle-trio", "mode": "503", "count": 1 }),
            )
            .await,
        "the sandbox faults",
    );
    // The pay page's assets stay: the live return page uses them.
    assert_eq!(
        server.get("/pay/assets/return.js").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn test_mode_follows_the_stripe_key() {
    for (key, test_mode) in [
        ("sk_test_51FollowsTheKey", true),
        ("sk_live_51FollowsTheKey", false),
    ] {
        let (server, _root) = live_server(key).await;
        let document = server.get("/v1/listings/candle-trio").await.json();
        assert_eq!(document["test_mode"], test_mode, "{key}");
    }
}
