//! Each creator's read-only view of their own numbers (SPEC section 6): the seller issues a
//! signed link (`POST /v1/listings/{id}/creator-views {"handle"}`), the creator opens
//! `/creator/{token}` and sees views, sales, the verified share of their attributed sales and
//! their earnings — for that listing and that creator only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mighty_core::signing::CreatorToken;
use mighty_core::{Currency, Money};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{escape_html, hosted_page};
use crate::AppState;
use crate::error::AppError;
use crate::http::{JsonBody, SellerAuth, owned_listing, public_base};

/// View tokens are signed with a key of their own, so a share link's token never opens a view.
fn view_key(state: &AppState) -> Vec<u8> {
    [state.link_key(), b":creator-view"].concat()
}

#[derive(Deserialize)]
pub struct NewView {
    handle: String,
}

pub async fn create(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewView>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let stored = owned_listing(&state, &seller.id, &id).await?;
    let listing = mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(errors.to_string()))?;
    let handle = body.value.handle.trim().to_string();
    if !listing
        .creators
        .iter()
        .any(|creator| creator.handle == handle)
    {
        return Err(AppError::invalid(
            "handle",
            format!("\"{handle}\" is not a creator of \"{id}\""),
        ));
    }
    let token = CreatorToken::issue(&view_key(&state), &listing.id, &handle, state.now().0);
    let url = format!("{}/creator/{token}", public_base(&state, &headers));
    Ok((
        StatusCode::CREATED,
        Json(json!({ "url": url, "handle": handle, "listing_id": listing.id })),
    ))
}

pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match render(&state, &token).await {
        Ok(response) => response,
        Err(error) => hosted_page(
            "Not available",
            &format!(
                "<h1>This link does not open a view</h1><p>{}</p>",
                escape_html(&error.to_string())
            ),
            error.status(),
            false,
        ),
    }
}

async fn render(state: &AppState, token: &str) -> Result<Response, AppError> {
    let invalid = || {
        AppError::Forbidden(
            "the link is not valid (mistyped, expired or not signed by this server)".into(),
        )
    };
    let parsed = CreatorToken::parse(token).map_err(|_| invalid())?;
    parsed
        .verify(
            &view_key(state),
            &parsed.listing_id,
            &parsed.handle,
            state.now().0,
        )
        .map_err(|_| invalid())?;
    let (listing_id, handle) = (parsed.listing_id.clone(), parsed.handle.clone());
    let lookup = listing_id.clone();
    let stored = state
        .store(move |store| store.listing(&lookup))
        .await?
        .ok_or_else(|| AppError::NotFound("the listing is gone".into()))?;
    let title = stored
        .document
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(&listing_id)
        .to_string();
    let (seller_id, lookup) = (stored.seller_id.clone(), listing_id.clone());
    let orders = state
        .store(move |store| store.orders(&seller_id, Some(&lookup)))
        .await?;
    let lookup = listing_id.clone();
    let now = state.now().0;
    let views = state
        .store(move |store| store.view_counts(&lookup, 0, now + 1))
        .await?;
    let lookup = listing_id.clone();
    let fee = state
        .store(move |store| store.creator_fees(&lookup))
        .await?
        .into_iter()
        .find(|(fee_handle, _)| fee_handle == &handle)
        .map(|(_, fee)| fee);

    let theirs = |creator: &Option<String>, variant: Option<&str>| {
        creator.as_deref().or(variant) == Some(handle.as_str())
    };
    let view_count: u64 = views
        .iter()
        .filter(|count| theirs(&count.creator, count.variant.as_deref()))
        .map(|count| count.views)
        .sum();
    let sales: Vec<_> = orders
        .iter()
        .filter(|order| order.kind == "purchase" && order.status == "paid")
        .filter(|order| {
            theirs(
                &order.creator,
                order.attribution.get("variant").and_then(Value::as_str),
            )
        })
        .collect();
    let linked: Vec<_> = sales
        .iter()
        .filter(|order| order.creator.as_deref() == Some(handle.as_str()))
        .collect();
    let verified = linked.iter().filter(|order| order.creator_verified).count();
    let currency = orders
        .first()
        .map(|order| order.currency.clone())
        .unwrap_or_else(|| "EUR".into());
    let money = |amount: i64| {
        Currency::from_code(&currency).map_or_else(
            || amount.to_string(),
            |currency| Money::new(amount, currency).to_string(),
        )
    };
    let verified_share = if linked.is_empty() {
        "—".to_string()
    } else {
        format!("{:.0} %", verified as f64 * 100.0 / linked.len() as f64)
    };
    let body = format!(
        "<h1>{handle}'s numbers</h1><p>For <strong>{title}</strong>. Read-only; updated live.</p>\
         <section class=\"summary receipt\"><dl>\
         <dt>Views of your demo</dt><dd>{view_count}</dd>\
         <dt>Sales</dt><dd>{sales}</dd>\
         <dt>Sales through your links</dt><dd>{linked}</dd>\
         <dt>Verified share of those</dt><dd>{verified_share}</dd>\
         <dt>Revenue from your sales</dt><dd>{revenue}</dd>\
         <dt>Your earnings (fee)</dt><dd>{earnings}</dd></dl></section>",
        handle = escape_html(&handle),
        title = escape_html(&title),
        sales = sales.len(),
        linked = linked.len(),
        revenue = escape_html(&money(sales.iter().map(|order| order.amount).sum())),
        earnings = escape_html(&fee.map_or_else(|| "not set by the seller".to_string(), money)),
    );
    Ok(hosted_page("Creator view", &body, StatusCode::OK, false))
}
