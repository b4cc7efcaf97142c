//! Turning each listing source of SPEC section 2 into one validated [`Listing`]: a document
//! (inline or fetched), the page's schema.org JSON-LD, or the minimal `data-mighty-*`
//! attributes. Every path ends in [`RawListing::validate`] or the same checks, so a listing
//! means the same thing whatever it came from.

use serde_json::{Map, Value};

use crate::error::{ConfigError, ConfigErrorCode};
use crate::host::HostConfig;
use crate::listing::{
    Bundle, ConfigErrors, Creator, Demo, FulfilmentOptions, Listing, MediaSource, Offer, OfferKind,
    Rating, RawListing, RawOffer, RawPrice, RawSeller, RawTestimonial, RawTrust, Trust, check_text,
    is_valid_handle, is_valid_listing_id, parse_number, slugify, unknown_currency_message,
};
use crate::money::{Currency, Money};
use crate::url::check_web_reference;

/// The currency of a minimal listing whose host gives no `data-mighty-currency`.
pub const DEFAULT_CURRENCY: &str = "EUR";

/// A listing document (JSON text) for `host`: validated, with the `data-mighty` id rule.
/// A document without `id` takes the host's `data-mighty` value.
pub fn listing_from_document(json: &str, host: &HostConfig) -> Result<Listing, ConfigErrors> {
    listing_from_parsed(crate::json_reader::parse_json(json), host)
}

/// [`listing_from_document`] for a document the caller parsed (the widget uses the
/// browser's `JSON.parse`): `Err` holds the parser's message.
pub fn listing_from_parsed(
    parsed: Result<serde_json::Value, String>,
    host: &HostConfig,
) -> Result<Listing, ConfigErrors> {
    let mut raw = crate::json_reader::read_parsed_listing(parsed)?;
    if raw.id.is_none() {
        raw.id = host.declared_id().map(String::from);
    }
    let listing = raw.validate()?;
    host.check_listing_id(&listing.id)?;
    Ok(listing)
}

