//! A local stand-in for the few Stripe endpoints live mode calls, written from Stripe's
//! published API description (the `stripe/openapi` repository) and API reference: form
//! encoded requests with bracket notation, `Authorization: Bearer <secret key>`, objects
//! shaped like Stripe's (ids with Stripe's prefixes, `object`, expandable ids), error bodies
//! `{"error": {"type", "code", "message", "param"}}`, and idempotency as Stripe documents it
//! (a key replays the first answer; the same key with other parameters is a 400
//! `idempotency_error`), `expand[]` of the ids it knows, and refusals of what Stripe's
//! description does not take (`stripe_params.rs`: unknown or missing parameters, bad
//! integers and values). Every request is recorded. It can answer late (after doing the
//! work, as a slow Stripe does), to test timeouts over the socket. It listens on a loopback port: the
//! server under test talks to it over a real socket. Its objects are this file's own,
//! written for these tests; no fixture is copied from Stripe.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "sk_test_51StandInSecretKeyForMightyTests";
pub const WEBHOOK_SECRET: &str = "whsec_standin_webhook_secret_for_tests";

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Form (or query) pairs, decoded, in order.
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
    pub status: u16,
}

impl Recorded {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    /// (key) → (request fingerprint, status, body).
    idempotent: HashMap<String, (String, u16, Value)>,
    sessions: HashMap<String, Value>,
    subscriptions: HashMap<String, Value>,
    invoices: HashMap<String, Value>,
    refunds: Vec<Value>,
    /// Payment intents and payment methods, for `expand[]`.
    objects: HashMap<String, Value>,
    /// The next POSTs do their work, then answer only after this long.
    delays: Vec<std::time::Duration>,
    /// The next POSTs fail with this status (500, 503, 429) before any work.
    failures: Vec<u16>,
    /// The next POST is refused with this 400 (param, message).
    refusal: Option<(String, String)>,
    counter: u64,
}

