//! The OpenAPI description (`GET /openapi.json`, `mighty_server::openapi`) against the server
//! itself: every route of the router is described with its methods and nothing else is (in
//! sandbox and in live mode), the document holds together (references, operation ids, path
//! parameters, webhooks, the error body), core's protocol types serialize to what it says,
//! and real answers of every described operation validate against it (each `TestServer`
//! answer is checked in `support/described.rs`; the flows here reach every operation).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use mighty_server::config::{Config, Mode, TEST_SELLER_TOKEN};
use serde_json::{Value, json};
use support::described::{self, Description};
use support::{DIRECTORY, SELLER, TestServer, listing, receiver, temp_root};

/// The paths `app()` routes, read from its source (`crates/server/src/lib.rs`): every
/// `.route("<path>", ...)` of the function. A route written another way fails here.
fn router_paths() -> Vec<String> {
    let source = include_str!("../src/lib.rs");
    let start = source.find("pub fn app(").expect("lib.rs has app()");
    let end = start + source[start..].find("\n}\n").expect("app() ends");
    let body = &source[start..end];
    let mut paths = Vec::new();
    for (index, _) in body.match_indices(".route(") {
        let rest = body[index + ".route(".len()..].trim_start();
        let literal = rest
            .strip_prefix('"')
            .and_then(|rest| rest.split_once('"'))
            .map(|(path, _)| path.to_string())
            .unwrap_or_else(|| {
                panic!("a route of app() whose path is not a string literal: {rest:.60}")
            });
        paths.push(literal);
    }
    assert!(paths.len() > 30, "app()'s routes were read: {paths:?}");
    paths
}

/// What `static_files.rs` serves besides: the demo page and the bundle (its `/www/` folder,
/// the demo directory's own pages, media and listing documents, is not part of the API and is
/// left out of the description on purpose).
const STATIC_ROUTES: &[&str] = &["/", "/dist/{file}", "/dist/v1/{file}"];

/// A server in `mode` (live mode with a Stripe stand-in address that is never called).
async fn server_in(mode: &Mode) -> TestServer {
    match mode {
        Mode::Sandbox => TestServer::with_listing().await,
        Mode::Live => {
            let pairs = [
                ("MIGHTY_MODE", "live"),
                ("STRIPE_SECRET_KEY", "sk_test_openapi"),
                ("STRIPE_WEBHOOK_SECRET", "whsec_openapi_test"),
                ("MIGHTY_STRIPE_API_BASE", "http://127.0.0.1:9"),
                ("MIGHTY_SELLER_TOKEN", TEST_SELLER_TOKEN),
                ("MIGHTY_SECRET_KEY", "openapi-test-key-0123456789abcdef"),
            ];
            let mut config = Config::from_env(|name| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            })
            .unwrap();
            let root = temp_root();
            config.root = root.0.clone();
            config.database = support::test_database().await;
            let state = tokio::task::spawn_blocking(move || mighty_server::AppState::open(config))
                .await
                .unwrap()
                .unwrap();
            TestServer { state, root }
        }
    }
}

/// The methods the router answers on `template` (its `Allow` header on a 405 to `TRACE`,
/// which no route takes), HEAD left out (it goes with GET); `None` when the path is not
/// routed in this mode.
async fn routed_methods(server: &TestServer, template: &str) -> Option<BTreeSet<String>> {
    let path: String = template
        .split('/')
        .map(|part| if part.starts_with('{') { "probe" } else { part })
        .collect::<Vec<_>>()
        .join("/");
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        path
    };
    let response = server
        .send_unchecked(
            Request::builder()
                .method(Method::TRACE)
                .uri(&path)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    match response.status {
        StatusCode::NOT_FOUND => None,
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response
                .headers
                .get(header::ALLOW)
                .unwrap_or_else(|| panic!("{path}: a 405 without Allow"))
                .to_str()
                .unwrap()
                .to_string();
            Some(
                allow
                    .split(',')
                    .map(|method| method.trim().to_ascii_lowercase())
                    .filter(|method| method != "head")
                    .collect(),
            )
        }
        other => panic!("{path}: TRACE answered {other}"),
    }
}

