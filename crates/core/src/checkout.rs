//! The widget's side of the checkout protocol (SPEC section 4), as pure decisions the browser
//! glue follows: what an answer from the partner means, whether and when to retry with the
//! same key, which popup messages to believe, which URLs may ever be opened. No I/O here.

use serde_json::Value;

use crate::protocol::{CheckoutSessionCreated, CheckoutSessionState, Fulfilment, SessionStatus};
use crate::url::WebUrl;

/// At most three attempts in all, with the same Idempotency-Key.
pub const MAX_ATTEMPTS: u32 = 3;
/// An attempt with no answer within this long counts as failed (and is retried).
pub const ATTEMPT_TIMEOUT_MS: u32 = 15_000;
/// While the popup is open, the session is polled this often.
pub const POLL_INTERVAL_MS: u32 = 2_000;
/// The longest `Retry-After` the widget waits out on its own; a longer one stops the retries
/// (the shopper gets Try again), so the partner is never asked again before it said.
pub const MAX_RETRY_AFTER_MS: u32 = 10_000;

/// What one answer to `POST {checkout}` means for the shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutAnswer {
    /// 201 with a well-formed body.
    Created(CheckoutSessionCreated),
    /// 409 or 422 (and other 4xx): said to the shopper plainly, never retried. For 422 the
    /// partner's `message` is shown verbatim.
    Refused {
        code: String,
        message: String,
        field: Option<String>,
    },
    /// 429, 5xx, a malformed 201, a network error or a timeout: retried with the same key
    /// (the same key never charges twice), after `wait_ms` at the earliest.
    Retry {
        reason: RetryReason,
        wait_ms: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    RateLimited,
    ServerError,
    MalformedAnswer,
    Network,
    Timeout,
}

/// Classifies an HTTP answer: `status`, raw `body`, the `Retry-After` header if any.
pub fn classify_answer(status: u16, body: &str, retry_after: Option<&str>) -> CheckoutAnswer {
    classify_parsed_answer(status, serde_json::from_str(body).ok(), retry_after)
}

/// [`classify_answer`] for a body the caller parsed (`None`: not JSON).
pub fn classify_parsed_answer(
    status: u16,
    body: Option<Value>,
    retry_after: Option<&str>,
) -> CheckoutAnswer {
    match status {
        201 | 200 => match body.as_ref().and_then(created_from) {
            Some(created) => CheckoutAnswer::Created(created),
            None => CheckoutAnswer::Retry {
                reason: RetryReason::MalformedAnswer,
                wait_ms: None,
            },
        },
        429 => CheckoutAnswer::Retry {
            reason: RetryReason::RateLimited,
            wait_ms: retry_after.and_then(parse_retry_after_ms),
        },
        500..=599 => CheckoutAnswer::Retry {
            reason: RetryReason::ServerError,
            wait_ms: retry_after.and_then(parse_retry_after_ms),
        },
        _ => {
            let text = |key: &str| {
                body.as_ref()
                    .and_then(|value| value.get("error")?.get(key))
                    .and_then(Value::as_str)
                    .map(String::from)
            };
            CheckoutAnswer::Refused {
                code: text("code").unwrap_or_else(|| format!("http_{status}")),
                message: text("message").unwrap_or_default(),
                field: text("field"),
            }
        }
    }
}

fn created_from(value: &Value) -> Option<CheckoutSessionCreated> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(String::from);
    Some(CheckoutSessionCreated {
        session_id: text("session_id").filter(|id| !id.is_empty())?,
        status: SessionStatus::Open,
        redirect_url: text("redirect_url")?,
        expires_at: text("expires_at").unwrap_or_default(),
        amount: value.get("amount").and_then(Value::as_i64)?,
        currency: text("currency")?,
        session_secret: text("session_secret").filter(|secret| !secret.is_empty()),
    })
}

/// Reads a `GET {checkout}/{session_id}` answer; `None` when it is not one (missing
/// `session_id`, `status` or `amount`). Read from a `Value` rather than through serde's
/// derive, which costs the widget 2 KB gzip (the `Value` parser is there anyway).
pub fn session_state_from(body: &str) -> Option<CheckoutSessionState> {
    session_state_from_value(&serde_json::from_str(body).ok()?)
}

/// [`session_state_from`] for a body the caller parsed.
pub fn session_state_from_value(value: &Value) -> Option<CheckoutSessionState> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(String::from);
    let status = match value.get("status")?.as_str()? {
        "open" => SessionStatus::Open,
        "paid" => SessionStatus::Paid,
        "failed" => SessionStatus::Failed,
        "expired" => SessionStatus::Expired,
        _ => return None,
    };
    Some(CheckoutSessionState {
        session_id: text("session_id").filter(|id| !id.is_empty())?,
        status,
        amount: value.get("amount").and_then(Value::as_i64)?,
        currency: text("currency").unwrap_or_default(),
        server_time: text("server_time").unwrap_or_default(),
        subscription_id: text("subscription_id"),
        customer_token: text("customer_token"),
        fulfilment: text("fulfilment").and_then(|word| Fulfilment::parse(&word)),
        pickup_code: text("pickup_code").filter(|code| !code.is_empty()),
    })
}

