//! Live mode's Stripe client: a small typed client over reqwest for the few endpoints Mighty
//! calls (Checkout Sessions, subscriptions, invoices, refunds), and Stripe's form encoding.
//!
//! Why not a generated client: `async-stripe` 1.x is still a release candidate, and its
//! per-resource crates parse whole objects; this reads only the fields Mighty uses, each
//! tolerant of Stripe's API versions (fields that moved, such as a subscription's period now on
//! its items). The compile-time figures are in `docs/server.md`.
//!
//! What it guarantees: every POST carries an `Idempotency-Key` (derived by the caller from
//! Mighty's own ids), and 5xx, 429, timeouts and connection failures are retried a few times
//! with that same key before [`StripeError::Unavailable`]; a refusal (4xx) is returned at
//! once. The secret key is sent in the `Authorization` header only: it never reaches a log,
//! the database or an error message, and neither do request bodies.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::config::{Secret, StripeConfig};
use crate::error::AppError;

/// A Stripe request body, `application/x-www-form-urlencoded` with Stripe's bracket notation
/// for nested parameters (`line_items[0][price_data][unit_amount]=2400`). Written by hand on
/// purpose: `serde_urlencoded` only encodes flat key-value pairs (a nested struct is its
/// "unsupported value" error), so the nesting is spelled out here, key by key, and the pairs
/// are percent-encoded by the `url` crate's `form_urlencoded` (the same encoding).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// Adds `value` at `path`: `["line_items", "0", "quantity"]` is `line_items[0][quantity]`.
    pub fn set(&mut self, path: &[&str], value: impl Into<String>) -> &mut Form {
        self.pairs.push((bracket_key(path), value.into()));
        self
    }

    /// Adds every `metadata` entry under `prefix` (`metadata[listing_id]=...`), within
    /// Stripe's limits: keys of at most 40 characters, values of at most 500 (cut at a
    /// character boundary), 50 keys.
    pub fn metadata(&mut self, prefix: &[&str], entries: &[(&str, String)]) -> &mut Form {
        for (key, value) in entries.iter().take(METADATA_MAX_KEYS) {
            let key: String = key.chars().take(METADATA_MAX_KEY_CHARS).collect();
            let mut path: Vec<&str> = prefix.to_vec();
            path.push(&key);
            let value = truncate_chars(value, METADATA_MAX_VALUE_CHARS);
            self.set(&path, value);
        }
        self
    }

    /// The pairs, as they will be encoded (for tests and the stand-in).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The body.
    pub fn encode(&self) -> String {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            serializer.append_pair(key, value);
        }
        serializer.finish()
    }
}

/// Stripe's limits on `metadata`.
pub const METADATA_MAX_KEYS: usize = 50;
pub const METADATA_MAX_KEY_CHARS: usize = 40;
pub const METADATA_MAX_VALUE_CHARS: usize = 500;

/// `["a", "0", "b"]` → `a[0][b]`.
pub fn bracket_key(path: &[&str]) -> String {
    let mut key = String::new();
    for (index, part) in path.iter().enumerate() {
        if index == 0 {
            key.push_str(part);
        } else {
            key.push('[');
            key.push_str(part);
            key.push(']');
        }
    }
    key
}

/// At most `limit` characters of `text`.
pub fn truncate_chars(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}

/// What a Stripe call came to when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeError {
    /// Stripe could not be reached or kept failing (5xx, 429, timeouts, connection errors)
    /// through every attempt: worth trying again later, with the same key.
    Unavailable {
        rate_limited: bool,
        retry_after_seconds: Option<u64>,
        /// For the log: the status or the kind of failure, never a key or a body.
        detail: String,
    },
    /// Stripe refused the request (4xx): `{"error": {"type", "code", "message", "param"}}`.
    /// `card_error` is a declined card, said to the shopper as Stripe words it.
    Refused {
        status: u16,
        kind: String,
        code: Option<String>,
        message: String,
        param: Option<String>,
    },
}