#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl StandIn {
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// The requests to `method path`.
    pub fn calls(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.method == method && request.path == path)
            .collect()
    }

    /// Makes the next POSTs answer `statuses` in turn (500, 503, 429), before any work.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().failures = statuses.to_vec();
    }

    /// Makes the next POSTs answer late: each does its work (a Checkout Session is made),
    /// then waits `delays[i]` before answering, as a slow Stripe does.
    pub fn delay_next(&self, delays: &[std::time::Duration]) {
        self.inner.lock().unwrap().delays = delays.to_vec();
    }

    /// Makes the next POST a 400 `invalid_request_error` about `param`.
    pub fn refuse_next(&self, param: &str, message: &str) {
        self.inner.lock().unwrap().refusal = Some((param.into(), message.into()));
    }

    pub fn session(&self, id: &str) -> Value {
        self.inner.lock().unwrap().sessions[id].clone()
    }

    pub fn session_count(&self) -> usize {
        self.inner.lock().unwrap().sessions.len()
    }

    pub fn subscription(&self, id: &str) -> Value {
        self.inner.lock().unwrap().subscriptions[id].clone()
    }

    pub fn subscription_count(&self) -> usize {
        self.inner.lock().unwrap().subscriptions.len()
    }

    pub fn refunds(&self) -> Vec<Value> {
        self.inner.lock().unwrap().refunds.clone()
    }

    pub fn invoice(&self, id: &str) -> Value {
        self.inner.lock().unwrap().invoices[id].clone()
    }

    /// The shopper pays on the hosted page: the session completes (a subscription, its
    /// first invoice and a payment intent are made in subscription mode). Returns the
    /// completed session.
    pub fn complete(&self, session_id: &str, shipping: Option<Value>) -> Value {
        self.complete_as(session_id, shipping, "paid")
    }

    /// The shopper chose an asynchronous payment method (a bank debit): the session is
    /// complete but its payment still `unpaid` until Stripe hears from the bank.
    pub fn complete_pending(&self, session_id: &str) -> Value {
        self.complete_as(session_id, None, "unpaid")
    }

    /// The bank answered: the asynchronous payment succeeded.
    pub fn settle_pending(&self, session_id: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let session = inner.sessions.get_mut(session_id).unwrap();
        session["payment_status"] = json!("paid");
        session.clone()
    }

    fn complete_as(
        &self,
        session_id: &str,
        shipping: Option<Value>,
        payment_status: &str,
    ) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let now = now();
        let session = inner.sessions[session_id].clone();
        let mut completed = session.clone();
        completed["status"] = json!("complete");
        completed["payment_status"] = json!(payment_status);
        // The card the shopper paid with, as a PaymentMethod (only its last four digits
        // are ever read).
        let payment_method = inner.next_id("pm");
        inner.objects.insert(payment_method.clone(), json!({
            "id": payment_method, "object": "payment_method", "type": "card",
            "created": now, "customer": null, "livemode": false, "metadata": {},
            "billing_details": { "address": null, "email": "ana@example.com", "name": "Ana Ruiz", "phone": null },
            "card": { "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030,
                "country": "FR", "funding": "credit", "fingerprint": "standinfp" } }));
        completed["customer_details"] = json!({ "email": "ana@example.com", "name": "Ana Ruiz",
            "address": null, "phone": null, "tax_exempt": "none", "tax_ids": [] });
        if let Some(shipping) = shipping {
            completed["collected_information"] = json!({ "shipping_details": shipping });
        }
        if session["mode"] == "subscription" {
            let subscription_id = inner.next_id("sub");
            let item_id = inner.next_id("si");
            let invoice_id = inner.next_id("in");
            let payment_intent = inner.next_id("pi");
            let price = &session["_line"]["price_data"];
            let end = now + 30 * 86_400;
            let subscription = json!({
                "id": subscription_id, "object": "subscription", "status": "active",
                "customer": "cus_standin", "livemode": false, "created": now,
                "metadata": session["_subscription_metadata"].clone(),
                "latest_invoice": invoice_id, "default_payment_method": payment_method,
                "items": { "object": "list", "has_more": false, "data": [ {
                    "id": item_id, "object": "subscription_item", "quantity": 1,
                    "subscription": subscription_id,
                    "current_period_start": now, "current_period_end": end,
                    "price": { "id": inner.next_id("price"), "object": "price",
                        "product": inner.next_id("prod"), "currency": price["currency"],
                        "unit_amount": price["unit_amount"].as_str().and_then(|text| text.parse::<i64>().ok()),
                        "recurring": { "interval": price["recurring"]["interval"], "interval_count": 1 },
                        "type": "recurring" } } ] } });
            inner
                .subscriptions
                .insert(subscription_id.clone(), subscription);
            let invoice = invoice_json(
                &invoice_id,
                &subscription_id,
                "subscription_create",
                completed["amount_total"].as_i64().unwrap_or(0),
                &completed["currency"],
                (now, end),
                Some(&payment_intent),
            );
            inner.invoices.insert(invoice_id.clone(), invoice);
            completed["subscription"] = json!(subscription_id);
            completed["invoice"] = json!(invoice_id);
        } else {
            let payment_intent = inner.next_id("pi");
            inner.objects.insert(
                payment_intent.clone(),
                json!({
                "id": payment_intent, "object": "payment_intent",
                "amount": completed["amount_total"], "currency": completed["currency"],
                "status": if payment_status == "paid" { "succeeded" } else { "processing" },
                "payment_method": payment_method, "livemode": false, "metadata": {} }),
            );
            completed["payment_intent"] = json!(payment_intent);
        }
        inner
            .sessions
            .insert(session_id.to_string(), completed.clone());
        completed
    }

    /// Stripe renews a subscription: its period moves on and a paid `subscription_cycle`
    /// invoice is made (returned).
    pub fn renew(&self, subscription_id: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let mut subscription = inner.subscriptions[subscription_id].clone();
        let item = &mut subscription["items"]["data"][0];
        // As if the period had run out: the new one began ten days ago.
        let start = now() - 10 * 86_400;
        let end = start + 30 * 86_400;
        item["current_period_start"] = json!(start);
        item["current_period_end"] = json!(end);
        let amount = item["price"]["unit_amount"].as_i64().unwrap();
        let currency = item["price"]["currency"].clone();
        let invoice_id = inner.next_id("in");
        let payment_intent = inner.next_id("pi");
        let invoice = invoice_json(
            &invoice_id,
            subscription_id,
            "subscription_cycle",
            amount,
            &currency,
            (start, end),
            Some(&payment_intent),
        );
        subscription["latest_invoice"] = json!(invoice_id);
        inner.invoices.insert(invoice_id, invoice.clone());
        inner
            .subscriptions
            .insert(subscription_id.to_string(), subscription);
        invoice
    }

    /// The seller changes the subscription's `pause_collection` in Stripe's dashboard
    /// (`{"behavior", "resumes_at"}`, or `null` to clear it), as Stripe then reports it in
    /// `customer.subscription.updated`. Returns the subscription.
    pub fn set_pause_collection(&self, subscription_id: &str, pause: Value) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let subscription = inner.subscriptions.get_mut(subscription_id).unwrap();
        subscription["pause_collection"] = pause;
        subscription.clone()
    }

    /// Stripe cannot collect a renewal: the period starting at `start` begins (a month long)
    /// and its `subscription_cycle` invoice stays `open`, unpaid (what `invoice.payment_failed`
    /// carries). A pause whose `resumes_at` has come is over: `pause_collection` is cleared.
    /// Returns the invoice.
    pub fn fail_renewal(&self, subscription_id: &str, start: i64) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let mut subscription = inner.subscriptions[subscription_id].clone();
        let end = start + 30 * 86_400;
        let item = &mut subscription["items"]["data"][0];
        item["current_period_start"] = json!(start);
        item["current_period_end"] = json!(end);
        let amount = item["price"]["unit_amount"].as_i64().unwrap();
        let currency = item["price"]["currency"].clone();
        if subscription["pause_collection"]["resumes_at"]
            .as_i64()
            .is_some_and(|resumes_at| resumes_at <= start)
        {
            subscription["pause_collection"] = Value::Null;
        }
        let invoice_id = inner.next_id("in");
        let payment_intent = inner.next_id("pi");
        let mut invoice = invoice_json(
            &invoice_id,
            subscription_id,
            "subscription_cycle",
            amount,
            &currency,
            (start, end),
            Some(&payment_intent),
        );
        invoice["status"] = json!("open");
        invoice["amount_paid"] = json!(0);
        invoice["amount_remaining"] = json!(amount);
        invoice["attempted"] = json!(true);
        invoice["attempt_count"] = json!(1);
        subscription["latest_invoice"] = json!(invoice_id);
        inner.invoices.insert(invoice_id, invoice.clone());
        inner
            .subscriptions
            .insert(subscription_id.to_string(), subscription);
        invoice
    }
}