/// `Retry-After` in seconds (the HTTP-date form is not used by partners here), as ms.
pub fn parse_retry_after_ms(header: &str) -> Option<u32> {
    let seconds: u32 = header.trim().parse().ok()?;
    Some(seconds.saturating_mul(1000))
}

/// How long to wait before attempt `next_attempt` (2 or 3): the partner's `Retry-After` when
/// given, else exponential backoff, 1 s then 3 s. `None` when `Retry-After` asks for more than
/// [`MAX_RETRY_AFTER_MS`]: no automatic retry then, rather than one before the partner said.
pub fn backoff_ms(next_attempt: u32, retry_after_ms: Option<u32>) -> Option<u32> {
    match retry_after_ms {
        Some(wait) => (wait <= MAX_RETRY_AFTER_MS).then_some(wait),
        None => Some(if next_attempt <= 2 { 1_000 } else { 3_000 }),
    }
}

/// Whether another attempt may be made after `attempts_made` attempts.
pub fn may_retry(attempts_made: u32) -> bool {
    attempts_made < MAX_ATTEMPTS
}

/// Only `https:` URLs, or `http:` on localhost, are ever opened; `url` is the partner's
/// `redirect_url` as the browser's URL parser read it (`None`: not an http(s) URL).
pub fn may_open(url: Option<&WebUrl>) -> bool {
    url.is_some_and(WebUrl::is_secure_endpoint)
}

/// The two fields of a `message` event's data the widget reads (`data.type`,
/// `data.session_id`), when they are strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PopupMessage<'a> {
    pub kind: Option<&'a str>,
    pub session_id: Option<&'a str>,
}

/// Whether a `message` event is the partner's word on our session: from the window the
/// widget opened (the caller checks `event.source`), from `redirect_url`'s origin, of type
/// `mighty:checkout` and about the session we created.
pub fn accept_popup_message(
    event_origin: &str,
    redirect_url: Option<&WebUrl>,
    message: PopupMessage<'_>,
    session_id: &str,
) -> bool {
    let Some(redirect_url) = redirect_url else {
        return false;
    };
    event_origin.eq_ignore_ascii_case(&redirect_url.origin())
        && message.kind == Some("mighty:checkout")
        && message.session_id == Some(session_id)
}

