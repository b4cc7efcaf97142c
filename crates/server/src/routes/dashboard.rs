//! The seller's dashboard (SPEC sections 6 and 7): the seller signs in once with their token
//! (then an `HttpOnly`, `SameSite=Strict` session cookie), and sees per listing the funnel per
//! creator and variant, conversion with its 95 % interval, revenue over time, cohort retention
//! and drop sell-through. Charts are server-drawn SVG with titles, descriptions and the data
//! table behind each; every table exports as CSV. The numbers are `/v1/metrics`'s.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mighty_core::kpi;
use mighty_core::{Currency, Money, Timestamp};
use serde_json::Value;

use super::metrics::{compute, listing_payments};
use crate::AppState;
use crate::csv_export::Cell;
use crate::error::AppError;
use crate::html::{Layout, error_page, shell};
use crate::same_origin::SameOrigin;
use crate::store::{Seller, new_id};
use crate::throttle::ClientAddress;

const COOKIE: &str = "mighty_seller";
const SESSION_SECONDS: i64 = 7 * 86_400;
const WEEK: i64 = 7 * 86_400;

fn session_token(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .find_map(|cookie| cookie.trim().strip_prefix(&format!("{COOKIE}=")))
        .map(String::from)
}

/// The signed-in seller of a browser request.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Seller>, AppError> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let now = crate::clock::real_now();
    state
        .store(move |store| store.seller_by_session(&token, now))
        .await
}

fn page(title: &str, body: Markup, status: StatusCode) -> Response {
    shell(&Layout::DASHBOARD, title, status, body)
}

fn sign_in_page(error: Option<&AppError>) -> Response {
    let body = html! {
        h1 { "Seller dashboard" }
        @if let Some(error) = error {
            p class="alert" role="alert" { (error.to_string()) }
        }
        form method="post" action="/dashboard/sign-in" {
            label for="token" { "Seller token" }
            input id="token" name="token" type="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p class="hint" {
            "The token printed by " code { "mighty-server seller add" } " (or " code { "cargo xtask demo" } ")."
        }
    };
    match error {
        Some(error) => error_page(&Layout::DASHBOARD, "Sign in", error, body),
        None => page("Sign in", body, StatusCode::OK),
    }
}

