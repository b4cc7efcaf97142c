//! `GET|POST /pay/{session_id}`: the sandbox's hosted pay page. A real HTML form that works
//! without JavaScript, with the standard `autocomplete` tokens (SPEC section 7), test cards,
//! errors next to their field, and a receipt that takes the shopper back (or tells the
//! opener, in a popup). Only the last four digits of a card are ever stored; the number is
//! never logged.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use mighty_core::{Currency, Money, Timestamp};

use crate::AppState;
use crate::error::AppError;
use crate::html::{self, Layout, shell};
use crate::same_origin::SameOrigin;
use crate::secrets::constant_time_eq;
use crate::store::{Payment, PaymentOutcome, Session};

/// The sandbox's test cards and what they do.
pub const CARD_SUCCEEDS: &str = "4242424242424242";
pub const CARD_DECLINED: &str = "4000000000000002";
pub const CARD_INSUFFICIENT_FUNDS: &str = "4000000000009995";

/// What a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardOutcome {
    Approve,
    Decline(&'static str),
}

/// Luhn checksum.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The form as the shopper filled it, and what is wrong with it, field by field.
#[derive(Debug, Default)]
pub struct CheckedForm {
    pub errors: Vec<(&'static str, String)>,
    pub payment: Option<Payment>,
    pub outcome: Option<CardOutcome>,
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(|value| value.trim()).unwrap_or_default()
}

/// Checks the pay form: email, name, card number (Luhn, a test card), expiry (not past, by
/// the sandbox clock), CVC, and a shipping address when the offer ships.
pub fn check_form(form: &HashMap<String, String>, ships: bool, now: Timestamp) -> CheckedForm {
    let mut errors = Vec::new();
    let email = field(form, "email");
    let email_ok = email.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    });
    if !email_ok {
        errors.push((
            "email",
            "Enter an email address like name@example.com.".to_string(),
        ));
    }
    if field(form, "cc-name").is_empty() {
        errors.push(("cc-name", "Enter the name on the card.".to_string()));
    }
    let number: String = field(form, "cc-number")
        .chars()
        .filter(|character| !matches!(character, ' ' | '-'))
        .collect();
    let mut outcome = None;
    if !(12..=19).contains(&number.len()) || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        errors.push((
            "cc-number",
            "Enter the card number: 12 to 19 digits.".to_string(),
        ));
    } else if !luhn_valid(&number) {
        errors.push((
            "cc-number",
            "This card number is not valid: check for a typo.".to_string(),
        ));
    } else {
        outcome = match number.as_str() {
            CARD_SUCCEEDS => Some(CardOutcome::Approve),
            CARD_DECLINED => Some(CardOutcome::Decline("card_declined")),
            CARD_INSUFFICIENT_FUNDS => Some(CardOutcome::Decline("insufficient_funds")),
            _ => {
                errors.push((
                    "cc-number",
                    "Test mode accepts only test cards, such as 4242 4242 4242 4242.".to_string(),
                ));
                None
            }
        };
    }
    match parse_expiry(field(form, "cc-exp")) {
        None => errors.push(("cc-exp", "Enter the expiry date as MM/YY.".to_string())),
        Some((month, year)) => {
            let (now_year, now_month) = year_month(now);
            if (year, month) < (now_year, now_month) {
                errors.push(("cc-exp", "This card has expired.".to_string()));
            }
        }
    }
    let csc = field(form, "cc-csc");
    if !(3..=4).contains(&csc.len()) || !csc.bytes().all(|byte| byte.is_ascii_digit()) {
        errors.push((
            "cc-csc",
            "Enter the 3 or 4 digit security code.".to_string(),
        ));
    }
    let shipping = if ships {
        let mut address = serde_json::Map::new();
        for (name, label) in SHIPPING_FIELDS
            .iter()
            .map(|(name, _, label)| (*name, *label))
        {
            let value = field(form, name);
            if value.is_empty() {
                errors.push((name, format!("Enter the {}.", label.to_lowercase())));
            }
            address.insert(
                name.trim_start_matches("ship-").to_string(),
                serde_json::Value::String(value.to_string()),
            );
        }
        Some(serde_json::Value::Object(address))
    } else {
        None
    };
    let payment = errors.is_empty().then(|| Payment {
        email: email.to_string(),
        card_last4: number[number.len().saturating_sub(4)..].to_string(),
        shipping,
        partner: None,
    });
    CheckedForm {
        errors,
        payment,
        outcome,
    }
}

