//! `GET /checkout/return/{session_id}?result=success|cancel` (live mode): where Stripe's
//! `success_url` and `cancel_url` lead. Like the sandbox's receipt it takes the shopper back
//! to the shop with the same script (`assets/return.js`): in a popup it posts
//! `{"type":"mighty:checkout","session_id"}` to its opener, addressed to the shop's origin
//! only, and otherwise goes to the session's `return_url` with `mighty_session`. Before
//! that it asks Stripe whether the session is paid (the shopper may be back before
//! Stripe's webhook). The browser Stripe sends back after paying (its `success_url` carries
//! Stripe's Checkout Session id, which only that browser knows) is shown the card's last four
//! digits and the email, as the sandbox's receipt shows them to the browser that paid.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::error::AppError;
use crate::html::{Layout, error_page, shell};
use crate::http::QueryParams;

#[derive(Deserialize)]
pub struct ReturnQuery {
    result: Option<String>,
    /// Stripe's `{CHECKOUT_SESSION_ID}`, filled in by Stripe on the success redirect.
    stripe_session: Option<String>,
}

#[utoipa::path(
    get, path = "/checkout/return/{session_id}", tag = "live", operation_id = "checkout_return_page",
    description = "Where Stripe Checkout sends the shopper back: asks Stripe whether the session is paid, then posts to the opener (popup) or goes back to `return_url` with `mighty_session`.",
    params(
        ("session_id" = String, Path, description = "Mighty's session id."),
        ("result" = Option<String>, Query, description = "`success` or `cancel`."),
        ("stripe_session" = Option<String>, Query, description = "Stripe's Checkout Session id, filled in by Stripe on the success redirect: the browser that has it is shown the card's last four digits and the email."),
    ),
    extensions(("x-mighty-mode" = json!("live"))),
    responses((status = 200, description = "The return page.", content_type = "text/html", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn page(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    QueryParams(query): QueryParams<ReturnQuery>,
) -> Response {
    let layout = Layout::receipt(state.config().test_mode());
    let lookup = session_id.clone();
    let session = match state.store(move |store| store.session(&lookup)).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            let error = AppError::NotFound(format!("no checkout session {session_id}"));
            return error_page(
                Layout::hosted(state.config().test_mode()),
                "Not found",
                &error,
                html! { h1 { "Checkout not found" } p { (error.to_string()) } },
            );
        }
        Err(error) => return axum::response::IntoResponse::into_response(error),
    };
    let canceled = query.result.as_deref() == Some("cancel");
    let session = if canceled {
        session
    } else {
        crate::live::refresh(&state, &session).await;
        let lookup = session.id.clone();
        match state.store(move |store| store.session(&lookup)).await {
            Ok(Some(refreshed)) => refreshed,
            _ => session,
        }
    };
    let (title, message) = match session.status.as_str() {
        "paid" => ("Payment received", "Thank you: the shop has your payment."),
        "failed" => (
            "Payment declined",
            "The payment did not go through. Nothing was charged.",
        ),
        "expired" => (
            "This checkout expired",
            "Nothing was charged. Start again from the shop.",
        ),
        _ if canceled => ("Checkout canceled", "Nothing was charged."),
        _ => ("Payment received", "Your payment is being confirmed."),
    };
    let lookup = session.id.clone();
    let payer = match (
        query.stripe_session.as_deref(),
        state
            .store(move |store| store.stripe_session_id(&lookup))
            .await,
    ) {
        (Some(given), Ok(Some(known))) => {
            crate::secrets::constant_time_eq(given.as_bytes(), known.as_bytes())
        }
        _ => false,
    };
    let back = super::pay::return_link(&session);
    // A pick-up's place and time, and for the payer its code, as on the sandbox's receipt.
    let pickup = super::pay::pickup_details(&state, &session).await;
    let body = html! {
        h1 { (title) }
        p { (message) }
        (super::pay::summary(&session))
        @if payer && session.status == "paid" {
            dl {
                dt { "Card" } dd { "•••• " (session.card_last4.as_deref().unwrap_or("")) }
                dt { "Email" } dd { (session.email.as_deref().unwrap_or("")) }
            }
        }
        @if let Some(pickup) = &pickup {
            div class="receipt" {
                dl { (super::pay::pickup_receipt_rows(pickup, payer && session.status == "paid")) }
            }
        }
        p id="return-status" role="status" aria-live="polite" {}
        div data-return-url=(back) data-session-id=(session.id) {
            a class="button" href=(back) { "Back to the shop" }
        }
    };
    shell(layout, title, StatusCode::OK, body)
}
