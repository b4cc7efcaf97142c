//! Live mode end to end (issue 13) over real sockets: the server (in this process, on a
//! loopback port, on SQLite or on PostgreSQL with `MIGHTY_TEST_DATABASE_URL`) talks to a
//! local stand-in for Stripe (`support/stripe.rs`), the test talks to both as a widget, a
//! seller and Stripe's webhook would. Nothing here reaches the real Stripe.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mighty_server::config::{Config, TEST_SELLER_TOKEN};
use mighty_server::stripe::RetryPolicy;
use mighty_server::{AppState, app};
use serde_json::{Value, json};
use support::stripe::{self as stand_in, StandIn};
use support::{DIRECTORY, Root, TestServer, listing, receiver, temp_root};

struct Live {
    state: AppState,
    base: String,
    client: reqwest::Client,
    stripe: StandIn,
    _root: Root,
}

impl Live {
    /// A live-mode server whose Stripe is a fresh stand-in, with `document` as
    /// `candle-trio`.
    async fn start(document: Value) -> Live {
        Live::start_with(document, None).await
    }

    /// As [`Live::start`], with the server's Stripe calls tried as `retry` says.
    async fn start_with(document: Value, retry: Option<RetryPolicy>) -> Live {
        capture_logs();
        let stripe = stand_in::start().await;
        let root = temp_root();
        let pairs: Vec<(&str, String)> = vec![
            ("MIGHTY_MODE", "live".into()),
            ("STRIPE_SECRET_KEY", stand_in::SECRET_KEY.into()),
            ("STRIPE_WEBHOOK_SECRET", stand_in::WEBHOOK_SECRET.into()),
            ("MIGHTY_STRIPE_API_BASE", stripe.base.clone()),
            ("MIGHTY_SHIP_COUNTRIES", "FR,BE".into()),
            ("MIGHTY_WEBHOOK_ALLOW_PRIVATE", "1".into()),
            ("MIGHTY_SELLER_TOKEN", TEST_SELLER_TOKEN.into()),
            (
                "MIGHTY_SECRET_KEY",
                "stripe-live-test-key-0123456789abcdef".into(),
            ),
        ];
        let mut config = Config::from_env(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        })
        .unwrap();
        config.root = root.0.clone();
        config.database = support::test_database().await;
        if let (Some(retry), Some(stripe)) = (retry, config.stripe.as_mut()) {
            stripe.retry = retry;
        }
        let state = tokio::task::spawn_blocking(move || AppState::open(config))
            .await
            .unwrap()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        mighty_server::start_background_work(&state);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let live = Live {
            state,
            base,
            client,
            stripe,
            _root: root,
        };
        let (status, body) = live.put_listing(&document).await;
        assert_eq!(status, 201, "{body}");
        live
    }

    async fn put_listing(&self, document: &Value) -> (u16, Value) {
        let put = self
            .client
            .put(format!("{}/v1/listings/candle-trio", self.base))
            .bearer_auth(TEST_SELLER_TOKEN)
            .body(document.to_string())
            .send()
            .await
            .unwrap();
        (
            put.status().as_u16(),
            put.json().await.unwrap_or(Value::Null),
        )
    }

    /// The return page as the browser Stripe sends back sees it (`stripe_session` filled in
    /// by Stripe), or as anyone else does.
    async fn return_page(&self, session_id: &str, stripe_session: Option<&str>) -> String {
        let mut url = format!("{}/checkout/return/{session_id}?result=success", self.base);
        if let Some(stripe_session) = stripe_session {
            url.push_str(&format!("&stripe_session={stripe_session}"));
        }
        self.client
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Moves the seller's clock on by `seconds` (past a stock hold, a backoff).
    async fn advance(&self, seconds: i64) {
        let seller = self
            .state
            .store(|store| store.seller_by_token(TEST_SELLER_TOKEN))
            .await
            .unwrap()
            .unwrap();
        let seller_id = seller.id.clone();
        let offset = self
            .state
            .store(move |store| store.advance_clock(&seller_id, seconds))
            .await
            .unwrap();
        self.state.clock().set_offset(&seller.id, offset);
    }

    async fn checkout(&self, key: &str, body: &Value) -> (u16, HeaderPairs, Value) {
        let response = self
            .client
            .post(format!("{}/v1/checkout/sessions", self.base))
            .header("idempotency-key", key)
            .header("origin", DIRECTORY)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        (status, headers, response.json().await.unwrap())
    }

    /// Stripe sends `kind` about `object`, signed at `t` with `secret`.
    async fn event(
        &self,
        id: &str,
        kind: &str,
        object: Value,
        t: i64,
        secret: &str,
    ) -> (u16, Value) {
        let (body, signature) = stand_in::signed_event(id, kind, object, t, secret);
        let response = self
            .client
            .post(format!("{}/v1/partners/stripe/webhook", self.base))
            .header("stripe-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn signed(&self, id: &str, kind: &str, object: Value) -> Value {
        let (status, body) = self
            .event(id, kind, object, now(), stand_in::WEBHOOK_SECRET)
            .await;
        assert_eq!(status, 200, "{kind}: {body}");
        body
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Value {
        let mut request = self.client.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: Value) -> (u16, Value) {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn orders(&self) -> Vec<Value> {
        let seller = format!("Bearer {TEST_SELLER_TOKEN}");
        self.get("/v1/orders", &[("authorization", &seller)]).await["orders"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// A seller webhook receiver, registered.
    async fn receiver(&self) -> receiver::Receiver {
        let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
        let seller = format!("Bearer {TEST_SELLER_TOKEN}");
        let (status, _) = self
            .post(
                "/v1/webhooks",
                &[("authorization", &seller)],
                json!({ "url": format!("http://{address}/hook") }),
            )
            .await;
        assert_eq!(status, 201);
        receiver
    }
}

type HeaderPairs = Vec<(String, String)>;

/// Every log line this process's servers write, down to `debug` (production logs `info`), to
/// show that no key reaches a log.
static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogSink;

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(|| LogSink)
            .try_init();
    });
}

/// The last four digits the server kept for a session.
async fn stored_last4(live: &Live, session_id: &str) -> Option<String> {
    let id = session_id.to_string();
    live.state
        .store(move |store| store.session(&id))
        .await
        .unwrap()
        .unwrap()
        .card_last4
}

fn now() -> i64 {
    mighty_server::clock::real_now()
}

async fn wait_for(receiver: &receiver::Receiver, kind: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while receiver.types().iter().filter(|seen| *seen == kind).count() < count {
        assert!(
            Instant::now() < deadline,
            "no {kind} delivered: {:?}",
            receiver.types()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_a_stripe_payment_session_paid_through_a_signed_webhook_and_refunded() {
    let live = Live::start(listing("candle-trio", None)).await;
    let receiver = live.receiver().await;
    // Stripe fails twice, then answers: one Checkout Session, every attempt with one key.
    live.stripe.fail_next(&[500, 503]);
    let body = TestServer::checkout_body("trio", None, 2);
    let (status, _, created) = live.checkout("widget-key-1", &body).await;
    assert_eq!(status, 201, "{created}");
    let session_id = created["session_id"].as_str().unwrap().to_string();
    assert_eq!(created["amount"], 4800, "2 × 2400 from the stored listing");
    let posts = live.stripe.calls("POST", "/v1/checkout/sessions");
    assert_eq!(posts.len(), 3, "two failures retried");
    assert!(
        posts.iter().all(|post| post.idempotency_key.as_deref()
            == Some(&*format!("mighty-checkout-{session_id}")))
    );
    assert_eq!(live.stripe.session_count(), 1, "one Checkout Session");
    let made = posts.last().unwrap();
    for (key, value) in [
        ("mode", "payment"),
        ("client_reference_id", session_id.as_str()),
        ("line_items[0][quantity]", "2"),
        ("line_items[0][price_data][unit_amount]", "2400"),
        ("line_items[0][price_data][currency]", "eur"),
        (
            "line_items[0][price_data][product_data][name]",
            "Lavender candle trio — Candle trio",
        ),
        ("metadata[mighty_session]", session_id.as_str()),
        ("metadata[listing_id]", "candle-trio"),
        ("metadata[offer_id]", "trio"),
        ("metadata[creator]", "ana"),
        ("metadata[creator_verified]", "false"),
        ("metadata[variant]", "ana"),
        ("payment_intent_data[metadata][listing_id]", "candle-trio"),
        ("shipping_address_collection[allowed_countries][0]", "FR"),
        ("shipping_address_collection[allowed_countries][1]", "BE"),
    ] {
        assert_eq!(made.field(key), Some(value), "{key}");
    }
    assert_eq!(
        made.field("success_url"),
        Some(
            format!(
                "{}/checkout/return/{session_id}?result=success&stripe_session={{CHECKOUT_SESSION_ID}}",
                live.base
            )
            .as_str()
        )
    );
    assert_eq!(
        made.field("cancel_url"),
        Some(format!("{}/checkout/return/{session_id}?result=cancel", live.base).as_str())
    );
    let expires_at: i64 = made.field("expires_at").unwrap().parse().unwrap();
    assert!(
        expires_at >= now() + 30 * 60,
        "Stripe's session lives at least 30 minutes"
    );
    let redirect = created["redirect_url"].as_str().unwrap();
    assert!(
        redirect.starts_with(&format!("{}/c/pay/cs_test_", live.stripe.base)),
        "{redirect}"
    );
    let stripe_id = redirect.rsplit('/').next().unwrap().to_string();

    // The widget's retry with its key gets the same answer; Stripe is not asked again.
    let (status, _, again) = live.checkout("widget-key-1", &body).await;
    assert_eq!(
        (status, &again["session_id"]),
        (201, &created["session_id"])
    );
    assert_eq!(live.stripe.calls("POST", "/v1/checkout/sessions").len(), 3);

    // The shopper pays on Stripe's page. Unverifiable events change nothing.
    let shipping = json!({ "name": "Ana Ruiz", "address": { "line1": "1 rue Mercière", "line2": null,
        "postal_code": "69002", "city": "Lyon", "state": null, "country": "FR" } });
    let completed = live.stripe.complete(&stripe_id, Some(shipping));
    let (status, _) = live
        .event(
            "evt_bad",
            "checkout.session.completed",
            completed.clone(),
            now(),
            "whsec_wrong",
        )
        .await;
    assert_eq!(status, 400, "a bad signature");
    let (status, _) = live
        .event(
            "evt_old",
            "checkout.session.completed",
            completed.clone(),
            now() - 600,
            stand_in::WEBHOOK_SECRET,
        )
        .await;
    assert_eq!(status, 400, "a signature older than five minutes");
    let state = live
        .get(&format!("/v1/checkout/sessions/{session_id}"), &[])
        .await;
    assert_eq!(state["status"], "open", "refused events changed nothing");
    assert!(live.orders().await.is_empty());

    live.signed("evt_paid", "checkout.session.completed", completed.clone())
        .await;
    let twice = live
        .signed("evt_paid", "checkout.session.completed", completed.clone())
        .await;
    assert_eq!(twice["duplicate"], true);
    // Another id for the same payment changes nothing either (settling is conditional).
    live.signed("evt_paid_again", "checkout.session.completed", completed)
        .await;
    let state = live
        .get(&format!("/v1/checkout/sessions/{session_id}"), &[])
        .await;
    assert_eq!(state["status"], "paid");
    // The card Stripe charged: its last four digits read from the payment method
    // (`expand[]=payment_intent.payment_method`), kept, and shown only to the browser Stripe
    // sent back (the success URL carries Stripe's session id).
    assert!(
        live.stripe
            .calls("GET", &format!("/v1/checkout/sessions/{stripe_id}"))
            .iter()
            .any(|call| call.field("expand[0]") == Some("payment_intent.payment_method"))
    );
    assert_eq!(
        stored_last4(&live, &session_id).await.as_deref(),
        Some("4242")
    );
    let payer_page = live.return_page(&session_id, Some(&stripe_id)).await;
    assert!(
        payer_page.contains("•••• 4242") && payer_page.contains("ana@example.com"),
        "{payer_page}"
    );
    // Back to the shop: the session's `return_url` with `mighty_session` (popup or not, the
    // page's script decides; the link is there without script too).
    assert!(
        payer_page.contains(&format!(
            "https://directory.example/lyon?mighty_listing=candle-trio&amp;mighty_session={session_id}"
        )),
        "{payer_page}"
    );
    for other in [None, Some("cs_test_guessed")] {
        let page = live.return_page(&session_id, other).await;
        assert!(page.contains("Payment received"), "{page}");
        assert!(!page.contains("4242") && !page.contains("ana@example.com"));
    }
    let orders = live.orders().await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    let order = &orders[0];
    assert_eq!(
        (order["amount"].as_i64(), order["creator"].as_str()),
        (Some(4800), Some("ana"))
    );
    assert_eq!(order["email"], "ana@example.com");
    assert_eq!(order["shipping"]["city"], "Lyon");
    wait_for(&receiver, "checkout.session.completed", 1).await;
    let delivered = receiver
        .received()
        .into_iter()
        .find(|delivery| delivery.json()["type"] == "checkout.session.completed")
        .unwrap()
        .json();
    assert_eq!(delivered["data"]["session"]["creator"], "ana");
    assert_eq!(
        delivered["data"]["session"]["attribution"]["variant"],
        "ana"
    );

    // The seller refunds: through Stripe, once; Stripe's own report of it changes nothing.
    let seller = format!("Bearer {TEST_SELLER_TOKEN}");
    let order_id = order["id"].as_str().unwrap();
    let (status, refunded) = live
        .post(
            &format!("/v1/orders/{order_id}/refund"),
            &[("authorization", &seller)],
            json!({}),
        )
        .await;
    assert_eq!(
        (status, refunded["status"].as_str()),
        (200, Some("refunded")),
        "{refunded}"
    );
    let refunds = live.stripe.calls("POST", "/v1/refunds");
    assert_eq!(refunds.len(), 1);
    let payment_intent = live.stripe.session(&stripe_id)["payment_intent"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        refunds[0].field("payment_intent"),
        Some(payment_intent.as_str())
    );
    assert_eq!(
        refunds[0].idempotency_key.as_deref(),
        Some(&*format!("mighty-refund-{order_id}"))
    );
    live.signed(
        "evt_refunded",
        "charge.refunded",
        json!({ "id": "ch_test_1", "object": "charge", "refunded": true, "amount_refunded": 4800, "payment_intent": payment_intent }),
    )
    .await;
    wait_for(&receiver, "order.refunded", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver
            .types()
            .iter()
            .filter(|kind| *kind == "order.refunded")
            .count(),
        1
    );
    support::openapi::check(&live.stripe.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retainer_is_a_stripe_subscription_renewed_upgraded_and_canceled_there() {
    let live = Live::start(listing("candle-trio", None)).await;
    let receiver = live.receiver().await;
    let (status, _, created) = live
        .checkout(
            "membership-1",
            &TestServer::checkout_body("club", Some("monthly"), 1),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let session_id = created["session_id"].as_str().unwrap().to_string();
    let secret = created["session_secret"].as_str().unwrap().to_string();
    let made = live
        .stripe
        .calls("POST", "/v1/checkout/sessions")
        .pop()
        .unwrap();
    for (key, value) in [
        ("mode", "subscription"),
        ("line_items[0][price_data][unit_amount]", "1500"),
        ("line_items[0][price_data][recurring][interval]", "month"),
        ("line_items[0][quantity]", "1"),
        ("subscription_data[metadata][tier_id]", "monthly"),
        ("metadata[tier_id]", "monthly"),
    ] {
        assert_eq!(made.field(key), Some(value), "{key}");
    }
    assert_eq!(
        made.field("shipping_address_collection[allowed_countries][0]"),
        None
    );
    let stripe_id = created["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let completed = live.stripe.complete(&stripe_id, None);
    live.signed(
        "evt_sub_paid",
        "checkout.session.completed",
        completed.clone(),
    )
    .await;
    let state = live
        .get(
            &format!("/v1/checkout/sessions/{session_id}"),
            &[("mighty-session-secret", &secret)],
        )
        .await;
    assert_eq!(state["status"], "paid");
    // The card: the subscription's default payment method, expanded.
    assert_eq!(
        stored_last4(&live, &session_id).await.as_deref(),
        Some("4242")
    );
    let stripe_subscription_id = completed["subscription"].as_str().unwrap();
    assert!(
        live.stripe
            .calls(
                "GET",
                &format!("/v1/subscriptions/{stripe_subscription_id}")
            )
            .iter()
            .any(|call| call.field("expand[0]") == Some("default_payment_method"))
    );
    let subscription_id = state["subscription_id"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {}", state["customer_token"].as_str().unwrap());
    let stripe_subscription = completed["subscription"].as_str().unwrap().to_string();
    let stripe_item = live.stripe.subscription(&stripe_subscription)["items"]["data"][0].clone();

    // The period is Stripe's. Reading it is the card's upgrade quote.
    let read = live
        .get(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[("authorization", &bearer)],
        )
        .await;
    let start = mighty_core::Timestamp(stripe_item["current_period_start"].as_i64().unwrap());
    let end = mighty_core::Timestamp(stripe_item["current_period_end"].as_i64().unwrap());
    assert_eq!(read["current_period_start"], start.to_rfc3339());
    assert_eq!(read["current_period_end"], end.to_rfc3339());

    // A renewal Stripe charged, reported twice: one renewal order.
    let renewal = live.stripe.renew(&stripe_subscription);
    live.signed("evt_renewed", "invoice.paid", renewal.clone())
        .await;
    live.signed("evt_renewed_again", "invoice.paid", renewal)
        .await;
    let renewals: Vec<Value> = live
        .orders()
        .await
        .into_iter()
        .filter(|order| order["kind"] == "renewal")
        .collect();
    assert_eq!(renewals.len(), 1, "{renewals:?}");
    assert_eq!(renewals[0]["amount"], 1500);
    wait_for(&receiver, "subscription.renewed", 1).await;
    let renewed_item = live.stripe.subscription(&stripe_subscription)["items"]["data"][0].clone();

    // The card reads the new period (its quote), then upgrades: the same Stripe
    // subscription, its item changed, prorated at the quote's instant.
    let quoted_from = now();
    let read = live
        .get(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[("authorization", &bearer)],
        )
        .await;
    let quoted_to = now();
    let (period_start, period_end) = (
        renewed_item["current_period_start"].as_i64().unwrap(),
        renewed_item["current_period_end"].as_i64().unwrap(),
    );
    assert_eq!(
        read["current_period_start"],
        mighty_core::Timestamp(period_start).to_rfc3339()
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let upgrade_from = now();
    let (status, upgraded) = live
        .post(
            &format!("/v1/subscriptions/{subscription_id}/upgrade"),
            &[("authorization", &bearer), ("idempotency-key", "upgrade-1")],
            json!({ "tier_id": "plus" }),
        )
        .await;
    assert_eq!(status, 200, "{upgraded}");
    let update = live
        .stripe
        .calls("POST", &format!("/v1/subscriptions/{stripe_subscription}"))
        .pop()
        .expect("the Stripe subscription was updated");
    assert_eq!(update.field("items[0][id]"), renewed_item["id"].as_str());
    assert_eq!(
        update.field("items[0][price_data][unit_amount]"),
        Some("2500")
    );
    assert_eq!(update.field("proration_behavior"), Some("always_invoice"));
    assert_eq!(update.field("metadata[tier_id]"), Some("plus"));
    let proration_date: i64 = update.field("proration_date").unwrap().parse().unwrap();
    assert!(
        (quoted_from..=quoted_to).contains(&proration_date) && proration_date < upgrade_from,
        "prorated at the quote ({quoted_from}..={quoted_to}), not at the upgrade ({upgrade_from}): {proration_date}"
    );
    assert_eq!(
        live.stripe.subscription_count(),
        1,
        "never a second subscription"
    );
    let shown = mighty_core::proration::prorated_amount_due(
        1500,
        2500,
        mighty_core::Timestamp(period_start),
        mighty_core::Timestamp(period_end),
        mighty_core::Timestamp(proration_date),
    )
    .unwrap();
    assert_eq!(upgraded["amount_due"], shown);
    let invoice = live.stripe.subscription(&stripe_subscription)["latest_invoice"]
        .as_str()
        .unwrap()
        .to_string();
    // Stripe rounds its credit and charge lines apart: at most one minor unit from the
    // amount shown, computed at the same instant.
    let charged = live.stripe.invoice(&invoice)["amount_due"]
        .as_i64()
        .unwrap();
    assert!(
        (charged - shown).abs() <= 1,
        "Stripe charged {charged}, the card showed {shown}"
    );
    let upgrades: Vec<Value> = live
        .orders()
        .await
        .into_iter()
        .filter(|order| order["kind"] == "upgrade")
        .collect();
    assert_eq!(upgrades.len(), 1);
    assert_eq!(upgrades[0]["amount"], shown);
    // The same key again: the same answer, Stripe not asked to change anything again.
    let (status, again) = live
        .post(
            &format!("/v1/subscriptions/{subscription_id}/upgrade"),
            &[("authorization", &bearer), ("idempotency-key", "upgrade-1")],
            json!({ "tier_id": "plus" }),
        )
        .await;
    assert_eq!((status, &again), (200, &upgraded));

    // Stripe's own report of the change: the tier is already the one billed.
    let changed = live.stripe.subscription(&stripe_subscription);
    live.signed("evt_sub_updated", "customer.subscription.updated", changed)
        .await;
    let read = live
        .get(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(
        (read["tier_id"].as_str(), read["price"].as_i64()),
        (Some("plus"), Some(2500))
    );

    // A refund of the renewal goes through the invoice's payment.
    let seller = format!("Bearer {TEST_SELLER_TOKEN}");
    let renewal_id = renewals[0]["id"].as_str().unwrap();
    let (status, _) = live
        .post(
            &format!("/v1/orders/{renewal_id}/refund"),
            &[("authorization", &seller)],
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(live.stripe.refunds().len(), 1);

    // Cancel: the Stripe subscription is canceled; Stripe's report of it changes nothing.
    let (status, canceled) = live
        .post(
            &format!("/v1/subscriptions/{subscription_id}/cancel"),
            &[("authorization", &bearer)],
            json!({}),
        )
        .await;
    assert_eq!(
        (status, canceled["status"].as_str()),
        (200, Some("canceled"))
    );
    assert_eq!(
        live.stripe
            .calls(
                "DELETE",
                &format!("/v1/subscriptions/{stripe_subscription}")
            )
            .len(),
        1
    );
    let deleted = live.stripe.subscription(&stripe_subscription);
    live.signed("evt_sub_deleted", "customer.subscription.deleted", deleted)
        .await;
    wait_for(&receiver, "subscription.canceled", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver
            .types()
            .iter()
            .filter(|kind| *kind == "subscription.canceled")
            .count(),
        1
    );
    support::openapi::check(&live.stripe.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pick_up_collects_no_address_on_stripe_and_gets_its_code_when_paid() {
    let mut document = listing(
        "candle-trio",
        Some(("2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z", 20)),
    );
    document["drop"]["popup"] = json!({ "name": "Croix-Rousse night market",
        "address": "Place de la Croix-Rousse, 69004 Lyon", "lat": 45.7745, "lon": 4.832,
        "opens_at": "2035-12-05T10:00:00+01:00", "closes_at": "2035-12-05T16:00:00+01:00",
        "timezone": "Europe/Paris" });
    document["offers"][0]["fulfilment"] = json!(["ship", "pickup"]);
    let live = Live::start(document).await;
    let mut body = TestServer::checkout_body("trio", None, 1);
    body["fulfilment"] = json!("pickup");
    let (status, _, created) = live.checkout("pickup-key-1", &body).await;
    assert_eq!(status, 201, "{created}");
    let session_id = created["session_id"].as_str().unwrap().to_string();
    let secret = created["session_secret"].as_str().unwrap().to_string();
    // Stripe is told, and asks for no shipping address.
    let made = live
        .stripe
        .calls("POST", "/v1/checkout/sessions")
        .pop()
        .unwrap();
    assert_eq!(made.field("metadata[fulfilment]"), Some("pickup"));
    assert_eq!(
        made.field("payment_intent_data[metadata][fulfilment]"),
        Some("pickup")
    );
    assert_eq!(
        made.field("shipping_address_collection[allowed_countries][0]"),
        None
    );

    let stripe_id = created["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let completed = live.stripe.complete(&stripe_id, None);
    live.signed("evt_pickup_paid", "checkout.session.completed", completed)
        .await;
    let orders = live.orders().await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["fulfilment"], "pickup");
    assert_eq!(orders[0]["shipping"], Value::Null);
    let code = orders[0]["pickup_code"].as_str().unwrap().to_string();
    assert_eq!(
        mighty_core::pickup::normalize_pickup_code(&code).as_deref(),
        Some(code.as_str())
    );
    // The widget holding the session secret is given it; the seller finds the order by it.
    let state = live
        .get(
            &format!("/v1/checkout/sessions/{session_id}"),
            &[("mighty-session-secret", &secret)],
        )
        .await;
    assert_eq!(
        (state["status"].as_str(), state["pickup_code"].as_str()),
        (Some("paid"), Some(code.as_str()))
    );
    let seller = format!("Bearer {TEST_SELLER_TOKEN}");
    let found = live
        .get(
            &format!("/v1/orders?pickup_code={}", code.to_lowercase()),
            &[("authorization", &seller)],
        )
        .await;
    assert_eq!(found["orders"][0]["id"], orders[0]["id"]);
    // The page Stripe sends the shopper back to shows it with where and when; anyone else
    // sees where and when only.
    let shown = mighty_core::pickup::display_pickup_code(&code);
    let payer_page = live.return_page(&session_id, Some(&stripe_id)).await;
    assert!(
        payer_page.contains(&shown) && payer_page.contains("Croix-Rousse night market"),
        "{payer_page}"
    );
    let other_page = live.return_page(&session_id, None).await;
    assert!(
        !other_page.contains(&shown) && other_page.contains("Croix-Rousse night market"),
        "{other_page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_failures_answer_the_widget_as_the_protocol_says() {
    let live = Live::start(listing("candle-trio", None)).await;
    let body = TestServer::checkout_body("trio", None, 1);
    // 5xx through every attempt: a retryable 503; the widget's retry finishes the same
    // Mighty session with the same Stripe key.
    live.stripe.fail_next(&[500, 502, 503]);
    let (status, _, answer) = live.checkout("retry-me", &body).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{answer}"
    );
    assert!(
        !answer.to_string().contains(stand_in::SECRET_KEY),
        "no key in an error body"
    );
    let (status, _, created) = live.checkout("retry-me", &body).await;
    assert_eq!(status, 201, "{created}");
    let keys: Vec<Option<String>> = live
        .stripe
        .calls("POST", "/v1/checkout/sessions")
        .into_iter()
        .map(|call| call.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 4);
    assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");
    assert_eq!(live.stripe.session_count(), 1);

    // Rate limited through every attempt: 429 with Retry-After.
    live.stripe.fail_next(&[429, 429, 429]);
    let (status, headers, answer) = live.checkout("busy", &body).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "retry-after" && value == "1")
    );

    // A refusal is said plainly, once and for all under that key.
    live.stripe.refuse_next(
        "line_items[0][price_data][currency]",
        "Invalid currency: xyz.",
    );
    let (status, _, refused) = live.checkout("refused", &body).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (422, Some("invalid_request"))
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid currency")
    );
    let (status, _, again) = live.checkout("refused", &body).await;
    assert_eq!((status, &again), (422, &refused));
    support::openapi::check(&live.stripe.requests());

    // Stripe's failures and refusals were logged (with the status and Stripe's request id),
    // and neither key reached a log line.
    let logs = String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned();
    assert!(
        logs.contains("Stripe did not accept the call"),
        "the logs are captured"
    );
    for secret in [stand_in::SECRET_KEY, stand_in::WEBHOOK_SECRET] {
        assert!(!logs.contains(secret), "a key in the logs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_hold_ends_on_stripe_first_so_a_drop_never_oversells() {
    let mut document = listing(
        "candle-trio",
        Some(("2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z", 1)),
    );
    document["offers"][0]["ships"] = json!(false);
    let live = Live::start(document).await;
    let body = TestServer::checkout_body("trio", None, 1);
    let (status, _, first) = live.checkout("drop-1", &body).await;
    assert_eq!(status, 201, "{first}");
    let (status, _, sold_out) = live.checkout("drop-2", &body).await;
    assert_eq!(
        (status, sold_out["error"]["code"].as_str()),
        (409, Some("sold_out"))
    );

    // Mighty's hold ends: the Checkout Session is expired on Stripe, then the stock returns.
    let seller = live
        .state
        .store(|store| store.seller_by_token(TEST_SELLER_TOKEN))
        .await
        .unwrap()
        .unwrap();
    let seller_id = seller.id.clone();
    let offset = live
        .state
        .store(move |store| store.advance_clock(&seller_id, 31 * 60))
        .await
        .unwrap();
    live.state.clock().set_offset(&seller.id, offset);
    mighty_server::scheduler::tick(&live.state).await.unwrap();
    let first_id = first["session_id"].as_str().unwrap();
    let stripe_first = first["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let expire = live.stripe.calls(
        "POST",
        &format!("/v1/checkout/sessions/{stripe_first}/expire"),
    );
    assert_eq!(expire.len(), 1);
    assert_eq!(
        expire[0].idempotency_key.as_deref(),
        Some(&*format!("mighty-expire-{first_id}"))
    );
    assert_eq!(live.stripe.session(&stripe_first)["status"], "expired");
    assert_eq!(
        live.get(&format!("/v1/checkout/sessions/{first_id}"), &[])
            .await["status"],
        "expired"
    );

    // The unit is back. This shopper pays on Stripe just as the hold ends: Stripe refuses
    // to expire a complete session, so it is settled, and the stock stays sold.
    let (status, _, second) = live.checkout("drop-3", &body).await;
    assert_eq!(status, 201, "{second}");
    let stripe_second = second["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    live.stripe.complete(&stripe_second, None);
    let seller_id = seller.id.clone();
    let offset = live
        .state
        .store(move |store| store.advance_clock(&seller_id, 31 * 60))
        .await
        .unwrap();
    live.state.clock().set_offset(&seller.id, offset);
    mighty_server::scheduler::tick(&live.state).await.unwrap();
    let second_id = second["session_id"].as_str().unwrap();
    assert_eq!(
        live.get(&format!("/v1/checkout/sessions/{second_id}"), &[])
            .await["status"],
        "paid"
    );
    let (status, _, after) = live.checkout("drop-4", &body).await;
    assert_eq!(
        (status, after["error"]["code"].as_str()),
        (409, Some("sold_out")),
        "{after}"
    );
    support::openapi::check(&live.stripe.requests());
}

/// Retries short enough for a test: three attempts of 400 ms.
const SHORT_RETRIES: RetryPolicy = RetryPolicy {
    attempts: 3,
    first_backoff: Duration::from_millis(50),
    attempt_timeout: Duration::from_millis(400),
};

/// A TCP listener that accepts every connection, reads the request's head and never
/// answers. Returns its origin and the `Idempotency-Key` of each request it swallowed.
async fn silent_stripe() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<Option<String>>>>,
) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let key = text
                    .lines()
                    .find_map(|line| line.strip_prefix("idempotency-key:"))
                    .map(|value| value.trim().to_string());
                record.lock().unwrap().push(key);
                // Never answers; holds the connection open until the client gives up.
                let _ = socket.read(&mut buffer).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    (origin, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_that_never_answers_times_out_and_is_retried_with_the_same_key() {
    let (origin, seen) = silent_stripe().await;
    let config = Config::from_env(|name| match name {
        "MIGHTY_MODE" => Some("live".into()),
        "STRIPE_SECRET_KEY" => Some(stand_in::SECRET_KEY.into()),
        "STRIPE_WEBHOOK_SECRET" => Some(stand_in::WEBHOOK_SECRET.into()),
        "MIGHTY_STRIPE_API_BASE" => Some(origin.clone()),
        _ => None,
    })
    .unwrap();
    let client = mighty_server::stripe::Stripe::with_policy(config.live().unwrap(), SHORT_RETRIES);
    let mut form = mighty_server::stripe::Form::new();
    form.set(&["mode"], "payment");
    let started = Instant::now();
    let answer: Result<Value, _> = client
        .post("/v1/checkout/sessions", &form, "mighty-checkout-cs_silent")
        .await;
    let waited = started.elapsed();
    match answer {
        Err(mighty_server::stripe::StripeError::Unavailable {
            rate_limited: false,
            detail,
            ..
        }) => assert_eq!(detail, "no answer in time"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let keys = seen.lock().unwrap().clone();
    assert_eq!(
        keys,
        vec![Some("mighty-checkout-cs_silent".to_string()); 3],
        "three attempts, one key"
    );
    // Each attempt waited for its own limit: the client gave up, it did not fail fast.
    assert!(waited >= SHORT_RETRIES.attempt_timeout * 3, "{waited:?}");
    // The answer the widget gets is SPEC section 4's retryable 503, without the key.
    let error = mighty_server::stripe::StripeError::Unavailable {
        rate_limited: false,
        retry_after_seconds: None,
        detail: "no answer in time".into(),
    }
    .to_app_error();
    assert_eq!(error.status().as_u16(), 503);
    assert!(!format!("{:?}", error.body()).contains(stand_in::SECRET_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_stripe_answer_is_retried_under_its_key_and_charges_once() {
    let live = Live::start_with(listing("candle-trio", None), Some(SHORT_RETRIES)).await;
    let body = TestServer::checkout_body("trio", None, 1);

    // Stripe makes the Checkout Session but answers after the client gave up: the retry
    // under the same key gets Stripe's stored answer, the same session.
    live.stripe.delay_next(&[Duration::from_millis(900)]);
    let (status, _, created) = live.checkout("late-1", &body).await;
    assert_eq!(status, 201, "{created}");
    let posts = live.stripe.calls("POST", "/v1/checkout/sessions");
    assert_eq!(posts.len(), 2, "the late attempt and its retry");
    assert_eq!(posts[0].idempotency_key, posts[1].idempotency_key);
    assert_eq!(live.stripe.session_count(), 1, "one Checkout Session");

    // Every attempt late: the shopper is told to try again (503, retryable) and nothing is
    // charged; the widget's retry with its key finishes the same Checkout Session.
    live.stripe.delay_next(&[Duration::from_millis(900); 3]);
    let (status, headers, answer) = live.checkout("late-2", &body).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again")
    );
    assert!(!answer.to_string().contains(stand_in::SECRET_KEY));
    assert!(
        headers
            .iter()
            .all(|(_, value)| !value.contains(stand_in::SECRET_KEY)),
        "no key in a header"
    );
    assert_eq!(
        live.stripe.session_count(),
        2,
        "the first late attempt made it"
    );
    // The shopper never saw Stripe's page for it; the widget's retry brings it.
    let (status, _, finished) = live.checkout("late-2", &body).await;
    assert_eq!(status, 201, "{finished}");
    assert_eq!(
        live.stripe.session_count(),
        2,
        "no second session for that key"
    );
    let keys: Vec<Option<String>> = live
        .stripe
        .calls("POST", "/v1/checkout/sessions")
        .into_iter()
        .skip(2)
        .map(|call| call.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 4, "three late attempts and the widget's retry");
    assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");

    // The shopper pays once; Stripe's report makes one order.
    let stripe_id = finished["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let completed = live.stripe.complete(&stripe_id, None);
    live.signed("evt_late_paid", "checkout.session.completed", completed)
        .await;
    let session_id = finished["session_id"].as_str().unwrap().to_string();
    assert_eq!(
        live.get(&format!("/v1/checkout/sessions/{session_id}"), &[])
            .await["status"],
        "paid"
    );
    assert_eq!(live.orders().await.len(), 1);
    support::openapi::check(&live.stripe.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_bank_payment_is_asked_about_with_backoff_until_stripe_reports_it() {
    let mut document = listing(
        "candle-trio",
        Some(("2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z", 1)),
    );
    document["offers"][0]["ships"] = json!(false);
    let live = Live::start(document).await;
    let receiver = live.receiver().await;
    let body = TestServer::checkout_body("trio", None, 1);
    let (status, _, created) = live.checkout("bank-1", &body).await;
    assert_eq!(status, 201, "{created}");
    let session_id = created["session_id"].as_str().unwrap().to_string();
    let stripe_id = created["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    // The shopper chose a bank debit: Stripe's session is complete, its payment pending;
    // Stripe says so (`checkout.session.completed`, `unpaid`) and nothing is settled yet.
    let pending = live.stripe.complete_pending(&stripe_id);
    live.signed("evt_bank_started", "checkout.session.completed", pending)
        .await;
    assert_eq!(
        live.get(&format!("/v1/checkout/sessions/{session_id}"), &[])
            .await["status"],
        "open"
    );
    let asked = |live: &Live| {
        live.stripe
            .calls("POST", &format!("/v1/checkout/sessions/{stripe_id}/expire"))
            .len()
    };

    // The hold ends: Stripe will not expire a complete session; it is asked once.
    live.advance(31 * 60).await;
    mighty_server::scheduler::tick(&live.state).await.unwrap();
    assert_eq!(asked(&live), 1);
    // Not again at the next ticks, nor when the widget polls the session.
    for _ in 0..3 {
        mighty_server::scheduler::tick(&live.state).await.unwrap();
    }
    let polled = live
        .get(&format!("/v1/checkout/sessions/{session_id}"), &[])
        .await;
    assert_eq!(polled["status"], "open", "the payment may still come");
    assert_eq!(asked(&live), 1, "no Stripe call before the backoff ends");
    // The unit stays held: a drop never oversells.
    let (status, _, sold_out) = live.checkout("bank-2", &body).await;
    assert_eq!(
        (status, sold_out["error"]["code"].as_str()),
        (409, Some("sold_out"))
    );

    // A minute later, asked again; then two minutes, not one.
    live.advance(61).await;
    mighty_server::scheduler::tick(&live.state).await.unwrap();
    assert_eq!(asked(&live), 2);
    live.advance(61).await;
    mighty_server::scheduler::tick(&live.state).await.unwrap();
    assert_eq!(asked(&live), 2, "the second wait is two minutes");
    live.advance(60).await;
    mighty_server::scheduler::tick(&live.state).await.unwrap();
    assert_eq!(asked(&live), 3);

    // The bank answers: Stripe's event settles the session, with the card's digits.
    let paid = live.stripe.settle_pending(&stripe_id);
    live.signed(
        "evt_bank_paid",
        "checkout.session.async_payment_succeeded",
        paid,
    )
    .await;
    let state = live
        .get(&format!("/v1/checkout/sessions/{session_id}"), &[])
        .await;
    assert_eq!(state["status"], "paid");
    assert_eq!(
        stored_last4(&live, &session_id).await.as_deref(),
        Some("4242")
    );
    wait_for(&receiver, "checkout.session.completed", 1).await;
    let (status, _, after) = live.checkout("bank-3", &body).await;
    assert_eq!(
        (status, after["error"]["code"].as_str()),
        (409, Some("sold_out"))
    );
    mighty_server::scheduler::tick(&live.state).await.unwrap();
    assert_eq!(asked(&live), 3, "a settled session is not asked about");
    support::openapi::check(&live.stripe.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripes_own_expiry_and_a_failed_bank_payment_give_the_stock_back() {
    let mut document = listing(
        "candle-trio",
        Some(("2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z", 1)),
    );
    document["offers"][0]["ships"] = json!(false);
    let live = Live::start(document).await;
    let receiver = live.receiver().await;
    let body = TestServer::checkout_body("trio", None, 1);
    let stripe_id_of = |created: &Value| {
        created["redirect_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    };
    // Stripe expires a session (its own `expires_at`): expired here, the unit back.
    let (_, _, first) = live.checkout("own-expiry-1", &body).await;
    let mut expired = live.stripe.session(&stripe_id_of(&first));
    expired["status"] = json!("expired");
    live.signed("evt_expired", "checkout.session.expired", expired)
        .await;
    let first_id = first["session_id"].as_str().unwrap();
    assert_eq!(
        live.get(&format!("/v1/checkout/sessions/{first_id}"), &[])
            .await["status"],
        "expired"
    );
    wait_for(&receiver, "checkout.session.expired", 1).await;

    // A bank debit fails: the session fails, the unit comes back, nothing is ordered.
    let (status, _, second) = live.checkout("own-expiry-2", &body).await;
    assert_eq!(status, 201, "{second}");
    let mut failed = live.stripe.complete_pending(&stripe_id_of(&second));
    failed["payment_status"] = json!("unpaid");
    live.signed(
        "evt_bank_failed",
        "checkout.session.async_payment_failed",
        failed,
    )
    .await;
    let second_id = second["session_id"].as_str().unwrap();
    assert_eq!(
        live.get(&format!("/v1/checkout/sessions/{second_id}"), &[])
            .await["status"],
        "failed"
    );
    assert!(live.orders().await.is_empty());
    let (status, _, third) = live.checkout("own-expiry-3", &body).await;
    assert_eq!(status, 201, "the unit is back: {third}");
    support::openapi::check(&live.stripe.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_are_sent_in_stripes_decimals_and_those_it_cannot_charge_are_refused() {
    let live = Live::start(listing("candle-trio", None)).await;
    // Three-decimal currencies: Stripe charges them in steps of 0.010.
    let mut kwd = listing("candle-trio", None);
    kwd["currency"] = json!("KWD");
    kwd["offers"][0]["price"] = json!(1505);
    let (status, refused) = live.put_listing(&kwd).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "offers[0].price");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1.505 KWD cannot be charged through Stripe"),
        "{refused}"
    );
    kwd["offers"][0]["price"] = json!(1500);
    kwd["offers"][1]["tiers"][1]["price"] = json!(2501);
    let (status, refused) = live.put_listing(&kwd).await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("offers[1].tiers[1].price"))
    );

    // (currency, price in the listing, Stripe's unit_amount)
    for (currency, price, sent) in [
        ("KWD", 1510, "1510"),
        ("JPY", 2400, "2400"),
        ("ISK", 500, "50000"),
        ("EUR", 2400, "2400"),
    ] {
        let mut document = listing("candle-trio", None);
        document["currency"] = json!(currency);
        document["offers"][0]["price"] = json!(price);
        let (status, body) = live.put_listing(&document).await;
        assert_eq!(status, 200, "{currency}: {body}");
        let (status, _, created) = live
            .checkout(
                &format!("decimals-{currency}"),
                &TestServer::checkout_body("trio", None, 1),
            )
            .await;
        assert_eq!(status, 201, "{currency}: {created}");
        assert_eq!(created["amount"], price, "Mighty's own minor units");
        let made = live
            .stripe
            .calls("POST", "/v1/checkout/sessions")
            .pop()
            .unwrap();
        assert_eq!(
            made.field("line_items[0][price_data][unit_amount]"),
            Some(sent),
            "{currency}"
        );
        assert_eq!(
            made.field("line_items[0][price_data][currency]"),
            Some(currency.to_ascii_lowercase().as_str())
        );
    }

    // A membership in ISK: Stripe bills 1 500 krónur as 150000, and its renewal invoice's
    // `amount_paid` comes back as Mighty's 1500.
    let mut isk = listing("candle-trio", None);
    isk["currency"] = json!("ISK");
    let (status, body) = live.put_listing(&isk).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, created) = live
        .checkout(
            "decimals-isk-club",
            &TestServer::checkout_body("club", Some("monthly"), 1),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let made = live
        .stripe
        .calls("POST", "/v1/checkout/sessions")
        .pop()
        .unwrap();
    assert_eq!(
        made.field("line_items[0][price_data][unit_amount]"),
        Some("150000")
    );
    let stripe_id = created["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let completed = live.stripe.complete(&stripe_id, None);
    live.signed(
        "evt_isk_paid",
        "checkout.session.completed",
        completed.clone(),
    )
    .await;
    let renewal = live
        .stripe
        .renew(completed["subscription"].as_str().unwrap());
    assert_eq!(renewal["amount_paid"], 150000);
    live.signed("evt_isk_renewed", "invoice.paid", renewal)
        .await;
    let renewals: Vec<Value> = live
        .orders()
        .await
        .into_iter()
        .filter(|order| order["kind"] == "renewal")
        .collect();
    assert_eq!(
        (
            renewals.len(),
            &renewals[0]["amount"],
            &renewals[0]["currency"]
        ),
        (1, &json!(1500), &json!("ISK"))
    );

    // A price stored before it could be checked (another mode, an import) is refused at
    // checkout, before any stock or Stripe call, naming the offer.
    let mut stored = listing("candle-trio", None);
    stored["currency"] = json!("BHD");
    stored["offers"][0]["price"] = json!(2345);
    let seller = live
        .state
        .store(|store| store.seller_by_token(TEST_SELLER_TOKEN))
        .await
        .unwrap()
        .unwrap();
    stored.as_object_mut().unwrap().remove("allowed_origins");
    let origins: Vec<String> = vec![support::DIRECTORY.into()];
    live.state
        .store(move |store| {
            store.put_listing(&seller.id, "candle-trio", &stored, &origins, None, now())
        })
        .await
        .unwrap();
    let calls_before = live.stripe.requests().len();
    let (status, _, refused) = live
        .checkout("decimals-bhd", &TestServer::checkout_body("trio", None, 1))
        .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("offer_id")),
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("use 2.340 or 2.350")
    );
    assert_eq!(
        live.stripe.requests().len(),
        calls_before,
        "Stripe not asked"
    );
    support::openapi::check(&live.stripe.requests());
}

#[tokio::test]
async fn the_request_table_refuses_what_stripes_description_does_not_take() {
    use support::stripe_params::check;
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    };
    let good = form(&[
        ("mode", "payment"),
        ("line_items[0][quantity]", "2"),
        ("line_items[0][price_data][currency]", "eur"),
        ("line_items[0][price_data][unit_amount]", "2400"),
        ("line_items[0][price_data][product_data][name]", "Trio"),
        ("metadata[listing_id]", "candle-trio"),
        ("shipping_address_collection[allowed_countries][0]", "FR"),
    ]);
    assert_eq!(check("POST", "/v1/checkout/sessions", &good), Ok(()));
    // (the change, the code Stripe would answer, its param)
    let cases = [
        (
            ("customer_emails", "ana@example.com"),
            "parameter_unknown",
            Some("customer_emails"),
        ),
        (
            ("line_items[0][price_data][unit_amount]", "24.00"),
            "parameter_invalid_integer",
            Some("line_items[0][price_data][unit_amount]"),
        ),
        (("mode", "subscriptions"), "parameter_invalid", Some("mode")),
        (
            ("line_items[1][price_data][unit_amount]", "100"),
            "parameter_missing",
            Some("line_items[1][price_data][currency]"),
        ),
        (
            (
                "metadata[a_key_of_more_than_forty_characters_is_refused]",
                "x",
            ),
            "parameter_invalid",
            Some("metadata[a_key_of_more_than_forty_characters_is_refused]"),
        ),
        (
            ("shipping_address_collection[allowed_countries][1]", "fr"),
            "parameter_invalid",
            Some("shipping_address_collection[allowed_countries][1]"),
        ),
    ];
    for ((key, value), code, param) in cases {
        let mut request = good.clone();
        request.retain(|(name, _)| name != key);
        request.push((key.to_string(), value.to_string()));
        let problem = check("POST", "/v1/checkout/sessions", &request).unwrap_err();
        assert_eq!(
            (problem.code, problem.param.as_deref()),
            (code, param),
            "{key}={value}: {problem:?}"
        );
    }
    // An operation the client has no business calling.
    assert!(check("POST", "/v1/charges", &[]).is_err());
    // Clearing a pause is an empty `pause_collection`; a pause needs its behavior.
    let subscription = "/v1/subscriptions/sub_1";
    assert_eq!(
        check("POST", subscription, &form(&[("pause_collection", "")])),
        Ok(())
    );
    let problem = check(
        "POST",
        subscription,
        &form(&[("pause_collection[resumes_at]", "1700000000")]),
    )
    .unwrap_err();
    assert_eq!(problem.param.as_deref(), Some("pause_collection[behavior]"));

    // The stand-in answers such a request as Stripe does, over its socket.
    let stripe = stand_in::start().await;
    let config = Config::from_env(|name| match name {
        "MIGHTY_MODE" => Some("live".into()),
        "STRIPE_SECRET_KEY" => Some(stand_in::SECRET_KEY.into()),
        "STRIPE_WEBHOOK_SECRET" => Some(stand_in::WEBHOOK_SECRET.into()),
        "MIGHTY_STRIPE_API_BASE" => Some(stripe.base.clone()),
        _ => None,
    })
    .unwrap();
    let client = mighty_server::stripe::Stripe::new(config.live().unwrap());
    let mut unknown = mighty_server::stripe::Form::new();
    unknown
        .set(&["mode"], "payment")
        .set(&["customer_emails"], "x");
    match client
        .post::<Value>("/v1/checkout/sessions", &unknown, "mighty-checkout-shape")
        .await
    {
        Err(mighty_server::stripe::StripeError::Refused {
            status: 400,
            code: Some(code),
            param: Some(param),
            ..
        }) => assert_eq!(
            (code.as_str(), param.as_str()),
            ("parameter_unknown", "customer_emails")
        ),
        other => panic!("expected Stripe's refusal, got {other:?}"),
    }
    assert_eq!(stripe.session_count(), 0);
}

/// Stripe's own example objects (`openapi/fixtures3.json` of `stripe/openapi`, complete
/// objects of the current API version) are read by the client's types. The file is Stripe's
/// and is not committed: set `MIGHTY_STRIPE_FIXTURES` to a copy; without it this test only
/// reads the stand-in's objects.
#[tokio::test]
async fn stripes_complete_objects_are_read_by_the_client() {
    use mighty_server::stripe;
    let Some(path) = std::env::var("MIGHTY_STRIPE_FIXTURES")
        .ok()
        .filter(|path| !path.is_empty())
    else {
        // The stand-in's objects at least (the ones every other test reads over the socket).
        let session: stripe::CheckoutSession = serde_json::from_value(
            json!({ "id": "cs_test_1", "object": "checkout.session", "metadata": {} }),
        )
        .unwrap();
        assert_eq!(session.id, "cs_test_1");
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let fixtures: Value = serde_json::from_str(&text).unwrap();
    let resource = |name: &str| fixtures["resources"][name].clone();
    let session: stripe::CheckoutSession =
        serde_json::from_value(resource("checkout.session")).unwrap();
    assert_eq!(
        Some(&session.id),
        resource("checkout.session")["id"]
            .as_str()
            .map(String::from)
            .as_ref()
    );
    let subscription: stripe::Subscription =
        serde_json::from_value(resource("subscription")).unwrap();
    assert!(subscription.period().is_some(), "the period, on the items");
    assert!(subscription.first_item().is_some());
    let invoice: stripe::Invoice = serde_json::from_value(resource("invoice")).unwrap();
    assert_eq!(invoice.subscription_id().as_deref(), Some("subscription"));
    let charge: stripe::Charge = serde_json::from_value(resource("charge")).unwrap();
    assert_eq!(Some(charge.id.as_str()), resource("charge")["id"].as_str());
    let refund: stripe::Refund = serde_json::from_value(resource("refund")).unwrap();
    assert_eq!(Some(refund.id.as_str()), resource("refund")["id"].as_str());
    let event: stripe::Event = serde_json::from_value(resource("event")).unwrap();
    assert!(!event.event_type.is_empty());
    assert_eq!(
        stripe::payment_method_last4(&resource("payment_method")),
        resource("payment_method")["card"]["last4"]
            .as_str()
            .map(String::from)
    );
    // Expanded into a session, as live mode reads it after `checkout.session.completed`.
    let mut expanded = resource("checkout.session");
    let mut intent = resource("payment_intent");
    intent["payment_method"] = resource("payment_method");
    expanded["payment_intent"] = intent;
    let expanded: stripe::CheckoutSession = serde_json::from_value(expanded).unwrap();
    assert!(expanded.card_last4().is_some());
}

/// Dynamic value bundles in live mode (issue 15): the Stripe Checkout Session charges the
/// stored price of the offer variant the shopper was shown, names it in its metadata, and
/// the order Stripe's webhook makes carries it; an unknown variant never reaches Stripe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_offer_variant_is_charged_its_stored_price_on_stripe() {
    let mut document = listing("candle-trio", None);
    document["offers"][0]["variants"] = json!([{ "id": "a" }, { "id": "b", "price": 2200 }]);
    let live = Live::start(document).await;
    let served = live.get("/v1/listings/candle-trio", &[]).await;
    assert!(
        served["offers"][0]["variants"][1]["share"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let mut body = TestServer::checkout_body("trio", None, 2);
    body["offer_variant"] = json!("z");
    let (status, _, refused) = live.checkout("variant-key-0", &body).await;
    assert_eq!(
        (status, &refused["error"]["field"]),
        (422, &json!("offer_variant"))
    );
    assert!(
        live.stripe
            .calls("POST", "/v1/checkout/sessions")
            .is_empty()
    );

    body["offer_variant"] = json!("b");
    body["amount"] = json!(1);
    let (status, _, created) = live.checkout("variant-key-1", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["amount"], 4400, "2 × b's stored 22.00");
    let posts = live.stripe.calls("POST", "/v1/checkout/sessions");
    let made = posts.last().unwrap();
    assert_eq!(
        made.field("line_items[0][price_data][unit_amount]"),
        Some("2200")
    );
    assert_eq!(made.field("line_items[0][quantity]"), Some("2"));
    assert_eq!(made.field("metadata[offer_variant]"), Some("b"));
    let redirect = created["redirect_url"].as_str().unwrap();
    let stripe_id = redirect.rsplit('/').next().unwrap().to_string();
    let completed = live.stripe.complete(&stripe_id, None);
    live.signed("evt_variant_paid", "checkout.session.completed", completed)
        .await;
    let orders = live.orders().await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(
        (
            orders[0]["amount"].as_i64(),
            orders[0]["offer_variant"].as_str()
        ),
        (Some(4400), Some("b"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manage_page_cancels_the_stripe_subscription() {
    let live = Live::start(listing("candle-trio", None)).await;
    let (status, _, created) = live
        .checkout(
            "manage-1",
            &TestServer::checkout_body("club", Some("monthly"), 1),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let stripe_id = created["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let completed = live.stripe.complete(&stripe_id, None);
    live.signed(
        "evt_manage_paid",
        "checkout.session.completed",
        completed.clone(),
    )
    .await;
    let session_id = created["session_id"].as_str().unwrap();
    let secret = created["session_secret"].as_str().unwrap();
    let state = live
        .get(
            &format!("/v1/checkout/sessions/{session_id}"),
            &[("mighty-session-secret", secret)],
        )
        .await;
    let token = state["customer_token"].as_str().unwrap().to_string();
    // The shopper's own page, posted from itself (same origin), as a browser does.
    let canceled = live
        .client
        .post(format!("{}/manage/{token}/cancel", live.base))
        .header("origin", &live.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(canceled.status().as_u16(), 303);
    let stripe_subscription = completed["subscription"].as_str().unwrap();
    assert_eq!(
        live.stripe
            .calls(
                "DELETE",
                &format!("/v1/subscriptions/{stripe_subscription}")
            )
            .len(),
        1,
        "canceled on Stripe"
    );
    assert_eq!(
        live.stripe.subscription(stripe_subscription)["status"],
        "canceled"
    );
    let subscription_id = state["subscription_id"].as_str().unwrap();
    let bearer = format!("Bearer {token}");
    let read = live
        .get(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(read["status"], "canceled");
    support::openapi::check(&live.stripe.requests());
}

/// Retention in live mode (issue 15): a pause is Stripe's `pause_collection` (`void`,
/// `resumes_at`), a resume clears it, a downgrade changes the item's price without proration
/// and applies at the renewal Stripe charges at the lower price; the seller's webhooks are
/// the sandbox's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_is_stripes_pause_collection_and_a_downgrade_waits_for_the_renewal() {
    let mut document = listing("candle-trio", None);
    document["offers"][1]["tiers"] = json!([
        { "id": "basic", "name": "Basic", "price": 900, "interval": "month" },
        { "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month" },
        { "id": "plus", "name": "Plus", "price": 2500, "interval": "month" }
    ]);
    let live = Live::start(document).await;
    let receiver = live.receiver().await;
    let (status, _, created) = live
        .checkout(
            "retain-1",
            &TestServer::checkout_body("club", Some("plus"), 1),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let stripe_session = created["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let completed = live.stripe.complete(&stripe_session, None);
    live.signed(
        "evt_retain_paid",
        "checkout.session.completed",
        completed.clone(),
    )
    .await;
    let session_id = created["session_id"].as_str().unwrap();
    let secret = created["session_secret"].as_str().unwrap();
    let state = live
        .get(
            &format!("/v1/checkout/sessions/{session_id}"),
            &[("mighty-session-secret", secret)],
        )
        .await;
    let subscription_id = state["subscription_id"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {}", state["customer_token"].as_str().unwrap());
    let stripe_subscription = completed["subscription"].as_str().unwrap().to_string();
    let stripe_path = format!("/v1/subscriptions/{stripe_subscription}");
    let act = |action: &'static str, key: &'static str, body: Value| {
        let (live, path, bearer) = (
            &live,
            format!("/v1/subscriptions/{subscription_id}/{action}"),
            bearer.clone(),
        );
        async move {
            live.post(
                &path,
                &[("authorization", &bearer), ("idempotency-key", key)],
                body,
            )
            .await
        }
    };

    // Pause: Stripe voids the invoices until `resumes_at`, the first period charged again.
    let (status, paused) = act(
        "pause",
        "pause-1",
        json!({ "months": 2, "instead_of_cancel": true }),
    )
    .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["status"], "paused");
    let resumes_at =
        mighty_core::Timestamp::parse_rfc3339(paused["paused_until"].as_str().unwrap())
            .unwrap()
            .0;
    let pause_call = live.stripe.calls("POST", &stripe_path).pop().unwrap();
    assert_eq!(pause_call.field("pause_collection[behavior]"), Some("void"));
    assert_eq!(
        pause_call.field("pause_collection[resumes_at]"),
        Some(resumes_at.to_string().as_str())
    );
    assert_eq!(
        live.stripe.subscription(&stripe_subscription)["pause_collection"],
        json!({ "behavior": "void", "resumes_at": resumes_at })
    );
    let (status, again) = act("pause", "pause-2", json!({ "months": 1 })).await;
    assert_eq!(status, 409, "{again}");
    let calls = live.stripe.calls("POST", &stripe_path).len();

    // Resume: the pause is cleared on Stripe.
    let (status, resumed) = act("resume", "resume-1", json!({})).await;
    assert_eq!(
        (status, resumed["status"].as_str()),
        (200, Some("active")),
        "{resumed}"
    );
    assert_eq!(live.stripe.calls("POST", &stripe_path).len(), calls + 1);
    assert_eq!(
        live.stripe
            .calls("POST", &stripe_path)
            .pop()
            .unwrap()
            .field("pause_collection"),
        Some("")
    );
    assert_eq!(
        live.stripe.subscription(&stripe_subscription)["pause_collection"],
        Value::Null
    );

    // Downgrade: the item's price from the next period, no proration, nothing invoiced now.
    let invoices_before = live.stripe.calls("POST", &stripe_path).len();
    let (status, downgraded) = act("downgrade", "down-1", json!({ "tier_id": "basic" })).await;
    assert_eq!(status, 200, "{downgraded}");
    assert_eq!(
        (
            downgraded["tier_id"].as_str(),
            downgraded["pending_tier_id"].as_str()
        ),
        (Some("plus"), Some("basic"))
    );
    let update = live.stripe.calls("POST", &stripe_path).pop().unwrap();
    assert_eq!(
        live.stripe.calls("POST", &stripe_path).len(),
        invoices_before + 1
    );
    assert_eq!(update.field("proration_behavior"), Some("none"));
    assert_eq!(
        update.field("items[0][price_data][unit_amount]"),
        Some("900")
    );
    assert_eq!(update.field("metadata[tier_id]"), Some("basic"));
    assert_eq!(update.field("proration_date"), None);
    let stripe_now = live.stripe.subscription(&stripe_subscription);
    assert_eq!(stripe_now["items"]["data"][0]["price"]["unit_amount"], 900);
    assert!(
        live.orders()
            .await
            .iter()
            .all(|order| order["kind"] != "upgrade"),
        "nothing charged now"
    );
    // Stripe reports the change: the downgrade keeps waiting for the renewal.
    live.signed(
        "evt_retain_updated",
        "customer.subscription.updated",
        stripe_now,
    )
    .await;
    let seller = format!("Bearer {TEST_SELLER_TOKEN}");
    let read = live
        .get(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[("authorization", &seller)],
        )
        .await;
    assert_eq!(
        (read["tier_id"].as_str(), read["pending_tier_id"].as_str()),
        (Some("plus"), Some("basic"))
    );

    // The renewal Stripe charges at the lower price makes it the tier.
    let renewal = live.stripe.renew(&stripe_subscription);
    assert_eq!(renewal["amount_paid"], 900);
    live.signed("evt_retain_renewed", "invoice.paid", renewal)
        .await;
    let read = live
        .get(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[("authorization", &seller)],
        )
        .await;
    assert_eq!(
        (
            read["tier_id"].as_str(),
            read["price"].as_i64(),
            read["pending_tier_id"].clone()
        ),
        (Some("basic"), Some(900), Value::Null)
    );
    let renewals: Vec<Value> = live
        .orders()
        .await
        .into_iter()
        .filter(|order| order["kind"] == "renewal")
        .collect();
    assert_eq!(
        (renewals.len(), renewals[0]["amount"].as_i64()),
        (1, Some(900))
    );

    // A pause Stripe ends by charging again (its `resumes_at` passed) resumes here too.
    let (status, _) = act("pause", "pause-3", json!({ "months": 1 })).await;
    assert_eq!(status, 200);
    let renewal = live.stripe.renew(&stripe_subscription);
    live.signed("evt_retain_resumed", "invoice.paid", renewal)
        .await;
    let read = live
        .get(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[("authorization", &seller)],
        )
        .await;
    assert_eq!(
        (read["status"].as_str(), read["paused_until"].clone()),
        (Some("active"), Value::Null)
    );

    wait_for(&receiver, "subscription.resumed", 2).await;
    wait_for(&receiver, "subscription.paused", 2).await;
    wait_for(&receiver, "subscription.updated", 2).await;
    for delivery in receiver.received() {
        delivery.check_described().expect("a described webhook");
    }
    let metrics = live
        .get(
            "/v1/metrics?listing=candle-trio",
            &[("authorization", &seller)],
        )
        .await;
    assert_eq!(metrics["saves"]["pauses"], 1, "{metrics}");
    support::openapi::check(&live.stripe.requests());
}

/// A live monthly membership paid through Stripe: its Mighty id, the shopper's bearer and
/// its Stripe subscription.
async fn live_membership(live: &Live, key: &str) -> (String, String, String) {
    let (status, _, created) = live
        .checkout(key, &TestServer::checkout_body("club", Some("monthly"), 1))
        .await;
    assert_eq!(status, 201, "{created}");
    let stripe_session = created["redirect_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let completed = live.stripe.complete(&stripe_session, None);
    live.signed(
        &format!("evt_{key}_paid"),
        "checkout.session.completed",
        completed.clone(),
    )
    .await;
    let session_id = created["session_id"].as_str().unwrap();
    let secret = created["session_secret"].as_str().unwrap();
    let state = live
        .get(
            &format!("/v1/checkout/sessions/{session_id}"),
            &[("mighty-session-secret", secret)],
        )
        .await;
    (
        state["subscription_id"].as_str().unwrap().to_string(),
        format!("Bearer {}", state["customer_token"].as_str().unwrap()),
        completed["subscription"].as_str().unwrap().to_string(),
    )
}

/// A pause refused because a renewal landed between its read and its write (409) is asked
/// again under the same Idempotency-Key: worked out from the new period it sends Stripe
/// another `resumes_at`, so under another Stripe key (Stripe refuses a key reused with other
/// parameters); the pause then holds on both sides with the new date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_asked_again_after_a_renewal_landed_meanwhile_is_accepted_by_stripe() {
    let live = Live::start(listing("candle-trio", None)).await;
    let (subscription_id, bearer, stripe_subscription) = live_membership(&live, "race-pause").await;
    let stripe_path = format!("/v1/subscriptions/{stripe_subscription}");
    let pause_path = format!("/v1/subscriptions/{subscription_id}/pause");
    let pause = || {
        let (live, path, bearer) = (&live, pause_path.clone(), bearer.clone());
        async move {
            live.post(
                &path,
                &[
                    ("authorization", &bearer),
                    ("idempotency-key", "pause-race"),
                ],
                json!({ "months": 1 }),
            )
            .await
        }
    };

    // Stripe's answer to the pause is late; meanwhile Stripe renews and says so.
    live.stripe.delay_next(&[Duration::from_millis(1500)]);
    let first = tokio::join!(pause(), async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while live.stripe.calls("POST", &stripe_path).is_empty() {
            assert!(Instant::now() < deadline, "the pause never reached Stripe");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let renewal = live.stripe.renew(&stripe_subscription);
        live.signed("evt_race_renewed", "invoice.paid", renewal)
            .await;
    })
    .0;
    assert_eq!(first.0, 409, "{}", first.1);

    // Asked again with the same key: the new period's pause, accepted by Stripe.
    let (status, paused) = pause().await;
    assert_eq!(status, 200, "{paused}");
    let calls = live.stripe.calls("POST", &stripe_path);
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|call| call.status == 200), "{calls:?}");
    assert_ne!(
        calls[0].field("pause_collection[resumes_at]"),
        calls[1].field("pause_collection[resumes_at]"),
        "the retry is worked out from the renewed period"
    );
    assert_ne!(calls[0].idempotency_key, calls[1].idempotency_key);
    let resumes_at =
        mighty_core::Timestamp::parse_rfc3339(paused["paused_until"].as_str().unwrap())
            .unwrap()
            .0;
    assert_eq!(
        live.stripe.subscription(&stripe_subscription)["pause_collection"],
        json!({ "behavior": "void", "resumes_at": resumes_at })
    );
    // The same request once more replays Mighty's answer; Stripe is not asked again.
    let (status, replayed) = pause().await;
    assert_eq!((status, &replayed), (200, &paused));
    assert_eq!(live.stripe.calls("POST", &stripe_path).len(), 2);
    support::openapi::check(&live.stripe.requests());
}

/// The seller's reads of a subscription.
async fn read_subscription(live: &Live, subscription_id: &str) -> Value {
    let seller = format!("Bearer {TEST_SELLER_TOKEN}");
    live.get(
        &format!("/v1/subscriptions/{subscription_id}"),
        &[("authorization", &seller)],
    )
    .await
}

/// A pause set, changed or cleared in Stripe's dashboard reaches Mighty through
/// `customer.subscription.updated`: the membership is paused until Stripe's `resumes_at`
/// (or until someone resumes it, when Stripe has none), its date follows a change, and it
/// resumes when Stripe clears it, with the sandbox's webhooks. The pause is read from Stripe
/// as it is now, so an older event delivered late changes nothing, and Mighty's own pause
/// told back is not a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_set_changed_or_cleared_on_stripe_is_mirrored() {
    let live = Live::start(listing("candle-trio", None)).await;
    let receiver = live.receiver().await;
    let (subscription_id, bearer, stripe_subscription) =
        live_membership(&live, "mirror-pause").await;
    let period_end = mighty_core::Timestamp::parse_rfc3339(
        read_subscription(&live, &subscription_id).await["current_period_end"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
    .0;
    let rfc3339 = |at: i64| mighty_core::Timestamp(at).to_rfc3339();

    // Set in the dashboard, until a date.
    let first_resumes_at = period_end + 40 * 86_400;
    let set = live.stripe.set_pause_collection(
        &stripe_subscription,
        json!({ "behavior": "keep_as_draft", "resumes_at": first_resumes_at }),
    );
    live.signed(
        "evt_mirror_set",
        "customer.subscription.updated",
        set.clone(),
    )
    .await;
    let read = read_subscription(&live, &subscription_id).await;
    assert_eq!(
        (&read["status"], &read["paused_from"], &read["paused_until"]),
        (
            &json!("paused"),
            &json!(rfc3339(period_end)),
            &json!(rfc3339(first_resumes_at))
        ),
        "{read}"
    );
    wait_for(&receiver, "subscription.paused", 1).await;

    // Moved to a later date there.
    let later_resumes_at = first_resumes_at + 30 * 86_400;
    let changed = live.stripe.set_pause_collection(
        &stripe_subscription,
        json!({ "behavior": "keep_as_draft", "resumes_at": later_resumes_at }),
    );
    live.signed(
        "evt_mirror_changed",
        "customer.subscription.updated",
        changed,
    )
    .await;
    assert_eq!(
        read_subscription(&live, &subscription_id).await["paused_until"],
        rfc3339(later_resumes_at)
    );
    wait_for(&receiver, "subscription.paused", 2).await;
    // The first event again, late (Stripe delivers in any order): Stripe's pause is read as
    // it is now, so the later date stays.
    live.signed("evt_mirror_set_late", "customer.subscription.updated", set)
        .await;
    assert_eq!(
        read_subscription(&live, &subscription_id).await["paused_until"],
        rfc3339(later_resumes_at)
    );

    // Cleared there: resumed here.
    let cleared = live
        .stripe
        .set_pause_collection(&stripe_subscription, Value::Null);
    live.signed(
        "evt_mirror_cleared",
        "customer.subscription.updated",
        cleared,
    )
    .await;
    let read = read_subscription(&live, &subscription_id).await;
    assert_eq!(
        (&read["status"], &read["paused_from"], &read["paused_until"]),
        (&json!("active"), &Value::Null, &Value::Null),
        "{read}"
    );
    wait_for(&receiver, "subscription.resumed", 1).await;

    // A pause without an end: paused until someone resumes it, which the shopper can here.
    let open_ended = live.stripe.set_pause_collection(
        &stripe_subscription,
        json!({ "behavior": "void", "resumes_at": null }),
    );
    live.signed(
        "evt_mirror_open_ended",
        "customer.subscription.updated",
        open_ended,
    )
    .await;
    let read = read_subscription(&live, &subscription_id).await;
    assert_eq!(
        (&read["status"], &read["paused_from"], &read["paused_until"]),
        (&json!("paused"), &json!(rfc3339(period_end)), &Value::Null),
        "{read}"
    );
    let (status, resumed) = live
        .post(
            &format!("/v1/subscriptions/{subscription_id}/resume"),
            &[
                ("authorization", &bearer),
                ("idempotency-key", "mirror-resume"),
            ],
            json!({}),
        )
        .await;
    assert_eq!(
        (status, resumed["status"].as_str()),
        (200, Some("active")),
        "{resumed}"
    );
    assert_eq!(
        live.stripe.subscription(&stripe_subscription)["pause_collection"],
        Value::Null
    );
    wait_for(&receiver, "subscription.paused", 3).await;
    wait_for(&receiver, "subscription.resumed", 2).await;

    // Mighty's own pause, told back by Stripe, is the same pause: no second webhook.
    let (status, paused) = live
        .post(
            &format!("/v1/subscriptions/{subscription_id}/pause"),
            &[
                ("authorization", &bearer),
                ("idempotency-key", "mirror-own"),
            ],
            json!({ "months": 1 }),
        )
        .await;
    assert_eq!(status, 200, "{paused}");
    live.signed(
        "evt_mirror_own",
        "customer.subscription.updated",
        live.stripe.subscription(&stripe_subscription),
    )
    .await;
    assert_eq!(read_subscription(&live, &subscription_id).await, paused);
    wait_for(&receiver, "subscription.paused", 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let types = receiver.types();
    let count = |kind: &str| types.iter().filter(|seen| *seen == kind).count();
    assert_eq!(
        (count("subscription.paused"), count("subscription.resumed")),
        (4, 2),
        "{types:?}"
    );
    for delivery in receiver.received() {
        delivery.check_described().expect("a described webhook");
    }
    support::openapi::check(&live.stripe.requests());
}

/// The first renewal after a pause that Stripe cannot collect (`invoice.payment_failed`)
/// ends the pause here too: the membership is active in its new period, with
/// `subscription.resumed`, and no renewal order (nothing was paid); it does not stay paused
/// waiting for an `invoice.paid` that may never come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_invoice_after_a_pause_does_not_leave_it_paused() {
    let live = Live::start(listing("candle-trio", None)).await;
    let receiver = live.receiver().await;
    let (subscription_id, bearer, stripe_subscription) =
        live_membership(&live, "failed-after-pause").await;
    let (status, paused) = live
        .post(
            &format!("/v1/subscriptions/{subscription_id}/pause"),
            &[
                ("authorization", &bearer),
                ("idempotency-key", "pause-then-fail"),
            ],
            json!({ "months": 1 }),
        )
        .await;
    assert_eq!(status, 200, "{paused}");
    let resumes_at =
        mighty_core::Timestamp::parse_rfc3339(paused["paused_until"].as_str().unwrap())
            .unwrap()
            .0;

    // An invoice of a period inside the pause failing changes nothing.
    let inside = live
        .stripe
        .fail_renewal(&stripe_subscription, resumes_at - 86_400);
    live.signed("evt_failed_inside", "invoice.payment_failed", inside)
        .await;
    assert_eq!(
        read_subscription(&live, &subscription_id).await["status"],
        "paused"
    );

    // The first one after it: the pause is over.
    let failed = live.stripe.fail_renewal(&stripe_subscription, resumes_at);
    live.signed("evt_failed_first", "invoice.payment_failed", failed)
        .await;
    let read = read_subscription(&live, &subscription_id).await;
    assert_eq!(
        (
            &read["status"],
            &read["paused_until"],
            &read["current_period_start"]
        ),
        (
            &json!("active"),
            &Value::Null,
            &json!(mighty_core::Timestamp(resumes_at).to_rfc3339())
        ),
        "{read}"
    );
    assert!(
        live.orders()
            .await
            .iter()
            .all(|order| order["kind"] != "renewal"),
        "nothing was paid"
    );
    wait_for(&receiver, "subscription.resumed", 1).await;
    for delivery in receiver.received() {
        delivery.check_described().expect("a described webhook");
    }
}

/// Stripe's `customer.subscription.updated` for Mighty's own pause may land before Mighty
/// records that pause: mirrored first, the request still succeeds, with its save and one
/// `subscription.paused`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripes_report_of_a_pause_landing_first_still_lets_the_pause_succeed() {
    let live = Live::start(listing("candle-trio", None)).await;
    let receiver = live.receiver().await;
    let (subscription_id, bearer, stripe_subscription) =
        live_membership(&live, "report-first").await;
    let stripe_path = format!("/v1/subscriptions/{stripe_subscription}");
    let pause_path = format!("/v1/subscriptions/{subscription_id}/pause");
    let headers = [
        ("authorization", bearer.as_str()),
        ("idempotency-key", "report-first"),
    ];
    live.stripe.delay_next(&[Duration::from_millis(1500)]);
    let (paused, _) = tokio::join!(
        live.post(
            &pause_path,
            &headers,
            json!({ "months": 2, "instead_of_cancel": true }),
        ),
        async {
            let deadline = Instant::now() + Duration::from_secs(10);
            while live.stripe.calls("POST", &stripe_path).is_empty() {
                assert!(Instant::now() < deadline, "the pause never reached Stripe");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            live.signed(
                "evt_report_first",
                "customer.subscription.updated",
                live.stripe.subscription(&stripe_subscription),
            )
            .await;
            assert_eq!(
                read_subscription(&live, &subscription_id).await["status"],
                "paused",
                "mirrored before the request ended"
            );
        }
    );
    let (status, paused) = paused;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["status"], "paused");
    let seller = format!("Bearer {TEST_SELLER_TOKEN}");
    let metrics = live
        .get(
            "/v1/metrics?listing=candle-trio",
            &[("authorization", &seller)],
        )
        .await;
    assert_eq!(metrics["saves"]["pauses"], 1, "{metrics}");
    wait_for(&receiver, "subscription.paused", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let types = receiver.types();
    assert_eq!(
        types
            .iter()
            .filter(|seen| *seen == "subscription.paused")
            .count(),
        1,
        "{types:?}"
    );
}
