//! The seller dashboard: sign-in with the token into an HttpOnly, SameSite=Strict session
//! cookie, the listing page's charts and tables, CSV export, sign-out.

mod support;

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use support::{SELLER, TestServer};

async fn sign_in(server: &TestServer, token: &str) -> support::Response {
    let request = axum::http::Request::post("/dashboard/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("token={token}")))
        .unwrap();
    server.send(request).await
}

#[tokio::test]
async fn a_seller_signs_in_once_and_reads_the_numbers() {
    let server = TestServer::with_listing().await;
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    let events = json!([{ "id": "v1", "type": "view", "listing_id": "candle-trio", "creator": null, "variant": "ana", "visitor_id": "x", "at": server.state.now().to_rfc3339() }]);
    server
        .request(
            Method::POST,
            "/v1/events",
            &[("origin", support::DIRECTORY)],
            Some(events.to_string()),
        )
        .await;

    let anonymous = server.get("/dashboard").await;
    assert!(
        anonymous.text().contains("Seller token"),
        "the sign-in form"
    );
    let wrong = sign_in(&server, "nope").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text().contains("That token is not a seller"));

    let signed = sign_in(&server, SELLER).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    let cookie = signed.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    let session_cookie = cookie.split(';').next().unwrap().to_string();
    let with_cookie = |path: &str| {
        let request = axum::http::Request::get(path)
            .header("cookie", session_cookie.as_str())
            .body(axum::body::Body::empty())
            .unwrap();
        server.send(request)
    };

    let home = with_cookie("/dashboard").await;
    assert!(
        home.text()
            .contains("href=\"/dashboard/listings/candle-trio\"")
    );
    let listing = with_cookie("/dashboard/listings/candle-trio").await;
    assert_eq!(listing.status, StatusCode::OK);
    assert!(
        listing.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let html = listing.text();
    for expected in [
        "role=\"img\"",
        "<title id=\"funnel-title\">",
        "<desc id=\"conversion-desc\">",
        "Revenue per week",
        "Cohort retention",
        "<caption>Funnel",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    assert!(
        !html.contains(" style="),
        "no style attributes under the strict CSP"
    );

    let csv = with_cookie("/dashboard/listings/candle-trio/segments.csv").await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("segment,views,paid commits,conversion,95 % interval,30-day repeat,revenue")
    );
    assert!(text.contains("link: ana"), "{text}");
    assert_eq!(
        with_cookie("/dashboard/listings/candle-trio/nope.csv")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .get("/dashboard/listings/candle-trio/segments.csv")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let sign_out = axum::http::Request::post("/dashboard/sign-out")
        .header("cookie", session_cookie.as_str())
        .body(axum::body::Body::empty())
        .unwrap();
    let out = server.send(sign_out).await;
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(
        with_cookie("/dashboard")
            .await
            .text()
            .contains("Seller token"),
        "the session is over"
    );
}
