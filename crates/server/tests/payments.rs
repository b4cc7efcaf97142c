//! The hosted pay page, orders and refunds, subscriptions with upgrades and renewals, the
//! manage page, and creator-link attribution — without a socket.

mod support;

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use support::{SELLER, TestServer, listing};

#[tokio::test]
async fn the_pay_page_is_an_accessible_form_with_autocomplete_tokens() {
    let server = TestServer::with_listing().await;
    let id = server.open_session("trio", None).await;
    let page = server.get(&format!("/pay/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let html = page.text();
    assert!(html.contains("Test mode"));
    for token in [
        "\"email\"",
        "\"cc-name\"",
        "\"cc-number\"",
        "\"cc-exp\"",
        "\"cc-csc\"",
        "\"shipping address-line1\"",
        "\"shipping postal-code\"",
    ] {
        assert!(
            html.contains(&format!("autocomplete={token}")),
            "missing autocomplete {token}"
        );
    }
    assert!(html.contains("<label for=\"cc-number\">"));
    // A bundle that does not ship asks no address.
    let digital = server
        .checkout(
            "digital",
            &TestServer::checkout_body("club", Some("monthly"), 1),
        )
        .await
        .json();
    let html = server
        .get(&format!("/pay/{}", digital["session_id"].as_str().unwrap()))
        .await
        .text();
    assert!(!html.contains("shipping address-line1"));
}

#[tokio::test]
async fn a_good_card_pays_makes_an_order_and_shows_a_receipt() {
    let server = TestServer::with_listing().await;
    let id = server.open_session("trio", None).await;
    let receipt = server
        .pay(&id, "4242 4242 4242 4242", TestServer::SHIPPING)
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    let html = receipt.text();
    assert!(html.contains("Payment received"));
    assert!(html.contains("•••• 4242"));
    assert!(
        !html.contains("4242 4242 4242 4242") && !html.contains("4242424242424242"),
        "only the last four digits are shown"
    );
    assert!(html.contains(&format!(
        "https://directory.example/lyon?mighty_listing=candle-trio&amp;mighty_session={id}"
    )));

    let state = server
        .get(&format!("/v1/checkout/sessions/{id}"))
        .await
        .json();
    assert_eq!(state["status"], "paid");
    let orders = server.seller_get("/v1/orders").await.json();
    let order = &orders["orders"][0];
    assert_eq!(
        (
            order["amount"].as_i64(),
            order["kind"].as_str(),
            order["status"].as_str()
        ),
        (Some(2400), Some("purchase"), Some("paid"))
    );
    assert_eq!(order["shipping"]["city"], "Lyon");
    assert_eq!(order["attribution"]["variant"], "ana");
    assert_eq!(
        (
            order["creator"].as_str(),
            order["creator_verified"].as_bool()
        ),
        (Some("ana"), Some(false))
    );
    // Paying again is refused: the session is no longer open.
    let again = server
        .pay(&id, "4242424242424242", TestServer::SHIPPING)
        .await;
    assert!(again.text().contains("Payment received"));
    assert_eq!(
        server.seller_get("/v1/orders").await.json()["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn declines_fail_the_session_and_field_errors_show_next_to_their_field() {
    let server = TestServer::with_listing().await;
    let id = server.open_session("trio", None).await;
    let bad_luhn = server
        .pay(&id, "4242 4242 4242 4241", TestServer::SHIPPING)
        .await;
    assert_eq!(bad_luhn.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad_luhn.text();
    assert!(html.contains("id=\"cc-number-error\">This card number is not valid"));
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"cc-number-error\""));
    assert!(
        html.contains("value=\"ana@example.com\""),
        "what the shopper typed is kept"
    );
    let expired = server
        .pay(
            &id,
            "4242424242424242",
            &[
                ("cc-exp", "01/20"),
                TestServer::SHIPPING[0],
                TestServer::SHIPPING[1],
                TestServer::SHIPPING[2],
                TestServer::SHIPPING[3],
                TestServer::SHIPPING[4],
            ],
        )
        .await;
    assert!(expired.text().contains("This card has expired."));
    assert_eq!(
        server
            .get(&format!("/v1/checkout/sessions/{id}"))
            .await
            .json()["status"],
        "open"
    );

    let declined = server
        .pay(&id, "4000 0000 0000 0002", TestServer::SHIPPING)
        .await;
    assert!(declined.text().contains("The card was declined"));
    assert_eq!(
        server
            .get(&format!("/v1/checkout/sessions/{id}"))
            .await
            .json()["status"],
        "failed"
    );

    let other = server.open_session("trio", None).await;
    let insufficient = server
        .pay(&other, "4000000000009995", TestServer::SHIPPING)
        .await;
    assert!(insufficient.text().contains("insufficient funds"));
    assert!(
        server.seller_get("/v1/orders").await.json()["orders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn refunds_are_recorded_once() {
    let server = TestServer::with_listing().await;
    let id = server.open_session("trio", None).await;
    server
        .pay(&id, "4242424242424242", TestServer::SHIPPING)
        .await;
    let order_id = server.seller_get("/v1/orders").await.json()["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refunded = server
        .seller_post(&format!("/v1/orders/{order_id}/refund"), json!({}))
        .await;
    assert_eq!(refunded.status, StatusCode::OK);
    assert_eq!(refunded.json()["status"], "refunded");
    let again = server
        .seller_post(&format!("/v1/orders/{order_id}/refund"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        server
            .seller_post("/v1/orders/ord_nope/refund", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    server
        .state
        .store(|store| store.add_seller("Other", "msk_other_seller_token_1", 0))
        .await
        .unwrap();
    let not_theirs = server
        .request(
            Method::POST,
            &format!("/v1/orders/{order_id}/refund"),
            &[("authorization", "Bearer msk_other_seller_token_1")],
            Some("{}".into()),
        )
        .await;
    assert_eq!(
        (not_theirs.status, not_theirs.error_code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let their_listing = server
        .request(
            Method::GET,
            "/v1/orders?listing=candle-trio",
            &[("authorization", "Bearer msk_other_seller_token_1")],
            None,
        )
        .await;
    assert_eq!(
        (their_listing.status, their_listing.error_code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "another seller's listing is not an empty list"
    );
    assert_eq!(
        server
            .request(Method::GET, "/v1/orders", &[], None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// Buys the `monthly` tier and returns (subscription id, customer token).
async fn buy_membership(server: &TestServer) -> (String, String) {
    let (_, subscription, token) = server.buy_membership().await;
    (subscription, token)
}

async fn upgrade(
    server: &TestServer,
    subscription: &str,
    token: &str,
    key: &str,
    tier: &str,
) -> support::Response {
    server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/upgrade"),
            &[
                ("authorization", &format!("Bearer {token}")),
                ("idempotency-key", key),
            ],
            Some(json!({ "tier_id": tier }).to_string()),
        )
        .await
}

#[tokio::test]
async fn a_retainer_upgrade_prorates_and_never_makes_a_second_subscription() {
    let server = TestServer::with_listing().await;
    let (subscription, token) = buy_membership(&server).await;
    let details = server
        .request(
            Method::GET,
            &format!("/v1/subscriptions/{subscription}"),
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await
        .json();
    let (start, end) = (
        mighty_core::Timestamp::parse_rfc3339(details["current_period_start"].as_str().unwrap())
            .unwrap(),
        mighty_core::Timestamp::parse_rfc3339(details["current_period_end"].as_str().unwrap())
            .unwrap(),
    );
    // Ten days into the month.
    server.advance_clock(10 * 86_400).await;
    let now = server.seller_now().await;
    let expected_due =
        mighty_core::proration::prorated_amount_due(1500, 2500, start, end, now).unwrap();
    let response = upgrade(&server, &subscription, &token, "up-1", "plus").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(
        (body["subscription_id"].as_str(), body["tier_id"].as_str()),
        (Some(subscription.as_str()), Some("plus"))
    );
    assert_eq!(body["amount_due"].as_i64(), Some(expected_due));
    assert!(expected_due > 0 && expected_due < 1000);

    let replay = upgrade(&server, &subscription, &token, "up-1", "plus").await;
    assert_eq!(replay.json(), body);
    let conflict = upgrade(&server, &subscription, &token, "up-1", "monthly").await;
    assert_eq!(conflict.error_code(), "idempotency_conflict");
    let same_tier = upgrade(&server, &subscription, &token, "up-2", "plus").await;
    assert_eq!(same_tier.status, StatusCode::CONFLICT);
    let downgrade = upgrade(&server, &subscription, &token, "up-3", "monthly").await;
    assert_eq!(downgrade.json()["error"]["field"], "tier_id");

    let orders = server.seller_get("/v1/orders").await.json();
    let kinds: Vec<&str> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| order["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["purchase", "upgrade"]);
    let subscriptions: std::collections::HashSet<&str> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|order| order["subscription_id"].as_str())
        .collect();
    assert_eq!(subscriptions.len(), 1, "one subscription, changed in place");
}

#[tokio::test]
async fn renewals_follow_the_sandbox_clock_and_a_second_upgrade_prorates_the_new_period() {
    let mut document = support::listing("candle-trio", None);
    document["offers"][1]["tiers"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "id": "max", "name": "Max", "price": 4000, "interval": "month" }));
    let server = TestServer::new().await;
    server.put_listing("candle-trio", document).await;
    let (subscription, token) = buy_membership(&server).await;
    assert_eq!(
        upgrade(&server, &subscription, &token, "first", "plus")
            .await
            .status,
        StatusCode::OK
    );

    let advanced = server.advance_clock(32 * 86_400).await.json();
    assert_eq!(advanced["renewals"], 1);
    let details = server
        .request(
            Method::GET,
            &format!("/v1/subscriptions/{subscription}"),
            &[("authorization", &format!("Bearer {SELLER}"))],
            None,
        )
        .await
        .json();
    let start =
        mighty_core::Timestamp::parse_rfc3339(details["current_period_start"].as_str().unwrap())
            .unwrap();
    let end =
        mighty_core::Timestamp::parse_rfc3339(details["current_period_end"].as_str().unwrap())
            .unwrap();
    let now = server.seller_now().await;
    assert!(start <= now && now < end);
    let expected =
        mighty_core::proration::prorated_amount_due(2500, 4000, start, end, now).unwrap();
    let second = upgrade(&server, &subscription, &token, "second", "max")
        .await
        .json();
    assert_eq!(second["amount_due"].as_i64(), Some(expected));

    let orders = server.seller_get("/v1/orders").await.json();
    let summary: Vec<(String, i64)> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| {
            (
                order["kind"].as_str().unwrap().to_string(),
                order["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary[0], ("purchase".to_string(), 1500));
    assert_eq!(
        summary[2],
        ("renewal".to_string(), 2500),
        "renews at the upgraded price"
    );
    assert_eq!(summary[3].0, "upgrade");
}

#[tokio::test]
async fn subscriptions_are_protected_and_cancelable_and_have_a_manage_page() {
    let server = TestServer::with_listing().await;
    let (subscription, token) = buy_membership(&server).await;
    let anonymous = server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/upgrade"),
            &[("idempotency-key", "k")],
            Some(json!({"tier_id": "plus"}).to_string()),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let wrong = upgrade(&server, &subscription, "cus_wrong", "k", "plus").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let no_key = server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/upgrade"),
            &[("authorization", &format!("Bearer {token}"))],
            Some(json!({"tier_id": "plus"}).to_string()),
        )
        .await;
    assert_eq!(no_key.json()["error"]["field"], "Idempotency-Key");

    // Another customer's real token: not theirs (403), not a bad token (401).
    let (_, other_customer) = buy_membership(&server).await;
    let not_theirs = upgrade(&server, &subscription, &other_customer, "k", "plus").await;
    assert_eq!(
        (not_theirs.status, not_theirs.error_code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );

    // A page off the listing's allowlist is refused, readably, before anything changes.
    let bearer = format!("Bearer {token}");
    for (method, path, key) in [
        (
            Method::GET,
            format!("/v1/subscriptions/{subscription}"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/subscriptions/{subscription}/upgrade"),
            Some("foreign"),
        ),
        (
            Method::POST,
            format!("/v1/subscriptions/{subscription}/cancel"),
            None,
        ),
    ] {
        let mut headers = vec![
            ("authorization", bearer.as_str()),
            ("origin", "https://elsewhere.example"),
        ];
        headers.extend(key.map(|key| ("idempotency-key", key)));
        let body = key.map(|_| json!({"tier_id": "plus"}).to_string());
        let refused = server.request(method.clone(), &path, &headers, body).await;
        assert_eq!(
            (refused.status, refused.error_code().as_str()),
            (StatusCode::FORBIDDEN, "origin_not_allowed"),
            "{method} {path}"
        );
        assert_eq!(
            refused.headers["access-control-allow-origin"],
            "https://elsewhere.example"
        );
    }
    let allowed = server
        .request(
            Method::GET,
            &format!("/v1/subscriptions/{subscription}"),
            &[
                ("authorization", bearer.as_str()),
                ("origin", support::DIRECTORY),
            ],
            None,
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(
        allowed.json()["tier_id"],
        "monthly",
        "the refused upgrade changed nothing"
    );
    assert_eq!(
        allowed.json()["status"],
        "active",
        "the refused cancel changed nothing"
    );

    let page = server.get(&format!("/manage/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Upgrade to Plus"));
    assert!(page.text().contains("Cancel the membership"));
    assert_eq!(
        server.get("/manage/cus_unknown").await.status,
        StatusCode::NOT_FOUND
    );

    let canceled = server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/cancel"),
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await;
    assert_eq!(canceled.json()["status"], "canceled");
    assert_eq!(
        upgrade(&server, &subscription, &token, "after-cancel", "plus")
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert!(
        !server
            .get(&format!("/manage/{token}"))
            .await
            .text()
            .contains("Upgrade to")
    );
}

#[tokio::test]
async fn creator_links_verify_only_genuine_tokens() {
    let server = TestServer::with_listing().await;
    let link = server
        .seller_post(
            "/v1/listings/candle-trio/creator-links",
            json!({ "handle": "ana", "page": "https://directory.example/lyon" }),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text());
    let link = link.json();
    let token = link["token"].as_str().unwrap().to_string();
    assert_eq!(
        link["url"],
        format!("https://directory.example/lyon?mighty_creator=ana&mighty_token={token}")
    );
    assert!(
        link["qr_svg"].as_str().unwrap().contains("<svg"),
        "a QR code for posters"
    );
    let not_a_creator = server
        .seller_post(
            "/v1/listings/candle-trio/creator-links",
            json!({ "handle": "eve" }),
        )
        .await;
    assert_eq!(not_a_creator.json()["error"]["field"], "handle");

    let buy_with = |token: String, key: &'static str| {
        let server = &server;
        async move {
            let mut body = TestServer::checkout_body("trio", None, 1);
            body["attribution"]["token"] = json!(token);
            let session = server.checkout(key, &body).await.json()["session_id"]
                .as_str()
                .unwrap()
                .to_string();
            server
                .pay(&session, "4242424242424242", TestServer::SHIPPING)
                .await;
        }
    };
    buy_with(token.clone(), "genuine").await;
    buy_with(token.replace("~ana~", "~theo~"), "tampered").await;
    let orders = server.seller_get("/v1/orders").await.json();
    let verified: Vec<(Option<&str>, Option<bool>)> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| {
            (
                order["creator"].as_str(),
                order["creator_verified"].as_bool(),
            )
        })
        .collect();
    assert_eq!(
        verified,
        [(Some("ana"), Some(true)), (Some("ana"), Some(false))]
    );

    let revoked = server
        .request(
            Method::DELETE,
            "/v1/listings/candle-trio/creator-links/ana",
            &[("authorization", &format!("Bearer {SELLER}"))],
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    buy_with(token, "revoked").await;
    let orders = server.seller_get("/v1/orders").await.json();
    assert_eq!(
        orders["orders"][2]["creator_verified"], false,
        "a revoked link no longer verifies"
    );
}

#[tokio::test]
async fn the_manage_page_upgrades_and_cancels_with_plain_forms() {
    let server = TestServer::with_listing().await;
    let (subscription, token) = buy_membership(&server).await;
    let form = |body: &str| {
        axum::http::Request::post(format!("/manage/{token}/upgrade"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    let upgraded = server.send(form("tier_id=plus&key=manage-1")).await;
    assert_eq!(upgraded.status, StatusCode::SEE_OTHER);
    assert_eq!(
        upgraded.headers[header::LOCATION],
        format!("/manage/{token}")
    );
    let details = server
        .request(
            Method::GET,
            &format!("/v1/subscriptions/{subscription}"),
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await
        .json();
    assert_eq!(details["tier_id"], "plus");
    // Submitting the same form again (a double click) changes nothing more.
    server.send(form("tier_id=plus&key=manage-1")).await;
    let orders = server.seller_get("/v1/orders").await.json();
    assert_eq!(
        orders["orders"].as_array().unwrap().len(),
        2,
        "one purchase and one upgrade charge"
    );
    let unknown = server.send(form("tier_id=gold&key=manage-2")).await;
    assert!(
        unknown.text().contains("has no tier"),
        "the error is shown on the page"
    );

    let cancel = axum::http::Request::post(format!("/manage/{token}/cancel"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(server.send(cancel).await.status, StatusCode::SEE_OTHER);
    assert!(
        server
            .get(&format!("/manage/{token}"))
            .await
            .text()
            .contains("canceled")
    );
}

/// Security review 2: the customer token (which upgrades and cancels) reaches only the
/// browser that created the session. A session id alone travels in URLs and logs.
#[tokio::test]
async fn the_customer_token_needs_the_session_secret() {
    let server = TestServer::with_listing().await;
    let key = mighty_server::store::new_id("key");
    let body = TestServer::checkout_body("club", Some("monthly"), 1);
    let created = server.checkout(&key, &body).await.json();
    let (id, secret) = (
        created["session_id"].as_str().unwrap().to_string(),
        created["session_secret"].as_str().unwrap().to_string(),
    );
    assert!(secret.starts_with("mss_"), "{created}");
    let replayed = server.checkout(&key, &body).await.json();
    assert_eq!(
        replayed, created,
        "a replay answers the same, secret included"
    );
    server.pay(&id, "4242424242424242", &[]).await;

    for stranger in [
        None,
        Some(""),
        Some("mss_0000"),
        Some(&secret[..secret.len() - 1]),
    ] {
        let state = server.session_state(&id, stranger).await;
        assert_eq!(state["status"], "paid", "{state}");
        assert!(state["subscription_id"].is_string());
        assert!(
            state.get("customer_token").is_none(),
            "{stranger:?}: {state}"
        );
        assert!(state.get("email").is_none(), "{state}");
    }
    let state = server.session_state(&id, Some(&secret)).await;
    let token = state["customer_token"].as_str().unwrap().to_string();
    assert!(
        server
            .get(&format!("/manage/{token}"))
            .await
            .status
            .is_success(),
        "the token works"
    );

    // Stored as a hash only; the secret is never stored.
    let subscription_id = state["subscription_id"].as_str().unwrap().to_string();
    let stored = server
        .state
        .store(move |store| store.subscription(&subscription_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.customer_token_hash,
        mighty_server::store::hash_secret(&token)
    );
    let (_, replay) = server
        .state
        .store(move |store| store.stored_response("checkout", &key))
        .await
        .unwrap()
        .expect("the answer is stored under its key");
    assert!(replay.body.contains(&id), "{}", replay.body);
    assert!(!replay.body.contains(&secret), "{}", replay.body);
}

/// Security review 7: one seller's sandbox clock moves only their own sessions,
/// subscriptions and drops.
#[tokio::test]
async fn a_sellers_clock_moves_only_their_own_business() {
    let server = TestServer::with_listing().await;
    let (_, subscription, _) = server.buy_membership().await;
    let open = server.open_session("trio", None).await;

    // Another seller, with a listing of their own, moves their clock by 40 days.
    let other_token = "msk_other_seller_token_0002";
    server
        .state
        .store(move |store| store.add_seller("Other", other_token, 0))
        .await
        .unwrap();
    let mut document = listing("other-trio", None);
    document["id"] = json!("other-trio");
    let put = server
        .request(
            Method::PUT,
            "/v1/listings/other-trio",
            &[("authorization", &format!("Bearer {other_token}"))],
            Some(document.to_string()),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text());
    let advanced = server
        .request(
            Method::POST,
            "/sandbox/clock/advance",
            &[("authorization", &format!("Bearer {other_token}"))],
            Some(json!({ "seconds": 40 * 86_400 }).to_string()),
        )
        .await;
    assert_eq!(advanced.status, StatusCode::OK, "{}", advanced.text());

    // The first seller's session is still open and their member was not renewed.
    assert_eq!(server.session_state(&open, None).await["status"], "open");
    let orders = server.seller_get("/v1/orders").await.json();
    let renewals = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|order| {
            order["kind"] == "renewal" && order["subscription_id"] == subscription.as_str()
        })
        .count();
    assert_eq!(renewals, 0, "{orders}");
    let listing_now = server.get("/v1/listings/candle-trio").await.json()["server_time"]
        .as_str()
        .unwrap()
        .to_string();
    let other_now = server.get("/v1/listings/other-trio").await.json()["server_time"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(other_now > listing_now, "{other_now} vs {listing_now}");

    // Their own advance does move their business.
    server.advance_clock(40 * 86_400).await;
    assert_eq!(server.session_state(&open, None).await["status"], "expired");
    let orders = server.seller_get("/v1/orders").await.json();
    assert!(
        orders["orders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|order| order["kind"] == "renewal"),
        "{orders}"
    );
}
