//! The HTTP handlers, one module per resource of SPEC section 7.

pub mod builder;
pub mod checkout;
pub mod creator_links;
pub mod creator_view;
pub mod dashboard;
pub mod events;
pub mod listings;
pub mod manage;
pub mod metrics;
pub mod orders;
pub mod pay;
pub mod sandbox;
pub mod subscriptions;
pub mod webhook_endpoints;

/// A page of the sandbox's hosted UI (pay, receipt, manage): test-mode banner, the shared
/// stylesheet, the strict CSP, never cached, no referrer; `return_script` adds the receipt's
/// way back to the shop.
pub fn hosted_page(
    title: &str,
    body: &str,
    status: axum::http::StatusCode,
    return_script: bool,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let script = if return_script {
        "<script type=\"module\" src=\"/pay/assets/return.js\"></script>"
    } else {
        ""
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Mighty sandbox</title><link rel=\"stylesheet\" href=\"/pay/assets/pay.css\">{script}</head>\
         <body><p class=\"test-mode\" role=\"note\">Test mode: no real card is charged</p><main>{body}</main></body></html>",
        title = escape_html(title)
    );
    let mut response = (status, axum::response::Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::static_files::STRICT_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Minimal HTML escaping for the server-rendered pages (pay, manage): every value that comes
/// from a seller or a shopper goes through it.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn manage_links_are_redacted_in_logs() {
        assert_eq!(
            crate::redacted_path("/manage/cus_secret/upgrade"),
            "/manage/[redacted]/upgrade"
        );
        assert_eq!(
            crate::redacted_path("/manage/cus_secret"),
            "/manage/[redacted]"
        );
        assert_eq!(crate::redacted_path("/v1/orders"), "/v1/orders");
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            super::escape_html("<a href=\"x\">Tom & Jo's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jo&#39;s&lt;/a&gt;"
        );
    }
}