/// An invoice as Stripe's current API versions shape it (the subscription under `parent`,
/// no payment intent on the invoice itself); `payment_intent` is listed in the stand-in's
/// own `_payment_intent` for `/v1/invoice_payments`.
fn invoice_json(
    id: &str,
    subscription: &str,
    reason: &str,
    amount: i64,
    currency: &Value,
    period: (i64, i64),
    payment_intent: Option<&str>,
) -> Value {
    json!({
        "id": id, "object": "invoice", "status": "paid", "billing_reason": reason,
        "amount_due": amount, "amount_paid": amount, "amount_remaining": 0, "currency": currency,
        "customer": "cus_standin", "livemode": false, "created": period.0,
        "parent": { "type": "subscription_details", "quote_details": null,
            "subscription_details": { "subscription": subscription, "metadata": {} } },
        "lines": { "object": "list", "has_more": false, "data": [ {
            "id": format!("il_{id}"), "object": "line_item", "amount": amount, "currency": currency,
            "period": { "start": period.0, "end": period.1 } } ] },
        "_payment_intent": payment_intent,
    })
}

impl Inner {
    /// The object `value` with each `expand[]` path (`payment_intent.payment_method`) of
    /// ids this stand-in knows replaced by the object.
    fn expand(&self, mut value: Value, form: &[(String, String)]) -> Value {
        for (key, path) in form {
            if key.starts_with("expand[") {
                let path: Vec<&str> = path.split('.').collect();
                self.expand_path(&mut value, &path);
            }
        }
        value
    }