/// A one-offer listing from `data-mighty-title`, `-price` and friends.
pub fn listing_from_attributes(host: &HostConfig) -> Result<Listing, ConfigErrors> {
    let attribute = |key: &str| {
        host.attributes
            .get(key)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    };
    // What a minimal listing shows or links to; the rest are parsed strictly below.
    let mut errors: Vec<ConfigError> = ["title", "seller", "demo", "demo-poster"]
        .into_iter()
        .filter_map(|key| {
            let message = check_text(attribute(key)?).err()?;
            Some(ConfigError::invalid(format!("data-mighty-{key}"), message))
        })
        .collect();

    let title = attribute("title");
    if title.is_none() {
        errors.push(ConfigError::invalid(
            "data-mighty-title",
            "is missing; the minimal listing needs a title, e.g. data-mighty-title=\"Candle trio\"",
        ));
    }
    let currency_code = attribute("currency").unwrap_or(DEFAULT_CURRENCY);
    let currency = Currency::from_code(currency_code);
    if currency.is_none() {
        errors.push(ConfigError::invalid(
            "data-mighty-currency",
            unknown_currency_message(currency_code),
        ));
    }
    let price = match (attribute("price"), currency) {
        (None, _) => {
            errors.push(ConfigError::invalid(
                "data-mighty-price",
                "is missing; give the price in major units, e.g. data-mighty-price=\"24.00\"",
            ));
            None
        }
        (Some(text), Some(currency)) => {
            let price = Money::parse_major(text, currency).map_err(|error| error.to_string());
            match price.and_then(|price| Money::check_price(price.minor, currency)) {
                Ok(price) => Some(price),
                Err(message) => {
                    errors.push(ConfigError::invalid("data-mighty-price", message));
                    None
                }
            }
        }
        (Some(_), None) => None,
    };
    let rating = match attribute("rating") {
        None => None,
        Some(text) => match parse_number(text) {
            Some(value) if (0.0..=5.0).contains(&value) => Some(value),
            _ => {
                errors.push(ConfigError::invalid(
                    "data-mighty-rating",
                    format!("\"{text}\" is not a rating from 0 to 5, e.g. 4.8"),
                ));
                None
            }
        },
    };
    let reviews = match attribute("reviews") {
        None => 0,
        Some(text) => text.parse::<u64>().unwrap_or_else(|_| {
            errors.push(ConfigError::invalid(
                "data-mighty-reviews",
                format!("\"{text}\" is not a whole number of reviews, e.g. 132"),
            ));
            0
        }),
    };
    if attribute("reviews").is_some() && attribute("rating").is_none() {
        errors.push(ConfigError::invalid("data-mighty-rating", "is missing; data-mighty-reviews needs the average rating too, e.g. data-mighty-rating=\"4.8\""));
    }
    let mut reference = |key: &str| {
        let value = attribute(key)?;
        match check_web_reference(value) {
            Ok(()) => Some(value.to_string()),
            Err(message) => {
                errors.push(ConfigError::invalid(format!("data-mighty-{key}"), message));
                None
            }
        }
    };
    let demo = reference("demo");
    let poster = reference("demo-poster");
    let handle = attribute("creator");
    if let Some(handle) = handle
        && !is_valid_handle(handle)
    {
        errors.push(ConfigError::invalid(
            "data-mighty-creator",
            format!(
                "\"{handle}\" is not a valid handle; use 1 to 64 letters, digits, '.', '-' or '_'"
            ),
        ));
    }

    let id = match (host.declared_id(), title) {
        (Some(id), _) if is_valid_listing_id(id) => Some(id.to_string()),
        (Some(id), _) => {
            errors.push(ConfigError::invalid(
                "data-mighty",
                format!(
                    "\"{id}\" is not a valid listing id; use 1 to 64 letters, digits, '-' or '_'"
                ),
            ));
            None
        }
        (None, Some(title)) => {
            let slug = slugify(title);
            if slug.is_empty() {
                errors.push(ConfigError::invalid("data-mighty", format!("a listing id cannot be made from the title \"{title}\"; set data-mighty=\"my-listing\"")));
            }
            Some(slug)
        }
        (None, None) => None,
    };

    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let (Some(id), Some(title), Some(price), Some(currency)) = (id, title, price, currency) else {
        unreachable!("every missing part pushed an error above");
    };
    let seller = attribute("seller").map(|name| crate::listing::Seller {
        name: name.to_string(),
        location: None,
        url: None,
    });
    let creators = match (handle, demo) {
        (handle, Some(src)) => vec![Creator {
            handle: handle.unwrap_or("seller").to_string(),
            name: handle
                .unwrap_or_else(|| seller.as_ref().map_or(title, |seller| seller.name.as_str()))
                .to_string(),
            avatar: None,
            demo: Some(Demo {
                sources: vec![MediaSource {
                    src,
                    media_type: None,
                }],
                poster,
                captions: None,
                duration_s: None,
                aspect: crate::listing::DemoAspect::default(),
            }),
        }],
        (Some(handle), None) => vec![Creator {
            handle: handle.to_string(),
            name: handle.to_string(),
            avatar: None,
            demo: None,
        }],
        (None, None) => Vec::new(),
    };
    Ok(Listing {
        id,
        title: title.to_string(),
        summary: None,
        currency,
        seller,
        creators,
        trust: Trust {
            rating: rating.map(|value| Rating {
                value,
                count: reviews,
            }),
            ..Trust::default()
        },
        offers: vec![Offer {
            id: "default".to_string(),
            name: title.to_string(),
            kind: OfferKind::Bundle(Bundle {
                price,
                compare_at: None,
                items: Vec::new(),
                ships: false,
                fulfilment: FulfilmentOptions::default(),
                variants: Vec::new(),
                variant_bounds: None,
            }),
        }],
        drop: None,
        checkout_endpoint: None,
        server_time: None,
        test_mode: false,
    })
}