/// The sign-in form's post (same-origin only: no signing a browser into another account).
/// Wrong tokens count towards the address's failed attempts (`throttle`).
#[utoipa::path(
    post, path = "/dashboard/sign-in", tag = "pages", operation_id = "dashboard_sign_in",
    description = "Signs in with the seller token (same-origin form posts only): sets the session cookie and goes to the dashboard; a wrong token shows the form again.",
    request_body(content = crate::openapi::schemas::SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: `Set-Cookie: mighty_seller=...; HttpOnly; SameSite=Strict`, `Location: /dashboard`."),
        (status = 200, description = "The form again, saying why.", content_type = "text/html", body = String),
        (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))),
    )
)]
pub async fn sign_in(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    client: ClientAddress,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(error) = state.failed_attempts().check(client) {
        return sign_in_page(Some(&error));
    }
    let token = form
        .get("token")
        .map(|token| token.trim().to_string())
        .unwrap_or_default();
    let seller = match state
        .store(move |store| store.seller_by_token(&token))
        .await
    {
        Ok(Some(seller)) => seller,
        Ok(None) => {
            state.failed_attempts().record_failure(client);
            return sign_in_page(Some(&AppError::Unauthorized(
                "That token is not a seller's token.".into(),
            )));
        }
        Err(error) => return error.into_response(),
    };
    let session = new_id("ses");
    let now = crate::clock::real_now();
    let (seller_id, stored) = (seller.id.clone(), session.clone());
    if let Err(error) = state
        .store(move |store| {
            store.create_seller_session(&seller_id, &stored, now, now + SESSION_SECONDS)
        })
        .await
    {
        return error.into_response();
    }
    let secure = state
        .config()
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let cookie = format!(
        "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}{}",
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to("/dashboard").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The sign-out form's post (same-origin only).
#[utoipa::path(
    post, path = "/dashboard/sign-out", tag = "pages", operation_id = "dashboard_sign_out",
    description = "Ends the session (same-origin form posts only).",
    responses((status = 303, description = "Signed out: the cookie cleared, `Location: /dashboard`."), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn sign_out(
    _same_origin: SameOrigin,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = session_token(&headers) {
        let _ = state
            .store(move |store| store.end_seller_session(&token))
            .await;
    }
    let mut response = Redirect::to("/dashboard").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mighty_seller=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

#[utoipa::path(
    get, path = "/dashboard", tag = "pages", operation_id = "dashboard_page",
    description = "The seller's dashboard, or the sign-in form without a session.",
    security((), ("dashboard_session" = [])),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let seller = match signed_in(&state, &headers).await {
        Ok(Some(seller)) => seller,
        Ok(None) => return sign_in_page(None),
        Err(error) => return error.into_response(),
    };
    let seller_id = seller.id.clone();
    let listings = match state
        .store(move |store| store.listings_of(&seller_id))
        .await
    {
        Ok(listings) => listings,
        Err(error) => return error.into_response(),
    };
    let body = html! {
        header class="bar" {
            h1 { (seller.name) }
            form method="post" action="/dashboard/sign-out" {
                button type="submit" class="secondary" { "Sign out" }
            }
        }
        h2 { "Listings" }
        ul class="listings" {
            @for (id, document) in &listings {
                li {
                    a href={ "/dashboard/listings/" (id) } {
                        (document.get("title").and_then(Value::as_str).unwrap_or(id))
                    }
                    " "
                    span class="hint" { (id) }
                }
            }
        }
    };
    page("Listings", body, StatusCode::OK)
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".to_string(),
        |value| format!("{:.1} %", value * 100.0),
    )
}

fn money(amount: i64, currency: &str) -> String {
    Currency::from_code(currency).map_or_else(
        || amount.to_string(),
        |currency| Money::new(amount, currency).to_string(),
    )
}

fn label(segment: &Value) -> String {
    let creator = segment["creator"].as_str();
    let variant = segment["variant"].as_str();
    match (creator, variant) {
        (Some(creator), Some(variant)) if creator == variant => format!("link: {creator}"),
        (Some(creator), Some(variant)) => format!("link: {creator} · shown: {variant}"),
        (Some(creator), None) => format!("link: {creator}"),
        (None, Some(variant)) => format!("shown: {variant}"),
        (None, None) => "no creator".to_string(),
    }
}

/// An accessible SVG chart: `<title>` and `<desc>` name it for screen readers.
fn svg(id: &str, title: &str, description: &str, height: u32, content: Markup) -> Markup {
    html! {
        svg class="chart" viewBox={ "0 0 640 " (height) } role="img" aria-labelledby={ (id) "-title " (id) "-desc" } {
            title id={ (id) "-title" } { (title) }
            desc id={ (id) "-desc" } { (description) }
            (content)
        }
    }
}

/// Horizontal bars: `(label, value)` scaled to the largest.
fn bar_chart(id: &str, title: &str, rows: &[(String, f64, String)]) -> Markup {
    let max = rows
        .iter()
        .map(|(_, value, _)| *value)
        .fold(0.0, f64::max)
        .max(1e-9);
    let bars = html! {
        @for (index, (name, value, shown)) in rows.iter().enumerate() {
            @let y = 10 + index as u32 * 28;
            @let width = (value / max * 330.0).max(1.0);
            text x="0" y=(y + 14) class="label" { (name) }
            rect x="200" y=(y) width=(format!("{width:.1}")) height="18" fill="#4b2bd6" {}
            text x=(format!("{:.1}", 206.0 + width)) y=(y + 14) class="value" { (shown) }
        }
    };
    let description = rows
        .iter()
        .map(|(name, _, shown)| format!("{name}: {shown}"))
        .collect::<Vec<_>>()
        .join("; ");
    svg(id, title, &description, 20 + rows.len() as u32 * 28, bars)
}

/// Conversion with its interval: a dot at the rate, a line from low to high.
fn interval_chart(id: &str, segments: &[Value]) -> Markup {
    let max = segments
        .iter()
        .filter_map(|segment| segment["conversion"]["high"].as_f64())
        .fold(0.0, f64::max)
        .max(0.01);
    let scale = |value: f64| format!("{:.1}", 200.0 + value / max * 400.0);
    let points = segments.iter().enumerate().filter_map(|(index, segment)| {
        let conversion = &segment["conversion"];
        Some((
            19 + index as u32 * 28,
            label(segment),
            conversion["value"].as_f64()?,
            conversion["low"].as_f64()?,
            conversion["high"].as_f64()?,
        ))
    });
    let rows = html! {
        @for (y, name, value, low, high) in points {
            text x="0" y=(y + 5) class="label" { (name) }
            line x1=(scale(low)) x2=(scale(high)) y1=(y) y2=(y) stroke="#57535f" stroke-width="2" {}
            circle cx=(scale(value)) cy=(y) r="5" fill="#4b2bd6" {}
        }
    };
    let description = segments
        .iter()
        .map(|segment| {
            format!(
                "{}: {} (95 % interval {} to {})",
                label(segment),
                percent(segment["conversion"]["value"].as_f64()),
                percent(segment["conversion"]["low"].as_f64()),
                percent(segment["conversion"]["high"].as_f64())
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    svg(
        id,
        "Conversion, views to paid commits, with 95 % intervals",
        &description,
        20 + segments.len() as u32 * 28,
        rows,
    )
}

fn table(caption: &str, headers: &[&str], rows: &[Vec<String>], csv_href: &str) -> Markup {
    html! {
        table {
            caption { (caption) " " a href=(csv_href) { "CSV" } }
            thead { tr { @for header in headers { th scope="col" { (header) } } } }
            tbody {
                @for row in rows {
                    tr { @for cell in row { td { (cell) } } }
                }
            }
        }
    }
}

/// The tables of a listing's dashboard: (name, headers, rows).
struct Tables {
    segments: (Vec<&'static str>, Vec<Vec<String>>),
    revenue: (Vec<&'static str>, Vec<Vec<String>>),
    cohorts: (Vec<&'static str>, Vec<Vec<String>>),
}

const WEEKS: usize = 8;

async fn tables(
    state: &AppState,
    seller: &Seller,
    listing_id: &str,
) -> Result<(Value, Tables), AppError> {
    let now = state.now_for(&seller.id).0;
    let metrics = compute(state, &seller.id, listing_id, 0, now + 1).await?;
    let (orders, payments) = listing_payments(state, &seller.id, listing_id).await?;
    let currency = orders
        .first()
        .map(|order| order.currency.clone())
        .unwrap_or_else(|| "EUR".into());
    let refs: Vec<&kpi::Payment> = payments.iter().collect();
    let segments = metrics["segments"].as_array().cloned().unwrap_or_default();
    let segment_rows = segments
        .iter()
        .map(|segment| {
            vec![
                label(segment),
                segment["views"].to_string(),
                segment["paid_commits"].to_string(),
                percent(segment["conversion"]["value"].as_f64()),
                format!(
                    "{} – {}",
                    percent(segment["conversion"]["low"].as_f64()),
                    percent(segment["conversion"]["high"].as_f64())
                ),
                percent(segment["repeat_rate_30d"]["value"].as_f64()),
                money(segment["revenue"].as_i64().unwrap_or(0), &currency),
            ]
        })
        .collect();
    let origin = now - WEEKS as i64 * WEEK;
    let revenue_rows = kpi::revenue_over_time(&refs, origin, WEEK, WEEKS)
        .into_iter()
        .map(|(start, sum)| {
            vec![
                Timestamp(start).to_rfc3339()[..10].to_string(),
                money(sum, &currency),
            ]
        })
        .collect();
    let cohort_rows = kpi::cohorts(&refs, origin, WEEK, WEEKS - 1)
        .into_iter()
        .map(|cohort| {
            let mut row = vec![
                Timestamp(cohort.start).to_rfc3339()[..10].to_string(),
                cohort.customers.to_string(),
            ];
            row.extend(
                cohort
                    .retained
                    .iter()
                    .map(|kept| percent(Some(*kept as f64 / cohort.customers.max(1) as f64))),
            );
            row
        })
        .collect();
    Ok((
        metrics,
        Tables {
            segments: (
                vec![
                    "segment",
                    "views",
                    "paid commits",
                    "conversion",
                    "95 % interval",
                    "30-day repeat",
                    "revenue",
                ],
                segment_rows,
            ),
            revenue: (vec!["week of", "revenue"], revenue_rows),
            cohorts: (
                vec![
                    "first purchase, week of",
                    "customers",
                    "week 1",
                    "week 2",
                    "week 3",
                    "week 4",
                    "week 5",
                    "week 6",
                    "week 7",
                ],
                cohort_rows,
            ),
        },
    ))
}

#[utoipa::path(
    get, path = "/dashboard/listings/{id}", tag = "pages", operation_id = "dashboard_listing_page",
    description = "A listing's funnel, revenue, cohorts and sell-through: SVG charts and their tables.",
    params(("id" = String, Path, description = "The listing id.")),
    security(("dashboard_session" = [])),
    responses((status = 200, description = "The page (the sign-in form without a session).", content_type = "text/html", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn listing(
    State(state): State<AppState>,
    Path(listing_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let seller = match signed_in(&state, &headers).await {
        Ok(Some(seller)) => seller,
        Ok(None) => return sign_in_page(None),
        Err(error) => return error.into_response(),
    };
    let (metrics, tables) = match tables(&state, &seller, &listing_id).await {
        Ok(result) => result,
        Err(error) => {
            return error_page(
                &Layout::DASHBOARD,
                "Not found",
                &error,
                html! { h1 { (error.to_string()) } },
            );
        }
    };
    let segments = metrics["segments"].as_array().cloned().unwrap_or_default();
    let funnel: Vec<(String, f64, String)> = segments
        .iter()
        .flat_map(|segment| {
            let (views, commits) = (
                segment["views"].as_u64().unwrap_or(0),
                segment["paid_commits"].as_u64().unwrap_or(0),
            );
            [
                (
                    format!("{} · views", label(segment)),
                    views as f64,
                    views.to_string(),
                ),
                (
                    format!("{} · paid", label(segment)),
                    commits as f64,
                    commits.to_string(),
                ),
            ]
        })
        .collect();
    let revenue: Vec<(String, f64, String)> = tables
        .revenue
        .1
        .iter()
        .map(|row| (row[0].clone(), parse_amount(&row[1]), row[1].clone()))
        .collect();
    let comparisons = metrics["comparisons"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let base = format!("/dashboard/listings/{listing_id}");
    let body = html! {
        header class="bar" {
            h1 { (listing_id) }
            a href="/dashboard" { "All listings" }
        }
        section {
            h2 { "Funnel per creator and variant" }
            (bar_chart("funnel", "Views and paid commits per creator and variant", &funnel))
            (table("Funnel", &tables.segments.0, &tables.segments.1, &format!("{base}/segments.csv")))
        }
        section {
            h2 { "Conversion" }
            (interval_chart("conversion", &segments))
            ul {
                @for comparison in &comparisons {
                    @let a = comparison["a"].as_str().unwrap_or("none");
                    @let b = comparison["b"].as_str().unwrap_or("none");
                    li {
                        (b) " against " (a) ": "
                        (comparison["difference"].as_f64().map_or("—".into(), |value| format!("{:+.1}", value * 100.0)))
                        " points; probability " (b) " is better: "
                        (percent(comparison["probability_b_beats_a"].as_f64()))
                    }
                }
            }
        }
        section {
            h2 { "Revenue over time" }
            (bar_chart("revenue", "Revenue per week", &revenue))
            (table("Revenue per week", &tables.revenue.0, &tables.revenue.1, &format!("{base}/revenue.csv")))
        }
        section {
            h2 { "Cohort retention" }
            p class="hint" { "Share of each week's new customers who paid again (renewals count) in the following weeks." }
            (table("Cohorts", &tables.cohorts.0, &tables.cohorts.1, &format!("{base}/cohorts.csv")))
        }
        @if let Some(drop) = metrics["drop"].as_object() {
            @let through = drop.get("sell_through").and_then(Value::as_f64);
            section {
                h2 { "Drop sell-through" }
                (bar_chart("drop", "Drop sell-through", &[("Sold".to_string(), through.unwrap_or(0.0), percent(through))]))
                p {
                    (drop.get("sold").unwrap_or(&Value::Null).to_string()) " of "
                    (drop.get("inventory").unwrap_or(&Value::Null).to_string()) " sold."
                }
            }
        }
    };
    page(&listing_id, body, StatusCode::OK)
}

/// The number in "24.00 EUR", for chart lengths.
fn parse_amount(text: &str) -> f64 {
    text.split_whitespace()
        .next()
        .and_then(|number| number.parse().ok())
        .unwrap_or(0.0)
}

#[utoipa::path(
    get, path = "/dashboard/listings/{id}/{file}", tag = "pages", operation_id = "dashboard_export",
    description = "A table of the listing's page as CSV (`csv_export.rs`: quoted, formula-neutralised).",
    params(("id" = String, Path, description = "The listing id."), ("file" = String, Path, description = "`segments.csv`, `revenue.csv` or `cohorts.csv`.")),
    security(("dashboard_session" = [])),
    responses((status = 200, description = "The CSV.", content_type = "text/csv", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn export(
    State(state): State<AppState>,
    Path((listing_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let seller = match signed_in(&state, &headers).await {
        Ok(Some(seller)) => seller,
        Ok(None) => {
            return AppError::Unauthorized("sign in at /dashboard first".into()).into_response();
        }
        Err(error) => return error.into_response(),
    };
    let (_, tables) = match tables(&state, &seller, &listing_id).await {
        Ok(result) => result,
        Err(error) => return error.into_response(),
    };
    // The segments' label carries handles from visitors' events and checkouts: text. Every
    // other cell is a count, a rate, an amount or a date the server formatted.
    let (headers_row, rows, text_columns) = match file.as_str() {
        "segments.csv" => (tables.segments.0, tables.segments.1, 1),
        "revenue.csv" => (tables.revenue.0, tables.revenue.1, 0),
        "cohorts.csv" => (tables.cohorts.0, tables.cohorts.1, 0),
        _ => {
            return AppError::NotFound(format!(
                "no table {file}; use segments.csv, revenue.csv or cohorts.csv"
            ))
            .into_response();
        }
    };
    let cells = rows.iter().map(|row| {
        row.iter()
            .enumerate()
            .map(|(column, cell)| {
                if column < text_columns {
                    Cell::Text(cell)
                } else {
                    Cell::Number(cell)
                }
            })
            .collect()
    });
    let csv = match crate::csv_export::table(&headers_row, cells) {
        Ok(csv) => csv,
        Err(error) => return error.into_response(),
    };
    let disposition = format!("attachment; filename=\"{listing_id}-{file}\"");
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[utoipa::path(
    get, path = "/dashboard/assets/dashboard.css", tag = "pages", operation_id = "dashboard_stylesheet",
    responses((status = 200, description = "The dashboard's stylesheet.", content_type = "text/css", body = String))
)]
pub async fn asset() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../assets/dashboard.css"),
    )
        .into_response()
}