fn described_methods(description: &Description) -> BTreeMap<String, BTreeSet<String>> {
    description.document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(template, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| {
                    ["get", "put", "post", "delete", "options", "patch", "trace"]
                        .contains(&key.as_str())
                })
                .cloned()
                .collect();
            (template.clone(), methods)
        })
        .collect()
}

#[tokio::test]
async fn every_route_of_the_router_is_described_with_its_methods_and_nothing_else() {
    let templates: Vec<String> = router_paths()
        .into_iter()
        .chain(STATIC_ROUTES.iter().map(|path| path.to_string()))
        .collect();
    for mode in [Mode::Sandbox, Mode::Live] {
        let server = server_in(&mode).await;
        let mut routed = BTreeMap::new();
        for template in &templates {
            if let Some(methods) = routed_methods(&server, template).await {
                routed.insert(template.clone(), methods);
            }
        }
        let described = described_methods(described::description(&mode));
        for (template, methods) in &routed {
            assert_eq!(
                described.get(template),
                Some(methods),
                "{mode:?}: {template} is routed with {methods:?}; the description has {:?}",
                described.get(template)
            );
        }
        for template in described.keys() {
            assert!(
                routed.contains_key(template),
                "{mode:?}: {template} is described but not routed"
            );
        }
    }
}

#[tokio::test]
async fn the_description_is_served_as_openapi_3_1_for_the_mode_the_server_runs_in() {
    for mode in [Mode::Sandbox, Mode::Live] {
        let server = server_in(&mode).await;
        let response = server.get("/openapi.json").await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let served = response.json();
        assert_eq!(served, mighty_server::openapi::description(mode.clone()));
        assert_eq!(served["openapi"], "3.1.0");
        let paths = served["paths"].as_object().unwrap();
        let (present, absent) = match mode {
            Mode::Sandbox => ("/pay/{session_id}", "/v1/partners/stripe/webhook"),
            Mode::Live => ("/v1/partners/stripe/webhook", "/pay/{session_id}"),
        };
        assert!(paths.contains_key(present), "{mode:?}: {present}");
        assert!(!paths.contains_key(absent), "{mode:?}: {absent}");
        assert!(paths.contains_key("/v1/checkout/sessions"));
    }
}

/// Every `$ref` of `value` (a JSON pointer into the document).
fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get("$ref") {
                found.push(reference);
            }
            object.values().for_each(|value| references(value, found));
        }
        Value::Array(items) => items.iter().for_each(|value| references(value, found)),
        _ => {}
    }
}

