//! Bounded fuzzing of the server's parsers of outside input (security review, issue 11): the
//! CSV import, and arbitrary bodies to `POST /v1/checkout/sessions` and `POST /v1/events`
//! through the in-process app. Never a 5xx, always the `{"error": {"code", "message"}}` body
//! on a 4xx; and the money bounds (point 9) at the server's edge.

mod support;

use axum::http::{Method, StatusCode};
use mighty_core::listing::is_direction_control;
use mighty_core::money::MAX_AMOUNT_MINOR;
use mighty_server::import::{ImportOptions, import_directory};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use support::{DIRECTORY, TestServer};

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

const INTERESTING: &[&str] = &[
    "",
    " ",
    "candle-trio",
    "trio",
    "club",
    "monthly",
    "plus",
    "ana",
    "view",
    "checkout-complete",
    "2026-11-20T10:00:00Z",
    "https://directory.example/lyon",
    "https://evil.example/",
    "javascript:alert(1)",
    "\u{202E}",
    "24.00",
    "1000000.00",
    "999999.99",
    "-1",
    "EUR",
    "month",
    "\"",
    ",",
    "\n",
    "😀",
];

const KEYS: &[&str] = &[
    "listing_id",
    "offer_id",
    "tier_id",
    "quantity",
    "attribution",
    "creator",
    "token",
    "variant",
    "page",
    "utm",
    "source",
    "return_url",
    "events",
    "id",
    "type",
    "visitor_id",
    "at",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(INTERESTING).prop_map(String::from),
        2 => any::<String>(),
        1 => "[a-z0-9_.-]{1,10}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-2i64..1_002).prop_map(Value::from),
        (-1e3f64..1e3).prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![4 => select(KEYS).prop_map(String::from), 1 => any::<String>()],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A valid body with up to three of its fields replaced (or removed).
fn near(valid: Value) -> impl Strategy<Value = Value> {
    prop::collection::vec((any::<Index>(), prop::option::of(json_value())), 0..3).prop_map(
        move |changes| {
            let mut body = valid.clone();
            for (index, value) in changes {
                let object = body.as_object_mut().unwrap();
                let keys: Vec<String> = object.keys().cloned().collect();
                if keys.is_empty() {
                    break;
                }
                let key = &keys[index.index(keys.len())];
                match value {
                    Some(value) => {
                        object.insert(key.clone(), value);
                    }
                    None => {
                        object.remove(key);
                    }
                }
            }
            body
        },
    )
}

/// Raw bytes, JSON text of any value, or a body near a valid one.
fn body(valid: Value) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        2 => json_value().prop_map(|value| value.to_string()),
        3 => near(valid).prop_map(|value| value.to_string()),
    ]
}