// ---------------------------------------------------------------------------------------
// schema.org JSON-LD
// ---------------------------------------------------------------------------------------

/// The JSON-LD blocks a host can see: those inside it, and the rest of the page's.
#[derive(Debug, Default, Clone)]
pub struct JsonLdBlocks {
    /// Parsed `<script type="application/ld+json">` blocks inside the host.
    pub inside_host: Vec<Value>,
    /// Parsed blocks elsewhere on the page.
    pub page: Vec<Value>,
}

const WHERE: &str = "data-mighty-source";

/// A listing from schema.org `Product` / `Offer` / `LocalBusiness` JSON-LD: the block inside
/// the host, else the page's node whose `sku` or `productID` equals the `data-mighty` value,
/// else the page's only `Product`.
pub fn listing_from_schema_org(
    blocks: &JsonLdBlocks,
    host: &HostConfig,
) -> Result<Listing, ConfigErrors> {
    let inside: Vec<&Map<String, Value>> = blocks.inside_host.iter().flat_map(nodes).collect();
    let page: Vec<&Map<String, Value>> = blocks.page.iter().flat_map(nodes).collect();
    let declared = host.declared_id();

    let chosen = inside
        .iter()
        .copied()
        .find(|node| is_sellable(node))
        .or_else(|| {
            let id = declared?;
            page.iter().copied().find(|node| {
                let product = product_of(node).unwrap_or(node);
                [text(product.get("sku")), text(product.get("productID"))]
                    .iter()
                    .flatten()
                    .any(|value| value == id)
            })
        })
        .or_else(|| {
            let products: Vec<_> = page
                .iter()
                .copied()
                .filter(|node| has_type(node, "Product"))
                .collect();
            (products.len() == 1).then(|| products[0])
        });
    let Some(node) = chosen else {
        let hint = match declared {
            Some(id) => format!("or a Product on the page with \"sku\": \"{id}\""),
            None => "or exactly one Product on the page".to_string(),
        };
        return Err(ConfigError::invalid(
            WHERE,
            format!("found no JSON-LD Product, Offer or LocalBusiness for this host; put a <script type=\"application/ld+json\"> inside the host, {hint}"),
        )
        .into());
    };
    // The business that sells it: the chosen node itself, or a LocalBusiness next to it.
    let business = if is_business(node) {
        Some(node)
    } else {
        inside
            .iter()
            .chain(page.iter())
            .copied()
            .find(|candidate| is_business(candidate))
    };
    let raw = raw_listing_from_node(node, business, declared).map_err(ConfigErrors::from)?;
    let listing = raw.validate().map_err(|errors| {
        ConfigErrors(
            errors
                .0
                .into_iter()
                .map(|error| {
                    let at = if error.at.is_empty() {
                        WHERE.to_string()
                    } else {
                        format!("{WHERE} (JSON-LD {})", error.at)
                    };
                    ConfigError { at, ..error }
                })
                .collect(),
        )
    })?;
    host.check_listing_id(&listing.id)?;
    Ok(listing)
}

/// Every node of a block: the block itself, its array items, its `@graph`.
fn nodes(block: &Value) -> Vec<&Map<String, Value>> {
    match block {
        Value::Array(items) => items.iter().flat_map(nodes).collect(),
        Value::Object(object) => {
            let mut found = vec![object];
            if let Some(graph) = object.get("@graph") {
                found.extend(nodes(graph));
            }
            found
        }
        _ => Vec::new(),
    }
}

fn has_type(node: &Map<String, Value>, wanted: &str) -> bool {
    let matches = |value: &Value| {
        value
            .as_str()
            .is_some_and(|name| name == wanted || name.rsplit('/').next() == Some(wanted))
    };
    match node.get("@type") {
        Some(Value::Array(types)) => types.iter().any(matches),
        Some(value) => matches(value),
        None => false,
    }
}

