//! `POST /v1/listings/{id}/creator-links {"handle", "page"?}`: a signed creator link (SPEC
//! section 5) for one of the listing's creators; `DELETE /v1/listings/{id}/creator-links/{handle}`
//! revokes every link issued to that creator so far.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use mighty_core::signing::CreatorToken;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::http::{JsonBody, SellerAuth, public_base};

#[derive(Deserialize)]
pub struct NewLink {
    handle: String,
    /// The directory page the link points at (default: this server's demo directory).
    page: Option<String>,
}

async fn owned_listing(
    state: &AppState,
    seller_id: &str,
    id: &str,
) -> Result<mighty_core::Listing, AppError> {
    let stored = crate::http::owned_listing(state, seller_id, id).await?;
    mighty_core::parse_listing(&stored.document.to_string())
        .map_err(|errors| AppError::Internal(errors.to_string()))
}

/// `page` with `mighty_creator` and `mighty_token` set (replacing earlier ones).
pub fn creator_link(page: &str, handle: &str, token: &str) -> String {
    let (base, fragment) = match page.split_once('#') {
        Some((base, fragment)) => (base, format!("#{fragment}")),
        None => (page, String::new()),
    };
    let (path, query) = base.split_once('?').unwrap_or((base, ""));
    let mut parameters: Vec<&str> = query
        .split('&')
        .filter(|part| {
            !part.is_empty()
                && !part.starts_with("mighty_creator=")
                && !part.starts_with("mighty_token=")
        })
        .collect();
    let creator = format!("mighty_creator={handle}");
    let token = format!("mighty_token={token}");
    parameters.push(&creator);
    parameters.push(&token);
    format!("{path}?{}{fragment}", parameters.join("&"))
}

#[utoipa::path(
    post, path = "/v1/listings/{id}/creator-links", tag = "creators", operation_id = "create_creator_link",
    description = "A signed creator link for one of the listing's creators (SPEC section 5), valid 365 days unless revoked.",
    params(("id" = String, Path, description = "The listing id.")),
    request_body = crate::openapi::schemas::NewCreatorLink,
    security(("seller" = [])),
    responses(
        (status = 201, description = "The link.", body = crate::openapi::schemas::CreatorLink),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 422, description = "`invalid_request`: `handle` is not a creator of the listing, or `page` is not an http(s) URL.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewLink>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let listing = owned_listing(&state, &seller.id, &id).await?;
    let handle = body.value.handle.trim().to_string();
    if !listing
        .creators
        .iter()
        .any(|creator| creator.handle == handle)
    {
        let known: Vec<&str> = listing
            .creators
            .iter()
            .map(|creator| creator.handle.as_str())
            .collect();
        return Err(AppError::invalid(
            "handle",
            format!(
                "\"{handle}\" is not a creator of \"{id}\" (its creators: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    let page = match body.value.page {
        Some(page) if mighty_core::url::origin(&page).is_some() => page,
        Some(_) => {
            return Err(AppError::invalid(
                "page",
                "must be an absolute http(s) URL of the directory page",
            ));
        }
        None => format!("{}/", public_base(&state, &headers)),
    };
    let token = CreatorToken::issue(state.link_key(), &listing.id, &handle, state.now().0);
    let url = creator_link(&page, &handle, &token);
    let qr_svg = qr_svg(&url).map_err(AppError::Internal)?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "token": token, "url": url, "handle": handle, "listing_id": listing.id, "qr_svg": qr_svg }),
        ),
    ))
}

/// The link as a QR code (SVG), for posters at pop-up events: dark modules on white, with a
/// quiet zone, scalable to any print size.
pub fn qr_svg(url: &str) -> Result<String, String> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|error| format!("QR code: {error}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

#[utoipa::path(
    delete, path = "/v1/listings/{id}/creator-links/{handle}", tag = "creators", operation_id = "revoke_creator_links",
    description = "Revokes every link issued to that creator so far (issued at or before this second), their creator-view links included.",
    params(("id" = String, Path, description = "The listing id."), ("handle" = String, Path, description = "The creator's handle.")),
    security(("seller" = [])),
    responses(
        (status = 200, description = "Revoked.", body = crate::openapi::schemas::CreatorLinksRevoked),
        (status = 401, description = "`unauthorized`.", body = crate::openapi::schemas::ErrorBody),
        (status = 403, description = "`forbidden`: another seller's listing.", body = crate::openapi::schemas::ErrorBody),
        (status = 404, description = "No such listing.", body = crate::openapi::schemas::ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    SellerAuth(seller): SellerAuth,
    Path((id, handle)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    owned_listing(&state, &seller.id, &id).await?;
    let now = state.now().0;
    let (listing, creator) = (id.clone(), handle.clone());
    state
        .store(move |store| store.revoke_creator_links(&listing, &creator, now))
        .await?;
    Ok(Json(
        json!({ "listing_id": id, "handle": handle, "revoked_at": mighty_core::Timestamp(now).to_rfc3339() }),
    ))
}

#[cfg(test)]
mod tests {
    use super::creator_link;

    #[test]
    fn qr_codes_are_svg() {
        let svg = super::qr_svg("https://directory.example/lyon?mighty_creator=ana&mighty_token=x")
            .unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
        assert!(svg.contains("#000000"));
    }

    #[test]
    fn links_carry_the_creator_and_token() {
        assert_eq!(
            creator_link("https://d.example/lyon", "ana", "t1"),
            "https://d.example/lyon?mighty_creator=ana&mighty_token=t1"
        );
        assert_eq!(
            creator_link(
                "https://d.example/lyon?utm_source=ig&mighty_creator=old#shop",
                "ana",
                "t1"
            ),
            "https://d.example/lyon?utm_source=ig&mighty_creator=ana&mighty_token=t1#shop"
        );
    }
}
