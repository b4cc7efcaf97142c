//! The HTTP handlers, one module per resource of SPEC section 7.

pub mod checkout;
pub mod creator_links;
pub mod listings;
pub mod manage;
pub mod orders;
pub mod pay;
pub mod sandbox;
pub mod subscriptions;
pub mod webhook_endpoints;

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
