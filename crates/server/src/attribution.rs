//! Attribution as the server takes it in, at the door (`POST /v1/checkout/sessions` and
//! `POST /v1/events`): what a browser sends is stored only in shapes the server can show and
//! export safely, never raw.
//!
//! - A creator or variant is kept only when it has core's handle syntax
//!   (`is_valid_handle`: 1 to 64 ASCII letters, digits, `_`, `-`, `.`). A handle of the
//!   listing's current creators can be verified (checkout, with a genuine token); a
//!   well-formed handle the listing does not have is kept as unverified text. Anything else
//!   (control characters, over 64 characters, formula-looking text such as `=cmd|...`) is
//!   dropped: stored as no creator. A checkout never fails for it.
//! - UTM values are kept when they have 1 to [`MAX_UTM_CHARS`] characters and no control
//!   character, else dropped; the page when it is an http(s) URL of at most
//!   [`MAX_PAGE_CHARS`] characters without control characters; the token when it reads as a
//!   creator token (it is verified separately).

use mighty_core::listing::is_valid_handle;
use mighty_core::protocol::{Attribution, Utm};
use mighty_core::signing::CreatorToken;
use serde_json::Value;

/// The longest UTM value kept, in characters.
pub const MAX_UTM_CHARS: usize = 100;
/// The longest page URL kept, in characters.
pub const MAX_PAGE_CHARS: usize = 2048;

/// Whether `handle` is one of the listing document's `creators[].handle`.
pub fn is_creator_of(document: &Value, handle: &str) -> bool {
    document
        .get("creators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|creator| creator.get("handle").and_then(Value::as_str) == Some(handle))
}

/// A handle as sent: kept (trimmed) when it has core's handle syntax, else dropped.
pub fn handle(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|handle| is_valid_handle(handle))
        .map(String::from)
}

/// Free text as sent: kept (trimmed) when it has 1 to `max` characters and no control
/// character, else dropped.
pub fn text(value: Option<&str>, max: usize) -> Option<String> {
    value
        .map(str::trim)
        .filter(|text| !text.is_empty() && text.chars().count() <= max)
        .filter(|text| !text.chars().any(char::is_control))
        .map(String::from)
}

/// The attribution object as it is stored with a checkout (`attribution` on sessions,
/// orders and subscriptions).
pub fn cleaned(attribution: &Attribution) -> Attribution {
    let utm = |value: &Option<String>| text(value.as_deref(), MAX_UTM_CHARS);
    Attribution {
        creator: handle(attribution.creator.as_deref()),
        token: attribution
            .token
            .as_deref()
            .map(str::trim)
            .filter(|token| CreatorToken::parse(token).is_ok())
            .map(String::from),
        variant: handle(attribution.variant.as_deref()),
        page: text(attribution.page.as_deref(), MAX_PAGE_CHARS)
            .filter(|page| mighty_core::url::origin(page).is_some()),
        utm: Utm {
            source: utm(&attribution.utm.source),
            medium: utm(&attribution.utm.medium),
            campaign: utm(&attribution.utm.campaign),
            content: utm(&attribution.utm.content),
            term: utm(&attribution.utm.term),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_keep_cores_syntax_only() {
        for kept in ["ana", "theo_2", "-2", "a.b"] {
            assert_eq!(handle(Some(kept)).as_deref(), Some(kept));
        }
        assert_eq!(handle(Some("  ana ")).as_deref(), Some("ana"));
        for dropped in [
            "=cmd|' /C calc'!A0",
            "+1",
            "@x",
            "-2+3",
            "a\rb",
            "a\nb",
            "",
            &"x".repeat(65),
        ] {
            assert_eq!(handle(Some(dropped)), None, "{dropped:?}");
        }
    }

    #[test]
    fn utm_values_are_bounded_and_free_of_control_characters() {
        let attribution = Attribution {
            creator: Some("=HYPERLINK(\"https://evil.example\")".into()),
            token: Some("not a token".into()),
            variant: Some("theo".into()),
            page: Some("javascript:alert(1)".into()),
            utm: Utm {
                source: Some("instagram".into()),
                medium: Some("a\u{7}b".into()),
                campaign: Some("x".repeat(MAX_UTM_CHARS + 1)),
                content: Some("=1+1".into()),
                term: Some("é".repeat(MAX_UTM_CHARS)),
            },
        };
        let cleaned = cleaned(&attribution);
        assert_eq!(cleaned.creator, None);
        assert_eq!(cleaned.token, None);
        assert_eq!(cleaned.variant.as_deref(), Some("theo"));
        assert_eq!(cleaned.page, None);
        assert_eq!(cleaned.utm.source.as_deref(), Some("instagram"));
        assert_eq!(cleaned.utm.medium, None);
        assert_eq!(cleaned.utm.campaign, None);
        // Within limits: kept as text (CSV exports neutralise it).
        assert_eq!(cleaned.utm.content.as_deref(), Some("=1+1"));
        assert_eq!(cleaned.utm.term.map(|term| term.chars().count()), Some(100));
    }

    #[test]
    fn creators_of_a_listing() {
        let document =
            serde_json::json!({ "creators": [{ "handle": "ana" }, { "handle": "theo" }] });
        assert!(is_creator_of(&document, "ana"));
        assert!(!is_creator_of(&document, "eve"));
        assert!(!is_creator_of(&serde_json::json!({}), "ana"));
    }
}
