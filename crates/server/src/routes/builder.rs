//! The snippet builder (SPEC section 1, sellers): a form for a listing whose preview is the
//! real widget (`Mighty.mount`), whose errors are core's (the widget's `mighty:error`, shown
//! next to the field it names), and whose output is the snippet to paste — with attributes,
//! or with the listing document inline.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use mighty_core::Currency;

use crate::AppState;
use crate::html::{Layout, json_for_html, shell};
use crate::http::public_base;

fn field(name: &str, label: &str, value: &str, hint: &str) -> Markup {
    html! {
        div class="field" {
            label for=(name) { (label) }
            input id=(name) name=(name) value=(value) aria-describedby={ (name) "-error " (name) "-hint" };
            p class="hint" id={ (name) "-hint" } { (hint) }
            p class="error" id={ (name) "-error" } role="alert" {}
        }
    }
}

#[utoipa::path(
    get, path = "/builder", tag = "pages", operation_id = "builder_page",
    description = "The snippet builder: a listing form whose preview is the real widget.",
    responses((status = 200, description = "The page.", content_type = "text/html", body = String))
)]
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = public_base(&state, &headers);
    let exponents: serde_json::Map<String, serde_json::Value> = Currency::all()
        .map(|currency| {
            (
                currency.code().to_string(),
                serde_json::Value::from(currency.exponent()),
            )
        })
        .collect();
    let checkout = format!("{base}/v1/checkout/sessions");
    let body = html! {
        h1 { "Snippet builder" }
        form id="pick" class="pick" {
            div class="field" {
                label for="pick-id" { "Start from a listing on this server" }
                input id="pick-id" name="pick" placeholder="atelier-cuir" aria-describedby="pick-error pick-hint";
                p class="hint" id="pick-hint" {
                    "Its id, as in " (base) "/v1/listings/<id>; the form below takes its values."
                }
                p class="error" id="pick-error" role="alert" {}
            }
            button type="submit" { "Load the listing" }
        }
        div class="builder" {
            form id="builder" novalidate {
                (field("id", "Listing id", "candle-trio", "Letters, digits, '-' or '_'; empty makes one from the title."))
                (field("title", "Title", "Lavender candle trio", "What the shopper buys."))
                (field("seller", "Seller", "Hearth & Wick", "Your shop's name."))
                (field("price", "Price", "24.00", "In major units, e.g. 24.00."))
                (field("currency", "Currency", "EUR", "ISO 4217 code, e.g. EUR, USD, JPY."))
                (field("rating", "Rating", "", "Optional, 0 to 5."))
                (field("reviews", "Reviews", "", "Optional, number of reviews."))
                (field("checkout", "Checkout endpoint", &checkout, "Your payments partner's checkout URL."))
                fieldset {
                    legend { "Snippet" }
                    label class="choice" { input type="radio" name="mode" value="attributes" checked; " Attributes" }
                    label class="choice" { input type="radio" name="mode" value="json"; " Listing JSON inline" }
                    label class="choice" { input type="radio" name="mode" value="url"; " Listing URL (the listing as stored on this server)" }
                }
            }
            div {
                h2 { "Preview" }
                div id="preview" class="preview" {}
                h2 { label for="snippet" { "Your snippet" } }
                textarea id="snippet" readonly rows="8" {}
                button type="button" id="copy" { "Copy the snippet" }
                p id="copy-status" role="status" aria-live="polite" {}
            }
        }
        script type="application/json" id="currencies" {
            (PreEscaped(json_for_html(&serde_json::Value::Object(exponents))))
        }
    };
    shell(&Layout::BUILDER, "Snippet builder", StatusCode::OK, body)
}

#[utoipa::path(
    get, path = "/builder/assets/builder.js", tag = "pages", operation_id = "builder_script",
    responses((status = 200, description = "The builder's script.", content_type = "text/javascript", body = String))
)]
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/builder.js"),
    )
        .into_response()
}
