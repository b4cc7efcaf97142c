//! The demo directory page, its assets (`www/`) and the widget bundle (`dist/`).
//!
//! `dist/` is what a CDN would serve: any origin may load it (`Access-Control-Allow-Origin: *`,
//! module scripts and wasm are fetched in CORS mode), precompressed `.br`/`.gz` copies are
//! sent to clients that accept them, and content-hashed files are cached for a year while the
//! loader (`mighty.js`, the one URL pages paste) is revalidated after five minutes. The same
//! files are served under the contract's major version too (`/dist/v1/`). HTML is
//! served with the strict CSP of SPEC section 8, so the demo proves the widget works under it.
//!
//! JSON files under `/www/` (the demo's listing documents in `www/listings/`, which are also
//! the seed documents of `MIGHTY_SEED_LISTINGS`) are served without their `allowed_origins`:
//! a listing's allowlist is never served, here as on `GET /v1/listings/{id}`.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// SPEC section 8's strict policy.
pub const STRICT_CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

/// The major version of the embed contract (SPEC's listing document version 1, the
/// `window.Mighty` API, the `mighty:*` events). `/dist/v1/` serves the same files as `/dist/`:
/// the URL a page pastes names the contract it was written for, not one build, so a new bundle
/// of the same major version ships under it without the page changing.
pub const BUNDLE_MAJOR_VERSION: &str = "v1";

pub fn routes<S: Clone + Send + Sync + 'static>(root: &Path) -> Router<S> {
    let pages = Router::new()
        .route_service("/", ServeFile::new(root.join("index.html")))
        .nest_service("/www", ServeDir::new(root.join("www")).precompressed_gzip())
        .layer(middleware::from_fn(without_allowed_origins))
        .layer(middleware::from_fn(page_headers));
    let versioned = format!("/dist/{BUNDLE_MAJOR_VERSION}");
    Router::new()
        .nest("/dist", bundle(root, "/dist"))
        .nest(&versioned, bundle(root, &versioned))
        .merge(pages)
}

/// `dist/` served under `prefix`: any origin may load it, precompressed copies, the cache
/// policy of [`bundle_cache_headers`].
fn bundle<S: Clone + Send + Sync + 'static>(root: &Path, prefix: &str) -> Router<S> {
    let prefix = prefix.to_string();
    let missing = move |uri: axum::http::Uri| {
        let prefix = prefix.clone();
        async move { missing_bundle_file(&prefix, uri.path()) }
    };
    Router::new()
        .fallback_service(
            ServeDir::new(root.join("dist"))
                .precompressed_br()
                .precompressed_gzip()
                .not_found_service(axum::handler::HandlerWithoutStateExt::into_service(missing)),
        )
        .layer(middleware::from_fn(bundle_cache_headers))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ))
}

/// A file the bundle does not have: the usual error body, naming what to check.
fn missing_bundle_file(prefix: &str, path: &str) -> crate::error::AppError {
    crate::error::AppError::NotFound(format!(
        "no bundle file at {prefix}{path}: run `cargo xtask dist` (or `cargo xtask demo`), and load mighty.js, which names the others"
    ))
}

/// Hashed bundle files never change; `mighty.js` (the stable URL sites paste) is revalidated.
async fn bundle_cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() {
        let cache = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300, must-revalidate"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

/// `mighty-0123456789.wasm`: a name carrying a 10-hex-digit content hash.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some(rest) = name.strip_prefix("mighty-") else {
        return false;
    };
    let hash = rest.split('.').next().unwrap_or_default();
    hash.len() == 10 && hash.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// The largest JSON file served from `/www/` (it is read whole to be rewritten).
const MAX_JSON_BYTES: usize = 1024 * 1024;

/// `%XX` escapes of a request path decoded (as `ServeDir` decodes them to find the file).
fn percent_decoded(path: &str) -> Vec<u8> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |byte: u8| (byte as char).to_digit(16);
        match (bytes[index], bytes.get(index + 1), bytes.get(index + 2)) {
            (b'%', Some(&high), Some(&low)) if hex(high).is_some() && hex(low).is_some() => {
                decoded.push((hex(high).unwrap_or(0) * 16 + hex(low).unwrap_or(0)) as u8);
                index += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    decoded
}

/// JSON files are served without a top-level `allowed_origins`, whatever their folder. The
/// response decides (its `Content-Type`, from the file found); the request is only made
/// whole for it (no `Range`, no precompressed copy). A JSON file that cannot be rewritten
/// (not JSON, too large, encoded) is not served.
async fn without_allowed_origins(mut request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let json_path = percent_decoded(request.uri().path())
        .to_ascii_lowercase()
        .ends_with(b".json");
    if json_path {
        let headers = request.headers_mut();
        for name in [header::RANGE, header::IF_RANGE, header::ACCEPT_ENCODING] {
            headers.remove(name);
        }
    }
    let head = request.method() == axum::http::Method::HEAD;
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
        });
    if !is_json || response.status().is_redirection() || response.status().is_client_error() {
        return response;
    }
    let refused = |why: &str| {
        crate::error::AppError::Internal(format!("a JSON file under /www/ is not served: {why}"))
            .into_response()
    };
    if response.status() != axum::http::StatusCode::OK
        || response.headers().contains_key(header::CONTENT_ENCODING)
    {
        return refused("only whole, unencoded answers are rewritten");
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ETAG);
    if head {
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_JSON_BYTES).await else {
        return refused("larger than 1 MiB");
    };
    let Ok(mut document) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return refused("not valid JSON");
    };
    if let Some(object) = document.as_object_mut() {
        object.remove("allowed_origins");
    }
    let Ok(rewritten) = serde_json::to_vec_pretty(&document) else {
        return refused("not serializable");
    };
    Response::from_parts(parts, axum::body::Body::from(rewritten))
}

/// HTML pages get the strict CSP; everything gets `nosniff`.
async fn page_headers(request: Request, next: Next) -> Response {
    // Demo media (videos, posters, captions) are used by listings embedded on other origins:
    // caption files load only in CORS mode there.
    let media = request.uri().path().starts_with("/www/media/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if media {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(STRICT_CSP),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_as_the_file_server_does() {
        assert_eq!(
            percent_decoded("/www/listings/a%2Ejson"),
            b"/www/listings/a.json"
        );
        assert_eq!(percent_decoded("/a%2ejSoN%"), b"/a.jSoN%");
        assert_eq!(percent_decoded("/a%zz"), b"/a%zz");
    }

    #[test]
    fn recognises_hashed_names() {
        assert!(is_content_hashed("/mighty-0a1b2c3d4e.wasm"));
        assert!(is_content_hashed("/dist/mighty-0a1b2c3d4e.js.br"));
        assert!(!is_content_hashed("/mighty.js"));
        assert!(!is_content_hashed("/mighty-abc.js"));
    }
}
