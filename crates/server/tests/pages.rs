//! The server's HTML pages and forms (security review, issue 11): every page carries the
//! no-framing headers, form posts from other sites are refused, token guesses are throttled
//! per client address, and a receipt shows personal data only to the browser that paid.

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use support::{SELLER, TestServer};

const OWN_ORIGIN: &str = "http://127.0.0.1:8080";
const EVIL: &str = "https://evil.example";

/// A form post to `path`, from `peer` when given, with `headers` (the Host is the server's).
async fn form_post(
    server: &TestServer,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
    peer: Option<SocketAddr>,
) -> support::Response {
    let mut builder = Request::post(path)
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut request = builder.body(Body::from(body.to_string())).unwrap();
    if let Some(peer) = peer {
        request.extensions_mut().insert(ConnectInfo(peer));
    }
    server.send(request).await
}

/// A `GET` with `headers`, from `peer` when given.
async fn get_from(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    peer: Option<SocketAddr>,
) -> support::Response {
    let mut builder = Request::get(path).header("host", "127.0.0.1:8080");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut request = builder.body(Body::empty()).unwrap();
    if let Some(peer) = peer {
        request.extensions_mut().insert(ConnectInfo(peer));
    }
    server.send(request).await
}

/// The pay form filled in, with a shipping address (`trio` ships).
fn pay_form() -> String {
    let shipping: String = TestServer::SHIPPING
        .iter()
        .map(|(name, value)| format!("&{name}={}", value.replace(' ', "+")))
        .collect();
    format!(
        "email=ana%40example.com&cc-name=Ana+Ruiz&cc-number=4242424242424242&cc-exp=12%2F40&cc-csc=123{shipping}"
    )
}

/// Signs in to the dashboard; the session cookie (`name=value`).
async fn dashboard_cookie(server: &TestServer) -> String {
    let signed = form_post(
        server,
        "/dashboard/sign-in",
        &format!("token={SELLER}"),
        &[],
        None,
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    signed.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn assert_page_headers(response: &support::Response, what: &str) {
    assert!(
        response.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{what}: an HTML page"
    );
    let policy = response.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        policy.starts_with(mighty_server::static_files::STRICT_CSP)
            && policy.contains("frame-ancestors 'none'"),
        "{what}: {policy}"
    );
    assert_eq!(response.headers[header::X_FRAME_OPTIONS], "DENY", "{what}");
    assert_eq!(
        response.headers[header::CACHE_CONTROL],
        "no-store",
        "{what}"
    );
    assert_eq!(
        response.headers[header::X_CONTENT_TYPE_OPTIONS],
        "nosniff",
        "{what}"
    );
}

#[tokio::test]
async fn every_html_page_forbids_framing() {
    let server = TestServer::with_listing().await;
    let open = server.open_session("trio", None).await;
    let paid = server.open_session("trio", None).await;
    let (_, _, customer_token) = server.buy_membership().await;
    let view = server
        .seller_post(
            "/v1/listings/candle-trio/creator-views",
            json!({ "handle": "ana" }),
        )
        .await;
    assert_eq!(view.status, StatusCode::CREATED, "{}", view.text());
    let view_path = url_path(view.json()["url"].as_str().unwrap());
    let cookie = dashboard_cookie(&server).await;

    let mut pages = vec![
        (
            format!("/pay/{open}"),
            get_from(&server, &format!("/pay/{open}"), &[], None).await,
        ),
        (
            format!("POST /pay/{paid}"),
            form_post(&server, &format!("/pay/{paid}"), &pay_form(), &[], None).await,
        ),
        (
            format!("POST /pay/{open} with errors"),
            form_post(&server, &format!("/pay/{open}"), "email=nope", &[], None).await,
        ),
        (
            format!("/pay/{paid} (receipt)"),
            server.get(&format!("/pay/{paid}")).await,
        ),
        (
            "/pay/cs_unknown".into(),
            server.get("/pay/cs_unknown").await,
        ),
        (
            "/manage/{token}".into(),
            server.get(&format!("/manage/{customer_token}")).await,
        ),
        (
            "/manage/cus_unknown".into(),
            server.get("/manage/cus_unknown").await,
        ),
        (view_path.clone(), server.get(&view_path).await),
        (
            "/creator/not-a-token".into(),
            server.get("/creator/not-a-token").await,
        ),
        ("/builder".into(), server.get("/builder").await),
        (
            "/dashboard (sign in)".into(),
            server.get("/dashboard").await,
        ),
        (
            "POST /dashboard/sign-in (wrong token)".into(),
            form_post(&server, "/dashboard/sign-in", "token=nope", &[], None).await,
        ),
    ];
    for path in [
        "/dashboard",
        "/dashboard/listings/candle-trio",
        "/dashboard/listings/not-mine",
    ] {
        pages.push((
            format!("{path} (signed in)"),
            get_from(&server, path, &[("cookie", &cookie)], None).await,
        ));
    }
    for (what, response) in &pages {
        assert_page_headers(response, what);
    }
    let statuses: Vec<u16> = pages.iter().map(|(_, page)| page.status.as_u16()).collect();
    assert_eq!(
        statuses,
        [
            200, 200, 422, 200, 404, 200, 404, 200, 403, 200, 200, 401, 200, 200, 404
        ],
        "the pages checked are the ones meant"
    );
}

fn url_path(url: &str) -> String {
    let parsed = url::Url::parse(url).unwrap();
    parsed.path().to_string()
}

#[tokio::test]
async fn pages_escape_what_sellers_and_shoppers_write() {
    let server = TestServer::new().await;
    let hostile = "</script><script>alert(1)</script> <!-- \"quoted\" & more";
    let mut document = support::listing("candle-trio", None);
    document["title"] = json!(hostile);
    let stored = server.put_listing("candle-trio", document).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text());
    let (_, _, customer_token) = server.buy_membership().await;
    let manage = server.get(&format!("/manage/{customer_token}")).await;
    let cookie = dashboard_cookie(&server).await;
    let home = get_from(&server, "/dashboard", &[("cookie", &cookie)], None).await;
    for (what, page) in [("manage", manage), ("dashboard", home)] {
        let html = page.text();
        assert!(!html.contains("<script>alert"), "{what}: {html}");
        assert!(!html.contains("<!-- "), "{what}: {html}");
        assert!(
            html.contains(
                "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;!-- &quot;quoted&quot; &amp; more"
            ),
            "{what}: {html}"
        );
    }
    let builder = server.get("/builder").await.text();
    let json = builder
        .split("<script type=\"application/json\" id=\"currencies\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(json).unwrap()["JPY"],
        0
    );
}

