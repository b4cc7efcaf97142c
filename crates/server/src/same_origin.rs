//! Cross-site request forgery on the HTML forms: every form `POST` (pay, dashboard sign-in
//! and sign-out, the manage page's upgrade and cancel) takes [`SameOrigin`], which refuses a
//! request a browser says comes from elsewhere: `Sec-Fetch-Site` decides when the browser
//! sends it (only `same-origin` and `none` pass); without it, an `Origin` must be this
//! server's own (`MIGHTY_PUBLIC_URL`'s when set, else the request's `Host`'s, as
//! [`crate::http::public_base`] tells it). A request with neither header (curl, old browsers)
//! is let through: no browser that could be tricked into sending it leaves both out.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::AppState;
use crate::error::AppError;

/// Proof that a form post comes from this server's own pages (or from no browser page at
/// all); its rejection is `403 cross_site_request`.
#[derive(Debug)]
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        check(&parts.headers, state.config().public_url.as_deref()).map(|()| SameOrigin)
    }
}

/// The check behind [`SameOrigin`], with the configured public URL (if any).
pub fn check(headers: &HeaderMap, public_url: Option<&str>) -> Result<(), AppError> {
    // The browser's own word, where it gives one (every current browser, on https and
    // localhost), decides: our pages send `Referrer-Policy: no-referrer`, under which a
    // same-origin form post carries `Origin: null`, so the Origin cannot decide then.
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or_default().trim();
        if site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none") {
            return Ok(());
        }
        return Err(refused(format!(
            "the browser says the form was sent from a {site} page (Sec-Fetch-Site: {site})"
        )));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let text = origin.to_str().unwrap_or_default().trim();
    let Ok(sent) = url::Url::parse(text) else {
        return Err(refused(format!(
            "the form was sent from an opaque or unreadable origin (Origin: {text})"
        )));
    };
    let sent = sent.origin();
    if sent.is_tuple() && own_origin(headers, public_url).as_ref() == Some(&sent) {
        Ok(())
    } else {
        Err(refused(format!(
            "the form was sent from {}, not from this server's pages",
            sent.ascii_serialization()
        )))
    }
}

/// This server's origin, as [`crate::http::public_base`] tells it: `MIGHTY_PUBLIC_URL`'s when
/// set, else the one the request's `Host` names (`https` when a proxy says so with
/// `X-Forwarded-Proto`).
fn own_origin(headers: &HeaderMap, public_url: Option<&str>) -> Option<url::Origin> {
    if let Some(public) = public_url {
        return url::Url::parse(public).ok().map(|public| public.origin());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::trim)
        .filter(|host| !host.is_empty() && !host.contains(['/', '?', '#', '@', '\\']))?;
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|proto| proto.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    url::Url::parse(&format!("{scheme}://{host}/"))
        .ok()
        .map(|base| base.origin())
}

fn refused(reason: String) -> AppError {
    AppError::CrossSiteRequest(format!(
        "{reason}; this form accepts posts only from this server's own pages: open the page on this server and send the form again"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    /// Request headers, and the configured public URL.
    type Case<'a> = (&'a [(&'static str, &'a str)], Option<&'a str>);

    #[test]
    fn own_pages_and_non_browsers_pass_other_sites_do_not() {
        let host = ("host", "127.0.0.1:8080");
        let passes: &[Case] = &[
            (&[host], None),
            (&[host, ("sec-fetch-site", "same-origin")], None),
            (&[host, ("sec-fetch-site", "none")], None),
            // Our pages' no-referrer policy makes a same-origin post's Origin `null`.
            (
                &[host, ("origin", "null"), ("sec-fetch-site", "same-origin")],
                None,
            ),
            (&[host, ("origin", "http://127.0.0.1:8080")], None),
            (
                &[
                    host,
                    ("origin", "http://127.0.0.1:8080"),
                    ("sec-fetch-site", "same-origin"),
                ],
                None,
            ),
            (
                &[("host", "shop.example"), ("origin", "https://shop.example")],
                Some("https://shop.example/"),
            ),
            (
                &[
                    ("host", "shop.example"),
                    ("x-forwarded-proto", "https"),
                    ("origin", "https://shop.example:443"),
                ],
                None,
            ),
            (
                &[
                    ("host", "SHOP.example:80"),
                    ("origin", "http://shop.example"),
                ],
                None,
            ),
        ];
        for (pairs, public_url) in passes {
            assert!(check(&headers(pairs), *public_url).is_ok(), "{pairs:?}");
        }
        let refusals: &[Case] = &[
            (&[host, ("sec-fetch-site", "cross-site")], None),
            (&[host, ("sec-fetch-site", "same-site")], None),
            (
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "http://127.0.0.1:8080"),
                ],
                None,
            ),
            (&[host, ("sec-fetch-site", "unknown")], None),
            (&[host, ("origin", "https://evil.example")], None),
            (&[host, ("origin", "null")], None),
            (&[host, ("origin", "http://127.0.0.1:8081")], None),
            (&[host, ("origin", "https://127.0.0.1:8080")], None),
            (&[("origin", "http://127.0.0.1:8080")], None),
            (
                &[host, ("origin", "http://127.0.0.1.evil.example")],
                Some("https://shop.example"),
            ),
            (
                &[("host", "shop.example"), ("origin", "http://shop.example")],
                Some("https://shop.example"),
            ),
            (
                &[
                    ("host", "evil.example@shop.example"),
                    ("origin", "http://shop.example"),
                ],
                None,
            ),
        ];
        for (pairs, public_url) in refusals {
            let error = check(&headers(pairs), *public_url).unwrap_err();
            assert_eq!(error.code(), "cross_site_request", "{pairs:?}");
            assert_eq!(error.status(), axum::http::StatusCode::FORBIDDEN);
        }
    }
}
