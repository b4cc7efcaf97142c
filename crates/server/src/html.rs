//! Every HTML page the server renders (pay, receipt, manage, creator view, dashboard, builder)
//! is a maud template (text and attributes are escaped by default) put in the one page shell,
//! [`shell`], which also sets the pages' security headers: a strict CSP that forbids framing,
//! `X-Frame-Options: DENY`, no caching, no referrer, `nosniff`. JSON placed in a page goes
//! through [`json_for_html`].

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::error::AppError;

/// The pages' policy: SPEC section 8's strict CSP ([`crate::static_files::STRICT_CSP`]), and
/// no framing (clickjacking), no `<base>`, forms posted to this server only, no plugins.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// What differs between the server's pages: the site named in the title, the stylesheet,
/// the module scripts, and the sandbox's test-mode banner.
pub struct Layout {
    site: &'static str,
    stylesheet: &'static str,
    scripts: &'static [&'static str],
    test_mode_banner: bool,
}

impl Layout {
    /// The sandbox's hosted pages (pay form, manage, creator view): the test-mode banner.
    pub const HOSTED: Layout = Layout {
        site: "Mighty sandbox",
        stylesheet: "/pay/assets/pay.css",
        scripts: &[],
        test_mode_banner: true,
    };
    /// A hosted page with the receipt's way back to the shop (`return.js`).
    pub const RECEIPT: Layout = Layout {
        scripts: &["/pay/assets/return.js"],
        ..Layout::HOSTED
    };
    /// Live mode's hosted pages with a live Stripe key: no test-mode banner.
    pub const HOSTED_LIVE: Layout = Layout {
        site: "Mighty",
        test_mode_banner: false,
        ..Layout::HOSTED
    };
    /// Live mode's return page with a live Stripe key.
    pub const RECEIPT_LIVE: Layout = Layout {
        scripts: &["/pay/assets/return.js"],
        ..Layout::HOSTED_LIVE
    };

    /// The hosted pages' layout: with the test-mode banner in test mode (the sandbox, or a
    /// Stripe test key), without it when real money moves.
    pub fn hosted(test_mode: bool) -> &'static Layout {
        if test_mode {
            &Layout::HOSTED
        } else {
            &Layout::HOSTED_LIVE
        }
    }

    /// [`Layout::hosted`] with the receipt's way back to the shop.
    pub fn receipt(test_mode: bool) -> &'static Layout {
        if test_mode {
            &Layout::RECEIPT
        } else {
            &Layout::RECEIPT_LIVE
        }
    }
    /// The seller's dashboard.
    pub const DASHBOARD: Layout = Layout {
        site: "Mighty dashboard",
        stylesheet: "/dashboard/assets/dashboard.css",
        scripts: &[],
        test_mode_banner: false,
    };
    /// The snippet builder: the widget's loader and the builder's script.
    pub const BUILDER: Layout = Layout {
        site: "Mighty",
        stylesheet: "/dashboard/assets/dashboard.css",
        scripts: &["/dist/mighty.js", "/builder/assets/builder.js"],
        test_mode_banner: false,
    };
}

/// The page shell: every HTML page the server renders is `body` in it, with the security
/// headers of [`security_headers`].
pub fn shell(layout: &Layout, title: &str, status: StatusCode, body: Markup) -> Response {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (layout.site) }
                link rel="stylesheet" href=(layout.stylesheet);
                @for script in layout.scripts {
                    script type="module" src=(script) {}
                }
            }
            body {
                @if layout.test_mode_banner {
                    p class="test-mode" role="note" { "Test mode: no real card is charged" }
                }
                main { (body) }
            }
        }
    };
    let mut response = (status, Html(page.into_string())).into_response();
    security_headers(response.headers_mut());
    response
}

/// A page answering an error: its status, and `Retry-After` when it is a 429.
pub fn error_page(layout: &Layout, title: &str, error: &AppError, body: Markup) -> Response {
    let mut response = shell(layout, title, error.status(), body);
    if let AppError::RateLimited {
        retry_after_seconds,
        ..
    } = error
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
    }
    response
}

/// The headers of every server-rendered page.
pub fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// JSON to place inside an HTML page (a `<script type="application/json">`): `<`, `>`, `&`,
/// U+2028 and U+2029 are written as `\uXXXX` escapes, so no `</script>` or `<!--` in a value
/// can end or change the element, and the text still parses to the same value.
pub fn json_for_html(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_html_cannot_leave_its_script_element() {
        let title = "</script><script>alert(1)</script> <!-- & > \u{2028}\u{2029} </SCRIPT";
        let value = serde_json::json!({ "title": title, "nested": [title] });
        let text = json_for_html(&value);
        for forbidden in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!text.contains(forbidden), "{forbidden:?} in {text}");
        }
        assert!(text.contains("\\u003c/script\\u003e"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        assert_eq!(back["title"], title);
    }

    #[test]
    fn the_page_policy_is_the_strict_one_plus_no_framing() {
        assert!(PAGE_CSP.starts_with(crate::static_files::STRICT_CSP));
        assert!(PAGE_CSP.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn text_is_escaped_by_the_templates() {
        let hostile = "<a href=\"x\">Tom & Jo's</a>";
        let markup = html! { p title=(hostile) { (hostile) } };
        assert_eq!(
            markup.into_string(),
            "<p title=\"&lt;a href=&quot;x&quot;&gt;Tom &amp; Jo's&lt;/a&gt;\">&lt;a href=&quot;x&quot;&gt;Tom &amp; Jo's&lt;/a&gt;</p>"
        );
    }
}