/// LocalBusiness, one of its common subtypes, or anything with a postal address.
fn is_business(node: &Map<String, Value>) -> bool {
    [
        "LocalBusiness",
        "Store",
        "Organization",
        "Restaurant",
        "Bakery",
        "CafeOrCoffeeShop",
    ]
    .iter()
    .any(|kind| has_type(node, kind))
        || (node.contains_key("address") && !has_type(node, "Product") && !has_type(node, "Offer"))
}

fn is_sellable(node: &Map<String, Value>) -> bool {
    has_type(node, "Product")
        || product_of(node).is_some()
        || (is_business(node) && node.contains_key("makesOffer"))
}

/// The Product an Offer node is about.
fn product_of(node: &Map<String, Value>) -> Option<&Map<String, Value>> {
    if has_type(node, "Offer") {
        node.get("itemOffered")?.as_object()
    } else {
        None
    }
}

/// A string or number as text.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_string()),
        Value::Number(number) => Some(crate::listing::json_number_text(number)),
        _ => None,
    }
}

/// A `name` given as text or as `{"name": ...}` (Brand, Person, Organization).
fn name_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Object(object) => text(object.get("name")),
        Value::Array(items) => name_of(items.first()),
        other => text(Some(other)),
    }
}

fn as_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

fn url_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Object(object) => text(object.get("url")).or_else(|| text(object.get("contentUrl"))),
        Value::Array(items) => url_of(items.first()),
        other => text(Some(other)),
    }
}

