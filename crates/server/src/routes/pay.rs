//! `GET|POST /pay/{session_id}`: the sandbox's hosted pay page. A real HTML form that works
//! without JavaScript, with the standard `autocomplete` tokens (SPEC section 7), test cards,
//! errors next to their field, and a receipt that takes the shopper back (or tells the
//! opener, in a popup). Only the last four digits of a card are ever stored; the number is
//! never logged.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mighty_core::{Currency, Money, Timestamp};

use super::{escape_html, hosted_page};
use crate::AppState;
use crate::error::AppError;
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
    let (base, fragment) = match session.return_url.split_once('#') {
        Some((base, fragment)) => (base, format!("#{fragment}")),
        None => (session.return_url.as_str(), String::new()),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}mighty_session={}{fragment}", session.id)
}

fn summary(session: &Session) -> String {
    let what = match &session.tier_id {
        Some(tier) => format!("{} · {}", session.offer_id, tier),
        None if session.quantity > 1 => format!("{} × {}", session.offer_id, session.quantity),
        None => session.offer_id.clone(),
    };
    let per = session
        .interval
        .as_deref()
        .map(|interval| format!(" / {interval}"))
        .unwrap_or_default();
    format!(
        "<section class=\"summary\" aria-label=\"Order summary\"><div>{listing}</div><div>{what}</div><div class=\"amount\">{amount}{per}</div></section>",
        listing = escape_html(&session.listing_id),
        what = escape_html(&what),
        amount = escape_html(&display_amount(session.amount, &session.currency)),
        per = escape_html(&per),
    )
}

/// The final page of a session that is no longer open: receipt, decline or expiry, each with
/// the way back to the shop.
fn final_page(session: &Session) -> Response {
    let back = return_link(session);
    let (title, body) = match session.status.as_str() {
        "paid" => (
            "Payment received",
            format!(
                "<div class=\"receipt\"><h1>Payment received</h1>{summary}<dl><dt>Receipt</dt><dd>{id}</dd><dt>Card</dt><dd>•••• {last4}</dd><dt>Email</dt><dd>{email}</dd></dl></div>",
                summary = summary(session),
                id = escape_html(&session.id),
                last4 = escape_html(session.card_last4.as_deref().unwrap_or("")),
                email = escape_html(session.email.as_deref().unwrap_or("")),
            ),
        ),
        "failed" => (
            "Payment declined",
            format!(
                "<h1>Payment declined</h1><p class=\"alert\" role=\"alert\">{reason}</p>{summary}",
                reason = match session.failure_reason.as_deref() {
                    Some("insufficient_funds") =>
                        "The card has insufficient funds. Nothing was charged.",
                    _ => "The card was declined. Nothing was charged.",
                },
                summary = summary(session),
            ),
        ),
        _ => (
            "Checkout expired",
            format!(
                "<h1>This checkout expired</h1><p>Nothing was charged. Start again from the shop.</p>{}",
                summary(session)
            ),
        ),
    };
    let body = format!(
        "{body}<p id=\"return-status\" role=\"status\" aria-live=\"polite\"></p>\
         <div data-return-url=\"{back}\" data-session-id=\"{id}\"><a class=\"button\" href=\"{back}\">Back to the shop</a></div>",
        back = escape_html(&back),
        id = escape_html(&session.id),
    );
    hosted_page(title, &body, StatusCode::OK, true)
}

fn input(
    name: &str,
    autocomplete: &str,
    label: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
    extra: &str,
) -> String {
    let error_html = error
        .map(|message| {
            format!(
                "<p class=\"error\" id=\"{name}-error\">{}</p>",
                escape_html(message)
            )
        })
        .unwrap_or_default();
    let described = if error.is_some() {
        format!(" aria-invalid=\"true\" aria-describedby=\"{name}-error\"")
    } else {
        String::new()
    };
    format!(
        "<div class=\"field\"><label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"{autocomplete}\" value=\"{value}\" required{described}{extra}>{error_html}</div>",
        label = escape_html(label),
        value = escape_html(value),
    )
}