/// `MM/YY` (or `MM / YY`, `MM/YYYY`) → (month, full year).
fn parse_expiry(text: &str) -> Option<(i64, i64)> {
    let (month, year) = text.split_once('/')?;
    let month: i64 = month.trim().parse().ok()?;
    let year_text = year.trim();
    let year: i64 = year_text.parse().ok()?;
    let year = match year_text.len() {
        2 => 2000 + year,
        4 => year,
        _ => return None,
    };
    (1..=12).contains(&month).then_some((month, year))
}

fn year_month(now: Timestamp) -> (i64, i64) {
    let text = now.to_rfc3339();
    (
        text[0..4].parse().unwrap_or(1970),
        text[5..7].parse().unwrap_or(1),
    )
}

/// Shipping fields: form name, autocomplete token, label.
const SHIPPING_FIELDS: &[(&str, &str, &str)] = &[
    ("ship-name", "shipping name", "Full name"),
    (
        "ship-address-line1",
        "shipping address-line1",
        "Street address",
    ),
    ("ship-postal-code", "shipping postal-code", "Postal code"),
    ("ship-city", "shipping address-level2", "City"),
    ("ship-country", "shipping country-name", "Country"),
];

fn display_amount(amount: i64, currency: &str) -> String {
    Currency::from_code(currency).map_or_else(
        || format!("{amount} {currency}"),
        |currency| Money::new(amount, currency).to_string(),
    )
}

/// The shop's URL with `mighty_session` added (before any fragment).
pub fn return_link(session: &Session) -> String {
    // The stored return URL is a WHATWG parser's serialization (checkout.rs); add the
    // parameter with the same parser, never by splitting the text.
    match url::Url::parse(&session.return_url) {
        Ok(mut link) => {
            link.query_pairs_mut()
                .append_pair("mighty_session", &session.id);
            link.into()
        }
        Err(_) => session.return_url.clone(),
    }
}

pub(crate) fn summary(session: &Session) -> Markup {
    let what = match &session.tier_id {
        Some(tier) => format!("{} · {}", session.offer_id, tier),
        None if session.quantity > 1 => format!("{} × {}", session.offer_id, session.quantity),
        None => session.offer_id.clone(),
    };
    let delivery = match session.fulfilment.as_deref() {
        Some("ship") => Some("Shipped to you"),
        Some("pickup") => Some("Picked up at the pop-up stand"),
        _ => None,
    };
    let per = session
        .interval
        .as_deref()
        .map(|interval| format!(" / {interval}"))
        .unwrap_or_default();
    html! {
        section class="summary" aria-label="Order summary" {
            div { (session.listing_id) }
            div { (what) }
            @if let Some(delivery) = delivery {
                div class="fulfilment" { (delivery) }
            }
            div class="amount" { (display_amount(session.amount, &session.currency)) (per) }
        }
    }
}

/// Where and when a pick-up order is collected (the listing's pop-up), and, once paid, its
/// code.
pub(crate) struct PickupDetails {
    name: String,
    address: String,
    /// As the seller wrote the times (core's `wall_clock_span`), with the time zone's name.
    when: Option<String>,
    map: String,
    code: Option<String>,
}

/// The pick-up details of a session whose shopper chose pick-up; `None` for anything else
/// (or a listing that lost its pop-up since).
pub(crate) async fn pickup_details(state: &AppState, session: &Session) -> Option<PickupDetails> {
    if session.fulfilment.as_deref() != Some("pickup") {
        return None;
    }
    let (listing_id, session_id, paid) = (
        session.listing_id.clone(),
        session.id.clone(),
        session.status == "paid",
    );
    let (stored, order) = state
        .store(move |store| {
            let order = if paid {
                store.order_of_session(&session_id)?
            } else {
                None
            };
            Ok((store.listing(&listing_id)?, order))
        })
        .await
        .inspect_err(|error| tracing::warn!(%error, "reading a pick-up's listing"))
        .ok()?;
    let document = stored?.document;
    let popup = document.get("drop")?.get("popup")?;
    let text = |key: &str| popup.get(key).and_then(serde_json::Value::as_str);
    let when =
        mighty_core::pickup::wall_clock_span(text("opens_at")?, text("closes_at")?).map(|span| {
            match text("timezone") {
                Some(zone) => format!("{span}, {zone}"),
                None => span,
            }
        });
    let degrees = |key: &str| popup.get(key).and_then(serde_json::Value::as_f64);
    Some(PickupDetails {
        name: text("name")?.to_string(),
        address: text("address")?.to_string(),
        when,
        map: mighty_core::icalendar::map_url(degrees("lat")?, degrees("lon")?),
        code: order.and_then(|order| order.pickup_code),
    })
}

