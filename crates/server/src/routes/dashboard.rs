//! The seller's dashboard (SPEC sections 6 and 7): the seller signs in once with their token
//! (then an `HttpOnly`, `SameSite=Strict` session cookie), and sees per listing the funnel per
//! creator and variant, conversion with its 95 % interval, revenue over time, cohort retention
//! and drop sell-through. Charts are server-drawn SVG with titles, descriptions and the data
//! table behind each; every table exports as CSV. The numbers are `/v1/metrics`'s.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mighty_core::kpi;
use mighty_core::{Currency, Money, Timestamp};
use serde_json::Value;

use super::escape_html;
use super::metrics::{compute, listing_payments};
use crate::AppState;
use crate::error::AppError;
use crate::store::{Seller, new_id};

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

fn page(title: &str, body: &str, status: StatusCode) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Mighty dashboard</title><link rel=\"stylesheet\" href=\"/dashboard/assets/dashboard.css\"></head>\
         <body><main>{body}</main></body></html>",
        title = escape_html(title)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::static_files::STRICT_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn sign_in_page(error: Option<&str>) -> Response {
    let alert = error
        .map(|message| {
            format!(
                "<p class=\"alert\" role=\"alert\">{}</p>",
                escape_html(message)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>Seller dashboard</h1>{alert}<form method=\"post\" action=\"/dashboard/sign-in\">\
         <label for=\"token\">Seller token</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"hint\">The token printed by <code>mighty-server seller add</code> (or <code>cargo xtask demo</code>).</p>"
    );
    page(
        "Sign in",
        &body,
        if error.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
    )
}

pub async fn sign_in(
    State(state): State<AppState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = form
        .get("token")
        .map(|token| token.trim().to_string())
        .unwrap_or_default();
    let seller = match state
        .store(move |store| store.seller_by_token(&token))
        .await
    {
        Ok(Some(seller)) => seller,
        Ok(None) => return sign_in_page(Some("That token is not a seller's token.")),
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

pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
    let items: String = listings
        .iter()
        .map(|(id, document)| {
            let title = document.get("title").and_then(Value::as_str).unwrap_or(id);
            format!("<li><a href=\"/dashboard/listings/{id}\">{}</a> <span class=\"hint\">{}</span></li>", escape_html(title), escape_html(id), id = escape_html(id))
        })
        .collect();
    let body = format!(
        "<header class=\"bar\"><h1>{name}</h1><form method=\"post\" action=\"/dashboard/sign-out\"><button type=\"submit\" class=\"secondary\">Sign out</button></form></header>\
         <h2>Listings</h2><ul class=\"listings\">{items}</ul>",
        name = escape_html(&seller.name)
    );
    page("Listings", &body, StatusCode::OK)
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
fn svg(id: &str, title: &str, description: &str, height: u32, content: &str) -> String {
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 640 {height}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{description}</desc>{content}</svg>",
        title = escape_html(title),
        description = escape_html(description),
    )
}

/// Horizontal bars: `(label, value)` scaled to the largest.
fn bar_chart(id: &str, title: &str, rows: &[(String, f64, String)]) -> String {
    let max = rows
        .iter()
        .map(|(_, value, _)| *value)
        .fold(0.0, f64::max)
        .max(1e-9);
    let bars: String = rows
        .iter()
        .enumerate()
        .map(|(index, (name, value, shown))| {
            let y = 10 + index as u32 * 28;
            let width = (value / max * 330.0).max(1.0);
            format!(
                "<text x=\"0\" y=\"{ty}\" class=\"label\">{name}</text><rect x=\"200\" y=\"{y}\" width=\"{width:.1}\" height=\"18\" fill=\"#4b2bd6\"/>\
                 <text x=\"{tx:.1}\" y=\"{ty}\" class=\"value\">{shown}</text>",
                ty = y + 14,
                tx = 206.0 + width,
                name = escape_html(name),
                shown = escape_html(shown),
            )
        })
        .collect();
    let description = rows
        .iter()
        .map(|(name, _, shown)| format!("{name}: {shown}"))
        .collect::<Vec<_>>()
        .join("; ");
    svg(id, title, &description, 20 + rows.len() as u32 * 28, &bars)
}

/// Conversion with its interval: a dot at the rate, a line from low to high.
fn interval_chart(id: &str, segments: &[Value]) -> String {
    let max = segments
        .iter()
        .filter_map(|segment| segment["conversion"]["high"].as_f64())
        .fold(0.0, f64::max)
        .max(0.01);
    let scale = |value: f64| 200.0 + value / max * 400.0;
    let rows: String = segments
        .iter()
        .enumerate()
        .filter_map(|(index, segment)| {
            let conversion = &segment["conversion"];
            let (value, low, high) = (conversion["value"].as_f64()?, conversion["low"].as_f64()?, conversion["high"].as_f64()?);
            let y = 19 + index as u32 * 28;
            Some(format!(
                "<text x=\"0\" y=\"{ty}\" class=\"label\">{name}</text><line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#57535f\" stroke-width=\"2\"/>\
                 <circle cx=\"{cx:.1}\" cy=\"{y}\" r=\"5\" fill=\"#4b2bd6\"/>",
                ty = y + 5,
                name = escape_html(&label(segment)),
                x1 = scale(low),
                x2 = scale(high),
                cx = scale(value),
            ))
        })
        .collect();
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
        &rows,
    )
}

fn table(caption: &str, headers: &[&str], rows: &[Vec<String>], csv_href: &str) -> String {
    let head: String = headers
        .iter()
        .map(|header| format!("<th scope=\"col\">{}</th>", escape_html(header)))
        .collect();
    let body: String = rows
        .iter()
        .map(|row| {
            format!(
                "<tr>{}</tr>",
                row.iter()
                    .map(|cell| format!("<td>{}</td>", escape_html(cell)))
                    .collect::<String>()
            )
        })
        .collect();
    format!(
        "<table><caption>{caption} <a href=\"{csv_href}\">CSV</a></caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        caption = escape_html(caption),
        csv_href = escape_html(csv_href)
    )
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
    let now = state.now().0;
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
            return page(
                "Not found",
                &format!("<h1>{}</h1>", escape_html(&error.to_string())),
                error.status(),
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
    let comparisons: String = metrics["comparisons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|comparison| {
            format!(
                "<li>{b} against {a}: {difference} points; probability {b} is better: {probability}</li>",
                a = escape_html(comparison["a"].as_str().unwrap_or("none")),
                b = escape_html(comparison["b"].as_str().unwrap_or("none")),
                difference = comparison["difference"].as_f64().map_or("—".into(), |value| format!("{:+.1}", value * 100.0)),
                probability = percent(comparison["probability_b_beats_a"].as_f64()),
            )
        })
        .collect();
    let drop = match metrics["drop"].as_object() {
        Some(drop) => {
            let through = drop.get("sell_through").and_then(Value::as_f64);
            let rows = [("Sold".to_string(), through.unwrap_or(0.0), percent(through))];
            format!(
                "<section><h2>Drop sell-through</h2>{}<p>{} of {} sold.</p></section>",
                bar_chart("drop", "Drop sell-through", &rows),
                drop.get("sold").unwrap_or(&Value::Null),
                drop.get("inventory").unwrap_or(&Value::Null)
            )
        }
        None => String::new(),
    };
    let base = format!("/dashboard/listings/{}", escape_html(&listing_id));
    let body = format!(
        "<header class=\"bar\"><h1>{id}</h1><a href=\"/dashboard\">All listings</a></header>\
         <section><h2>Funnel per creator and variant</h2>{funnel}{segments_table}</section>\
         <section><h2>Conversion</h2>{intervals}<ul>{comparisons}</ul></section>\
         <section><h2>Revenue over time</h2>{revenue_chart}{revenue_table}</section>\
         <section><h2>Cohort retention</h2><p class=\"hint\">Share of each week's new customers who paid again (renewals count) in the following weeks.</p>{cohort_table}</section>{drop}",
        id = escape_html(&listing_id),
        funnel = bar_chart(
            "funnel",
            "Views and paid commits per creator and variant",
            &funnel
        ),
        segments_table = table(
            "Funnel",
            &tables.segments.0,
            &tables.segments.1,
            &format!("{base}/segments.csv")
        ),
        intervals = interval_chart("conversion", &segments),
        revenue_chart = bar_chart("revenue", "Revenue per week", &revenue),
        revenue_table = table(
            "Revenue per week",
            &tables.revenue.0,
            &tables.revenue.1,
            &format!("{base}/revenue.csv")
        ),
        cohort_table = table(
            "Cohorts",
            &tables.cohorts.0,
            &tables.cohorts.1,
            &format!("{base}/cohorts.csv")
        ),
    );
    page(&listing_id, &body, StatusCode::OK)
}

/// The number in "24.00 EUR", for chart lengths.
fn parse_amount(text: &str) -> f64 {
    text.split_whitespace()
        .next()
        .and_then(|number| number.parse().ok())
        .unwrap_or(0.0)
}

/// A CSV field: quoted when it holds a comma, quote or newline.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

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
    let (headers_row, rows) = match file.as_str() {
        "segments.csv" => tables.segments,
        "revenue.csv" => tables.revenue,
        "cohorts.csv" => tables.cohorts,
        _ => {
            return AppError::NotFound(format!(
                "no table {file}; use segments.csv, revenue.csv or cohorts.csv"
            ))
            .into_response();
        }
    };
    let mut csv = headers_row
        .iter()
        .map(|header| csv_field(header))
        .collect::<Vec<_>>()
        .join(",");
    csv.push('\n');
    for row in rows {
        csv.push_str(
            &row.iter()
                .map(|cell| csv_field(cell))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push('\n');
    }
    let disposition = format!("attachment; filename=\"{listing_id}-{file}\"");
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