    fn expand_path(&self, value: &mut Value, path: &[&str]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let Some(field) = value.get_mut(*first) else {
            return;
        };
        if let Some(id) = field.as_str()
            && let Some(object) = self
                .objects
                .get(id)
                .or_else(|| self.invoices.get(id))
                .or_else(|| self.subscriptions.get(id))
        {
            *field = strip_private(object.clone());
        }
        if field.is_object() {
            self.expand_path(field, rest);
        }
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_test_standin{:06}", self.counter)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn error(
    status: StatusCode,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> (StatusCode, Value) {
    (
        status,
        json!({ "error": { "type": kind, "code": code, "message": message, "param": param,
        "doc_url": code.map(|code| format!("https://docs.stripe.com/error-codes/{code}")) } }),
    )
}

fn decode(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// `prefix[key]=value` pairs as an object.
fn nested(form: &[(String, String)], prefix: &str) -> Value {
    let mut object = serde_json::Map::new();
    for (key, value) in form {
        if let Some(rest) = key
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('['))
            .and_then(|rest| rest.strip_suffix(']'))
            && !rest.contains('[')
        {
            object.insert(rest.to_string(), json!(value));
        }
    }
    Value::Object(object)
}

async fn handle(
    State(stand_in): State<StandIn>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1/{path}");
    let text = if method == Method::GET {
        query.unwrap_or_default()
    } else {
        String::from_utf8_lossy(&body).into_owned()
    };
    let form = decode(&text);
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let authorized = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(&format!("Bearer {SECRET_KEY}"));
    // The lock is released before the (late) answer is awaited.
    let (status, answer, replayed, delay) = {
        let mut inner = stand_in.inner.lock().unwrap();
        let delay = if method == Method::POST && !inner.delays.is_empty() {
            Some(inner.delays.remove(0))
        } else {
            None
        };
        let shape = super::stripe_params::check(method.as_str(), &path, &form);
        let (status, answer, replayed) = if !authorized {
            let (status, body) = error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                None,
                "Invalid API Key provided: sk_test_****",
                None,
            );
            (status, body, false)
        } else if let Err(problem) = shape {
            // What Stripe's description does not take, Stripe refuses.
            let (status, body) = error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some(problem.code),
                &problem.message,
                problem.param.as_deref(),
            );
            (status, body, false)
        } else if method == Method::POST && !inner.failures.is_empty() {
            let status = inner.failures.remove(0);
            let (status, body) = match status {
                429 => error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "invalid_request_error",
                    Some("rate_limit"),
                    "Too many requests hit the API too quickly.",
                    None,
                ),
                other => error(
                    StatusCode::from_u16(other).unwrap(),
                    "api_error",
                    None,
                    "An error occurred with our connection to Stripe.",
                    None,
                ),
            };
            (status, body, false)
        } else {
            let fingerprint = format!("{method} {path} {text}");
            match key
                .as_ref()
                .and_then(|key| inner.idempotent.get(key).cloned())
            {
                Some((earlier, status, body)) if earlier == fingerprint => {
                    (StatusCode::from_u16(status).unwrap(), body, true)
                }
                Some(_) => {
                    let (status, body) = error(
                        StatusCode::BAD_REQUEST,
                        "idempotency_error",
                        None,
                        "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                        None,
                    );
                    (status, body, false)
                }
                None => {
                    let (status, body) = match inner.refusal.take() {
                        Some((param, message)) if method == Method::POST => error(
                            StatusCode::BAD_REQUEST,
                            "invalid_request_error",
                            Some("parameter_invalid"),
                            &message,
                            Some(&param),
                        ),
                        _ => route(&mut inner, &stand_in.base, &method, &path, &form),
                    };
                    if method == Method::POST
                        && let Some(key) = &key
                    {
                        inner
                            .idempotent
                            .insert(key.clone(), (fingerprint, status.as_u16(), body.clone()));
                    }
                    (status, body, false)
                }
            }
        };
        inner.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            form,
            idempotency_key: key,
            status: status.as_u16(),
        });
        (status, answer, replayed, delay)
    };
    if let Some(delay) = delay {
        // The work is done (and kept under the idempotency key); the answer is late.
        tokio::time::sleep(delay).await;
    }
    let mut response = (status, axum::Json(strip_private(answer))).into_response();
    response
        .headers_mut()
        .insert("request-id", "req_standin".parse().unwrap());
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", "true".parse().unwrap());
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert("retry-after", "1".parse().unwrap());
    }
    response
}

/// Drops the stand-in's own bookkeeping (fields starting with `_`).
fn strip_private(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.retain(|key, _| !key.starts_with('_'));
    }
    value
}

