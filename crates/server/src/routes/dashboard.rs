//! The seller's dashboard (SPEC sections 6 and 7): the seller signs in once with their token
//! (then an `HttpOnly`, `SameSite=Strict` session cookie). The listings page gives each
//! listing's last 30 days; a listing's page answers, in order: the last 30 days in a few big
//! numbers (revenue against the 30 days before, paid orders, conversion, recurring revenue per
//! member, saves) and the warning when one creator or one source brings more than 60 % of the
//! revenue; then eight weeks of charts (revenue per week, the funnel, conversion per creator
//! and variant with its interval, each bundle's offer variants and the bandit's shares over
//! time, revenue by creator and by source, cohort retention, drop sell-through). Charts are
//! `charts.rs`'s SVG, each with its title, description and table; every number is
//! `/v1/metrics`'s (`metrics::compute`) or core's KPI engine's; three tables export as CSV.

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
use crate::charts::{
    Bar, FunnelStep, HeatCell, IntervalRow, IntervalUnit, Table, bar_chart, figure, funnel_chart,
    heat_map, interval_chart, line_chart, share_chart,
};
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
    // Each listing with its last 30 days (the seller's clock), the liveliest first: where to
    // look is the first thing the page says.
    let seller_id = seller.id.clone();
    let orders = match state
        .store(move |store| store.orders(&seller_id, None))
        .await
    {
        Ok(orders) => orders,
        Err(error) => return error.into_response(),
    };
    let now = state.now_for(&seller.id).0;
    let recent_from = now - RECENT_DAYS * DAY;
    let mut rows: Vec<(String, String, i64, usize, String)> = listings
        .iter()
        .map(|(id, document)| {
            let recent: Vec<&crate::store::Order> = orders
                .iter()
                .filter(|order| &order.listing_id == id && order.status != "refunded")
                .filter(|order| {
                    Timestamp::parse_rfc3339(&order.created_at)
                        .is_ok_and(|at| at.0 >= recent_from && at.0 <= now)
                })
                .collect();
            (
                id.clone(),
                document
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_string(),
                kpi::total(recent.iter().map(|order| order.amount)),
                recent.len(),
                recent
                    .first()
                    .map_or_else(|| "EUR".to_string(), |order| order.currency.clone()),
            )
        })
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    let body = html! {
        header class="bar" {
            h1 { (seller.name) }
            form method="post" action="/dashboard/sign-out" {
                button type="submit" class="secondary" { "Sign out" }
            }
        }
        section {
            h2 { "Listings" }
            table class="listings" {
                caption { "Your listings, last 30 days" }
                thead { tr { th scope="col" { "listing" } th scope="col" { "revenue" } th scope="col" { "paid orders" } } }
                tbody {
                    @for (id, title, revenue, count, currency) in &rows {
                        tr {
                            th scope="row" {
                                a href={ "/dashboard/listings/" (id) } { (title) }
                                " "
                                span class="hint" { (id) }
                            }
                            td { (money(*revenue, currency)) }
                            td { (count) }
                        }
                    }
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

/// Minor units as major units for an axis tick ("1200" for 1 200.00 EUR; decimals only when
/// the ticks are finer than one major unit).
fn major_units(amount: f64, currency: &str) -> String {
    let exponent = Currency::from_code(currency).map_or(2, |currency| currency.exponent());
    let major = amount / 10f64.powi(i32::from(exponent));
    if major.fract().abs() < 1e-9 {
        format!("{major:.0}")
    } else {
        format!("{major:.2}")
    }
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

const DAY: i64 = 86_400;
/// The charts' period: eight weeks ending at the seller's now.
const WEEKS: usize = 8;
/// The headline numbers' period (and the concentration's, `metrics::CONCENTRATION_DAYS`).
const RECENT_DAYS: i64 = super::metrics::CONCENTRATION_DAYS;

/// "30 Nov": a period's start, short enough for an axis.
fn short_date(at: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let date = Timestamp(at).to_rfc3339();
    let month = date[5..7].parse::<usize>().unwrap_or(1);
    format!(
        "{} {}",
        date[8..10].trim_start_matches('0'),
        MONTHS[month.clamp(1, 12) - 1]
    )
}

/// Everything a listing's page and its CSV files show, computed once per request from
/// `/v1/metrics`'s numbers (`metrics::compute`) and core's KPI engine.
struct Report {
    title: String,
    currency: String,
    now: i64,
    /// The metrics over the charts' eight weeks.
    metrics: Value,
    /// Non-refunded revenue of the last 30 days, and of the 30 days before.
    revenue_recent: i64,
    revenue_before: i64,
    recent_funnel: Value,
    /// Cancellations turned into a pause or a lower tier in the last 30 days (`saves`).
    recent_saves: Value,
    recurring_per_customer: Option<i64>,
    weeks: Vec<(i64, i64)>,
    /// Cohort rows: (label, cells of the heat map).
    cohort_cells: Vec<(String, Vec<HeatCell>)>,
    segments: Table,
    revenue: Table,
    cohorts: Table,
    funnel: Table,
}

async fn report(state: &AppState, seller: &Seller, listing_id: &str) -> Result<Report, AppError> {
    let now = state.now_for(&seller.id).0;
    // Periods end just after now (`now + 1` exclusive, as the metrics' `to`): what was paid
    // this very second is in the last week, not past its end.
    let origin = now + 1 - WEEKS as i64 * WEEK;
    let recent_from = now - RECENT_DAYS * DAY;
    let base = format!("/dashboard/listings/{listing_id}");
    let metrics = compute(state, &seller.id, listing_id, origin, now + 1).await?;
    let recent = compute(state, &seller.id, listing_id, recent_from, now + 1).await?;
    let (orders, payments) = listing_payments(state, &seller.id, listing_id).await?;
    let lookup = listing_id.to_string();
    let title = state
        .store(move |store| store.listing(&lookup))
        .await?
        .and_then(|stored| {
            stored
                .document
                .get("title")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .unwrap_or_else(|| listing_id.to_string());
    let currency = orders
        .first()
        .map(|order| order.currency.clone())
        .unwrap_or_else(|| "EUR".into());
    let refs: Vec<&kpi::Payment> = payments.iter().collect();
    let revenue_between = |from: i64, to: i64| {
        kpi::total(
            refs.iter()
                .filter(|payment| !payment.refunded && payment.at >= from && payment.at < to)
                .map(|payment| payment.amount),
        )
    };
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
    let weeks = kpi::revenue_over_time(&refs, origin, WEEK, WEEKS);
    let revenue_rows = weeks
        .iter()
        .map(|(start, sum)| {
            vec![
                Timestamp(*start).to_rfc3339()[..10].to_string(),
                money(*sum, &currency),
            ]
        })
        .collect();
    let cohorts = kpi::cohorts(&refs, origin, WEEK, WEEKS - 1);
    let cohort_rows = cohorts
        .iter()
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
    // A cohort's week k is observable once it has begun: the last week of the eight is the
    // current one.
    let cohort_cells = cohorts
        .iter()
        .map(|cohort| {
            let index = (cohort.start - origin) / WEEK;
            let cells = cohort
                .retained
                .iter()
                .enumerate()
                .map(|(offset, kept)| {
                    if index + offset as i64 + 1 < WEEKS as i64 {
                        let share = *kept as f64 / cohort.customers.max(1) as f64;
                        HeatCell {
                            share: Some(share),
                            text: format!("{:.0} %", share * 100.0),
                        }
                    } else {
                        HeatCell {
                            share: None,
                            text: String::new(),
                        }
                    }
                })
                .collect();
            (
                format!("{} ({})", short_date(cohort.start), cohort.customers),
                cells,
            )
        })
        .collect();
    let funnel = &metrics["funnel"];
    let funnel_rows = FUNNEL_STEPS
        .iter()
        .map(|(key, name)| vec![name.to_string(), funnel[*key].to_string()])
        .collect();
    let weeks_headers = [
        "first purchase, week of",
        "customers",
        "week 1",
        "week 2",
        "week 3",
        "week 4",
        "week 5",
        "week 6",
        "week 7",
    ];
    Ok(Report {
        title,
        now,
        revenue_recent: revenue_between(recent_from, now + 1),
        revenue_before: revenue_between(recent_from - RECENT_DAYS * DAY, recent_from),
        recent_funnel: recent["funnel"].clone(),
        recent_saves: recent["saves"].clone(),
        recurring_per_customer: kpi::recurring_revenue_per_active_customer(
            &refs,
            recent_from,
            now + 1,
        ),
        weeks,
        cohort_cells,
        segments: Table::new(
            "Per creator and variant",
            &[
                "segment",
                "views",
                "paid commits",
                "conversion",
                "95 % interval",
                "30-day repeat",
                "revenue",
            ],
            segment_rows,
        )
        .with_csv(format!("{base}/segments.csv")),
        revenue: Table::new("Revenue per week", &["week of", "revenue"], revenue_rows)
            .with_csv(format!("{base}/revenue.csv")),
        cohorts: Table::new("Cohorts", &weeks_headers, cohort_rows)
            .with_csv(format!("{base}/cohorts.csv")),
        funnel: Table::new("Funnel, last 8 weeks", &["step", "count"], funnel_rows),
        metrics,
        currency,
    })
}

/// The funnel's steps: (`/v1/metrics` `funnel` key, name).
const FUNNEL_STEPS: [(&str, &str); 4] = [
    ("views", "Views"),
    ("demo_plays", "Demo plays"),
    ("checkout_starts", "Checkout starts"),
    ("paid_commits", "Paid"),
];

/// A headline number: what it is, how much, and what it compares to.
fn tile(name: &str, value: &str, note: &str) -> Markup {
    html! {
        div class="tile" {
            dt { (name) }
            dd {
                span class="figure-value" { (value) }
                @if !note.is_empty() { span class="hint" { (note) } }
            }
        }
    }
}

/// "+12 % on the 30 days before" (nothing to compare with: no note).
fn change(now: i64, before: i64) -> String {
    if before <= 0 {
        return "nothing the 30 days before".to_string();
    }
    let change = (now - before) as f64 / before as f64 * 100.0;
    format!("{change:+.0} % on the 30 days before")
}

/// A concentration split as bars and its table; the part over 60 % drawn in the warning
/// colour and named in a warning above.
fn concentration_section(
    id: &str,
    what: &str,
    split: &Value,
    currency: &str,
    unnamed: &str,
) -> (Markup, Table) {
    let parts = split["parts"].as_array().cloned().unwrap_or_default();
    let name = |part: &Value| {
        part["key"]
            .as_str()
            .map_or_else(|| unnamed.to_string(), String::from)
    };
    let dominant = split["dominant"]["key"].as_str();
    let bars: Vec<Bar> = parts
        .iter()
        .map(|part| Bar {
            label: name(part),
            value: part["revenue"].as_f64().unwrap_or(0.0),
            text: format!(
                "{} · {:.0} %",
                money(part["revenue"].as_i64().unwrap_or(0), currency),
                part["share"].as_f64().unwrap_or(0.0) * 100.0
            ),
            highlighted: part["key"].as_str().is_some() && part["key"].as_str() == dominant,
        })
        .collect();
    let rows = parts
        .iter()
        .map(|part| {
            vec![
                name(part),
                money(part["revenue"].as_i64().unwrap_or(0), currency),
                percent(part["share"].as_f64()),
            ]
        })
        .collect();
    let title = format!("Revenue by {what}, last 30 days");
    (
        bar_chart(id, &title, &bars, None),
        Table::new(&title, &[what, "revenue", "share"], rows),
    )
}

/// "2 pauses, 1 lower tier · 40.00 EUR a month kept" (`saves` of `/v1/metrics`: each a
/// cancellation turned into a pause or a lower tier).
fn saves_note(saves: &serde_json::Map<String, Value>) -> String {
    let count = |key: &str| saves.get(key).and_then(Value::as_i64).unwrap_or(0);
    let kept: Vec<String> = saves
        .get("revenue")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            Some(money(
                entry["mrr_kept"].as_i64()?,
                entry["currency"].as_str()?,
            ))
        })
        .collect();
    let plural = |count: i64, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let mut note = format!(
        "{}, {}",
        plural(count("pauses"), "pause", "pauses"),
        plural(count("downgrades"), "lower tier", "lower tiers")
    );
    if !kept.is_empty() {
        note.push_str(&format!(" · {} a month kept", kept.join(" + ")));
    }
    note
}

/// A bundle offer's test of its offer variants (`offer_variants` of `/v1/metrics`): revenue
/// per view with its 95 % interval per variant, the table of each variant's numbers, and the
/// traffic shares the bandit served over time.
fn offer_variant_section(test: &Value, currency: &str) -> Markup {
    let offer = test["offer_id"].as_str().unwrap_or("offer");
    let variants = test["variants"].as_array().cloned().unwrap_or_default();
    // The axis and the description in major units; the title names the currency.
    let per_view = |amount: f64| {
        let exponent = Currency::from_code(currency).map_or(2, |currency| currency.exponent());
        format!(
            "{:.*}",
            usize::from(exponent),
            amount / 10f64.powi(i32::from(exponent))
        )
    };
    let rows: Vec<IntervalRow> = variants
        .iter()
        .filter_map(|variant| {
            let rpv = &variant["revenue_per_view"];
            Some(IntervalRow {
                label: format!("variant {}", variant["id"].as_str()?),
                value: rpv["value"].as_f64()?,
                low: rpv["low"].as_f64()?,
                high: rpv["high"].as_f64()?,
            })
        })
        .collect();
    let table_rows = variants
        .iter()
        .map(|variant| {
            let rpv = &variant["revenue_per_view"];
            let amount = |key: &str| {
                rpv[key]
                    .as_f64()
                    .map_or("—".into(), |value| major_units_fine(value, currency))
            };
            vec![
                variant["id"].as_str().unwrap_or_default().to_string(),
                money(variant["price"].as_i64().unwrap_or(0), currency),
                variant["views"].to_string(),
                variant["commits"].to_string(),
                format!(
                    "{} ({} – {})",
                    percent(variant["conversion"]["value"].as_f64()),
                    percent(variant["conversion"]["low"].as_f64()),
                    percent(variant["conversion"]["high"].as_f64())
                ),
                format!(
                    "{} ({} – {})",
                    amount("value"),
                    amount("low"),
                    amount("high")
                ),
                percent(variant["share"].as_f64()),
                percent(variant["probability_best"].as_f64()),
            ]
        })
        .collect();
    let numbers = Table::new(
        &format!("Offer variants of {offer}"),
        &[
            "variant",
            "price",
            "views",
            "paid",
            "conversion (95 % interval)",
            "revenue per view (95 % interval)",
            "share now",
            "probability best",
        ],
        table_rows,
    );
    let history = test["history"].as_array().cloned().unwrap_or_default();
    let ids: Vec<String> = variants
        .iter()
        .filter_map(|variant| variant["id"].as_str().map(String::from))
        .collect();
    let labels: Vec<String> = history
        .iter()
        .map(|point| {
            point["at"]
                .as_str()
                .and_then(|at| Timestamp::parse_rfc3339(at).ok())
                .map_or_else(String::new, |at| short_date(at.0))
        })
        .collect();
    let series: Vec<(String, Vec<f64>)> = ids
        .iter()
        .map(|id| {
            let shares = history
                .iter()
                .map(|point| {
                    point["variants"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|variant| variant["id"].as_str() == Some(id))
                        .and_then(|variant| variant["share"].as_f64())
                        .unwrap_or(0.0)
                })
                .collect();
            (format!("variant {id}"), shares)
        })
        .collect();
    let share_rows = history
        .iter()
        .zip(&labels)
        .map(|(point, label)| {
            let mut row = vec![format!(
                "{label} ({})",
                point["at"].as_str().unwrap_or_default()
            )];
            for id in &ids {
                let share = point["variants"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|variant| variant["id"].as_str() == Some(id.as_str()))
                    .and_then(|variant| variant["share"].as_f64());
                row.push(percent(share));
            }
            row
        })
        .collect();
    let mut share_headers = vec!["computed at".to_string()];
    share_headers.extend(ids.iter().map(|id| format!("variant {id}")));
    let share_table = Table {
        caption: format!("Traffic shares of {offer}'s variants over time"),
        headers: share_headers,
        rows: share_rows,
        csv: None,
    };
    let status = match (test["status"].as_str(), test["winner"].as_str()) {
        (Some("stopped"), Some(winner)) => {
            format!("Stopped: variant {winner} gets every new visitor.")
        }
        _ if test["young"].as_bool() == Some(true) => {
            "Exploring, still young: every variant keeps at least its minimum share.".to_string()
        }
        _ => {
            "Exploring: new visitors go to each variant as likely as it is to be best.".to_string()
        }
    };
    let id = format!("offer-{offer}");
    html! {
        section {
            h2 { "Bundle variants: " (offer) }
            p class="hint" { (status) }
            @if rows.is_empty() {
                p class="hint" { "No views of these variants yet." }
            } @else {
                (figure(interval_chart(&id, &format!("Revenue per view ({currency}) of {offer}'s variants, with 95 % intervals"), &rows, IntervalUnit::Amount(&per_view)), &numbers))
            }
            @if history.len() >= 2 {
                (figure(share_chart(&format!("{id}-shares"), &format!("Traffic share of {offer}'s variants over time"), &format!("The share of new visitors each variant was given at each of the {} recomputes", history.len()), &labels, &series), &share_table))
            }
        }
    }
}

/// Minor units as major units with the currency's decimals (and one more below a unit), for
/// amounts per view.
fn major_units_fine(amount: f64, currency: &str) -> String {
    let exponent = Currency::from_code(currency).map_or(2, |currency| currency.exponent());
    let major = amount / 10f64.powi(i32::from(exponent));
    format!("{major:.*} {currency}", usize::from(exponent) + 1)
}

#[utoipa::path(
    get, path = "/dashboard/listings/{id}", tag = "pages", operation_id = "dashboard_listing_page",
    description = "A listing's headline numbers (last 30 days), revenue per week, funnel, conversion per variant, revenue by creator and by source with the one-source warning, cohort retention and drop sell-through: SVG charts and their tables.",
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
    let report = match report(&state, &seller, &listing_id).await {
        Ok(report) => report,
        Err(error) => {
            return error_page(
                &Layout::DASHBOARD,
                "Not found",
                &error,
                html! { h1 { (error.to_string()) } },
            );
        }
    };
    let metrics = &report.metrics;
    let currency = report.currency.as_str();
    let segments = metrics["segments"].as_array().cloned().unwrap_or_default();
    let comparisons = metrics["comparisons"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let week_labels: Vec<String> = report
        .weeks
        .iter()
        .map(|(start, _)| short_date(*start))
        .collect();
    let week_values: Vec<f64> = report.weeks.iter().map(|(_, sum)| *sum as f64).collect();
    let revenue_description = report
        .weeks
        .iter()
        .map(|(start, sum)| format!("week of {}: {}", short_date(*start), money(*sum, currency)))
        .collect::<Vec<_>>()
        .join("; ");
    let funnel = &metrics["funnel"];
    let funnel_steps: Vec<FunnelStep> = FUNNEL_STEPS
        .iter()
        .map(|(key, name)| FunnelStep {
            label: name.to_string(),
            count: funnel[*key].as_u64().unwrap_or(0),
        })
        .collect();
    let intervals: Vec<IntervalRow> = segments
        .iter()
        .filter_map(|segment| {
            let conversion = &segment["conversion"];
            Some(IntervalRow {
                label: label(segment),
                value: conversion["value"].as_f64()?,
                low: conversion["low"].as_f64()?,
                high: conversion["high"].as_f64()?,
            })
        })
        .collect();
    let concentration = &metrics["concentration"];
    let warnings: Vec<(String, &str, f64)> = [("by_creator", "creator"), ("by_source", "source")]
        .into_iter()
        .filter_map(|(key, what)| {
            let dominant = &concentration[key]["dominant"];
            Some((
                dominant["key"].as_str()?.to_string(),
                what,
                dominant["share"].as_f64()?,
            ))
        })
        .collect();
    let (creator_chart, creator_table) = concentration_section(
        "by-creator",
        "creator",
        &concentration["by_creator"],
        currency,
        "no creator",
    );
    let (source_chart, source_table) = concentration_section(
        "by-source",
        "source",
        &concentration["by_source"],
        currency,
        "no UTM source",
    );
    let recent = &report.recent_funnel;
    let recent_views = recent["views"].as_u64().unwrap_or(0);
    let recent_paid = recent["paid_commits"].as_u64().unwrap_or(0);
    let cohort_columns: Vec<String> = (1..WEEKS).map(|week| format!("week {week}")).collect();
    let body = html! {
        header class="bar" {
            div {
                h1 { (report.title) }
                p class="hint" {
                    (listing_id) " · now " (Timestamp(report.now).to_rfc3339()[..16].replace('T', " ")) " UTC on your clock"
                }
            }
            a href="/dashboard" { "All listings" }
        }
        section class="headline" aria-labelledby="headline-title" {
            h2 id="headline-title" { "Last 30 days" }
            dl class="tiles" {
                (tile("Revenue", &money(report.revenue_recent, currency), &change(report.revenue_recent, report.revenue_before)))
                (tile("Paid orders", &recent_paid.to_string(), "first purchases"))
                (tile("Conversion", &percent((recent_views > 0).then(|| recent_paid as f64 / recent_views as f64)), &format!("of {recent_views} views")))
                (tile("Recurring revenue", &report.recurring_per_customer.map_or("—".into(), |amount| money(amount, currency)), "per active member"))
                @if let Some(saves) = report.recent_saves.as_object() {
                    (tile("Saves from a cancel", &saves.get("total").unwrap_or(&Value::Null).to_string(), &saves_note(saves)))
                }
            }
            @for (key, what, share) in &warnings {
                p class="warning" {
                    strong { "One " (what) " brings " (format!("{:.0} %", share * 100.0)) " of your revenue: " (key) "." }
                    " Over 60 % from a single " (what) " is a risk if it stops: "
                    @if *what == "creator" { "give another creator a link and a demo to share." }
                    @else { "try a second channel (a newsletter, a partner directory)." }
                }
            }
        }
        section {
            h2 { "Revenue per week" }
            (figure(
                line_chart("revenue", &format!("Revenue per week ({currency}), last 8 weeks"), &revenue_description, &week_labels, &week_values, &|amount| major_units(amount, currency)),
                &report.revenue,
            ))
        }
        section {
            h2 { "Funnel" }
            (figure(funnel_chart("funnel", "Funnel, last 8 weeks: views, demo plays, checkout starts, paid", &funnel_steps), &report.funnel))
        }
        section {
            h2 { "Conversion per variant" }
            @if intervals.is_empty() {
                p class="hint" { "No views yet." }
            } @else {
                (figure(interval_chart("conversion", "Conversion, views to paid commits, with 95 % intervals", &intervals, IntervalUnit::Percent), &report.segments))
            }
            @if !comparisons.is_empty() {
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
        }
        @for test in metrics["offer_variants"].as_array().into_iter().flatten() {
            (offer_variant_section(test, currency))
        }
        section {
            h2 { "Where the revenue comes from" }
            p class="hint" { "Last 30 days. More than 60 % from one creator or one source is flagged." }
            (figure(creator_chart, &creator_table))
            (figure(source_chart, &source_table))
        }
        section {
            h2 { "Cohort retention" }
            p class="hint" { "Share of each week's new customers who paid again (renewals count) in each following week." }
            @if report.cohort_cells.is_empty() {
                p class="hint" { "No customers yet." }
            } @else {
                (figure(heat_map("cohorts", "Cohort retention by week", "Rows: the week of a customer's first purchase (customers in brackets); columns: weeks after it; each cell the share who paid again that week.", &cohort_columns, &report.cohort_cells), &report.cohorts))
            }
        }
        @if let Some(drop) = metrics["drop"].as_object() {
            @let through = drop.get("sell_through").and_then(Value::as_f64);
            section {
                h2 { "Drop sell-through" }
                (bar_chart("drop", "Drop sell-through", &[Bar { label: "Sold".to_string(), value: through.unwrap_or(0.0), text: percent(through), highlighted: false }], Some(1.0)))
                p {
                    (drop.get("sold").unwrap_or(&Value::Null).to_string()) " of "
                    (drop.get("inventory").unwrap_or(&Value::Null).to_string()) " sold."
                }
            }
        }
    };
    page(&report.title, body, StatusCode::OK)
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
    let report = match report(&state, &seller, &listing_id).await {
        Ok(report) => report,
        Err(error) => return error.into_response(),
    };
    // The segments' label carries handles from visitors' events and checkouts: text. Every
    // other cell is a count, a rate, an amount or a date the server formatted.
    let (headers_row, rows, text_columns) = match file.as_str() {
        "segments.csv" => (report.segments.headers, report.segments.rows, 1),
        "revenue.csv" => (report.revenue.headers, report.revenue.rows, 0),
        "cohorts.csv" => (report.cohorts.headers, report.cohorts.rows, 0),
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
    let headers_row: Vec<&str> = headers_row.iter().map(String::as_str).collect();
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
