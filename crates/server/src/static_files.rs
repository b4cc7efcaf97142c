//! The demo directory page, its assets (`www/`) and the widget bundle (`dist/`).
//!
//! `dist/` is what a CDN would serve: any origin may load it (`Access-Control-Allow-Origin: *`,
//! module scripts and wasm are fetched in CORS mode), precompressed `.br`/`.gz` copies are
//! sent to clients that accept them, and content-hashed files are cached for a year. HTML is
//! served with the strict CSP of SPEC section 8, so the demo proves the widget works under it.

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

pub fn routes<S: Clone + Send + Sync + 'static>(root: &Path) -> Router<S> {
    let bundle = Router::new()
        .fallback_service(
            ServeDir::new(root.join("dist"))
                .precompressed_br()
                .precompressed_gzip()
                .not_found_service(axum::handler::HandlerWithoutStateExt::into_service(
                    missing_bundle_file,
                )),
        )
        .layer(middleware::from_fn(bundle_cache_headers))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ));
    let pages = Router::new()
        .route_service("/", ServeFile::new(root.join("index.html")))
        .nest_service("/www", ServeDir::new(root.join("www")).precompressed_gzip())
        .layer(middleware::from_fn(page_headers));
    Router::new().nest("/dist", bundle).merge(pages)
}

/// A file the bundle does not have: the usual error body, naming what to check.
async fn missing_bundle_file(uri: axum::http::Uri) -> crate::error::AppError {
    crate::error::AppError::NotFound(format!(
        "no bundle file at /dist{}: run `cargo xtask dist` (or `cargo xtask demo`), and load mighty.js, which names the others",
        uri.path()
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
    fn recognises_hashed_names() {
        assert!(is_content_hashed("/mighty-0a1b2c3d4e.wasm"));
        assert!(is_content_hashed("/dist/mighty-0a1b2c3d4e.js.br"));
        assert!(!is_content_hashed("/mighty.js"));
        assert!(!is_content_hashed("/mighty-abc.js"));
    }
}