/// The receipt cookie: the browser that paid keeps, for that session's path only, the
/// session's receipt secret (an HMAC of its id under the server key, never stored), which
/// shows it the receipt's personal data (card, email); anyone else with the session id sees
/// the status and amounts.
const RECEIPT_COOKIE: &str = "mighty_receipt";
const RECEIPT_SECONDS: i64 = 86_400;

/// The `Set-Cookie` of the browser that paid `session_id`: `HttpOnly`, `SameSite=Strict`,
/// `Path=/pay/{id}`, `Secure` when the server is reached over https.
fn receipt_cookie(state: &AppState, headers: &HeaderMap, session_id: &str) -> Option<HeaderValue> {
    let secret = state.secrets().receipt_secret(session_id);
    let secure = crate::http::public_base(state, headers).starts_with("https://");
    HeaderValue::from_str(&format!(
        "{RECEIPT_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/pay/{session_id}; Max-Age={RECEIPT_SECONDS}{}",
        if secure { "; Secure" } else { "" }
    ))
    .ok()
}

/// Whether the request comes from the browser that paid `session_id` (its receipt cookie).
fn is_payer(state: &AppState, headers: &HeaderMap, session_id: &str) -> bool {
    let expected = state.secrets().receipt_secret(session_id);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| {
            cookie
                .trim()
                .strip_prefix(RECEIPT_COOKIE)?
                .strip_prefix('=')
        })
        .any(|given| constant_time_eq(given.as_bytes(), expected.as_bytes()))
}

/// The final page of a session that is no longer open: receipt, decline or expiry, each with
/// the way back to the shop. The receipt's card and email are shown to `payer` only.
fn final_page(session: &Session, payer: bool, pickup: Option<&PickupDetails>) -> Response {
    let back = return_link(session);
    let (title, content) = match session.status.as_str() {
        "paid" => (
            "Payment received",
            html! {
                div class="receipt" {
                    h1 { "Payment received" }
                    (summary(session))
                    dl {
                        dt { "Receipt" } dd { (session.id) }
                        @if payer {
                            dt { "Card" } dd { "•••• " (session.card_last4.as_deref().unwrap_or("")) }
                            dt { "Email" } dd { (session.email.as_deref().unwrap_or("")) }
                        }
                        @if let Some(pickup) = pickup {
                            (pickup_receipt_rows(pickup, payer))
                        }
                    }
                    @if pickup.is_some() && payer {
                        p class="hint" { "Show the pick-up code at the stand to collect your order." }
                    }
                    @if !payer {
                        p class="hint" { "The card, email and any pick-up code are shown only in the browser that paid." }
                    }
                }
            },
        ),
        "failed" => (
            "Payment declined",
            html! {
                h1 { "Payment declined" }
                p class="alert" role="alert" {
                    @match session.failure_reason.as_deref() {
                        Some("insufficient_funds") => "The card has insufficient funds. Nothing was charged.",
                        _ => "The card was declined. Nothing was charged.",
                    }
                }
                (summary(session))
            },
        ),
        _ => (
            "Checkout expired",
            html! {
                h1 { "This checkout expired" }
                p { "Nothing was charged. Start again from the shop." }
                (summary(session))
            },
        ),
    };
    let body = html! {
        (content)
        p id="return-status" role="status" aria-live="polite" {}
        div data-return-url=(back) data-session-id=(session.id) {
            a class="button" href=(back) { "Back to the shop" }
        }
    };
    shell(&Layout::RECEIPT, title, StatusCode::OK, body)
}

/// A paid pick-up's rows of a receipt's `dl`: its code (to the payer only: whoever holds it
/// collects the order), then where and when.
pub(crate) fn pickup_receipt_rows(pickup: &PickupDetails, payer: bool) -> Markup {
    html! {
        @if payer {
            @if let Some(code) = &pickup.code {
                dt { "Pick-up code" }
                dd { strong class="pickup-code" data-pickup-code=(code) { (mighty_core::pickup::display_pickup_code(code)) } }
            }
        }
        (pickup_rows(pickup))
    }
}