fn raw_listing_from_node(
    node: &Map<String, Value>,
    business: Option<&Map<String, Value>>,
    declared_id: Option<&str>,
) -> Result<RawListing, ConfigError> {
    // Offers and the product they are for, whatever the root node's type.
    let (product, offer_nodes): (&Map<String, Value>, Vec<&Value>) =
        if let Some(product) = product_of(node) {
            (product, vec![])
        } else if has_type(node, "Product") {
            (node, as_list(node.get("offers")))
        } else {
            let offers = as_list(node.get("makesOffer"));
            let product = offers
                .iter()
                .find_map(|offer| offer.get("itemOffered")?.as_object())
                .unwrap_or(node);
            (product, offers)
        };
    let offer_nodes: Vec<&Map<String, Value>> =
        if offer_nodes.is_empty() && product_of(node).is_some() {
            vec![node]
        } else {
            offer_nodes
                .iter()
                .filter_map(|offer| offer.as_object())
                .collect()
        };

    let title = text(product.get("name")).or_else(|| text(node.get("name")));
    // SPEC section 2: the sku, else the productID, else a slug of the name; the `data-mighty`
    // value only when there is not even a name (a differing value is then `id_mismatch`).
    let id = text(product.get("sku"))
        .or_else(|| text(product.get("productID")))
        .or_else(|| title.as_deref().map(slugify))
        .or_else(|| declared_id.map(String::from));

    let mut offers = Vec::new();
    let mut currency = None;
    for (index, offer) in offer_nodes.iter().enumerate() {
        // AggregateOffer: the lowest price.
        let price_text = text(offer.get("price")).or_else(|| text(offer.get("lowPrice")));
        let code = text(offer.get("priceCurrency"));
        let at = format!("{WHERE} (JSON-LD offers[{index}])");
        let (Some(price_text), Some(code)) = (price_text, code) else {
            return Err(ConfigError::invalid(
                at,
                "needs \"price\" and \"priceCurrency\", e.g. \"price\": \"24.00\", \"priceCurrency\": \"EUR\"",
            ));
        };
        let Some(offer_currency) = Currency::from_code(&code) else {
            return Err(ConfigError::invalid(
                format!("{at}.priceCurrency"),
                unknown_currency_message(&code),
            ));
        };
        let price = Money::parse_major(&price_text, offer_currency)
            .map_err(|error| ConfigError::invalid(format!("{at}.price"), error.to_string()))?;
        currency.get_or_insert(code.clone());
        let offer_id = text(offer.get("sku"))
            .map(|sku| slugify(&sku))
            .filter(|sku| is_valid_listing_id(sku))
            .unwrap_or_else(|| {
                if index == 0 {
                    "default".to_string()
                } else {
                    format!("offer-{}", index + 1)
                }
            });
        let offered_name = offer
            .get("itemOffered")
            .and_then(|item| name_of(Some(item)));
        offers.push(RawOffer {
            id: Some(offer_id),
            kind: Some("bundle".to_string()),
            name: text(offer.get("name"))
                .or(offered_name)
                .or_else(|| title.clone()),
            price: Some(RawPrice::WithCurrency {
                amount: price.minor,
                currency: code,
            }),
            ships: Some(offer.contains_key("shippingDetails")),
            ..RawOffer::default()
        });
    }

    let rating = product
        .get("aggregateRating")
        .and_then(Value::as_object)
        .map(|rating| {
            let value = text(rating.get("ratingValue")).and_then(|value| parse_number(&value));
            let best = text(rating.get("bestRating"))
                .and_then(|best| parse_number(&best))
                .filter(|best| *best > 0.0)
                .unwrap_or(5.0);
            let count = text(rating.get("reviewCount"))
                .or_else(|| text(rating.get("ratingCount")))
                .and_then(|count| count.parse::<u64>().ok());
            crate::listing::RawRating {
                value: value.map(|value| value * 5.0 / best),
                count,
            }
        });
    let testimonials = as_list(product.get("review"))
        .into_iter()
        .filter_map(Value::as_object)
        .map(|review| RawTestimonial {
            author: name_of(review.get("author")),
            text: text(review.get("reviewBody")).or_else(|| text(review.get("description"))),
            verified: Some(false),
        })
        .collect::<Vec<_>>();

    let seller = business
        .map(|business| RawSeller {
            name: text(business.get("name")),
            location: business.get("address").and_then(|address| match address {
                Value::Object(address) => text(address.get("addressLocality")),
                other => text(Some(other)),
            }),
            url: text(business.get("url")),
        })
        .or_else(|| {
            let seller_name = offer_nodes
                .iter()
                .find_map(|offer| name_of(offer.get("seller")))
                .or_else(|| name_of(product.get("brand")));
            seller_name.map(|name| RawSeller {
                name: Some(name),
                ..RawSeller::default()
            })
        });

    // A VideoObject on the product is its demo.
    let creators = product
        .get("video")
        .and_then(Value::as_object)
        .and_then(|video| {
            let src = text(video.get("contentUrl"))?;
            let demo = crate::listing::RawDemo {
                src: Some(Value::String(src)),
                poster: url_of(video.get("thumbnailUrl")),
                ..Default::default()
            };
            let creator_name =
                name_of(video.get("creator")).or_else(|| name_of(video.get("author")));
            let handle = creator_name
                .as_deref()
                .map(slugify)
                .filter(|handle| is_valid_handle(handle))
                .unwrap_or_else(|| "seller".to_string());
            Some(vec![crate::listing::RawCreator {
                handle: Some(handle),
                name: creator_name,
                avatar: None,
                demo: Some(demo),
            }])
        });

    Ok(RawListing {
        version: None,
        id,
        title,
        summary: text(product.get("description")),
        currency,
        seller,
        creators,
        trust: Some(RawTrust {
            rating,
            testimonials: Some(testimonials),
            case_studies: None,
            badges: None,
        }),
        offers: Some(offers),
        drop: None,
        checkout: None,
        server_time: None,
        test_mode: None,
    })
}

/// An error about the listing document `origin` (attribute or config key), for notices.
pub fn document_error(origin: &str, errors: ConfigErrors) -> ConfigErrors {
    ConfigErrors(
        errors
            .0
            .into_iter()
            .map(|error| match error.code {
                ConfigErrorCode::MalformedDocument if error.at.is_empty() => ConfigError {
                    at: origin.to_string(),
                    ..error
                },
                _ => error,
            })
            .collect(),
    )
}