/// No 5xx; a 4xx has the error body.
fn check_answer(response: &support::Response) -> Result<(), TestCaseError> {
    prop_assert!(
        !response.status.is_server_error(),
        "{}: {}",
        response.status,
        response.text()
    );
    if response.status.is_client_error() {
        let body: Value = serde_json::from_slice(&response.body)
            .map_err(|error| TestCaseError::fail(format!("{error}: {}", response.text())))?;
        let error = &body["error"];
        prop_assert!(
            error["code"].as_str().is_some_and(|code| !code.is_empty()),
            "{body}"
        );
        prop_assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
            "{body}"
        );
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn checkout_bodies_never_5xx() {
    let runtime = runtime();
    let server = runtime.block_on(TestServer::with_listing());
    let valid = TestServer::checkout_body("trio", None, 2);
    let case = std::cell::Cell::new(0);
    TestRunner::new(config(96))
        .run(&body(valid), |body| {
            case.set(case.get() + 1);
            let response = runtime.block_on(server.request(
                Method::POST,
                "/v1/checkout/sessions",
                &[
                    ("idempotency-key", &format!("fuzz-{}", case.get())),
                    ("origin", DIRECTORY),
                ],
                Some(body),
            ));
            check_answer(&response)?;
            if response.status == StatusCode::CREATED {
                let amount = response.json()["amount"].as_i64().unwrap();
                prop_assert!((0..=MAX_AMOUNT_MINOR * 10).contains(&amount));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn event_batches_never_5xx() {
    let runtime = runtime();
    let server = runtime.block_on(TestServer::with_listing());
    let event = json!({ "id": "e1", "type": "view", "listing_id": "candle-trio", "creator": null,
                        "variant": "ana", "visitor_id": "v1", "at": "2026-11-20T10:00:00Z" });
    let batch = prop_oneof![
        body(json!({ "events": [event.clone()] })),
        prop::collection::vec(near(event), 0..4)
            .prop_map(|events| json!({ "events": events }).to_string()),
    ];
    TestRunner::new(config(96))
        .run(&batch, |body| {
            let response = runtime.block_on(server.request(
                Method::POST,
                "/v1/events",
                &[
                    ("content-type", "text/plain;charset=UTF-8"),
                    ("origin", DIRECTORY),
                ],
                Some(body),
            ));
            check_answer(&response)
        })
        .unwrap();
}

#[tokio::test]
async fn quantities_past_the_servers_limit_are_a_422_naming_quantity() {
    let server = TestServer::with_listing().await;
    for (index, quantity) in [
        json!(0),
        json!(11),
        json!(999),
        json!(1000),
        json!(u32::MAX),
        json!(1u64 << 32),
        json!(-1),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = TestServer::checkout_body("trio", None, 1);
        body["quantity"] = quantity.clone();
        let response = server.checkout(&format!("q{index}"), &body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{quantity}: {}",
            response.text()
        );
        assert_eq!(response.json()["error"]["field"], "quantity", "{quantity}");
    }
    let ten = server
        .checkout("q-ten", &TestServer::checkout_body("trio", None, 10))
        .await;
    assert_eq!(ten.status, StatusCode::CREATED, "{}", ten.text());
    assert_eq!(ten.json()["amount"], 24_000);
}

#[tokio::test]
async fn listings_with_prices_past_the_bound_or_direction_controls_are_refused() {
    let server = TestServer::new().await;
    let cases = [
        ("/offers/0/price", json!(100_000_000), "offers[0].price"),
        ("/offers/0/price", json!(i64::MAX), "offers[0].price"),
        (
            "/offers/1/tiers/1/price",
            json!(4_611_686_018_427_387_905_i64),
            "offers[1].tiers[1].price",
        ),
        ("/title", json!("Candle trio \u{202E}00.42"), "title"),
        ("/seller/name", json!("\u{2067}Hearth"), "seller.name"),
    ];
    for (pointer, value, field) in cases {
        let mut document = support::listing("candle-trio", None);
        *document.pointer_mut(pointer).unwrap() = value.clone();
        let response = server.put_listing("candle-trio", document).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{pointer} = {value}: {}",
            response.text()
        );
        let body = response.json();
        assert_eq!(body["error"]["field"], field);
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("at most 99999999 minor units (999999.99 EUR)")
                || message.contains("invisible direction control"),
            "{message}"
        );
    }
}

#[test]
fn csv_import_refuses_prices_past_the_bound_and_direction_controls() {
    let csv = "name,city,category,price\n\
               Big,Lyon,Shop,1000000.00\n\
               Ok,Lyon,Shop,999999.99\n\
               Evil \u{202E}Shop,Lyon,Shop,2\n\
               Cat,Lyon,Sh\u{2066}op,2\n";
    let report = import_directory(csv, &ImportOptions::default()).unwrap();
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "line 2: offers[0].price: 100000000 is too large; a price is at most 99999999 minor units (999999.99 EUR)",
            "line 4: title: contains the invisible direction control U+202E; remove it; \
             seller.name: contains the invisible direction control U+202E; remove it; \
             offers[0].name: contains the invisible direction control U+202E; remove it",
            "line 5: category: contains the invisible direction control U+2066; remove it",
        ]
    );
    assert_eq!(report.listings.len(), 1);
    assert_eq!(report.listings[0].1["offers"][0]["price"], MAX_AMOUNT_MINOR);
}

fn csv_field() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(),
        1 => "[0-9]{1,9}(\\.[0-9]{1,3})?",
        1 => select(vec!["month", "year", "week", "fortnight"]).prop_map(String::from),
    ]
}

fn csv_text() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        3 => Just("name,address,city,category,url,summary,offer,price,currency,interval".to_string()),
        1 => prop::collection::vec(
            prop_oneof![select(vec!["name", "price", "currency", "interval", "url", "category", "Name"]).prop_map(String::from), text()],
            0..6,
        )
        .prop_map(|columns| columns.join(",")),
    ];
    let quote = |field: String| {
        if field.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field
        }
    };
    let row = prop::collection::vec(csv_field(), 0..11)
        .prop_map(move |fields| fields.into_iter().map(quote).collect::<Vec<_>>().join(","));
    prop_oneof![
        1 => any::<String>(),
        4 => (header, prop::collection::vec(row, 0..6))
            .prop_map(|(header, rows)| format!("{header}\n{}", rows.join("\n"))),
    ]
}

#[test]
fn csv_import_never_panics_and_keeps_only_valid_listings() {
    let options = ImportOptions {
        checkout: Some("https://pay.example/v1/checkout/sessions".into()),
        ..ImportOptions::default()
    };
    TestRunner::new(config(256))
        .run(&csv_text(), |csv| {
            let Ok(report) = import_directory(&csv, &options) else {
                return Ok(());
            };
            for error in &report.errors {
                prop_assert!(!error.message.is_empty());
            }
            for (id, document) in &report.listings {
                let listing = mighty_core::parse_listing(&document.to_string())
                    .map_err(|errors| TestCaseError::fail(errors.to_string()))?;
                prop_assert_eq!(&listing.id, id);
                let price = listing.offers[0].entry_price().minor;
                prop_assert!((0..=MAX_AMOUNT_MINOR).contains(&price));
                prop_assert!(!document.to_string().chars().any(is_direction_control));
            }
            Ok(())
        })
        .unwrap();
}
