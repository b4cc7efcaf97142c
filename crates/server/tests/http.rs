//! The server's HTTP surface driven without a socket (`app().oneshot(request)`), over a
//! temporary root folder laid out like the repository.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mighty_server::{AppState, Config, app};
use tower::ServiceExt;

/// A throwaway root with index.html, www/listings and dist/, removed on drop.
struct Root(PathBuf);

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

fn root() -> Root {
    let unique = format!(
        "mighty-server-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    );
    let dir = std::env::temp_dir().join(unique.replace(['(', ')'], ""));
    let _ = std::fs::remove_dir_all(&dir);
    write(&dir, "index.html", b"<!doctype html><title>demo</title>");
    write(&dir, "dist/mighty.js", b"// loader");
    write(&dir, "dist/mighty-0123456789.wasm", b"\0asm\x01\0\0\0");
    write(&dir, "dist/mighty-0123456789.wasm.br", b"brotli bytes");
    let listing = |id: &str, origins: &str| {
        format!(
            r#"{{"version": 1, "id": "{id}", "title": "T", "currency": "EUR",
            "offers": [{{"id": "o", "kind": "bundle", "name": "O", "price": 100}}],
            "drop": {{"starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-04T18:00:00Z", "inventory": 50}},
            "allowed_origins": {origins}}}"#
        )
    };
    write(
        &dir,
        "www/listings/open.json",
        listing("open", "[\"*\"]").as_bytes(),
    );
    write(
        &dir,
        "www/listings/private.json",
        listing("private", "[\"https://directory.example\"]").as_bytes(),
    );
    write(
        &dir,
        "www/listings/broken.json",
        br#"{"id": "broken", "title": "T", "offers": []}"#,
    );
    Root(dir)
}

fn state(root: &Root) -> AppState {
    let config =
        Config::from_env(|name| (name == "MIGHTY_ROOT").then(|| root.0.display().to_string()))
            .unwrap();
    AppState::new(&config)
}

async fn send(root: &Root, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = app(state(root)).oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

#[tokio::test]
async fn healthz_answers() {
    let root = root();
    let (status, _, body) = send(&root, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["status"], "ok");
}

#[tokio::test]
async fn the_demo_page_is_served_under_the_strict_csp() {
    let root = root();
    let (status, headers, _) = send(&root, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'"
    );
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn the_bundle_is_served_cross_origin_with_its_content_type_and_cache_policy() {
    let root = root();
    let (status, headers, body) = send(&root, get("/dist/mighty-0123456789.wasm")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(body, b"\0asm\x01\0\0\0");

    let brotli = Request::get("/dist/mighty-0123456789.wasm")
        .header(header::ACCEPT_ENCODING, "br")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&root, brotli).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(body, b"brotli bytes");

    let (status, headers, _) = send(&root, get("/dist/mighty.js")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=300, must-revalidate"
    );

    let (status, _, _) = send(&root, get("/dist/nothing-here.js")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listings_are_served_with_server_time_and_stock_but_not_their_allowlist() {
    let root = root();
    let (status, headers, body) = send(&root, get("/v1/listings/open")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let document = json(&body);
    assert_eq!(document["id"], "open");
    assert_eq!(document["drop"]["remaining"], 50);
    assert_eq!(document["test_mode"], true);
    assert!(document.get("allowed_origins").is_none());
    let server_time = document["server_time"].as_str().unwrap();
    assert!(
        mighty_core::Timestamp::parse_rfc3339(server_time).is_ok(),
        "{server_time}"
    );
}

#[tokio::test]
async fn listing_cors_follows_the_allowlist() {
    let root = root();
    let from = |origin: &str| {
        Request::get("/v1/listings/private")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, _) = send(&root, from("https://directory.example")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://directory.example"
    );
    assert_eq!(headers[header::VARY], "Origin");

    let (status, headers, body) = send(&root, from("https://elsewhere.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://elsewhere.example",
        "the refusal is CORS-readable"
    );
    assert_eq!(json(&body)["error"]["code"], "origin_not_allowed");

    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/v1/listings/private")
        .header(header::ORIGIN, "https://directory.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&root, preflight).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "Content-Type, Idempotency-Key, Authorization"
    );
    assert_eq!(
        headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
        "Retry-After"
    );
}

#[tokio::test]
async fn listing_errors_use_the_error_body() {
    let root = root();
    let (status, _, body) = send(&root, get("/v1/listings/missing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["error"]["code"], "not_found");
    assert_eq!(json(&body)["error"]["message"], "no listing \"missing\"");

    let (status, _, body) = send(&root, get("/v1/listings/bad%20id")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        json(&body)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("listing ids are 1 to 64")
    );

    // A stored document that core refuses is never passed on to widgets.
    let (status, _, body) = send(&root, get("/v1/listings/broken")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json(&body)["error"]["code"], "internal");
}