impl StripeError {
    /// Whether Stripe says the object does not exist (404 `resource_missing`).
    pub fn is_missing(&self) -> bool {
        matches!(self, StripeError::Refused { status: 404, .. })
            || matches!(self, StripeError::Refused { code: Some(code), .. } if code == "resource_missing")
    }

    /// The answer Mighty gives: SPEC section 4's retryable 503/429 when Stripe is away, a
    /// plain 422 for a declined card or a refused request (never the key, never the body).
    pub fn to_app_error(&self) -> AppError {
        match self {
            StripeError::Unavailable {
                rate_limited: true,
                retry_after_seconds,
                ..
            } => AppError::RateLimited {
                message: "the payment provider is busy; try again in a moment".into(),
                retry_after_seconds: retry_after_seconds.unwrap_or(1).clamp(1, 60),
            },
            StripeError::Unavailable { .. } => AppError::Unavailable(
                "the payment provider cannot be reached just now; try again in a moment".into(),
            ),
            StripeError::Refused { kind, message, .. } if kind == "card_error" => {
                AppError::invalid("", message.clone())
            }
            StripeError::Refused { status: 401, .. } | StripeError::Refused { status: 403, .. } => {
                AppError::Internal(
                    "Stripe refused STRIPE_SECRET_KEY (401/403): check the key and its permissions"
                        .into(),
                )
            }
            StripeError::Refused { message, .. } => AppError::invalid(
                "",
                format!("the payment provider refused the request: {message}"),
            ),
        }
    }
}

/// How often and how long a call is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it triples for each next one (Stripe's
    /// `Retry-After`, when longer and at most 2 s, is waited instead).
    pub first_backoff: Duration,
    /// One attempt's limit, connection included.
    pub attempt_timeout: Duration,
}

impl RetryPolicy {
    /// Three attempts of at most 4 s with 0.3 s and 0.9 s between them: about 13 s at worst,
    /// under the widget's 15 s per checkout attempt.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(300),
        attempt_timeout: Duration::from_secs(4),
    };
}

/// The client.
#[derive(Clone)]
pub struct Stripe {
    http: reqwest::Client,
    api_base: String,
    secret_key: Secret,
    policy: RetryPolicy,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

enum Method {
    Get,
    Post,
    Delete,
}

impl Stripe {
    pub fn new(config: &StripeConfig) -> Stripe {
        Stripe::with_policy(config, config.retry)
    }

    pub fn with_policy(config: &StripeConfig, policy: RetryPolicy) -> Stripe {
        let http = reqwest::Client::builder()
            .timeout(policy.attempt_timeout)
            .connect_timeout(policy.attempt_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mighty-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds");
        Stripe {
            http,
            api_base: config.api_base.clone(),
            secret_key: config.secret_key.clone(),
            policy,
        }
    }

    /// `POST {path}` with `form`, under `idempotency_key` (the same on every attempt).
    pub async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        form: &Form,
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        self.call(Method::Post, path, Some(form), Some(idempotency_key))
            .await
    }

    /// `GET {path}`, with `query` pairs (`expand[]=...`).
    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &Form,
    ) -> Result<T, StripeError> {
        self.call(Method::Get, path, Some(query), None).await
    }

