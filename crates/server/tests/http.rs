//! Static files, health, and the listing feed (GET and PUT), without a socket.

mod support;

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use support::{DIRECTORY, SELLER, TestServer, listing};

#[tokio::test]
async fn healthz_answers() {
    let server = TestServer::new().await;
    let response = server.get("/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["status"], "ok");
}

#[tokio::test]
async fn the_demo_page_is_served_under_the_strict_csp() {
    let server = TestServer::new().await;
    let response = server.get("/").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'"
    );
}

#[tokio::test]
async fn demo_media_are_readable_from_other_origins() {
    let server = TestServer::new().await;
    let captions = server.get("/www/media/ana.vtt").await;
    assert_eq!(captions.status, StatusCode::OK);
    assert_eq!(captions.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

#[tokio::test]
async fn the_bundle_is_served_cross_origin_with_its_content_type_and_cache_policy() {
    let server = TestServer::new().await;
    let response = server.get("/dist/mighty-0123456789.wasm").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(response.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(
        response.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.body, b"\0asm\x01\0\0\0");

    let brotli = server
        .request(
            Method::GET,
            "/dist/mighty-0123456789.wasm",
            &[("accept-encoding", "br")],
            None,
        )
        .await;
    assert_eq!(brotli.headers[header::CONTENT_ENCODING], "br");
    assert_eq!(brotli.headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(brotli.body, b"brotli bytes");

    let loader = server.get("/dist/mighty.js").await;
    assert!(
        loader.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(
        loader.headers[header::CACHE_CONTROL],
        "public, max-age=300, must-revalidate"
    );
    assert_eq!(
        server.get("/dist/nothing-here.js").await.status,
        StatusCode::NOT_FOUND
    );
}

/// `/dist/v1/` is `/dist/` under the contract's major version: the same bytes, the same
/// headers (a page that pastes `/dist/v1/mighty.js` keeps working when a new bundle ships).
#[tokio::test]
async fn the_bundle_is_served_under_its_major_version_with_the_same_files_and_headers() {
    let server = TestServer::new().await;
    for (file, cache) in [
        (
            "mighty-0123456789.wasm",
            "public, max-age=31536000, immutable",
        ),
        ("mighty.js", "public, max-age=300, must-revalidate"),
    ] {
        let flat = server.get(&format!("/dist/{file}")).await;
        let versioned = server.get(&format!("/dist/v1/{file}")).await;
        assert_eq!(versioned.status, StatusCode::OK, "/dist/v1/{file}");
        assert_eq!(versioned.body, flat.body, "{file}");
        for name in [
            header::CONTENT_TYPE,
            header::CACHE_CONTROL,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::HeaderName::from_static("cross-origin-resource-policy"),
        ] {
            assert_eq!(
                versioned.headers.get(&name),
                flat.headers.get(&name),
                "{file}: {name}"
            );
        }
        assert_eq!(versioned.headers[header::CACHE_CONTROL], cache, "{file}");
        assert_eq!(versioned.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }

    let brotli = server
        .request(
            Method::GET,
            "/dist/v1/mighty-0123456789.wasm",
            &[("accept-encoding", "br")],
            None,
        )
        .await;
    assert_eq!(brotli.headers[header::CONTENT_ENCODING], "br");
    assert_eq!(brotli.headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(
        brotli.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(brotli.body, b"brotli bytes");

    // A file the bundle does not have is the usual 404, named with the path asked for; a
    // name that only starts like the version is a file name like any other.
    for path in [
        "/dist/v1/mighty-0000000000.wasm",
        "/dist/v1x.js",
        "/dist/v2/mighty.js",
    ] {
        let missing = server.get(path).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(missing.error_code(), "not_found", "{path}");
        assert_eq!(missing.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let message = missing.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(&format!("at {path}:")),
            "{path}: {message}"
        );
    }
}

#[tokio::test]
async fn unknown_api_paths_answer_with_the_error_body() {
    let server = TestServer::new().await;
    let response = server.get("/v1/nothing").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.error_code(), "not_found");
}

#[tokio::test]
async fn a_missing_bundle_file_is_a_404_with_the_error_body() {
    let server = TestServer::new().await;
    let response = server.get("/dist/mighty-0000000000.wasm").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.error_code(), "not_found");
    assert_eq!(response.headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn unreadable_query_parameters_answer_400_with_the_error_body() {
    let server = TestServer::with_listing().await;
    for path in [
        "/v1/metrics?listing=candle-trio&listing=other",
        "/v1/orders?listing=a&listing=b",
    ] {
        let response = server.seller_get(path).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(response.error_code(), "malformed_body", "{path}");
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("listing"), "{path}: {message}");
    }
}

#[tokio::test]
async fn a_known_path_with_another_method_answers_405_with_the_error_body() {
    let server = TestServer::new().await;
    for (method, path) in [
        (Method::GET, "/v1/webhooks"),
        (Method::PUT, "/v1/checkout/sessions"),
        (Method::DELETE, "/v1/orders"),
    ] {
        let response = server.request(method.clone(), path, &[], None).await;
        assert_eq!(
            response.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(response.error_code(), "method_not_allowed");
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(message, format!("{method} is not allowed on {path}"));
    }
}

#[tokio::test]
async fn a_seller_puts_a_listing_and_anyone_allowed_reads_it_with_stock_and_server_time() {
    let server = TestServer::new().await;
    let created = server
        .put_listing(
            "candle-trio",
            listing(
                "candle-trio",
                Some(("2026-12-01T18:00:00Z", "2026-12-04T18:00:00Z", 50)),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.json()["allowed_origins"],
        json!([DIRECTORY, "http://127.0.0.1"])
    );
    let replaced = server
        .put_listing(
            "candle-trio",
            listing(
                "candle-trio",
                Some(("2026-12-01T18:00:00Z", "2026-12-04T18:00:00Z", 60)),
            ),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK);

    let response = server
        .request(
            Method::GET,
            "/v1/listings/candle-trio",
            &[("origin", DIRECTORY)],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        DIRECTORY
    );
    assert_eq!(response.headers[header::CACHE_CONTROL], "no-store");
    let document = response.json();
    assert_eq!(document["drop"]["remaining"], 60);
    assert_eq!(document["test_mode"], true);
    assert!(
        document.get("allowed_origins").is_none(),
        "the allowlist is not served"
    );
    assert!(
        mighty_core::Timestamp::parse_rfc3339(document["server_time"].as_str().unwrap()).is_ok()
    );
    // What is served is a valid listing for the widget.
    assert!(mighty_core::parse_listing(&document.to_string()).is_ok());
}

#[tokio::test]
async fn listing_cors_follows_the_allowlist() {
    let server = TestServer::with_listing().await;
    let refused = server
        .request(
            Method::GET,
            "/v1/listings/candle-trio",
            &[("origin", "https://elsewhere.example")],
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://elsewhere.example",
        "the refusal is CORS-readable"
    );
    assert_eq!(refused.error_code(), "origin_not_allowed");

    let preflight = server
        .request(
            Method::OPTIONS,
            "/v1/listings/candle-trio",
            &[
                ("origin", DIRECTORY),
                ("access-control-request-method", "GET"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "Content-Type, Idempotency-Key, Mighty-Session-Secret, Authorization"
    );
}

#[tokio::test]
async fn put_listing_errors() {
    let server = TestServer::with_listing().await;
    let no_token = server
        .request(Method::PUT, "/v1/listings/x", &[], Some("{}".into()))
        .await;
    assert_eq!(
        (no_token.status, no_token.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let bad_token = server
        .request(
            Method::PUT,
            "/v1/listings/x",
            &[("authorization", "Bearer nope")],
            Some("{}".into()),
        )
        .await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);

    let malformed = server
        .request(
            Method::PUT,
            "/v1/listings/x",
            &[("authorization", &format!("Bearer {SELLER}"))],
            Some("{oops".into()),
        )
        .await;
    assert_eq!(
        (malformed.status, malformed.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "malformed_body")
    );

    let mut negative = listing("neg", None);
    negative["offers"][0]["price"] = json!(-1);
    let invalid = server.put_listing("neg", negative).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.json()["error"]["field"], "offers[0].price");
    assert_eq!(
        invalid.json()["error"]["message"],
        "offers[0].price: -1 is negative; a price is 0 or more minor units"
    );

    let mismatch = server
        .put_listing("other", listing("candle-trio", None))
        .await;
    assert_eq!(mismatch.json()["error"]["field"], "id");

    let mut no_origins = listing("solo", None);
    no_origins
        .as_object_mut()
        .unwrap()
        .remove("allowed_origins");
    assert_eq!(
        server.put_listing("solo", no_origins).await.json()["error"]["field"],
        "allowed_origins"
    );
    let mut bad_origin = listing("solo", None);
    bad_origin["allowed_origins"] = json!(["https://directory.example/lyon"]);
    assert_eq!(
        server.put_listing("solo", bad_origin).await.json()["error"]["field"],
        "allowed_origins[0]"
    );

    let other_seller = server
        .state
        .store(|store| store.add_seller("Other", "msk_other_seller_token_1", 0))
        .await
        .unwrap();
    assert!(!other_seller.id.is_empty());
    let not_yours = server
        .request(
            Method::PUT,
            "/v1/listings/candle-trio",
            &[("authorization", "Bearer msk_other_seller_token_1")],
            Some(listing("candle-trio", None).to_string()),
        )
        .await;
    assert_eq!(
        (not_yours.status, not_yours.error_code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );

    let too_large = server
        .put_listing("big", json!({ "padding": "x".repeat(70 * 1024) }))
        .await;
    assert_eq!(
        (too_large.status, too_large.error_code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );

    assert_eq!(
        server.get("/v1/listings/missing").await.error_code(),
        "not_found"
    );
}
