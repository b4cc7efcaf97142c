//! Test harness: an in-memory server (`app().oneshot`), a temporary root folder, a seller,
//! and helpers for the requests the tests make.
#![allow(dead_code)]

pub mod described;
pub mod openapi;
pub mod receiver;
pub mod stripe;
pub mod stripe_params;

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use mighty_server::config::TEST_SELLER_TOKEN;
use mighty_server::{AppState, Config, app};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const SELLER: &str = TEST_SELLER_TOKEN;
pub const DIRECTORY: &str = "https://directory.example";

/// A throwaway root laid out like the repository, removed on drop.
pub struct Root(pub PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(root: &Path, relative: &str, contents: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

pub fn temp_root() -> Root {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let dir =
        std::env::temp_dir().join(format!("mighty-test-{}", mighty_core::signing::hex(&bytes)));
    write(&dir, "index.html", b"<!doctype html><title>demo</title>");
    write(&dir, "dist/mighty.js", b"// loader");
    write(&dir, "dist/mighty-0123456789.wasm", b"\0asm\x01\0\0\0");
    write(&dir, "dist/mighty-0123456789.wasm.br", b"brotli bytes");
    write(&dir, "www/media/ana.vtt", b"WEBVTT\n");
    Root(dir)
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

pub struct TestServer {
    pub state: AppState,
    pub root: Root,
}

/// A listing with a bundle (in a drop when `drop` is given) and a retainer with two tiers.
pub fn listing(id: &str, drop: Option<(&str, &str, i64)>) -> Value {
    let mut document = json!({
        "version": 1, "id": id, "title": "Lavender candle trio", "currency": "EUR",
        "seller": { "name": "Hearth & Wick" },
        "creators": [ { "handle": "ana", "name": "Ana" }, { "handle": "theo", "name": "Théo" } ],
        "offers": [
            { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400, "ships": true },
            { "id": "club", "kind": "retainer", "name": "Candle club", "tiers": [
                { "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month" },
                { "id": "plus", "name": "Plus", "price": 2500, "interval": "month" } ] }
        ],
        "allowed_origins": [DIRECTORY, "http://127.0.0.1"]
    });
    if let Some((starts_at, ends_at, inventory)) = drop {
        document["drop"] =
            json!({ "starts_at": starts_at, "ends_at": ends_at, "inventory": inventory });
    }
    document
}

/// The database of a test server: in-memory SQLite, or, when `MIGHTY_TEST_DATABASE_URL`
/// names a PostgreSQL server (as `cargo xtask test` does in its PostgreSQL pass), a fresh
/// database of its own there, so every storage test runs against both.
pub async fn test_database() -> mighty_server::store::DatabaseUrl {
    match std::env::var("MIGHTY_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).unwrap();
            let name = format!("mighty_test_{}", mighty_core::signing::hex(&bytes));
            let url = tokio::task::spawn_blocking(move || {
                mighty_server::store::create_postgres_database(&admin, &name)
            })
            .await
            .unwrap()
            .expect("a test database on MIGHTY_TEST_DATABASE_URL's server");
            mighty_server::store::DatabaseUrl::Postgres(url)
        }
        _ => mighty_server::store::DatabaseUrl::SqliteMemory,
    }
}

impl TestServer {
    pub async fn new() -> TestServer {
        let root = temp_root();
        let mut config = Config::for_tests(root.0.clone());
        config.database = test_database().await;
        let state = tokio::task::spawn_blocking(move || AppState::open(config))
            .await
            .unwrap()
            .unwrap();
        TestServer { state, root }
    }

    /// A server with the standard listing `candle-trio` in place.
    pub async fn with_listing() -> TestServer {
        let server = TestServer::new().await;
        let response = server
            .put_listing("candle-trio", listing("candle-trio", None))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        server
    }

    /// Sends `request` to the app; the answer must be what the server's OpenAPI description
    /// says (`described.rs`), or the test fails naming the difference.
    pub async fn send(&self, request: Request<Body>) -> Response {
        let (method, path) = (request.method().clone(), request.uri().path().to_string());
        let response = self.send_unchecked(request).await;
        if let Err(difference) = described::check(
            &self.state.config().mode,
            &method,
            &path,
            response.status,
            &response.headers,
            &response.body,
        ) {
            panic!("not as the OpenAPI description says: {difference}");
        }
        response
    }

    /// Sends `request` without checking the answer against the description: for answers
    /// broken on purpose (the sandbox's `malformed` fault).
    pub async fn send_unchecked(&self, request: Request<Body>) -> Response {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        Response {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes().to_vec(),
        }
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Response {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8080");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Body::from(body)
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn get(&self, uri: &str) -> Response {
        self.request(Method::GET, uri, &[], None).await
    }

    pub async fn seller_get(&self, uri: &str) -> Response {
        self.request(
            Method::GET,
            uri,
            &[("authorization", &format!("Bearer {SELLER}"))],
            None,
        )
        .await
    }

    pub async fn seller_post(&self, uri: &str, body: Value) -> Response {
        self.request(
            Method::POST,
            uri,
            &[("authorization", &format!("Bearer {SELLER}"))],
            Some(body.to_string()),
        )
        .await
    }

    pub async fn put_listing(&self, id: &str, document: Value) -> Response {
        self.request(
            Method::PUT,
            &format!("/v1/listings/{id}"),
            &[("authorization", &format!("Bearer {SELLER}"))],
            Some(document.to_string()),
        )
        .await
    }

    /// A checkout request body.
    pub fn checkout_body(offer_id: &str, tier_id: Option<&str>, quantity: u32) -> Value {
        json!({
            "listing_id": "candle-trio", "offer_id": offer_id, "tier_id": tier_id, "quantity": quantity,
            "attribution": { "creator": "ana", "token": null, "variant": "ana", "page": "https://directory.example/lyon" },
            "return_url": "https://directory.example/lyon?mighty_listing=candle-trio"
        })
    }

    pub async fn checkout(&self, key: &str, body: &Value) -> Response {
        self.request(
            Method::POST,
            "/v1/checkout/sessions",
            &[("idempotency-key", key), ("origin", DIRECTORY)],
            Some(body.to_string()),
        )
        .await
    }

    /// Creates a session and returns its id.
    pub async fn open_session(&self, offer_id: &str, tier_id: Option<&str>) -> String {
        self.open_session_with_secret(offer_id, tier_id).await.0
    }

    /// Creates a session and returns its id and `session_secret`.
    pub async fn open_session_with_secret(
        &self,
        offer_id: &str,
        tier_id: Option<&str>,
    ) -> (String, String) {
        let key = mighty_server::store::new_id("key");
        let response = self
            .checkout(&key, &Self::checkout_body(offer_id, tier_id, 1))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        let created = response.json();
        (
            created["session_id"].as_str().unwrap().to_string(),
            created["session_secret"].as_str().unwrap().to_string(),
        )
    }

    /// `GET /v1/checkout/sessions/{id}`, as the browser holding `secret` when given.
    pub async fn session_state(&self, session_id: &str, secret: Option<&str>) -> Value {
        let headers: Vec<(&str, &str)> = secret
            .map(|secret| ("mighty-session-secret", secret))
            .into_iter()
            .collect();
        self.request(
            Method::GET,
            &format!("/v1/checkout/sessions/{session_id}"),
            &headers,
            None,
        )
        .await
        .json()
    }

    /// Buys the `monthly` tier of `club`: (session id, subscription id, customer token).
    pub async fn buy_membership(&self) -> (String, String, String) {
        let (id, secret) = self.open_session_with_secret("club", Some("monthly")).await;
        let receipt = self.pay(&id, "4242424242424242", &[]).await;
        assert!(
            receipt.text().contains("Payment received"),
            "{}",
            receipt.text()
        );
        let state = self.session_state(&id, Some(&secret)).await;
        (
            id,
            state["subscription_id"].as_str().unwrap().to_string(),
            state["customer_token"].as_str().unwrap().to_string(),
        )
    }

    /// Submits the pay form.
    pub async fn pay(&self, session_id: &str, card: &str, extra: &[(&str, &str)]) -> Response {
        let mut fields = vec![
            ("email", "ana@example.com"),
            ("cc-name", "Ana Ruiz"),
            ("cc-number", card),
            ("cc-exp", "12/40"),
            ("cc-csc", "123"),
        ];
        fields.extend_from_slice(extra);
        let body: String = fields
            .iter()
            .map(|(key, value)| format!("{key}={}", value.replace(' ', "+").replace('/', "%2F")))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::post(format!("/pay/{session_id}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    pub const SHIPPING: &'static [(&'static str, &'static str)] = &[
        ("ship-name", "Ana Ruiz"),
        ("ship-address-line1", "1 rue Mercière"),
        ("ship-postal-code", "69002"),
        ("ship-city", "Lyon"),
        ("ship-country", "France"),
    ];

    /// The test seller's business time (their sandbox clock).
    pub async fn seller_now(&self) -> mighty_core::Timestamp {
        let seller = self
            .state
            .store(|store| store.seller_by_token(SELLER))
            .await
            .unwrap()
            .expect("the test seller");
        self.state.now_for(&seller.id)
    }

    pub async fn advance_clock(&self, seconds: i64) -> Response {
        self.seller_post("/sandbox/clock/advance", json!({ "seconds": seconds }))
            .await
    }
}