    /// `DELETE {path}` (Stripe takes no idempotency key there: deleting is idempotent).
    pub async fn delete<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, StripeError> {
        self.call(Method::Delete, path, None, None).await
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: Option<&Form>,
        idempotency_key: Option<&str>,
    ) -> Result<T, StripeError> {
        let url = format!("{}{path}", self.api_base);
        let mut last = StripeError::Unavailable {
            rate_limited: false,
            retry_after_seconds: None,
            detail: "not tried".into(),
        };
        let mut backoff = self.policy.first_backoff;
        for attempt in 1..=self.policy.attempts.max(1) {
            let request = match method {
                Method::Get => {
                    let query = form.map(Form::encode).unwrap_or_default();
                    let url = if query.is_empty() {
                        url.clone()
                    } else {
                        format!("{url}?{query}")
                    };
                    self.http.get(url)
                }
                Method::Post => self
                    .http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form.map(Form::encode).unwrap_or_default()),
                Method::Delete => self.http.delete(&url),
            };
            let mut request = request.bearer_auth(self.secret_key.expose());
            if let Some(key) = idempotency_key {
                request = request.header("idempotency-key", key);
            }
            let (retry, wait) = match request.send().await {
                Err(error) => {
                    let detail = if error.is_timeout() {
                        "no answer in time"
                    } else if error.is_connect() {
                        "could not connect"
                    } else {
                        "the connection failed"
                    };
                    last = StripeError::Unavailable {
                        rate_limited: false,
                        retry_after_seconds: None,
                        detail: detail.into(),
                    };
                    (true, None)
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let header = |name: &str| {
                        response
                            .headers()
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .map(str::to_string)
                    };
                    let should_retry = header("stripe-should-retry");
                    let retry_after = header("retry-after").and_then(|text| text.parse().ok());
                    let request_id = header("request-id").unwrap_or_default();
                    let body = response.bytes().await.unwrap_or_default();
                    if (200..300).contains(&status) {
                        return serde_json::from_slice(&body).map_err(|error| {
                            tracing::warn!(path, %request_id, %error, "Stripe answered an object this server cannot read");
                            StripeError::Unavailable {
                                rate_limited: false,
                                retry_after_seconds: None,
                                detail: format!("unreadable answer ({error})"),
                            }
                        });
                    }
                    tracing::info!(path, status, %request_id, attempt, "Stripe did not accept the call");
                    let retryable = match should_retry.as_deref() {
                        Some("true") => true,
                        Some("false") => false,
                        _ => status == 429 || status >= 500,
                    };
                    if retryable {
                        last = StripeError::Unavailable {
                            rate_limited: status == 429,
                            retry_after_seconds: retry_after,
                            detail: format!("Stripe answered {status}"),
                        };
                        (true, retry_after)
                    } else {
                        return Err(refusal(status, &body));
                    }
                }
            };
            if !retry || attempt == self.policy.attempts {
                break;
            }
            let wait = wait
                .map(|seconds| Duration::from_secs(seconds.min(2)))
                .filter(|wait| *wait > backoff)
                .unwrap_or(backoff);
            tokio::time::sleep(wait).await;
            backoff *= 3;
        }
        tracing::warn!(
            path,
            "Stripe could not be reached: {}",
            match &last {
                StripeError::Unavailable { detail, .. } => detail.as_str(),
                StripeError::Refused { .. } => "refused",
            }
        );
        Err(last)
    }
}

/// Stripe's error body, read as it is documented: `{"error": {"type", "code", "message",
/// "param"}}`.
fn refusal(status: u16, body: &[u8]) -> StripeError {
    #[derive(Deserialize, Default)]
    struct Detail {
        #[serde(rename = "type", default)]
        kind: Option<String>,
        code: Option<String>,
        message: Option<String>,
        param: Option<String>,
    }
    #[derive(Deserialize)]
    struct Body {
        error: Detail,
    }
    let detail = serde_json::from_slice::<Body>(body)
        .map(|body| body.error)
        .unwrap_or_default();
    StripeError::Refused {
        status,
        kind: detail.kind.unwrap_or_else(|| "api_error".into()),
        code: detail.code,
        message: detail
            .message
            .unwrap_or_else(|| format!("Stripe answered {status}")),
        param: detail.param,
    }
}

/// An expandable field: an id, or the object (with its id) when expanded.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Expandable {
    Id(String),
    Object(Value),
}

impl Expandable {
    pub fn id(&self) -> Option<&str> {
        match self {
            Expandable::Id(id) => Some(id),
            Expandable::Object(object) => object.get("id").and_then(Value::as_str),
        }
    }

    pub fn object(&self) -> Option<&Value> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(object) => Some(object),
        }
    }
}

fn id_of(field: &Option<Expandable>) -> Option<String> {
    field.as_ref().and_then(Expandable::id).map(str::to_string)
}