/// Where and when to pick up, as rows of a `dl`.
fn pickup_rows(pickup: &PickupDetails) -> Markup {
    html! {
        dt { "Pick up at" }
        dd { (pickup.name) br; (pickup.address) " · " a href=(pickup.map) rel="noopener" target="_blank" { "Map" } }
        @if let Some(when) = &pickup.when {
            dt { "When" } dd { (when) }
        }
    }
}

/// How a pay-form field is typed: its name, `autocomplete` token, label and input type.
struct Input<'a> {
    name: &'a str,
    autocomplete: &'a str,
    label: &'a str,
    kind: &'a str,
    numeric: bool,
    placeholder: Option<&'a str>,
}

impl<'a> Input<'a> {
    fn text(name: &'a str, autocomplete: &'a str, label: &'a str) -> Input<'a> {
        Input {
            name,
            autocomplete,
            label,
            kind: "text",
            numeric: false,
            placeholder: None,
        }
    }

    fn numeric(self) -> Input<'a> {
        Input {
            numeric: true,
            ..self
        }
    }

    /// The field with its value and, when it has one, its error (`aria-invalid`,
    /// `aria-describedby`).
    fn render(&self, value: &str, error: Option<&str>) -> Markup {
        let name = self.name;
        html! {
            div class="field" {
                label for=(name) { (self.label) }
                input id=(name) name=(name) type=(self.kind) autocomplete=(self.autocomplete) value=(value) required
                    aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[error.map(|_| format!("{name}-error"))]
                    inputmode=[self.numeric.then_some("numeric")]
                    placeholder=[self.placeholder];
                @if let Some(message) = error {
                    p class="error" id={ (name) "-error" } { (message) }
                }
            }
        }
    }
}

