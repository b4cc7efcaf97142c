//! Each creator's read-only view of their own numbers (SPEC section 6): the seller issues a
//! signed link (`POST /v1/listings/{id}/creator-views {"handle"}`), the creator opens
//! `/creator/{token}` and sees views, sales, the verified share of their attributed sales and
//! their earnings — for that listing and that creator only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use mighty_core::signing::CreatorToken;
use mighty_core::{Currency, Money};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::html::{Layout, error_page, shell};
use crate::http::{JsonBody, SellerAuth, owned_listing, public_base};

/// View tokens are signed with a key of their own, so a share link's token never opens a view.
fn view_key(state: &AppState) -> Vec<u8> {
    [state.link_key(), b":creator-view"].concat()
}

#[derive(Deserialize)]
pub struct NewView {
    handle: String,
}

#[utoipa::path(
    post, path = "/v1/listings/{id}/creator-views", tag = "creators", operation_id = "create_creator_view",
    description = "A signed read-only link for one creator: their views, sales and fee for this listing.",
    params(("id" = String, Path, description = "The listing id.")),
    request_body = crate::openapi::schemas::NewCreatorView,
    security(("seller" = [])),
    responses(
        (status = 201, description = "The link.", body = crate::openapi::schemas::CreatorView),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: not a creator of the listing.", body = crate::openapi::schemas::ErrorBody),
    )
)]
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

#[utoipa::path(
    get, path = "/creator/{token}", tag = "pages", operation_id = "creator_view_page",
    description = "A creator's read-only page; 403 (a page saying why) once their links are revoked or while they are not among the listing's creators.",
    params(("token" = String, Path, description = "The signed creator-view token.")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = "4XX", description = "A page saying what is wrong (or the error body).", content((String = "text/html"), (crate::openapi::schemas::ErrorBody = "application/json"))))
)]
pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match render(&state, &token).await {
        Ok(response) => response,
        Err(error) => error_page(
            Layout::hosted(state.config().test_mode()),
            "Not available",
            &error,
            html! {
                h1 { "This link does not open a view" }
                p { (error.to_string()) }
            },
        ),
    }
}

/// A view link stops working with the creator's links: when the seller revokes them
/// (`DELETE /v1/listings/{id}/creator-links/{handle}`: links issued at or before that time)
/// and when the creator is no longer one of the listing's creators.
async fn check_still_valid(
    state: &AppState,
    document: &Value,
    parsed: &CreatorToken,
) -> Result<(), AppError> {
    if !crate::attribution::is_creator_of(document, &parsed.handle) {
        return Err(AppError::Forbidden(format!(
            "{} is no longer a creator of this listing, so this view is closed; ask the seller for a new link if that changes",
            parsed.handle
        )));
    }
    let (listing_id, handle) = (parsed.listing_id.clone(), parsed.handle.clone());
    let revoked_at = state
        .store(move |store| store.creator_links_revoked_at(&listing_id, &handle))
        .await?;
    if revoked_at.is_some_and(|revoked_at| parsed.issued_at <= revoked_at) {
        return Err(AppError::Forbidden(
            "the seller revoked this creator's links, this view included; ask the seller for a new link".into(),
        ));
    }
    Ok(())
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
    check_still_valid(state, &stored.document, &parsed).await?;
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
    let now = state.now_for(&stored.seller_id).0;
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
    let revenue = money(sales.iter().map(|order| order.amount).sum());
    let earnings = fee.map_or_else(|| "not set by the seller".to_string(), money);
    let body = html! {
        h1 { (handle) "'s numbers" }
        p { "For " strong { (title) } ". Read-only; updated live." }
        section class="summary receipt" {
            dl {
                dt { "Views of your demo" } dd { (view_count) }
                dt { "Sales" } dd { (sales.len()) }
                dt { "Sales through your links" } dd { (linked.len()) }
                dt { "Verified share of those" } dd { (verified_share) }
                dt { "Revenue from your sales" } dd { (revenue) }
                dt { "Your earnings (fee)" } dd { (earnings) }
            }
        }
    };
    Ok(shell(
        Layout::hosted(state.config().test_mode()),
        "Creator view",
        StatusCode::OK,
        body,
    ))
}
