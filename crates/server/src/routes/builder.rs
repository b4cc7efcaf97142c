//! The snippet builder (SPEC section 1, sellers): a form for a listing whose preview is the
//! real widget (`Mighty.mount`), whose errors are core's (the widget's `mighty:error`, shown
//! next to the field it names), and whose output is the snippet to paste — with attributes,
//! or with the listing document inline.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use mighty_core::Currency;

use super::escape_html;
use crate::AppState;
use crate::http::public_base;

fn field(name: &str, label: &str, value: &str, hint: &str) -> String {
    format!(
        "<div class=\"field\"><label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" value=\"{value}\" aria-describedby=\"{name}-error {name}-hint\">\
         <p class=\"hint\" id=\"{name}-hint\">{hint}</p><p class=\"error\" id=\"{name}-error\" role=\"alert\"></p></div>",
        label = escape_html(label),
        value = escape_html(value),
        hint = escape_html(hint),
    )
}

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
    let fields = [
        field(
            "id",
            "Listing id",
            "candle-trio",
            "Letters, digits, '-' or '_'; empty makes one from the title.",
        ),
        field(
            "title",
            "Title",
            "Lavender candle trio",
            "What the shopper buys.",
        ),
        field("seller", "Seller", "Hearth & Wick", "Your shop's name."),
        field("price", "Price", "24.00", "In major units, e.g. 24.00."),
        field(
            "currency",
            "Currency",
            "EUR",
            "ISO 4217 code, e.g. EUR, USD, JPY.",
        ),
        field("rating", "Rating", "", "Optional, 0 to 5."),
        field("reviews", "Reviews", "", "Optional, number of reviews."),
        field(
            "checkout",
            "Checkout endpoint",
            &format!("{base}/v1/checkout/sessions"),
            "Your payments partner's checkout URL.",
        ),
    ]
    .concat();
    let body = format!(
        "<h1>Snippet builder</h1>\
         <form id=\"pick\" class=\"pick\"><div class=\"field\"><label for=\"pick-id\">Start from a listing on this server</label>\
         <input id=\"pick-id\" name=\"pick\" placeholder=\"atelier-cuir\" aria-describedby=\"pick-error pick-hint\">\
         <p class=\"hint\" id=\"pick-hint\">Its id, as in {base}/v1/listings/&lt;id&gt;; the form below takes its values.</p>\
         <p class=\"error\" id=\"pick-error\" role=\"alert\"></p></div><button type=\"submit\">Load the listing</button></form>\
         <div class=\"builder\"><form id=\"builder\" novalidate>{fields}\
         <fieldset><legend>Snippet</legend>\
         <label class=\"choice\"><input type=\"radio\" name=\"mode\" value=\"attributes\" checked> Attributes</label>\
         <label class=\"choice\"><input type=\"radio\" name=\"mode\" value=\"json\"> Listing JSON inline</label>\
         <label class=\"choice\"><input type=\"radio\" name=\"mode\" value=\"url\"> Listing URL (the listing as stored on this server)</label></fieldset></form>\
         <div><h2>Preview</h2><div id=\"preview\" class=\"preview\"></div>\
         <h2><label for=\"snippet\">Your snippet</label></h2><textarea id=\"snippet\" readonly rows=\"8\"></textarea>\
         <button type=\"button\" id=\"copy\">Copy the snippet</button><p id=\"copy-status\" role=\"status\" aria-live=\"polite\"></p></div></div>\
         <script type=\"application/json\" id=\"currencies\">{exponents}</script>",
        exponents = serde_json::Value::Object(exponents),
        base = escape_html(&base),
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Snippet builder — Mighty</title><link rel=\"stylesheet\" href=\"/dashboard/assets/dashboard.css\">\
         <script type=\"module\" src=\"/dist/mighty.js\"></script><script type=\"module\" src=\"/builder/assets/builder.js\"></script></head>\
         <body><main>{body}</main></body></html>"
    );
    let mut response = (StatusCode::OK, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::static_files::STRICT_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

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