/// A Checkout Session: the fields Mighty reads.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    #[serde(default)]
    pub subscription: Option<Expandable>,
    #[serde(default)]
    pub invoice: Option<Expandable>,
    #[serde(default)]
    pub customer_details: Option<Value>,
    #[serde(default)]
    pub collected_information: Option<Value>,
    #[serde(default)]
    pub shipping_details: Option<Value>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

impl CheckoutSession {
    pub fn payment_intent_id(&self) -> Option<String> {
        id_of(&self.payment_intent)
    }

    pub fn subscription_id(&self) -> Option<String> {
        id_of(&self.subscription)
    }

    pub fn invoice_id(&self) -> Option<String> {
        id_of(&self.invoice)
    }

    pub fn email(&self) -> Option<String> {
        self.customer_details
            .as_ref()?
            .get("email")?
            .as_str()
            .map(str::to_string)
    }

    /// The shipping address collected: `collected_information.shipping_details` (current
    /// API versions), else `shipping_details` (older ones), as Mighty's order keeps it.
    pub fn shipping(&self) -> Option<Value> {
        let details = self
            .collected_information
            .as_ref()
            .and_then(|info| info.get("shipping_details"))
            .filter(|details| !details.is_null())
            .or(self.shipping_details.as_ref())
            .filter(|details| !details.is_null())?;
        let address = details.get("address").cloned().unwrap_or(Value::Null);
        let text = |key: &str| address.get(key).cloned().unwrap_or(Value::Null);
        Some(serde_json::json!({
            "name": details.get("name").cloned().unwrap_or(Value::Null),
            "address-line1": text("line1"), "address-line2": text("line2"),
            "postal-code": text("postal_code"), "city": text("city"),
            "state": text("state"), "country": text("country"),
        }))
    }

    /// The last four digits of the payment method, when `payment_intent.payment_method` was
    /// expanded.
    pub fn card_last4(&self) -> Option<String> {
        let payment_method = self
            .payment_intent
            .as_ref()?
            .object()?
            .get("payment_method")?;
        payment_method_last4(payment_method)
    }

    /// Paid, or nothing to pay: what settles a Mighty session.
    pub fn is_paid(&self) -> bool {
        matches!(
            self.payment_status.as_deref(),
            Some("paid" | "no_payment_required")
        )
    }
}

/// The last four digits of an expanded PaymentMethod: `card.last4`, else the `last4` of its
/// own type's details (`sepa_debit.last4`, ...). Only four digits are kept: nothing else of
/// a payment method reaches storage.
pub fn payment_method_last4(payment_method: &Value) -> Option<String> {
    let kind = payment_method.get("type")?.as_str()?;
    let last4 = payment_method
        .get("card")
        .or_else(|| payment_method.get(kind))?
        .get("last4")?
        .as_str()?;
    (last4.len() == 4 && last4.bytes().all(|byte| byte.is_ascii_digit())).then(|| last4.to_string())
}

/// A price as a subscription item carries it.
#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub product: Option<Expandable>,
    #[serde(default)]
    pub unit_amount: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionItem {
    pub id: String,
    #[serde(default)]
    pub price: Option<Price>,
    #[serde(default)]
    pub current_period_start: Option<i64>,
    #[serde(default)]
    pub current_period_end: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

/// A subscription: the fields Mighty reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Subscription {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub items: Option<List<SubscriptionItem>>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    /// On the subscription in API versions before 2025-03-31; on its items since.
    #[serde(default)]
    pub current_period_start: Option<i64>,
    #[serde(default)]
    pub current_period_end: Option<i64>,
    #[serde(default)]
    pub latest_invoice: Option<Expandable>,
    /// The payment method Checkout saved for the renewals (expanded on request).
    #[serde(default)]
    pub default_payment_method: Option<Expandable>,
    /// Set while collection is paused (issue 15: Mighty pauses with `behavior=void` and a
    /// `resumes_at`); `null` otherwise.
    #[serde(default)]
    pub pause_collection: Option<PauseCollection>,
}