#[test]
fn the_document_holds_together() {
    for mode in [Mode::Sandbox, Mode::Live] {
        let document = mighty_server::openapi::description(mode);
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(found.len() > 50);
        for reference in found {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{reference}: only local references"));
            assert!(
                document.pointer(pointer).is_some(),
                "{reference} does not resolve"
            );
        }
        let tags: BTreeSet<&str> = document["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| tag["name"].as_str().unwrap())
            .collect();
        let mut operation_ids = BTreeSet::new();
        for (template, item) in document["paths"].as_object().unwrap() {
            let in_path: BTreeSet<&str> = template
                .split('/')
                .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            for (method, operation) in item.as_object().unwrap() {
                let what = format!("{method} {template}");
                let id = operation["operationId"].as_str().expect(&what);
                assert!(
                    operation_ids.insert(id.to_string()),
                    "{what}: operationId {id} twice"
                );
                let declared: BTreeSet<&str> = operation["parameters"]
                    .as_array()
                    .map(|parameters| {
                        parameters
                            .iter()
                            .filter(|parameter| parameter["in"] == "path")
                            .map(|parameter| parameter["name"].as_str().unwrap())
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(declared, in_path, "{what}: path parameters");
                for tag in operation["tags"].as_array().expect(&what) {
                    assert!(tags.contains(tag.as_str().unwrap()), "{what}: tag {tag}");
                }
                assert!(
                    operation["responses"]["default"]["content"]["application/json"]["schema"]["$ref"]
                        == "#/components/schemas/ErrorBody",
                    "{what}: errors answer the error body"
                );
            }
        }
        // The webhooks: one per event type the server sends, each a POST of its envelope.
        let webhooks: Vec<&String> = document["webhooks"].as_object().unwrap().keys().collect();
        assert_eq!(
            webhooks,
            [
                "checkout.session.completed",
                "checkout.session.expired",
                "order.refunded",
                "subscription.canceled",
                "subscription.created",
                "subscription.paused",
                "subscription.renewed",
                "subscription.resumed",
                "subscription.updated",
            ]
        );
        let event_types: Vec<&str> = document["components"]["schemas"]["WebhookEventType"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_str().unwrap())
            .collect();
        let mut sorted = event_types.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            webhooks
                .iter()
                .map(|name| name.as_str())
                .collect::<Vec<_>>()
        );
        for (name, webhook) in document["webhooks"].as_object().unwrap() {
            let headers: Vec<&str> = webhook["post"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|parameter| parameter["name"].as_str().unwrap())
                .collect();
            assert_eq!(headers, ["Mighty-Signature", "Mighty-Event-Id"], "{name}");
        }
    }
}

#[test]
fn the_error_body_is_described_as_the_spec_writes_it() {
    let description = described::description(&Mode::Sandbox);
    let schema = Description::component("ErrorBody");
    for body in [
        json!({"error": {"code": "invalid_request", "message": "is missing", "field": "offer_id"}}),
        json!({"error": {"code": "not_found", "message": "no listing \"x\""}}),
    ] {
        description.validate(&schema, &body).unwrap();
    }
    for wrong in [
        json!({"error": {"code": "invalid_request"}}),
        json!({"error": {"code": "no_such_code", "message": "?"}}),
        json!({"code": "not_found", "message": "?"}),
    ] {
        assert!(description.validate(&schema, &wrong).is_err(), "{wrong}");
    }
}

/// The checker refuses what the description does not say (so its silence elsewhere means
/// something).
#[test]
fn an_answer_unlike_the_description_is_refused() {
    let description = described::description(&Mode::Sandbox);
    let json_headers = {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        headers
    };
    let check = |method: Method, path: &str, status: u16, body: &Value| {
        description.check(
            &method,
            path,
            StatusCode::from_u16(status).unwrap(),
            &json_headers,
            body.to_string().as_bytes(),
        )
    };
    assert!(
        check(
            Method::GET,
            "/healthz",
            200,
            &json!({"status": "ok", "version": "1"})
        )
        .is_ok()
    );
    assert!(
        check(
            Method::GET,
            "/healthz",
            200,
            &json!({"status": "fine", "version": "1"})
        )
        .is_err()
    );
    let session = json!({"session_id": "cs_1", "status": "open", "amount": 2400, "currency": "EUR",
        "server_time": "2026-11-25T10:00:00Z"});
    assert!(check(Method::GET, "/v1/checkout/sessions/cs_1", 200, &session).is_ok());
    let mut unpaid = session.clone();
    unpaid["status"] = json!("pending");
    assert!(check(Method::GET, "/v1/checkout/sessions/cs_1", 200, &unpaid).is_err());
    let mut bad_time = session.clone();
    bad_time["server_time"] = json!("yesterday");
    assert!(check(Method::GET, "/v1/checkout/sessions/cs_1", 200, &bad_time).is_err());
    // A status the operation does not list falls to `default`: the error body.
    assert!(check(Method::GET, "/v1/checkout/sessions/cs_1", 500, &session).is_err());
    assert!(check(Method::PATCH, "/v1/checkout/sessions/cs_1", 200, &session).is_err());
}

#[test]
fn core_protocol_types_serialize_to_their_described_schemas() {
    use mighty_core::protocol::*;
    let description = described::description(&Mode::Sandbox);
    let request = CheckoutRequest {
        listing_id: "candle-trio".into(),
        offer_id: "club".into(),
        tier_id: Some("monthly".into()),
        quantity: 1,
        attribution: Attribution {
            creator: Some("ana".into()),
            token: None,
            variant: Some("ana".into()),
            page: Some("https://directory.example/lyon".into()),
            utm: Utm {
                source: Some("newsletter".into()),
                ..Utm::default()
            },
        },
        return_url: "https://directory.example/lyon?mighty_listing=candle-trio".into(),
        offer_variant: None,
        fulfilment: None,
    };
    let created = CheckoutSessionCreated {
        session_id: "cs_1".into(),
        status: SessionStatus::Open,
        redirect_url: "https://pay.example/pay/cs_1".into(),
        expires_at: "2026-11-25T10:30:00Z".into(),
        amount: 1500,
        currency: "EUR".into(),
        session_secret: Some("secret".into()),
    };
    let state = CheckoutSessionState {
        session_id: "cs_1".into(),
        status: SessionStatus::Paid,
        amount: 1500,
        currency: "EUR".into(),
        server_time: "2026-11-25T10:01:00Z".into(),
        subscription_id: Some("sub_1".into()),
        customer_token: Some("cus_1".into()),
        fulfilment: None,
        pickup_code: None,
    };
    let error = ErrorBody {
        error: ErrorDetail {
            code: "invalid_request".into(),
            message: "is missing".into(),
            field: Some("offer_id".into()),
        },
    };
    let event = MeasurementEvent {
        id: "ev_1".into(),
        event_type: "offer-select".into(),
        listing_id: "candle-trio".into(),
        creator: None,
        variant: Some("ana".into()),
        offer_variant: Some("b".into()),
        visitor_id: "v_1".into(),
        at: "2026-11-25T10:00:00Z".into(),
    };
    for (name, value) in [
        ("CheckoutRequest", serde_json::to_value(&request).unwrap()),
        // The widget writes the request by hand (no serde in the wasm): the same schema.
        (
            "CheckoutRequest",
            serde_json::from_str(&request.to_json()).unwrap(),
        ),
        (
            "CheckoutSessionCreated",
            serde_json::to_value(&created).unwrap(),
        ),
        (
            "CheckoutSessionState",
            serde_json::to_value(&state).unwrap(),
        ),
        (
            "UpgradeRequest",
            serde_json::to_value(UpgradeRequest {
                tier_id: "plus".into(),
            })
            .unwrap(),
        ),
        (
            "UpgradeResponse",
            serde_json::to_value(UpgradeResponse {
                subscription_id: "sub_1".into(),
                tier_id: "plus".into(),
                amount_due: 500,
            })
            .unwrap(),
        ),
        ("ErrorBody", serde_json::to_value(&error).unwrap()),
        ("MeasurementEvent", serde_json::to_value(&event).unwrap()),
        (
            "EventBatch",
            json!({ "events": [serde_json::to_value(&event).unwrap()] }),
        ),
        ("EventBatch", json!([serde_json::to_value(&event).unwrap()])),
    ] {
        description
            .validate(&Description::component(name), &value)
            .unwrap_or_else(|errors| panic!("{name}: {errors}\n{value}"));
    }
}

#[test]
fn the_demo_listings_are_stored_listings_as_described() {
    let description = described::description(&Mode::Sandbox);
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/listings");
    let mut count = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let document: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        description
            .validate(&Description::component("StoredListing"), &document)
            .unwrap_or_else(|errors| panic!("{}: {errors}", path.display()));
        count += 1;
    }
    assert!(count >= 5);
}

fn form(method: Method, uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn with_cookie(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// The flows of the issue (checkout create and get, listing get, errors, metrics, orders,
/// webhooks) and the rest of the surface, each answer validated by `TestServer`; then every
/// operation of the sandbox's description must have been answered at least once.
#[tokio::test]
async fn real_answers_of_every_operation_validate_against_the_description() {
    let server = TestServer::with_listing().await;
    let auth = format!("Bearer {SELLER}");
    let seller = [("authorization", auth.as_str())];

    // Health, the description, the bundle and the demo page.
    for path in [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/",
        "/dist/mighty.js",
        "/dist/v1/mighty-0123456789.wasm",
    ] {
        assert_eq!(server.get(path).await.status, StatusCode::OK, "{path}");
    }
    assert_eq!(
        server.get("/dist/v1/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );

    // Listings: created, replaced, read, refused.
    let mut other = listing(
        "lamp-duo",
        Some(("2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", 5)),
    );
    assert_eq!(
        server.put_listing("lamp-duo", other.clone()).await.status,
        StatusCode::CREATED
    );
    other["title"] = json!("Lamp duo");
    assert_eq!(
        server.put_listing("lamp-duo", other.clone()).await.status,
        StatusCode::OK
    );
    let read = server
        .request(
            Method::GET,
            "/v1/listings/lamp-duo",
            &[("origin", DIRECTORY)],
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.json()["drop"]["remaining"].is_i64());
    // The pop-up's calendar file; none for a listing without a pop-up.
    other["drop"]["popup"] = json!({ "name": "Night market", "address": "Place de la Croix-Rousse, Lyon",
        "lat": 45.7745, "lon": 4.832, "opens_at": "2026-12-05T10:00:00+01:00",
        "closes_at": "2026-12-05T16:00:00+01:00", "timezone": "Europe/Paris" });
    assert_eq!(
        server.put_listing("lamp-duo", other.clone()).await.status,
        StatusCode::OK
    );
    for (path, status) in [
        ("/v1/listings/lamp-duo/popup.ics", StatusCode::OK),
        ("/v1/listings/candle-trio/popup.ics", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(server.get(path).await.status, status, "{path}");
    }
    for (origin, status) in [("https://elsewhere.example", StatusCode::FORBIDDEN)] {
        let refused = server
            .request(
                Method::GET,
                "/v1/listings/lamp-duo",
                &[("origin", origin)],
                None,
            )
            .await;
        assert_eq!(refused.status, status);
    }
    assert_eq!(
        server.get("/v1/listings/nothing").await.status,
        StatusCode::NOT_FOUND
    );
    let invalid = server
        .put_listing("bad", json!({"version": 1, "id": "bad", "title": "x", "currency": "EUR", "offers": [], "allowed_origins": ["*"]}))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unauthorized = server
        .request(Method::PUT, "/v1/listings/bad", &[], Some("{}".into()))
        .await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server
            .request(Method::PUT, "/v1/listings/bad", &seller, Some("{".into()))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server
            .request(Method::DELETE, "/v1/orders", &seller, None)
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );

    // CORS preflights of every path the widget calls.
    for path in [
        "/v1/listings/candle-trio",
        "/v1/listings/candle-trio/creator-links",
        "/v1/checkout/sessions",
        "/v1/checkout/sessions/cs_x",
        "/v1/subscriptions/sub_x/upgrade",
        "/v1/subscriptions/sub_x/cancel",
        "/v1/subscriptions/sub_x/pause",
        "/v1/subscriptions/sub_x/resume",
        "/v1/subscriptions/sub_x/downgrade",
        "/v1/subscriptions/sub_x",
        "/v1/events",
    ] {
        let preflight = server
            .request(
                Method::OPTIONS,
                path,
                &[
                    ("origin", DIRECTORY),
                    ("access-control-request-method", "POST"),
                ],
                None,
            )
            .await;
        assert_eq!(preflight.status, StatusCode::NO_CONTENT, "{path}");
    }

    // Webhooks: a receiver, so every event of the flows below is delivered and checked.
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let hook = server
        .seller_post(
            "/v1/webhooks",
            json!({ "url": format!("http://{address}/hook") }),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED);
    let hook_id = hook.json()["id"].as_str().unwrap().to_string();

    // Checkout: created, replayed, conflicting, refused; read with and without the secret.
    let body = TestServer::checkout_body("trio", None, 1);
    let created = server.checkout("flow-1", &body).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let session = created.json()["session_id"].as_str().unwrap().to_string();
    assert_eq!(
        server.checkout("flow-1", &body).await.status,
        StatusCode::CREATED
    );
    let conflict = server
        .checkout("flow-1", &TestServer::checkout_body("trio", None, 2))
        .await;
    assert_eq!(conflict.error_code(), "idempotency_conflict");
    let wrong_offer = server
        .checkout("flow-2", &TestServer::checkout_body("nothing", None, 1))
        .await;
    assert_eq!(wrong_offer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_key = server
        .request(
            Method::POST,
            "/v1/checkout/sessions",
            &[("origin", DIRECTORY)],
            Some(body.to_string()),
        )
        .await;
    assert!(no_key.status.is_client_error());
    assert_eq!(
        server
            .get(&format!("/v1/checkout/sessions/{session}"))
            .await
            .json()["status"],
        "open"
    );
    assert_eq!(
        server.get("/v1/checkout/sessions/cs_nothing").await.status,
        StatusCode::NOT_FOUND
    );
    server
        .seller_post(
            "/sandbox/faults",
            json!({"listing_id": "candle-trio", "mode": "503", "count": 1}),
        )
        .await;
    assert_eq!(
        server.checkout("flow-3", &body).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    server
        .seller_post(
            "/sandbox/faults",
            json!({"listing_id": "candle-trio", "mode": "429", "count": 1}),
        )
        .await;
    assert_eq!(
        server.checkout("flow-4", &body).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // The pay page: its form, its assets, a refused card, a payment.
    assert_eq!(
        server.get(&format!("/pay/{session}")).await.status,
        StatusCode::OK
    );
    for asset in ["/pay/assets/pay.css", "/pay/assets/return.js"] {
        assert_eq!(server.get(asset).await.status, StatusCode::OK, "{asset}");
    }
    let refused = server.pay(&session, "1234", TestServer::SHIPPING).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paid = server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    assert_eq!(paid.status, StatusCode::OK);

    // A membership: read, upgraded, managed, canceled.
    let (_, subscription, token) = server.buy_membership().await;
    let customer = format!("Bearer {token}");
    let as_customer = [
        ("authorization", customer.as_str()),
        ("idempotency-key", "up-1"),
    ];
    assert_eq!(
        server
            .request(
                Method::GET,
                &format!("/v1/subscriptions/{subscription}"),
                &as_customer,
                None
            )
            .await
            .status,
        StatusCode::OK
    );
    let upgraded = server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/upgrade"),
            &as_customer,
            Some(json!({"tier_id": "plus"}).to_string()),
        )
        .await;
    assert_eq!(upgraded.status, StatusCode::OK);
    let not_a_tier = server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/upgrade"),
            &[
                ("authorization", customer.as_str()),
                ("idempotency-key", "up-2"),
            ],
            Some(json!({"tier_id": "gold"}).to_string()),
        )
        .await;
    assert_eq!(not_a_tier.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        server.get(&format!("/manage/{token}")).await.status,
        StatusCode::OK
    );
    let (_, second, second_token) = server.buy_membership().await;
    let managed = server
        .send(form(
            Method::POST,
            &format!("/manage/{second_token}/upgrade"),
            "tier_id=plus&key=m-1",
        ))
        .await;
    assert_eq!(managed.status, StatusCode::SEE_OTHER);
    // Retention (issue 15): the cancel screen, a pause, a resume, a lower tier.
    assert_eq!(
        server
            .get(&format!("/manage/{second_token}/cancel"))
            .await
            .status,
        StatusCode::OK
    );
    for (path, body) in [
        ("pause", "months=1&instead_of_cancel=1&key=m-2"),
        ("resume", "key=m-3"),
        ("downgrade", "tier_id=monthly&instead_of_cancel=1&key=m-4"),
    ] {
        let managed = server
            .send(form(
                Method::POST,
                &format!("/manage/{second_token}/{path}"),
                body,
            ))
            .await;
        assert_eq!(managed.status, StatusCode::SEE_OTHER, "{path}");
    }
    let managed = server
        .send(form(
            Method::POST,
            &format!("/manage/{second_token}/cancel"),
            "",
        ))
        .await;
    assert_eq!(managed.status, StatusCode::SEE_OTHER);
    assert!(
        server
            .get("/manage/cus_nothing")
            .await
            .status
            .is_client_error()
    );
    for (action, key, body, status) in [
        (
            "pause",
            "pause-1",
            Some(json!({"months": 4})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "pause",
            "pause-2",
            Some(json!({"months": 1})),
            StatusCode::OK,
        ),
        (
            "pause",
            "pause-3",
            Some(json!({"months": 1})),
            StatusCode::CONFLICT,
        ),
        ("resume", "resume-1", None, StatusCode::OK),
        (
            "downgrade",
            "down-1",
            Some(json!({"tier_id": "monthly"})),
            StatusCode::OK,
        ),
    ] {
        let answered = server
            .request(
                Method::POST,
                &format!("/v1/subscriptions/{subscription}/{action}"),
                &[
                    ("authorization", customer.as_str()),
                    ("idempotency-key", key),
                ],
                body.map(|body| body.to_string()),
            )
            .await;
        assert_eq!(
            answered.status,
            status,
            "{action} {key}: {}",
            answered.text()
        );
    }
    let canceled = server
        .request(
            Method::POST,
            &format!("/v1/subscriptions/{subscription}/cancel"),
            &[("authorization", customer.as_str())],
            None,
        )
        .await;
    assert_eq!(canceled.json()["status"], "canceled");
    assert_eq!(
        server
            .request(
                Method::GET,
                &format!("/v1/subscriptions/{second}"),
                &[("authorization", "Bearer nobody")],
                None
            )
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // An unpaid session expires and a membership renews when the seller's clock moves.
    server.open_session("trio", None).await;
    let (_, _, _) = server.buy_membership().await;
    assert_eq!(
        server.advance_clock(32 * 86_400).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.advance_clock(0).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Orders and a refund (twice: 409).
    let orders = server
        .seller_get("/v1/orders?listing=candle-trio")
        .await
        .json();
    let order = orders["orders"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .seller_post(&format!("/v1/orders/{order}/refund"), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .seller_post(&format!("/v1/orders/{order}/refund"), json!({}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        server.seller_get("/v1/orders?listing=nothing").await.status,
        StatusCode::NOT_FOUND
    );

    // Measurement: events (accepted, refused), creator fees, metrics.
    let now = server.seller_now().await.to_rfc3339();
    let event = |id: &str, event_type: &str| json!({"id": id, "type": event_type, "listing_id": "candle-trio", "creator": null, "variant": "ana", "visitor_id": "v1", "at": now});
    let accepted = server
        .request(
            Method::POST,
            "/v1/events",
            &[("origin", DIRECTORY)],
            Some(json!({"events": [event("e1", "view"), event("e2", "offer-select")]}).to_string()),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK);
    let refused = server
        .request(
            Method::POST,
            "/v1/events",
            &[("origin", DIRECTORY)],
            Some(json!([event("e3", "teleport")]).to_string()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fees = server
        .request(
            Method::PUT,
            "/v1/listings/candle-trio/creator-fees",
            &seller,
            Some(json!({"ana": 5000}).to_string()),
        )
        .await;
    assert_eq!(fees.status, StatusCode::OK);
    let metrics = server.seller_get("/v1/metrics?listing=candle-trio").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert_eq!(
        server
            .seller_get("/v1/metrics?listing=lamp-duo")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server.seller_get("/v1/metrics").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A bundle with offer variants (issue 15): its shares, its test, the seller's stop.
    let mut bundle_ab = support::listing("bundle-ab", None);
    bundle_ab["offers"][0]["variants"] = json!([{ "id": "a" }, { "id": "b", "price": 2200 }]);
    assert_eq!(
        server.put_listing("bundle-ab", bundle_ab).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        server.get("/v1/listings/bundle-ab").await.json()["offers"][0]["variants"][1]["share"]
            .as_f64()
            .map(|share| share > 0.0),
        Some(true)
    );
    let variants = "/v1/listings/bundle-ab/offers/trio/variants";
    assert_eq!(server.seller_get(variants).await.status, StatusCode::OK);
    assert_eq!(
        server
            .seller_get("/v1/listings/bundle-ab/offers/club/variants")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let metrics = server.seller_get("/v1/metrics?listing=bundle-ab").await;
    assert_eq!(metrics.json()["offer_variants"][0]["offer_id"], "trio");
    let stop = format!("{variants}/stop");
    assert_eq!(
        server
            .seller_post(&stop, json!({ "winner": "z" }))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        server
            .seller_post(&stop, json!({ "winner": "b" }))
            .await
            .status,
        StatusCode::OK
    );

    // Creator links and views.
    let link = server
        .seller_post(
            "/v1/listings/candle-trio/creator-links",
            json!({"handle": "ana"}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED);
    let view = server
        .seller_post(
            "/v1/listings/candle-trio/creator-views",
            json!({"handle": "theo"}),
        )
        .await;
    assert_eq!(view.status, StatusCode::CREATED);
    let view_path = view.json()["url"]
        .as_str()
        .unwrap()
        .split_once("/creator/")
        .unwrap()
        .1
        .to_string();
    assert_eq!(
        server.get(&format!("/creator/{view_path}")).await.status,
        StatusCode::OK
    );
    let revoked = server
        .request(
            Method::DELETE,
            "/v1/listings/candle-trio/creator-links/theo",
            &seller,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        server.get(&format!("/creator/{view_path}")).await.status,
        StatusCode::FORBIDDEN
    );

    // The seller's pages: builder, dashboard (signed out, signed in), exports, sign-out.
    for path in [
        "/builder",
        "/builder/assets/builder.js",
        "/dashboard",
        "/dashboard/assets/dashboard.css",
    ] {
        assert_eq!(server.get(path).await.status, StatusCode::OK, "{path}");
    }
    let wrong = server
        .send(form(Method::POST, "/dashboard/sign-in", "token=wrong"))
        .await;
    assert!(wrong.text().contains("not a seller"));
    let signed_in = server
        .send(form(
            Method::POST,
            "/dashboard/sign-in",
            &format!("token={SELLER}"),
        ))
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let cookie = signed_in.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    for path in [
        "/dashboard",
        "/dashboard/listings/candle-trio",
        "/dashboard/listings/candle-trio/segments.csv",
    ] {
        assert_eq!(
            server.send(with_cookie(path, &cookie)).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        server
            .send(with_cookie(
                "/dashboard/listings/candle-trio/nothing.csv",
                &cookie
            ))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let signed_out = server
        .send(form(Method::POST, "/dashboard/sign-out", ""))
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);

    // Every event of the flows reached the receiver as described (`receiver.rs` checks each).
    while mighty_server::webhooks::deliver_due(&server.state, &reqwest::Client::new())
        .await
        .unwrap()
        > 0
    {}
    let types: BTreeSet<String> = receiver.types().into_iter().collect();
    assert_eq!(
        types.len(),
        9,
        "every event type was delivered and checked: {types:?}"
    );
    let log = server
        .seller_get(&format!("/v1/webhooks/{hook_id}/deliveries"))
        .await;
    assert_eq!(log.status, StatusCode::OK);
    let removed = server
        .request(
            Method::DELETE,
            &format!("/v1/webhooks/{hook_id}"),
            &seller,
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    let sandbox_fault = server
        .seller_post(
            "/sandbox/faults",
            json!({"listing_id": "candle-trio", "mode": "teapot", "count": 1}),
        )
        .await;
    assert_eq!(sandbox_fault.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Live mode's own two operations.
    let live = server_in(&Mode::Live).await;
    let unsigned = live
        .request(
            Method::POST,
            "/v1/partners/stripe/webhook",
            &[("stripe-signature", "t=1,v1=00")],
            Some("{}".into()),
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::BAD_REQUEST);
    assert!(
        live.get("/checkout/return/cs_nothing?result=cancel")
            .await
            .status
            .is_client_error()
    );

    // Every operation of the description has had a real answer checked against it.
    let answered: BTreeSet<(String, String)> = described::answered()
        .lock()
        .unwrap()
        .iter()
        .map(|(method, template, _)| (method.clone(), template.clone()))
        .collect();
    for mode in [Mode::Sandbox, Mode::Live] {
        for (template, methods) in described_methods(described::description(&mode)) {
            for method in methods {
                assert!(
                    answered.contains(&(method.clone(), template.clone())),
                    "{mode:?}: no answer of {method} {template} was checked"
                );
            }
        }
    }
}
