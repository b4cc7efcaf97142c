//! Getting a host's listing: core picks the source, this module does the I/O (fetch, the
//! page's JSON-LD) and hands the text back to core for validation. Every failure becomes a
//! config error that names the attribute and says what to fix.

use mighty_core::host::{HostConfig, ListingSource, listing_url_for_id};
use mighty_core::sources::{
    document_error, listing_from_attributes, listing_from_parsed, listing_from_schema_org,
};
use mighty_core::{ConfigError, ConfigErrorCode, ConfigErrors, Listing};
use web_sys::Element;

use crate::{dom, http, json};

/// How long a listing server may take before the widget says so.
const FETCH_TIMEOUT_MS: u32 = 15_000;

/// The host's validated listing, its relative references resolved against the document's URL
/// (or the page's, for inline sources); and the document's URL when it was fetched (the
/// server that serves it also serves its pop-up's calendar file).
pub async fn load_listing(
    host: &Element,
    config: &HostConfig,
) -> Result<(Listing, Option<String>), ConfigErrors> {
    let page = dom::page_base();
    let LoadedListing {
        mut listing,
        base_url,
    } = load_from_source(host, config, &page).await?;
    listing.resolve_references(|reference| dom::resolve_url(reference, &base_url));
    let fetched = (base_url != page).then_some(base_url);
    Ok((listing, fetched))
}

struct LoadedListing {
    listing: Listing,
    base_url: String,
}

async fn load_from_source(
    host: &Element,
    config: &HostConfig,
    page: &str,
) -> Result<LoadedListing, ConfigErrors> {
    let page = page.to_string();
    match config.listing_source()? {
        ListingSource::Document { json, origin } => {
            let listing = listing_from_parsed(json::parse(&json), config)
                .map_err(|errors| document_error(origin, errors))?;
            Ok(LoadedListing {
                listing,
                base_url: page,
            })
        }
        ListingSource::Parsed { document, origin } => {
            let listing = listing_from_parsed(Ok(document.0), config)
                .map_err(|errors| document_error(origin, errors))?;
            Ok(LoadedListing {
                listing,
                base_url: page,
            })
        }
        ListingSource::Url(url) => {
            let absolute = dom::resolve_url(&url, &page).ok_or_else(|| {
                ConfigError::invalid(
                    "data-mighty-listing",
                    format!("\"{url}\" is not a valid URL"),
                )
            })?;
            let json = fetch_document(&absolute, "data-mighty-listing").await?;
            let listing = listing_from_parsed(json::parse(&json), config)
                .map_err(|errors| document_error("data-mighty-listing", errors))?;
            Ok(LoadedListing {
                listing,
                base_url: absolute,
            })
        }
        ListingSource::SchemaOrg => {
            let blocks = dom::read_json_ld(host)?;
            Ok(LoadedListing {
                listing: listing_from_schema_org(&blocks, config)?,
                base_url: page,
            })
        }
        ListingSource::Attributes => Ok(LoadedListing {
            listing: listing_from_attributes(config)?,
            base_url: page,
        }),
        ListingSource::ById { id, checkout } => {
            let Some(checkout) = checkout else {
                return Err(ConfigError::invalid(
                    "data-mighty-checkout",
                    format!("is missing; data-mighty=\"{id}\" alone is fetched from the checkout server ({{checkout origin}}/v1/listings/{id}), so give data-mighty-checkout, or use data-mighty-listing"),
                )
                .into());
            };
            let url = dom::resolve_url(&checkout, &page)
                .and_then(|absolute| listing_url_for_id(dom::web_url(&absolute).as_ref(), &id))
                .ok_or_else(|| {
                    ConfigError::invalid(
                        "data-mighty-checkout",
                        format!("\"{checkout}\" is not an http(s) URL"),
                    )
                })?;
            let json = fetch_document(&url, "data-mighty").await?;
            let listing = listing_from_parsed(json::parse(&json), config)
                .map_err(|errors| document_error("data-mighty", errors))?;
            Ok(LoadedListing {
                listing,
                base_url: url,
            })
        }
    }
}

/// GETs a listing document; `attribute` is named in every error. A failure that may pass
/// (core's `loading` decides) is `listing_unavailable`: the widget keeps the host's fallback
/// and tries again; a refusal is `listing_unreachable`, a notice for the site owner.
async fn fetch_document(url: &str, attribute: &str) -> Result<String, ConfigError> {
    let unavailable = |message: String| {
        ConfigError::invalid(attribute, message).with_code(ConfigErrorCode::ListingUnavailable)
    };
    let unreachable = |message: String| {
        ConfigError::invalid(attribute, message).with_code(ConfigErrorCode::ListingUnreachable)
    };
    let response = http::fetch("GET", url, &[("Accept", "application/json")], None, FETCH_TIMEOUT_MS).await.map_err(|failure| match failure {
        http::FetchFailure::Timeout => unavailable(format!("{url} did not answer within {} s", FETCH_TIMEOUT_MS / 1000)),
        http::FetchFailure::Network => unavailable(format!(
            "{url} could not be fetched (network error, or its server does not send Access-Control-Allow-Origin for this page)"
        )),
    })?;
    let text = &response.body;
    if !response.ok() {
        // The error body is read as a plain `Value`: a derived `Deserialize` would cost wasm.
        let body = json::parse(text).ok();
        let field = |name: &str| {
            body.as_ref()
                .and_then(|body| body.get("error")?.get(name))
                .and_then(|value| value.as_str())
                .unwrap_or_default()
        };
        let message = match (field("code"), field("message")) {
            ("origin_not_allowed", _) => format!(
                "{url} refuses this page's origin (origin_not_allowed); the seller must add it to the listing's allowed_origins"
            ),
            (_, message) if !message.is_empty() => {
                format!("{url} answered {}: {message}", response.status)
            }
            _ if response.status == 404 => {
                format!("{url} answered 404 Not Found; check the URL or the listing id")
            }
            _ => format!(
                "{url} answered {} {}",
                response.status, response.status_text
            ),
        };
        return Err(
            if mighty_core::loading::answer_is_passing(response.status) {
                unavailable(message)
            } else {
                unreachable(message)
            },
        );
    }
    Ok(response.body)
}