/// A subscription's `pause_collection`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PauseCollection {
    /// `keep_as_draft`, `mark_uncollectible` or `void`.
    pub behavior: String,
    #[serde(default)]
    pub resumes_at: Option<i64>,
}

impl Subscription {
    /// The last four digits of the default payment method, when it was expanded.
    pub fn card_last4(&self) -> Option<String> {
        payment_method_last4(self.default_payment_method.as_ref()?.object()?)
    }

    pub fn first_item(&self) -> Option<&SubscriptionItem> {
        self.items.as_ref()?.data.first()
    }

    /// The current period, wherever this API version puts it.
    pub fn period(&self) -> Option<(i64, i64)> {
        let item = self.first_item();
        let start = self
            .current_period_start
            .or_else(|| item?.current_period_start)?;
        let end = self
            .current_period_end
            .or_else(|| item?.current_period_end)?;
        Some((start, end))
    }
}

/// An invoice: the fields Mighty reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    pub id: String,
    #[serde(default)]
    pub billing_reason: Option<String>,
    #[serde(default)]
    pub amount_paid: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    /// Before 2025-03-31.
    #[serde(default)]
    pub subscription: Option<Expandable>,
    /// Since 2025-03-31: `parent.subscription_details.subscription`.
    #[serde(default)]
    pub parent: Option<Value>,
    /// Before 2025-03-31.
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    #[serde(default)]
    pub charge: Option<Expandable>,
    #[serde(default)]
    pub lines: Option<List<Value>>,
}

impl Invoice {
    pub fn subscription_id(&self) -> Option<String> {
        id_of(&self.subscription).or_else(|| {
            let subscription = self
                .parent
                .as_ref()?
                .get("subscription_details")?
                .get("subscription")?;
            subscription
                .as_str()
                .or_else(|| subscription.get("id")?.as_str())
                .map(str::to_string)
        })
    }

    pub fn payment_intent_id(&self) -> Option<String> {
        id_of(&self.payment_intent)
    }

    pub fn charge_id(&self) -> Option<String> {
        id_of(&self.charge)
    }

    /// The period the invoice's subscription line covers (the renewal's new period).
    pub fn line_period(&self) -> Option<(i64, i64)> {
        self.lines.as_ref()?.data.iter().rev().find_map(|line| {
            let period = line.get("period")?;
            Some((period.get("start")?.as_i64()?, period.get("end")?.as_i64()?))
        })
    }
}

/// A charge (in `charge.refunded`).
#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    pub id: String,
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    /// Before 2025-03-31.
    #[serde(default)]
    pub invoice: Option<Expandable>,
    #[serde(default)]
    pub refunded: bool,
}

impl Charge {
    pub fn payment_intent_id(&self) -> Option<String> {
        id_of(&self.payment_intent)
    }

    pub fn invoice_id(&self) -> Option<String> {
        id_of(&self.invoice)
    }
}