fn route(
    inner: &mut Inner,
    base: &str,
    method: &Method,
    path: &str,
    form: &[(String, String)],
) -> (StatusCode, Value) {
    let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let missing = |what: &str, id: &str| {
        error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such {what}: '{id}'"),
            Some("id"),
        )
    };
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["checkout", "sessions"]) => {
            let Some(mode) = field(form, "mode") else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("parameter_missing"),
                    "Missing required param: mode.",
                    Some("mode"),
                );
            };
            let id = format!(
                "cs_test_{}",
                inner.next_id("standin").trim_start_matches("standin_test_")
            );
            let quantity: i64 = field(form, "line_items[0][quantity]")
                .and_then(|text| text.parse().ok())
                .unwrap_or(1);
            let unit: i64 = field(form, "line_items[0][price_data][unit_amount]")
                .and_then(|text| text.parse().ok())
                .unwrap_or(0);
            let session = json!({
                "id": id, "object": "checkout.session", "mode": mode, "status": "open",
                "payment_status": "unpaid", "livemode": false, "created": now(),
                "url": format!("{base}/c/pay/{id}"),
                "client_reference_id": field(form, "client_reference_id"),
                "success_url": field(form, "success_url"), "cancel_url": field(form, "cancel_url"),
                "expires_at": field(form, "expires_at").and_then(|text| text.parse::<i64>().ok()),
                "amount_subtotal": unit * quantity, "amount_total": unit * quantity,
                "currency": field(form, "line_items[0][price_data][currency]"),
                "metadata": nested(form, "metadata"),
                "customer": null, "customer_details": null, "payment_intent": null,
                "subscription": null, "invoice": null,
                "shipping_address_collection": null,
                "_line": { "price_data": {
                    "currency": field(form, "line_items[0][price_data][currency]"),
                    "unit_amount": field(form, "line_items[0][price_data][unit_amount]"),
                    "recurring": { "interval": field(form, "line_items[0][price_data][recurring][interval]") } } },
                "_subscription_metadata": nested(form, "subscription_data[metadata]"),
            });
            inner.sessions.insert(id, session.clone());
            (StatusCode::OK, session)
        }
        ("GET", ["checkout", "sessions", id]) => match inner.sessions.get(*id) {
            Some(session) => (StatusCode::OK, inner.expand(session.clone(), form)),
            None => missing("checkout.session", id),
        },
        ("POST", ["checkout", "sessions", id, "expire"]) => match inner.sessions.get_mut(*id) {
            Some(session) if session["status"] == "open" => {
                session["status"] = json!("expired");
                (StatusCode::OK, session.clone())
            }
            Some(session) => {
                let message = format!(
                    "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                    session["status"].as_str().unwrap_or_default()
                );
                error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("checkout_session_not_open"),
                    &message,
                    None,
                )
            }
            None => missing("checkout.session", id),
        },
        ("GET", ["subscriptions", id]) => match inner.subscriptions.get(*id) {
            Some(subscription) => (StatusCode::OK, inner.expand(subscription.clone(), form)),
            None => missing("subscription", id),
        },
        ("POST", ["subscriptions", id]) => {
            let Some(mut subscription) = inner.subscriptions.get(*id).cloned() else {
                return missing("subscription", id);
            };
            // Pausing collection (issue 15): `pause_collection[behavior]` and `[resumes_at]`;
            // an empty `pause_collection` clears it. Nothing else changes.
            if let Some(cleared) = field(form, "pause_collection") {
                if !cleared.is_empty() {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request_error",
                        Some("parameter_invalid_empty"),
                        "pause_collection must be an object or empty",
                        Some("pause_collection"),
                    );
                }
                subscription["pause_collection"] = Value::Null;
                inner
                    .subscriptions
                    .insert(id.to_string(), subscription.clone());
                return (StatusCode::OK, subscription);
            }
            if let Some(behavior) = field(form, "pause_collection[behavior]") {
                if !["keep_as_draft", "mark_uncollectible", "void"].contains(&behavior) {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request_error",
                        Some("parameter_invalid"),
                        "Invalid pause_collection[behavior]",
                        Some("pause_collection[behavior]"),
                    );
                }
                let resumes_at = field(form, "pause_collection[resumes_at]")
                    .and_then(|text| text.parse::<i64>().ok());
                subscription["pause_collection"] =
                    json!({ "behavior": behavior, "resumes_at": resumes_at });
                inner
                    .subscriptions
                    .insert(id.to_string(), subscription.clone());
                return (StatusCode::OK, subscription);
            }
            let item = subscription["items"]["data"][0].clone();
            if field(form, "items[0][id]") != item["id"].as_str() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("resource_missing"),
                    "No such subscription item",
                    Some("items[0][id]"),
                );
            }
            let old: i64 = item["price"]["unit_amount"].as_i64().unwrap();
            let new: i64 = field(form, "items[0][price_data][unit_amount]")
                .and_then(|text| text.parse().ok())
                .unwrap_or(old);
            let (start, end) = (
                item["current_period_start"].as_i64().unwrap(),
                item["current_period_end"].as_i64().unwrap(),
            );
            let at: i64 = field(form, "proration_date")
                .and_then(|text| text.parse().ok())
                .unwrap_or_else(now);
            // Stripe's proration: unused time on the old price credited, remaining time on
            // the new one charged, each line rounded.
            let remaining = (end - at).clamp(0, end - start) as f64 / (end - start) as f64;
            let due =
                (new as f64 * remaining).round() as i64 - (old as f64 * remaining).round() as i64;
            let mut changed = item.clone();
            changed["price"]["id"] = json!(inner.next_id("price"));
            changed["price"]["unit_amount"] = json!(new);
            subscription["items"]["data"][0] = changed;
            for (key, value) in nested(form, "metadata").as_object().unwrap() {
                subscription["metadata"][key] = value.clone();
            }
            if field(form, "proration_behavior") == Some("none") {
                // No proration: the new price is billed from the next invoice, none now.
                inner
                    .subscriptions
                    .insert(id.to_string(), subscription.clone());
                return (StatusCode::OK, subscription);
            }
            let invoice_id = inner.next_id("in");
            let payment_intent = inner.next_id("pi");
            let invoice = invoice_json(
                &invoice_id,
                id,
                "subscription_update",
                due,
                &item["price"]["currency"],
                (at, end),
                Some(&payment_intent),
            );
            inner.invoices.insert(invoice_id.clone(), invoice.clone());
            subscription["latest_invoice"] = json!(invoice_id);
            inner
                .subscriptions
                .insert(id.to_string(), subscription.clone());
            if field(form, "expand[0]") == Some("latest_invoice") {
                subscription["latest_invoice"] = strip_private(invoice);
            }
            (StatusCode::OK, subscription)
        }
        ("DELETE", ["subscriptions", id]) => match inner.subscriptions.get_mut(*id) {
            Some(subscription) => {
                subscription["status"] = json!("canceled");
                subscription["canceled_at"] = json!(now());
                (StatusCode::OK, subscription.clone())
            }
            None => missing("subscription", id),
        },
        ("GET", ["invoices", id]) => match inner.invoices.get(*id) {
            Some(invoice) => (StatusCode::OK, invoice.clone()),
            None => missing("invoice", id),
        },
        ("GET", ["invoice_payments"]) => {
            let invoice = field(form, "invoice").unwrap_or_default();
            let data: Vec<Value> = inner.invoices.get(invoice).map(|invoice| json!({
                "id": format!("inpay_{}", invoice["id"].as_str().unwrap()), "object": "invoice_payment",
                "invoice": invoice["id"], "status": "paid",
                "payment": { "type": "payment_intent", "payment_intent": invoice["_payment_intent"] } })).into_iter().collect();
            (
                StatusCode::OK,
                json!({ "object": "list", "data": data, "has_more": false, "url": "/v1/invoice_payments" }),
            )
        }
        ("POST", ["refunds"]) => {
            let refund = json!({ "id": inner.next_id("re"), "object": "refund", "status": "succeeded",
                "payment_intent": field(form, "payment_intent"), "charge": field(form, "charge"),
                "amount": null, "currency": null, "metadata": nested(form, "metadata") });
            inner.refunds.push(refund.clone());
            (StatusCode::OK, refund)
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            &format!("Unrecognized request URL ({method}: {path})."),
            None,
        ),
    }
}

/// Starts the stand-in on a loopback port.
pub async fn start() -> StandIn {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let stand_in = StandIn {
        inner: Arc::default(),
        base: format!("http://{address}"),
    };
    let app = Router::new()
        .route("/v1/{*path}", get(handle).post(handle).delete(handle))
        .with_state(stand_in.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    stand_in
}

/// An event as Stripe sends it, and its `Stripe-Signature` at `t` (Stripe's scheme:
/// HMAC-SHA256 of "t.body" with the endpoint's secret, hex).
pub fn signed_event(id: &str, kind: &str, object: Value, t: i64, secret: &str) -> (String, String) {
    let body =
        json!({ "id": id, "object": "event", "type": kind, "api_version": "2025-03-31.basil",
        "created": t, "livemode": false, "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "data": { "object": strip_private(object) } })
        .to_string();
    let signature = mighty_core::signing::sign_webhook(secret, t, body.as_bytes());
    (body, signature)
}