/// Whether the partner's amount differs from the price the shopper was shown (the widget
/// then says so before going on).
pub fn price_changed(
    shown_minor: i64,
    shown_currency: &str,
    created: &CheckoutSessionCreated,
) -> bool {
    created.amount != shown_minor || !created.currency.eq_ignore_ascii_case(shown_currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATED: &str = r#"{"session_id": "cs_1", "status": "open", "redirect_url": "https://pay.example/pay/cs_1", "expires_at": "2026-11-25T10:30:00Z", "amount": 2400, "currency": "EUR"}"#;

    #[test]
    fn answers_are_classified_as_the_spec_says() {
        let retry = |reason, wait_ms| CheckoutAnswer::Retry { reason, wait_ms };
        let cases: Vec<(u16, &str, Option<&str>, CheckoutAnswer)> = vec![
            (
                429,
                "",
                Some("2"),
                retry(RetryReason::RateLimited, Some(2000)),
            ),
            (429, "", None, retry(RetryReason::RateLimited, None)),
            (503, "{}", None, retry(RetryReason::ServerError, None)),
            (
                500,
                "oops",
                Some("1"),
                retry(RetryReason::ServerError, Some(1000)),
            ),
            (
                201,
                "{\"session_id\": ",
                None,
                retry(RetryReason::MalformedAnswer, None),
            ),
            (
                201,
                "{\"session_id\": \"cs_1\"}",
                None,
                retry(RetryReason::MalformedAnswer, None),
            ),
            (
                409,
                r#"{"error": {"code": "sold_out", "message": "This drop is sold out."}}"#,
                None,
                CheckoutAnswer::Refused {
                    code: "sold_out".into(),
                    message: "This drop is sold out.".into(),
                    field: None,
                },
            ),
            (
                422,
                r#"{"error": {"code": "invalid_request", "message": "quantity must be 1 to 10", "field": "quantity"}}"#,
                None,
                CheckoutAnswer::Refused {
                    code: "invalid_request".into(),
                    message: "quantity must be 1 to 10".into(),
                    field: Some("quantity".into()),
                },
            ),
            (
                403,
                "not json",
                None,
                CheckoutAnswer::Refused {
                    code: "http_403".into(),
                    message: String::new(),
                    field: None,
                },
            ),
        ];
        for (status, body, retry_after, expected) in cases {
            assert_eq!(
                classify_answer(status, body, retry_after),
                expected,
                "{status} {body}"
            );
        }
        let CheckoutAnswer::Created(created) = classify_answer(201, CREATED, None) else {
            panic!("created")
        };
        assert_eq!(
            (created.session_id.as_str(), created.amount),
            ("cs_1", 2400)
        );
        assert_eq!(created.session_secret, None, "a partner may leave it out");
        let with_secret = CREATED.replace("}", ", \"session_secret\": \"mss_1\"}");
        let CheckoutAnswer::Created(created) = classify_answer(201, &with_secret, None) else {
            panic!("created")
        };
        assert_eq!(created.session_secret.as_deref(), Some("mss_1"));
    }

    #[test]
    fn retries_are_bounded_and_honour_retry_after() {
        assert!(may_retry(1) && may_retry(2) && !may_retry(3));
        assert_eq!(backoff_ms(2, None), Some(1_000));
        assert_eq!(backoff_ms(3, None), Some(3_000));
        assert_eq!(backoff_ms(2, Some(2_000)), Some(2_000));
        assert_eq!(
            backoff_ms(2, Some(MAX_RETRY_AFTER_MS)),
            Some(MAX_RETRY_AFTER_MS)
        );
        assert_eq!(
            backoff_ms(2, Some(120_000)),
            None,
            "never retried before the partner said"
        );
        assert_eq!(parse_retry_after_ms(" 3 "), Some(3_000));
        assert_eq!(parse_retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }

    #[test]
    fn only_secure_urls_are_opened() {
        let url = |scheme, host| WebUrl::from_parts(scheme, host, None);
        assert!(may_open(url("https:", "pay.partner.example").as_ref()));
        assert!(may_open(url("http:", "127.0.0.1").as_ref()));
        assert!(may_open(url("http:", "localhost").as_ref()));
        assert!(!may_open(url("http:", "pay.partner.example").as_ref()));
        assert!(!may_open(url("http:", "127.evil.example.com").as_ref()));
        assert!(!may_open(url("javascript:", "alert(1)").as_ref()));
        assert!(!may_open(None));
    }

    #[test]
    fn popup_messages_are_believed_only_from_the_partner_about_our_session() {
        let redirect = WebUrl::from_parts("https", "pay.partner.example", Some(443));
        let redirect = redirect.as_ref();
        let message = |kind, session_id| PopupMessage {
            kind: Some(kind),
            session_id: Some(session_id),
        };
        let good = message("mighty:checkout", "cs_1");
        let partner = "https://pay.partner.example";
        assert!(accept_popup_message(partner, redirect, good, "cs_1"));
        assert!(!accept_popup_message(
            "https://evil.example",
            redirect,
            good,
            "cs_1"
        ));
        assert!(!accept_popup_message(partner, redirect, good, "cs_2"));
        let other = message("other", "cs_1");
        assert!(!accept_popup_message(partner, redirect, other, "cs_1"));
        let empty = PopupMessage::default();
        assert!(!accept_popup_message(partner, redirect, empty, "cs_1"));
        assert!(!accept_popup_message(partner, None, good, "cs_1"));
    }

    #[test]
    fn session_states_read_as_serde_reads_them() {
        let paid = r#"{"session_id":"cs_1","status":"paid","amount":1500,"currency":"EUR","server_time":"2026-11-25T10:00:00Z","subscription_id":"sub_1","customer_token":"ct_1"}"#;
        let open = r#"{"session_id":"cs_2","status":"open","amount":2400,"currency":"JPY","server_time":"2026-11-25T10:00:00Z"}"#;
        for body in [paid, open] {
            let expected: CheckoutSessionState = serde_json::from_str(body).unwrap();
            assert_eq!(session_state_from(body), Some(expected));
        }
        for broken in [
            "",
            "[]",
            r#"{"session_id":"cs_1","status":"refunded","amount":1}"#,
            r#"{"session_id":"","status":"paid","amount":1}"#,
            r#"{"session_id":"cs_1","status":"paid"}"#,
        ] {
            assert_eq!(session_state_from(broken), None, "{broken}");
        }
    }

    #[test]
    fn a_changed_price_is_noticed() {
        let CheckoutAnswer::Created(created) = classify_answer(201, CREATED, None) else {
            panic!()
        };
        assert!(!price_changed(2400, "EUR", &created));
        assert!(price_changed(2000, "EUR", &created));
        assert!(price_changed(2400, "USD", &created));
    }
}