#[tokio::test]
async fn form_posts_from_another_site_are_refused() {
    let server = TestServer::with_listing().await;
    let cookie = dashboard_cookie(&server).await;
    let (_, subscription, token) = server.buy_membership().await;
    let session = server.open_session("trio", None).await;
    let pay_form = pay_form();
    let sign_in = format!("token={SELLER}");
    let forms: [(String, &str); 5] = [
        (format!("/pay/{session}"), pay_form.as_str()),
        ("/dashboard/sign-in".into(), sign_in.as_str()),
        ("/dashboard/sign-out".into(), ""),
        (format!("/manage/{token}/upgrade"), "tier_id=plus&key=k1"),
        (format!("/manage/{token}/cancel"), ""),
    ];
    let foreign: [&[(&str, &str)]; 5] = [
        &[("origin", EVIL)],
        &[("origin", "null")],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site"), ("origin", OWN_ORIGIN)],
        &[("origin", "http://127.0.0.1:8080.evil.example")],
    ];
    for (path, body) in &forms {
        for headers in foreign {
            let mut headers = headers.to_vec();
            headers.push(("cookie", &cookie));
            let refused = form_post(&server, path, body, &headers, None).await;
            assert_eq!(
                (refused.status, refused.error_code().as_str()),
                (StatusCode::FORBIDDEN, "cross_site_request"),
                "{path} with {headers:?}"
            );
            assert!(
                refused.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("only from this server's own pages"),
                "{}",
                refused.text()
            );
            assert!(
                !refused.headers.contains_key(header::SET_COOKIE),
                "{path}: no sign-in, no sign-out"
            );
        }
    }
    // Nothing changed: the session is open, the seller still signed in, the membership
    // active on its tier.
    let status = server
        .get(&format!("/v1/checkout/sessions/{session}"))
        .await;
    assert_eq!(status.json()["status"], "open");
    let home = get_from(&server, "/dashboard", &[("cookie", &cookie)], None).await;
    assert!(home.text().contains("Sign out"), "still signed in");
    let membership = server
        .seller_get(&format!("/v1/subscriptions/{subscription}"))
        .await
        .json();
    assert_eq!(
        (
            membership["tier_id"].as_str(),
            membership["status"].as_str()
        ),
        (Some("monthly"), Some("active"))
    );

    // The same forms from the server's own pages go through.
    let own: &[(&str, &str)] = &[("origin", OWN_ORIGIN), ("sec-fetch-site", "same-origin")];
    let paid = form_post(&server, &format!("/pay/{session}"), &pay_form, own, None).await;
    assert!(paid.text().contains("Payment received"), "{}", paid.text());
    let upgraded = form_post(
        &server,
        &format!("/manage/{token}/upgrade"),
        "tier_id=plus&key=k1",
        own,
        None,
    )
    .await;
    assert_eq!(
        upgraded.status,
        StatusCode::SEE_OTHER,
        "{}",
        upgraded.text()
    );
    let canceled = form_post(&server, &format!("/manage/{token}/cancel"), "", own, None).await;
    assert_eq!(
        canceled.status,
        StatusCode::SEE_OTHER,
        "{}",
        canceled.text()
    );
    let membership = server
        .seller_get(&format!("/v1/subscriptions/{subscription}"))
        .await
        .json();
    assert_eq!(
        (
            membership["tier_id"].as_str(),
            membership["status"].as_str()
        ),
        (Some("plus"), Some("canceled"))
    );
    let mut with_cookie = own.to_vec();
    with_cookie.push(("cookie", &cookie));
    let out = form_post(&server, "/dashboard/sign-out", "", &with_cookie, None).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let again = form_post(&server, "/dashboard/sign-in", &sign_in, own, None).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
}