fn form_page(
    session: &Session,
    form: &HashMap<String, String>,
    errors: &[(&'static str, String)],
    pickup: Option<&PickupDetails>,
) -> Response {
    let error_for = |name: &str| {
        errors
            .iter()
            .find(|(field_name, _)| *field_name == name)
            .map(|(_, message)| message.as_str())
    };
    // What was typed is kept, except the card number and security code.
    let field_html = |input: Input| {
        let value = if input.name == "cc-number" || input.name == "cc-csc" {
            ""
        } else {
            field(form, input.name)
        };
        input.render(value, error_for(input.name))
    };
    let body = html! {
        h1 { "Pay securely" }
        (summary(session))
        @if !errors.is_empty() {
            p class="alert" role="alert" { "Please correct " (errors.len()) " field(s) below." }
        }
        form method="post" action={ "/pay/" (session.id) } novalidate {
            fieldset {
                legend { "Contact" }
                (field_html(Input { kind: "email", ..Input::text("email", "email", "Email") }))
            }
            fieldset {
                legend { "Card" }
                (field_html(Input::text("cc-name", "cc-name", "Name on card")))
                (field_html(Input::text("cc-number", "cc-number", "Card number").numeric()))
                div class="row" {
                    (field_html(Input {
                        placeholder: Some("MM/YY"),
                        ..Input::text("cc-exp", "cc-exp", "Expiry (MM/YY)").numeric()
                    }))
                    (field_html(Input::text("cc-csc", "cc-csc", "Security code").numeric()))
                }
            }
            @if let Some(pickup) = pickup {
                section class="summary receipt" aria-label="Pick-up" {
                    dl { (pickup_rows(pickup)) }
                    p class="hint" { "No shipping address needed: your receipt will show a pick-up code for the stand." }
                }
            }
            @if session.ships {
                fieldset {
                    legend { "Shipping address" }
                    @for (name, token, label) in SHIPPING_FIELDS {
                        (field_html(Input::text(name, token, label)))
                    }
                }
            }
            button type="submit" { "Pay " (display_amount(session.amount, &session.currency)) }
        }
        p class="cards" {
            "Test cards: " code { "4242 4242 4242 4242" } " succeeds, "
            code { "4000 0000 0000 0002" } " is declined, "
            code { "4000 0000 0000 9995" } " has insufficient funds. Any future expiry, any CVC."
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    shell(&Layout::RECEIPT, "Pay", status, body)
}

async fn load(state: &AppState, session_id: &str) -> Result<Session, AppError> {
    let id = session_id.to_string();
    let session = state
        .store(move |store| store.session(&id))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no checkout session {session_id}")))?;
    if session.status == "open" && session.expires_at <= state.now_for(&session.seller_id).0 {
        let id = session_id.to_string();
        let real_now = state.now().0;
        let expired = state
            .store(move |store| {
                store
                    .expire_due_sessions(real_now)
                    .and_then(|_| store.session(&id))
            })
            .await?;
        state.outbox_changed();
        return expired
            .ok_or_else(|| AppError::NotFound(format!("no checkout session {session_id}")));
    }
    Ok(session)
}

async fn page_get(
    state: &AppState,
    headers: &HeaderMap,
    session_id: &str,
) -> Result<Response, AppError> {
    let session = load(state, session_id).await?;
    let pickup = pickup_details(state, &session).await;
    if session.status != "open" {
        return Ok(final_page(
            &session,
            is_payer(state, headers, &session.id),
            pickup.as_ref(),
        ));
    }
    Ok(form_page(&session, &HashMap::new(), &[], pickup.as_ref()))
}

#[utoipa::path(
    get, path = "/pay/{session_id}", tag = "sandbox", operation_id = "pay_page",
    description = "The hosted sandbox pay page (test cards in docs/server.md), or its receipt once settled (personal data only for the browser that paid).",
    params(("session_id" = String, Path, description = "The checkout session id.")),
    extensions(("x-mighty-mode" = json!("sandbox"))),
    responses((status = 200, description = "The form or the receipt.", content_type = "text/html", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn page(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    page_get(&state, &headers, &session_id)
        .await
        .unwrap_or_else(error_page)
}

fn error_page(error: AppError) -> Response {
    let body = html! {
        h1 { "Checkout not found" }
        p { (error.to_string()) }
    };
    html::error_page(&Layout::HOSTED, "Not found", &error, body)
}

/// The pay form's post (same-origin only, `same_origin`). A payment this post settles makes
/// this browser the payer: it gets the receipt cookie.
#[utoipa::path(
    post, path = "/pay/{session_id}", tag = "sandbox", operation_id = "pay_submit",
    description = "The pay form's post (same-origin only): pays, declines, or shows the form again with each error next to its field (422). The browser that pays gets the receipt cookie.",
    params(("session_id" = String, Path, description = "The checkout session id.")),
    request_body(content = crate::openapi::schemas::PayForm, content_type = "application/x-www-form-urlencoded"),
    extensions(("x-mighty-mode" = json!("sandbox"))),
    responses((status = 200, description = "The receipt.", content_type = "text/html", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn submit(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let session = match load(&state, &session_id).await {
        Ok(session) => session,
        Err(error) => return error_page(error),
    };
    if session.status != "open" {
        let pickup = pickup_details(&state, &session).await;
        return final_page(
            &session,
            is_payer(&state, &headers, &session.id),
            pickup.as_ref(),
        );
    }
    let checked = check_form(&form, session.ships, state.now_for(&session.seller_id));
    let (Some(payment), Some(outcome)) = (checked.payment, checked.outcome) else {
        let pickup = pickup_details(&state, &session).await;
        return form_page(&session, &form, &checked.errors, pickup.as_ref());
    };
    let decline = match outcome {
        CardOutcome::Approve => None,
        CardOutcome::Decline(reason) => Some(reason),
    };
    let now = state.now_for(&session.seller_id).0;
    let id = session_id.clone();
    let secrets = state.secrets().clone();
    let settled = state
        .store(move |store| {
            store.settle_payment(&id, &payment, decline, now, &|subscription_id| {
                secrets.customer_token(subscription_id)
            })
        })
        .await;
    state.outbox_changed();
    match settled {
        Ok(PaymentOutcome::Paid(session) | PaymentOutcome::Declined(session)) => {
            let pickup = pickup_details(&state, &session).await;
            let mut response = final_page(&session, true, pickup.as_ref());
            if let Some(cookie) = receipt_cookie(&state, &headers, &session.id) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        // Another post settled it first: this one is not the payer's.
        Ok(PaymentOutcome::NotOpen(session)) => {
            let pickup = pickup_details(&state, &session).await;
            final_page(
                &session,
                is_payer(&state, &headers, &session.id),
                pickup.as_ref(),
            )
        }
        Err(error) => error_page(error),
    }
}

#[utoipa::path(
    get, path = "/pay/assets/{file}", tag = "pages", operation_id = "pay_asset",
    params(("file" = String, Path, description = "The pay page's stylesheet or script.")),
    responses((status = 200, description = "The file.", content(("text/css"), ("text/javascript"))), (status = 404, description = "No such file.", body = crate::openapi::schemas::ErrorBody))
)]
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "pay.css" => (
            include_str!("../../assets/pay.css"),
            "text/css; charset=utf-8",
        ),
        "return.js" => (
            include_str!("../../assets/return.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return AppError::NotFound(format!("no asset {file}")).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    const NOW: Timestamp = Timestamp(1_795_000_000); // 2026-11-18

    fn good(number: &str) -> HashMap<String, String> {
        form(&[
            ("email", "ana@example.com"),
            ("cc-name", "Ana Ruiz"),
            ("cc-number", number),
            ("cc-exp", "12/30"),
            ("cc-csc", "123"),
        ])
    }

    #[test]
    fn luhn() {
        for valid in [
            CARD_SUCCEEDS,
            CARD_DECLINED,
            CARD_INSUFFICIENT_FUNDS,
            "79927398713",
        ] {
            assert!(luhn_valid(valid), "{valid}");
        }
        for invalid in ["4242424242424241", "79927398710", "", "42a2"] {
            assert!(!luhn_valid(invalid), "{invalid}");
        }
    }

    #[test]
    fn test_cards_decide_the_outcome() {
        assert_eq!(
            check_form(&good("4242 4242 4242 4242"), false, NOW).outcome,
            Some(CardOutcome::Approve)
        );
        assert_eq!(
            check_form(&good("4000-0000-0000-0002"), false, NOW).outcome,
            Some(CardOutcome::Decline("card_declined"))
        );
        assert_eq!(
            check_form(&good("4000000000009995"), false, NOW).outcome,
            Some(CardOutcome::Decline("insufficient_funds"))
        );
        let checked = check_form(&good("4242 4242 4242 4242"), false, NOW);
        assert_eq!(checked.payment.unwrap().card_last4, "4242");
    }

    #[test]
    fn field_errors() {
        // (form fields changed from a good form, the field named, its message)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[("cc-number", "4242 4242 4242 4241")],
                "cc-number",
                "This card number is not valid: check for a typo.",
            ),
            (
                &[("cc-number", "5555555555554444")],
                "cc-number",
                "Test mode accepts only test cards, such as 4242 4242 4242 4242.",
            ),
            (
                &[("cc-number", "1234")],
                "cc-number",
                "Enter the card number: 12 to 19 digits.",
            ),
            (&[("cc-exp", "10/26")], "cc-exp", "This card has expired."),
            (
                &[("cc-exp", "13/30")],
                "cc-exp",
                "Enter the expiry date as MM/YY.",
            ),
            (
                &[("cc-csc", "12")],
                "cc-csc",
                "Enter the 3 or 4 digit security code.",
            ),
            (
                &[("email", "ana@")],
                "email",
                "Enter an email address like name@example.com.",
            ),
            (
                &[("cc-name", " ")],
                "cc-name",
                "Enter the name on the card.",
            ),
        ];
        for (changes, field_name, message) in cases {
            let mut filled = good(CARD_SUCCEEDS);
            for (key, value) in changes.iter() {
                filled.insert(key.to_string(), value.to_string());
            }
            let checked = check_form(&filled, false, NOW);
            assert_eq!(
                checked.errors,
                vec![(*field_name, message.to_string())],
                "{changes:?}"
            );
            assert!(checked.payment.is_none());
        }
        // The current month is still valid.
        let mut this_month = good(CARD_SUCCEEDS);
        this_month.insert("cc-exp".into(), "11/26".into());
        assert!(check_form(&this_month, false, NOW).errors.is_empty());
    }

    #[test]
    fn shipping_is_required_when_the_offer_ships() {
        let checked = check_form(&good(CARD_SUCCEEDS), true, NOW);
        let fields: Vec<&str> = checked.errors.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            fields,
            [
                "ship-name",
                "ship-address-line1",
                "ship-postal-code",
                "ship-city",
                "ship-country"
            ]
        );
        let mut full = good(CARD_SUCCEEDS);
        for (name, value) in [
            ("ship-name", "Ana"),
            ("ship-address-line1", "1 rue X"),
            ("ship-postal-code", "69001"),
            ("ship-city", "Lyon"),
            ("ship-country", "France"),
        ] {
            full.insert(name.into(), value.into());
        }
        let payment = check_form(&full, true, NOW).payment.unwrap();
        assert_eq!(payment.shipping.unwrap()["city"], "Lyon");
    }
}