/// A refund.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// An event as Stripe sends it to the webhook endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: EventData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_spell_out_stripes_bracket_notation() {
        let mut form = Form::new();
        form.set(&["mode"], "payment")
            .set(&["line_items", "0", "price_data", "unit_amount"], "2400")
            .set(
                &["line_items", "0", "price_data", "product_data", "name"],
                "Trio & co = 3",
            )
            .metadata(&["metadata"], &[("listing_id", "candle-trio".into())]);
        assert_eq!(
            form.encode(),
            "mode=payment&line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=2400\
             &line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Trio+%26+co+%3D+3\
             &metadata%5Blisting_id%5D=candle-trio"
        );
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(form.encode().as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded, form.pairs());
    }

    #[test]
    fn metadata_stays_within_stripes_limits() {
        let long = "é".repeat(600);
        let entries: Vec<(&str, String)> =
            vec![("a_key_longer_than_forty_characters_is_cut_here", long)];
        let mut form = Form::new();
        form.metadata(&["metadata"], &entries);
        let (key, value) = &form.pairs()[0];
        assert_eq!(key, "metadata[a_key_longer_than_forty_characters_is_cu]");
        assert_eq!(value.chars().count(), METADATA_MAX_VALUE_CHARS);
    }

    #[test]
    fn refusals_are_read_from_stripes_error_body() {
        let body = br#"{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined.","param":null}}"#;
        let error = refusal(402, body);
        assert_eq!(
            error,
            StripeError::Refused {
                status: 402,
                kind: "card_error".into(),
                code: Some("card_declined".into()),
                message: "Your card was declined.".into(),
                param: None,
            }
        );
        let answer = error.to_app_error();
        assert_eq!(answer.status().as_u16(), 422);
        assert_eq!(answer.body().error.message, "Your card was declined.");
        // A refused key is the operator's problem: a 500 whose body says nothing.
        let key = refusal(401, br#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****1234"}}"#);
        assert_eq!(
            key.to_app_error().body().error.message,
            "the server failed; try again"
        );
        let busy = StripeError::Unavailable {
            rate_limited: true,
            retry_after_seconds: Some(3),
            detail: String::new(),
        };
        assert_eq!(busy.to_app_error().status().as_u16(), 429);
    }

    #[test]
    fn only_four_digits_of_a_payment_method_are_read() {
        let card = serde_json::json!({ "id": "pm_1", "type": "card",
            "card": { "brand": "visa", "last4": "4242", "exp_year": 2030 } });
        assert_eq!(payment_method_last4(&card).as_deref(), Some("4242"));
        let sepa = serde_json::json!({ "id": "pm_2", "type": "sepa_debit",
            "sepa_debit": { "bank_code": "37040044", "last4": "3000" } });
        assert_eq!(payment_method_last4(&sepa).as_deref(), Some("3000"));
        for odd in [
            serde_json::json!({ "type": "card", "card": { "last4": "42424242" } }),
            serde_json::json!({ "type": "card", "card": { "last4": "ab12" } }),
            serde_json::json!({ "type": "link", "link": { "email": "ana@example.com" } }),
            serde_json::json!({ "card": { "last4": "4242" } }),
        ] {
            assert_eq!(payment_method_last4(&odd), None, "{odd}");
        }
    }

    #[test]
    fn objects_are_read_across_api_versions() {
        // Periods on the subscription (before 2025-03-31) or on its items (since).
        let old: Subscription = serde_json::from_value(serde_json::json!({
            "id": "sub_1", "current_period_start": 10, "current_period_end": 20,
            "items": { "data": [ { "id": "si_1" } ] } }))
        .unwrap();
        assert_eq!(old.period(), Some((10, 20)));
        let new: Subscription = serde_json::from_value(serde_json::json!({
            "id": "sub_1", "items": { "data": [ { "id": "si_1", "current_period_start": 30, "current_period_end": 40 } ] } })).unwrap();
        assert_eq!(new.period(), Some((30, 40)));
        // An invoice's subscription at the top (before) or under parent (since).
        let old: Invoice = serde_json::from_value(
            serde_json::json!({ "id": "in_1", "subscription": "sub_1", "payment_intent": "pi_1" }),
        )
        .unwrap();
        assert_eq!(old.subscription_id().as_deref(), Some("sub_1"));
        assert_eq!(old.payment_intent_id().as_deref(), Some("pi_1"));
        let new: Invoice = serde_json::from_value(serde_json::json!({ "id": "in_1",
            "parent": { "type": "subscription_details", "subscription_details": { "subscription": "sub_2" } } })).unwrap();
        assert_eq!(new.subscription_id().as_deref(), Some("sub_2"));
        // Expanded or not.
        let expanded: Charge = serde_json::from_value(serde_json::json!({ "id": "ch_1", "payment_intent": { "id": "pi_9", "object": "payment_intent" } })).unwrap();
        assert_eq!(expanded.payment_intent_id().as_deref(), Some("pi_9"));
    }
}