fn assert_rate_limited(response: &support::Response, what: &str) {
    assert_eq!(
        (
            response.status,
            response.headers.get(header::RETRY_AFTER).is_some()
        ),
        (StatusCode::TOO_MANY_REQUESTS, true),
        "{what}: {}",
        response.text()
    );
    let seconds: u64 = response.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{what}: Retry-After {seconds}");
}

const GUESSER: ([u8; 4], u16) = ([203, 0, 113, 9], 50_000);
const NEIGHBOUR: ([u8; 4], u16) = ([203, 0, 113, 10], 50_000);

#[tokio::test]
async fn seller_token_guesses_are_throttled_per_address() {
    let server = TestServer::with_listing().await;
    let (guesser, neighbour) = (SocketAddr::from(GUESSER), SocketAddr::from(NEIGHBOUR));
    for attempt in 0..10 {
        let wrong = get_from(
            &server,
            "/v1/orders",
            &[("authorization", &format!("Bearer msk_guess_{attempt}"))],
            Some(guesser),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let right = format!("Bearer {SELLER}");
    let held = get_from(
        &server,
        "/v1/orders",
        &[("authorization", &right)],
        Some(guesser),
    )
    .await;
    assert_rate_limited(&held, "the right token after ten wrong ones");
    assert_eq!(held.error_code(), "rate_limited");
    let other = get_from(
        &server,
        "/v1/orders",
        &[("authorization", &right)],
        Some(neighbour),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "another address is not held");

    // The dashboard's sign-in counts the same failures, and is held too.
    let sign_in = form_post(
        &server,
        "/dashboard/sign-in",
        &format!("token={SELLER}"),
        &[],
        Some(guesser),
    )
    .await;
    assert_rate_limited(&sign_in, "dashboard sign-in");
    assert!(!sign_in.headers.contains_key(header::SET_COOKIE));
}

#[tokio::test]
async fn dashboard_sign_in_guesses_are_throttled() {
    let server = TestServer::with_listing().await;
    for attempt in 0..10 {
        let wrong = form_post(
            &server,
            "/dashboard/sign-in",
            &format!("token=guess{attempt}"),
            &[],
            None,
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let right = form_post(
        &server,
        "/dashboard/sign-in",
        &format!("token={SELLER}"),
        &[],
        None,
    )
    .await;
    assert_rate_limited(&right, "the right token after ten wrong ones");
    assert!(
        right.text().contains("too many wrong tokens"),
        "{}",
        right.text()
    );
    assert!(!right.headers.contains_key(header::SET_COOKIE));
    let api = server.seller_get("/v1/orders").await;
    assert_rate_limited(&api, "the seller API from the same address");
}

#[tokio::test]
async fn customer_token_guesses_are_throttled() {
    let server = TestServer::with_listing().await;
    let (_, subscription, token) = server.buy_membership().await;
    let guesser = SocketAddr::from(GUESSER);
    for attempt in 0..5 {
        let wrong = get_from(
            &server,
            &format!("/manage/cus_guess{attempt}"),
            &[],
            Some(guesser),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::NOT_FOUND, "attempt {attempt}");
    }
    for attempt in 5..10 {
        let wrong = get_from(
            &server,
            &format!("/v1/subscriptions/{subscription}"),
            &[("authorization", &format!("Bearer cus_guess{attempt}"))],
            Some(guesser),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let page = get_from(&server, &format!("/manage/{token}"), &[], Some(guesser)).await;
    assert_rate_limited(&page, "the manage page with the right token");
    assert!(!page.text().contains("Your membership"));
    let bearer = format!("Bearer {token}");
    let api = get_from(
        &server,
        &format!("/v1/subscriptions/{subscription}"),
        &[("authorization", &bearer)],
        Some(guesser),
    )
    .await;
    assert_rate_limited(&api, "the subscription API with the right token");
    let cancel = form_post(
        &server,
        &format!("/manage/{token}/cancel"),
        "",
        &[],
        Some(guesser),
    )
    .await;
    assert_rate_limited(&cancel, "the manage page's cancel");
    let membership = server
        .seller_get(&format!("/v1/subscriptions/{subscription}"))
        .await
        .json();
    assert_eq!(
        membership["status"], "active",
        "the held cancel changed nothing"
    );
    let neighbour = get_from(
        &server,
        &format!("/manage/{token}"),
        &[],
        Some(SocketAddr::from(NEIGHBOUR)),
    )
    .await;
    assert_eq!(neighbour.status, StatusCode::OK);
}

#[tokio::test]
async fn the_receipt_shows_personal_data_only_to_the_browser_that_paid() {
    let server = TestServer::with_listing().await;
    let session = server.open_session("trio", None).await;
    let receipt = server
        .pay(&session, "4242 4242 4242 4242", TestServer::SHIPPING)
        .await;
    let html = receipt.text();
    assert!(
        html.contains("Payment received")
            && html.contains("•••• 4242")
            && html.contains("ana@example.com"),
        "the payer sees the receipt: {html}"
    );
    let set_cookie = receipt.headers[header::SET_COOKIE].to_str().unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        &format!("Path=/pay/{session}"),
    ] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http on localhost");
    let cookie = set_cookie.split(';').next().unwrap().to_string();

    // A stranger with the session id: the status and amounts only.
    let stranger = server.get(&format!("/pay/{session}")).await;
    assert_eq!(stranger.status, StatusCode::OK);
    let html = stranger.text();
    assert!(
        html.contains("Payment received") && html.contains("24.00"),
        "{html}"
    );
    for personal in ["ana@example.com", "••••", "Ana Ruiz", "Mercière", "69002"] {
        assert!(
            !html.contains(personal),
            "a stranger sees {personal}: {html}"
        );
    }
    // Nor with a made-up receipt cookie, nor with another session's.
    let other = server.open_session("trio", None).await;
    let other_receipt = server
        .pay(&other, "4242424242424242", TestServer::SHIPPING)
        .await;
    let other_cookie = other_receipt.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    for forged in [
        "mighty_receipt=00",
        "mighty_receipt=",
        other_cookie.as_str(),
    ] {
        let page = get_from(
            &server,
            &format!("/pay/{session}"),
            &[("cookie", forged)],
            None,
        )
        .await;
        assert!(!page.text().contains("ana@example.com"), "{forged}");
    }
    // A second post (say, a replay by someone else) is not the payer either.
    let replay = server.pay(&session, "4242424242424242", &[]).await;
    assert!(replay.text().contains("Payment received"));
    assert!(!replay.text().contains("ana@example.com"));
    assert!(!replay.headers.contains_key(header::SET_COOKIE));

    // The browser that paid keeps its receipt.
    let payer = get_from(
        &server,
        &format!("/pay/{session}"),
        &[("cookie", &format!("theme=dark; {cookie}"))],
        None,
    )
    .await;
    assert!(
        payer.text().contains("ana@example.com") && payer.text().contains("•••• 4242"),
        "{}",
        payer.text()
    );
}

#[tokio::test]
async fn the_receipt_cookie_is_secure_behind_https() {
    let server = TestServer::with_listing().await;
    let session = server.open_session("trio", None).await;
    let receipt = form_post(
        &server,
        &format!("/pay/{session}"),
        &pay_form(),
        &[("x-forwarded-proto", "https")],
        None,
    )
    .await;
    assert!(
        receipt.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure"),
        "{:?}",
        receipt.headers
    );
    assert_eq!(
        form_post(&server, "/dashboard/sign-out", "", &[], None)
            .await
            .status,
        StatusCode::SEE_OTHER,
        "a post without Origin or Sec-Fetch-Site (curl) goes through"
    );
}