fn form_page(
    session: &Session,
    form: &HashMap<String, String>,
    errors: &[(&'static str, String)],
) -> Response {
    let error_for = |name: &str| {
        errors
            .iter()
            .find(|(field_name, _)| *field_name == name)
            .map(|(_, message)| message.as_str())
    };
    let value = |name: &str| {
        if name == "cc-number" || name == "cc-csc" {
            ""
        } else {
            field(form, name)
        }
    };
    let alert = if errors.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"alert\" role=\"alert\">Please correct {} field(s) below.</p>",
            errors.len()
        )
    };
    let shipping = if session.ships {
        let fields: String = SHIPPING_FIELDS
            .iter()
            .map(|(name, token, label)| {
                input(name, token, label, "text", value(name), error_for(name), "")
            })
            .collect();
        format!("<fieldset><legend>Shipping address</legend>{fields}</fieldset>")
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Pay securely</h1>{summary}{alert}<form method=\"post\" action=\"/pay/{id}\" novalidate>\
         <fieldset><legend>Contact</legend>{email}</fieldset>\
         <fieldset><legend>Card</legend>{name}{number}<div class=\"row\">{exp}{csc}</div></fieldset>{shipping}\
         <button type=\"submit\">Pay {amount}</button></form>\
         <p class=\"cards\">Test cards: <code>4242 4242 4242 4242</code> succeeds, <code>4000 0000 0000 0002</code> is declined, \
         <code>4000 0000 0000 9995</code> has insufficient funds. Any future expiry, any CVC.</p>",
        summary = summary(session),
        id = escape_html(&session.id),
        email = input(
            "email",
            "email",
            "Email",
            "email",
            value("email"),
            error_for("email"),
            ""
        ),
        name = input(
            "cc-name",
            "cc-name",
            "Name on card",
            "text",
            value("cc-name"),
            error_for("cc-name"),
            ""
        ),
        number = input(
            "cc-number",
            "cc-number",
            "Card number",
            "text",
            "",
            error_for("cc-number"),
            " inputmode=\"numeric\""
        ),
        exp = input(
            "cc-exp",
            "cc-exp",
            "Expiry (MM/YY)",
            "text",
            value("cc-exp"),
            error_for("cc-exp"),
            " inputmode=\"numeric\" placeholder=\"MM/YY\""
        ),
        csc = input(
            "cc-csc",
            "cc-csc",
            "Security code",
            "text",
            "",
            error_for("cc-csc"),
            " inputmode=\"numeric\""
        ),
        amount = escape_html(&display_amount(session.amount, &session.currency)),
    );
    let mut response = hosted_page("Pay", &body, StatusCode::OK, true);
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

async fn load(state: &AppState, session_id: &str) -> Result<Session, AppError> {
    let now = state.now().0;
    let id = session_id.to_string();
    let session = state
        .store(move |store| store.session(&id))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no checkout session {session_id}")))?;
    if session.status == "open" && session.expires_at <= now {
        let id = session_id.to_string();
        let expired = state
            .store(move |store| {
                store
                    .expire_due_sessions(now)
                    .and_then(|_| store.session(&id))
            })
            .await?;
        state.outbox_changed();
        return expired
            .ok_or_else(|| AppError::NotFound(format!("no checkout session {session_id}")));
    }
    Ok(session)
}

async fn page_get(state: &AppState, session_id: &str) -> Result<Response, AppError> {
    let session = load(state, session_id).await?;
    if session.status != "open" {
        return Ok(final_page(&session));
    }
    Ok(form_page(&session, &HashMap::new(), &[]))
}

pub async fn page(State(state): State<AppState>, Path(session_id): Path<String>) -> Response {
    page_get(&state, &session_id)
        .await
        .unwrap_or_else(error_page)
}

fn error_page(error: AppError) -> Response {
    let body = format!(
        "<h1>Checkout not found</h1><p>{}</p>",
        escape_html(&error.to_string())
    );
    hosted_page("Not found", &body, error.status(), false)
}

pub async fn submit(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let session = match load(&state, &session_id).await {
        Ok(session) => session,
        Err(error) => return error_page(error),
    };
    if session.status != "open" {
        return final_page(&session);
    }
    let checked = check_form(&form, session.ships, state.now());
    let (Some(payment), Some(outcome)) = (checked.payment, checked.outcome) else {
        return form_page(&session, &form, &checked.errors);
    };
    let decline = match outcome {
        CardOutcome::Approve => None,
        CardOutcome::Decline(reason) => Some(reason),
    };
    let now = state.now().0;
    let id = session_id.clone();
    let settled = state
        .store(move |store| store.settle_payment(&id, &payment, decline, now))
        .await;
    state.outbox_changed();
    match settled {
        Ok(
            PaymentOutcome::Paid(session)
            | PaymentOutcome::Declined(session)
            | PaymentOutcome::NotOpen(session),
        ) => final_page(&session),
        Err(error) => error_page(error),
    }
}

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
