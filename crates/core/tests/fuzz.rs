//! Bounded fuzzing (security review, issue 11) of every core parser that takes outside input:
//! arbitrary text and bytes, arbitrary JSON values, and mutations of a valid listing document.
//! Properties: nothing panics; an accepted listing re-validates to the same listing, has every
//! price within the bounds and no direction control in its text; every error says where and
//! what. A few hundred cases per property, so the file runs in seconds.

use mighty_core::attribution::{LinkParameters, Touch, current_touch};
use mighty_core::beacon_queue::{BeaconQueue, MAX_QUEUED};
use mighty_core::checkout::{classify_answer, parse_retry_after_ms, session_state_from};
use mighty_core::host::{ATTRIBUTE_NAMES, HostConfig, MountListing};
use mighty_core::json_reader::{parse_json, raw_listing_from_value, read_raw_listing};
use mighty_core::listing::{
    ConfigErrors, Listing, OfferKind, is_direction_control, is_valid_listing_id, parse_listing,
    parse_number, slugify,
};
use mighty_core::money::{Currency, MAX_AMOUNT_MINOR, Money};
use mighty_core::protocol::{
    CheckoutRequest, CheckoutSessionCreated, ErrorBody, MeasurementEvent, UpgradeRequest,
};
use mighty_core::signing::{CreatorToken, sign_webhook, verify_webhook};
use mighty_core::sources::{
    JsonLdBlocks, listing_from_attributes, listing_from_document, listing_from_schema_org,
};
use mighty_core::{ConfigErrorCode, Timestamp};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value, json};

const CANDLE_TRIO: &str = include_str!("../../../www/listings/candle-trio.json");

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are reported with the shrunk input; no regression files in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------------------

/// Texts a fuzzer rarely finds alone: the document's vocabulary, edge numbers, URLs, dates,
/// direction controls and odd whitespace.
const INTERESTING: &[&str] = &[
    "",
    " ",
    "\u{202E}",
    "Candle \u{202E}00.42",
    "\u{2066}x\u{2069}",
    "\u{061C}",
    "\u{200F}",
    "\u{0}",
    "\n\t",
    "EUR",
    "eur",
    "JPY",
    "KWD",
    "XAU",
    "bundle",
    "retainer",
    "month",
    "year",
    "day",
    "trio",
    "ana",
    "a.b-c_d",
    "2026-12-01T18:00:00Z",
    "2026-12-04T18:00:00+01:00",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:60-23:59",
    "2026-02-30T00:00:00Z",
    "https://cdn.example/a.webm",
    "http://localhost:8080/x",
    "/www/media/ana.jpg",
    "//evil.example/x",
    "javascript:alert(1)",
    "data:text/html,x",
    "https://evil.example\\@shop.example/",
    "24.00",
    "24",
    ".5",
    "-1",
    "1e3",
    "999999.99",
    "1000000.00",
    "99999999999999999999",
    "4.8",
    "132",
    "schema.org",
    "Product",
    "Offer",
    "LocalBusiness",
    "AggregateOffer",
    "https://schema.org/Product",
    "{",
    "}",
    "{tier}",
    "{due} {then}",
    "fr-FR",
    "fr_FR",
    "pt-BR",
    "de",
    "😀",
];

/// Keys of listing documents, JSON-LD nodes, checkout bodies and events, and some others.
const KEYS: &[&str] = &[
    "version",
    "id",
    "title",
    "summary",
    "currency",
    "seller",
    "name",
    "location",
    "url",
    "creators",
    "handle",
    "avatar",
    "demo",
    "src",
    "type",
    "poster",
    "captions",
    "duration_s",
    "trust",
    "rating",
    "value",
    "count",
    "testimonials",
    "author",
    "text",
    "verified",
    "case_studies",
    "metric",
    "badges",
    "offers",
    "kind",
    "price",
    "compare_at",
    "amount",
    "items",
    "ships",
    "tiers",
    "interval",
    "perks",
    "drop",
    "starts_at",
    "ends_at",
    "inventory",
    "remaining",
    "checkout",
    "endpoint",
    "server_time",
    "test_mode",
    "@type",
    "@graph",
    "@context",
    "sku",
    "productID",
    "priceCurrency",
    "lowPrice",
    "itemOffered",
    "makesOffer",
    "aggregateRating",
    "ratingValue",
    "bestRating",
    "reviewCount",
    "review",
    "reviewBody",
    "description",
    "brand",
    "address",
    "addressLocality",
    "video",
    "contentUrl",
    "thumbnailUrl",
    "creator",
    "shippingDetails",
    "listing_id",
    "offer_id",
    "tier_id",
    "quantity",
    "attribution",
    "token",
    "variant",
    "page",
    "utm",
    "source",
    "return_url",
    "session_id",
    "status",
    "redirect_url",
    "expires_at",
    "error",
    "code",
    "message",
    "field",
    "events",
    "visitor_id",
    "at",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(INTERESTING).prop_map(String::from),
        2 => any::<String>(),
        1 => "[a-z0-9_.-]{1,12}",
        1 => "[0-9]{1,12}(\\.[0-9]{1,4})?",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(KEYS).prop_map(String::from),
        1 => any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1i64..=MAX_AMOUNT_MINOR + 2).prop_map(Value::from),
        select(vec![
            0i64,
            1,
            -1,
            2400,
            MAX_AMOUNT_MINOR,
            MAX_AMOUNT_MINOR + 1,
            i64::MAX,
            i64::MIN,
        ])
        .prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |float| {
            serde_json::Number::from_f64(float).map(Value::Number)
        }),
        (0.0f64..6.0).prop_map(Value::from),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every JSON pointer of `value`, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                pointers(inner, format!("{at}/{escaped}"), out);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                pointers(inner, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, Value),
    Remove(Index),
    Insert(Index, String, Value),
    /// Puts a direction control (or another odd character) into a string.
    Splice(Index, Index, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let odd = prop_oneof![
        select(vec![
            '\u{202E}', '\u{2066}', '\u{200F}', '\u{061C}', '\u{0}', ' '
        ]),
        any::<char>(),
    ];
    prop_oneof![
        3 => (any::<Index>(), json_value()).prop_map(|(at, value)| Mutation::Replace(at, value)),
        2 => any::<Index>().prop_map(Mutation::Remove),
        1 => (any::<Index>(), key(), json_value())
            .prop_map(|(at, key, value)| Mutation::Insert(at, key, value)),
        2 => (any::<Index>(), any::<Index>(), odd)
            .prop_map(|(at, position, character)| Mutation::Splice(at, position, character)),
    ]
}

fn mutate(document: &mut Value, mutations: &[Mutation]) {
    for mutation in mutations {
        let mut all = Vec::new();
        pointers(document, String::new(), &mut all);
        let pick = |index: &Index| all[index.index(all.len())].clone();
        match mutation {
            Mutation::Replace(at, value) => {
                if let Some(target) = document.pointer_mut(&pick(at)) {
                    *target = value.clone();
                }
            }
            Mutation::Remove(at) => {
                let pointer = pick(at);
                let Some((parent, last)) = pointer.rsplit_once('/') else {
                    continue;
                };
                match document.pointer_mut(parent) {
                    Some(Value::Object(object)) => {
                        object.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(index) = last.parse::<usize>()
                            && index < items.len()
                        {
                            items.remove(index);
                        }
                    }
                    _ => {}
                }
            }
            Mutation::Insert(at, key, value) => match document.pointer_mut(&pick(at)) {
                Some(Value::Object(object)) => {
                    object.insert(key.clone(), value.clone());
                }
                Some(Value::Array(items)) => items.push(value.clone()),
                _ => {}
            },
            Mutation::Splice(at, position, character) => {
                let mut strings: Vec<String> = all
                    .iter()
                    .filter(|pointer| document.pointer(pointer).is_some_and(Value::is_string))
                    .cloned()
                    .collect();
                if strings.is_empty() {
                    continue;
                }
                let pointer = strings.swap_remove(at.index(strings.len()));
                if let Some(Value::String(text)) = document.pointer_mut(&pointer) {
                    let boundaries: Vec<usize> = text
                        .char_indices()
                        .map(|(index, _)| index)
                        .chain([text.len()])
                        .collect();
                    text.insert(boundaries[position.index(boundaries.len())], *character);
                }
            }
        }
    }
}

fn candle_trio() -> Value {
    serde_json::from_str(CANDLE_TRIO).unwrap()
}

/// The candle trio, then a few mutations.
fn mutated_listing() -> impl Strategy<Value = Value> {
    prop::collection::vec(mutation(), 1..5).prop_map(|mutations| {
        let mut document = candle_trio();
        mutate(&mut document, &mutations);
        document
    })
}

// ---------------------------------------------------------------------------------------
// Properties of a listing, whatever its source.
// ---------------------------------------------------------------------------------------

/// A validated listing written back as a listing document (SPEC section 3).
fn document_of(listing: &Listing) -> Value {
    let optional = |value: &Option<String>| value.clone().map_or(Value::Null, Value::String);
    let creators: Vec<Value> = listing
        .creators
        .iter()
        .map(|creator| {
            let demo = creator.demo.as_ref().map_or(Value::Null, |demo| {
                let sources: Vec<Value> = demo
                    .sources
                    .iter()
                    .map(
                        |source| json!({ "src": source.src, "type": optional(&source.media_type) }),
                    )
                    .collect();
                // The aspect as a ratio the document may carry, one per kind.
                let aspect = match demo.aspect.as_str() {
                    "tall" => "9:16",
                    "square" => "1:1",
                    _ => "16:9",
                };
                json!({ "src": sources, "poster": optional(&demo.poster),
                        "captions": optional(&demo.captions), "duration_s": demo.duration_s,
                        "aspect": aspect })
            });
            json!({ "handle": creator.handle, "name": creator.name,
                    "avatar": optional(&creator.avatar), "demo": demo })
        })
        .collect();
    let trust = &listing.trust;
    let offers: Vec<Value> = listing
        .offers
        .iter()
        .map(|offer| match &offer.kind {
            OfferKind::Bundle(bundle) => json!({
                "id": offer.id, "kind": "bundle", "name": offer.name, "price": bundle.price.minor,
                "compare_at": bundle.compare_at.map(|money| money.minor), "items": bundle.items,
                "ships": bundle.ships,
                "fulfilment": bundle.fulfilment.list().iter().map(|way| way.as_str()).collect::<Vec<_>>(),
                "variants": (!bundle.variants.is_empty()).then(|| bundle.variants.iter().map(|variant| json!({
                    "id": variant.id, "price": variant.price.map(|money| money.minor),
                    "compare_at": variant.compare_at.map(|money| money.minor),
                    "items": variant.items, "share": variant.share })).collect::<Vec<_>>()),
                "variant_bounds": bundle.variant_bounds.map(|bounds| json!({
                    "floor": bounds.floor.minor, "ceiling": bounds.ceiling.minor })) }),
            OfferKind::Retainer(retainer) => json!({
                "id": offer.id, "kind": "retainer", "name": offer.name,
                "tiers": retainer.tiers.iter().map(|tier| json!({
                    "id": tier.id, "name": tier.name, "price": tier.price.minor,
                    "interval": tier.interval.as_str(), "perks": tier.perks })).collect::<Vec<_>>() }),
        })
        .collect();
    json!({
        "version": 1, "id": listing.id, "title": listing.title, "summary": optional(&listing.summary),
        "currency": listing.currency.code(),
        "seller": listing.seller.as_ref().map(|seller| json!({
            "name": seller.name, "location": optional(&seller.location), "url": optional(&seller.url) })),
        "creators": creators,
        "trust": {
            "rating": trust.rating.map(|rating| json!({ "value": rating.value, "count": rating.count })),
            "testimonials": trust.testimonials.iter().map(|testimonial| json!({
                "author": testimonial.author, "text": testimonial.text, "verified": testimonial.verified }))
                .collect::<Vec<_>>(),
            "case_studies": trust.case_studies.iter().map(|study| json!({
                "title": study.title, "metric": optional(&study.metric), "url": optional(&study.url) }))
                .collect::<Vec<_>>(),
            "badges": trust.badges,
        },
        "offers": offers,
        "drop": listing.drop.as_ref().map(|drop| json!({
            "starts_at": drop.starts_at.to_rfc3339(), "ends_at": drop.ends_at.to_rfc3339(),
            "inventory": drop.inventory, "remaining": drop.remaining,
            "popup": drop.popup.as_ref().map(|popup| json!({
                "name": popup.name, "address": popup.address, "lat": popup.lat, "lon": popup.lon,
                "opens_at": popup.opens_at.to_rfc3339(), "closes_at": popup.closes_at.to_rfc3339(),
                "timezone": popup.timezone })) })),
        "checkout": listing.checkout_endpoint.as_ref().map(|endpoint| json!({ "endpoint": endpoint })),
        "server_time": listing.server_time.map(Timestamp::to_rfc3339),
        "test_mode": listing.test_mode,
    })
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(object) => object.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

/// Re-validates to itself, prices within the bounds, no direction control anywhere.
fn check_accepted(listing: &Listing) -> Result<(), TestCaseError> {
    let document = document_of(listing);
    let again = raw_listing_from_value(&document).and_then(|raw| raw.validate());
    prop_assert_eq!(again.as_ref(), Ok(listing), "round trip of {}", document);
    let prices = listing.offers.iter().flat_map(|offer| match &offer.kind {
        OfferKind::Bundle(bundle) => {
            let mut prices = vec![bundle.price];
            prices.extend(bundle.compare_at);
            prices
        }
        OfferKind::Retainer(retainer) => retainer.tiers.iter().map(|tier| tier.price).collect(),
    });
    for price in prices {
        prop_assert!((0..=MAX_AMOUNT_MINOR).contains(&price.minor), "{price:?}");
        prop_assert_eq!(price.currency, listing.currency);
    }
    let mut texts = Vec::new();
    strings(&document, &mut texts);
    for text in texts {
        prop_assert!(
            !text.chars().any(is_direction_control),
            "direction control in {text:?}"
        );
    }
    prop_assert!(!listing.offers.is_empty());
    prop_assert!(is_valid_listing_id(&listing.id));
    Ok(())
}

/// Every error says what; only a document that is not a JSON object may leave `at` empty.
fn check_refused(errors: &ConfigErrors, document_is_object: bool) -> Result<(), TestCaseError> {
    prop_assert!(!errors.0.is_empty());
    for error in &errors.0 {
        prop_assert!(!error.message.trim().is_empty(), "{error:?}");
        if document_is_object {
            prop_assert!(!error.at.trim().is_empty(), "{error:?}");
        } else {
            prop_assert!(
                !error.at.is_empty() || error.code == ConfigErrorCode::MalformedDocument,
                "{error:?}"
            );
        }
    }
    Ok(())
}

fn check_document(document: &Value) -> Result<(), TestCaseError> {
    let from_value = raw_listing_from_value(document).and_then(|raw| raw.validate());
    // The text path (the server's, the builder's) agrees with the value path (the widget's),
    // but for the last digit of floats: serde_json's float parser is not correctly rounded.
    let from_text = parse_listing(&document.to_string());
    let paths = |result: &Result<Listing, ConfigErrors>| match result {
        Ok(listing) => Ok(listing.id.clone()),
        Err(errors) => Err(errors
            .0
            .iter()
            .map(|error| error.at.clone())
            .collect::<Vec<_>>()),
    };
    prop_assert_eq!(paths(&from_value), paths(&from_text));
    match &from_value {
        Ok(listing) => check_accepted(listing)?,
        Err(errors) => check_refused(errors, document.is_object())?,
    }
    Ok(())
}

fn host(attributes: Vec<(String, String)>) -> HostConfig {
    HostConfig {
        tag_name: "div".into(),
        attributes: attributes.into_iter().collect(),
        ..HostConfig::default()
    }
}

fn attributes() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop_oneof![
        3 => text(),
        1 => "[0-9]{1,9}(\\.[0-9]{1,3})?",
    ];
    let key = prop_oneof![
        4 => select(ATTRIBUTE_NAMES).prop_map(String::from),
        1 => any::<String>(),
    ];
    prop::collection::vec((key, value), 0..10)
}

// ---------------------------------------------------------------------------------------
// Listing sources.
// ---------------------------------------------------------------------------------------

#[test]
fn the_seed_document_is_valid() {
    check_accepted(&parse_listing(CANDLE_TRIO).unwrap()).unwrap();
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn listing_documents_from_any_text(text in any::<String>()) {
        let result = parse_listing(&text);
        if let Err(errors) = &result {
            let is_object = parse_json(&text).is_ok_and(|value| value.is_object());
            check_refused(errors, is_object)?;
        }
        if let Ok(listing) = &result {
            check_accepted(listing)?;
        }
    }

    #[test]
    fn listing_documents_from_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = read_raw_listing(&text);
        if let Err(errors) = parse_listing(&text) {
            let is_object = parse_json(&text).is_ok_and(|value| value.is_object());
            check_refused(&errors, is_object)?;
        }
    }

    #[test]
    fn listing_documents_from_any_json(document in json_value()) {
        check_document(&document)?;
    }

    #[test]
    fn listing_documents_from_any_object(
        fields in prop::collection::vec((select(KEYS).prop_map(String::from), json_value()), 0..12),
    ) {
        check_document(&Value::Object(fields.into_iter().collect()))?;
    }

    #[test]
    fn mutated_listing_documents(document in mutated_listing()) {
        check_document(&document)?;
        // The same text through the widget's path, with and without a declared id.
        let text = document.to_string();
        for declared in [None, Some("candle-trio"), Some("other")] {
            let attributes = declared.map(|id| (String::new(), id.to_string())).into_iter().collect();
            match listing_from_document(&text, &host(attributes)) {
                Ok(listing) => check_accepted(&listing)?,
                Err(errors) => check_refused(&errors, document.is_object())?,
            }
        }
    }

    #[test]
    fn truncated_listing_documents(cut in any::<Index>()) {
        // Anywhere before the closing brace.
        let end = CANDLE_TRIO.rfind('}').unwrap();
        let boundaries: Vec<usize> = CANDLE_TRIO[..end].char_indices().map(|(index, _)| index).collect();
        let text = &CANDLE_TRIO[..boundaries[cut.index(boundaries.len())]];
        let errors = parse_listing(text).unwrap_err();
        prop_assert_eq!(errors.first().code, ConfigErrorCode::MalformedDocument);
        prop_assert!(!errors.first().message.is_empty());
    }

    #[test]
    fn minimal_listings_from_any_attributes(pairs in attributes()) {
        let host = host(pairs);
        let _ = host.settings();
        let _ = host.listing_source();
        match listing_from_attributes(&host) {
            Ok(listing) => check_accepted(&listing)?,
            Err(errors) => check_refused(&errors, true)?,
        }
    }

    #[test]
    fn minimal_listings_with_a_title_and_a_price(
        title in text(),
        price in prop_oneof![text(), "[0-9]{1,12}(\\.[0-9]{1,4})?"],
        others in attributes(),
    ) {
        let mut pairs = vec![("title".to_string(), title), ("price".to_string(), price)];
        pairs.extend(others);
        match listing_from_attributes(&host(pairs)) {
            Ok(listing) => check_accepted(&listing)?,
            Err(errors) => check_refused(&errors, true)?,
        }
    }

    #[test]
    fn hosts_from_any_config(
        pairs in attributes(),
        mount in prop::option::of(prop_oneof![
            text().prop_map(MountListing::Url),
            json_value().prop_map(|value| MountListing::Document(value.to_string())),
        ]),
        inline in prop::option::of(json_value().prop_map(|value| value.to_string())),
        tag in prop_oneof![select(vec!["div", "span", "img", "my-card", "x"]).prop_map(String::from), any::<String>()],
    ) {
        let host = HostConfig { tag_name: tag, attributes: pairs.into_iter().collect(), mount_listing: mount, inline_config: inline };
        let _ = host.check_host_element();
        let _ = host.settings();
        if let Ok(mighty_core::ListingSource::Document { json, .. }) = host.listing_source() {
            match listing_from_document(&json, &host) {
                Ok(listing) => check_accepted(&listing)?,
                Err(errors) => prop_assert!(errors.0.iter().all(|error| !error.message.is_empty())),
            }
        }
    }

    #[test]
    fn schema_org_from_any_json(
        inside in prop::collection::vec(json_value(), 0..3),
        page in prop::collection::vec(json_value(), 0..3),
        declared in prop::option::of(text()),
    ) {
        let attributes = declared.map(|id| (String::new(), id)).into_iter().collect();
        let blocks = JsonLdBlocks { inside_host: inside, page };
        match listing_from_schema_org(&blocks, &host(attributes)) {
            Ok(listing) => check_accepted(&listing)?,
            Err(errors) => check_refused(&errors, true)?,
        }
    }

    #[test]
    fn schema_org_mutated_products(mutations in prop::collection::vec(mutation(), 0..4)) {
        let mut product = json!({
            "@context": "https://schema.org", "@type": "Product", "name": "Bowl set", "sku": "bowl-set",
            "description": "Hand thrown stoneware", "brand": {"@type": "Brand", "name": "Terre & Feu"},
            "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.7", "reviewCount": "58", "bestRating": "5"},
            "review": [{"@type": "Review", "author": {"@type": "Person", "name": "Jules"}, "reviewBody": "Beautiful glaze"}],
            "video": {"@type": "VideoObject", "contentUrl": "https://cdn.example/bowl.webm", "thumbnailUrl": "https://cdn.example/bowl.jpg", "creator": {"name": "Ana Ruiz"}},
            "offers": [{"@type": "Offer", "price": "32.00", "priceCurrency": "EUR", "sku": "set", "shippingDetails": {}},
                       {"@type": "AggregateOffer", "lowPrice": 12, "priceCurrency": "EUR"}]
        });
        mutate(&mut product, &mutations);
        let business = json!({"@type": "LocalBusiness", "name": "Atelier Argile", "address": {"addressLocality": "Lyon"}});
        for blocks in [
            JsonLdBlocks { inside_host: vec![product.clone()], page: vec![] },
            JsonLdBlocks { inside_host: vec![], page: vec![json!({"@graph": [product.clone(), business.clone()]})] },
        ] {
            match listing_from_schema_org(&blocks, &host(vec![("source".into(), "schema.org".into())])) {
                Ok(listing) => check_accepted(&listing)?,
                Err(errors) => check_refused(&errors, true)?,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Other parsers of outside input.
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn checkout_bodies(value in json_value(), text in any::<String>()) {
        for parsed in [
            serde_json::from_value::<CheckoutRequest>(value.clone()).ok(),
            serde_json::from_str::<CheckoutRequest>(&text).ok(),
        ]
        .into_iter()
        .flatten()
        {
            // What the widget writes by hand reads back as the same request.
            let again: CheckoutRequest = serde_json::from_str(&parsed.to_json()).unwrap();
            prop_assert_eq!(again, parsed);
        }
        let _ = serde_json::from_value::<UpgradeRequest>(value.clone());
        let _ = serde_json::from_value::<ErrorBody>(value.clone());
        let _ = serde_json::from_value::<CheckoutSessionCreated>(value.clone());
        if let Ok(event) = serde_json::from_value::<MeasurementEvent>(value) {
            let again: MeasurementEvent = serde_json::from_str(&event.to_json()).unwrap();
            prop_assert_eq!(again, event);
        }
    }

    #[test]
    fn checkout_bodies_near_a_valid_one(mutations in prop::collection::vec(mutation(), 0..4)) {
        let mut body = json!({
            "listing_id": "candle-trio", "offer_id": "trio", "tier_id": null, "quantity": 2,
            "attribution": { "creator": "ana", "token": null, "variant": "ana", "page": "https://d.example/",
                             "utm": { "source": "ig", "medium": null, "campaign": null, "content": null, "term": null } },
            "return_url": "https://d.example/?mighty_listing=candle-trio"
        });
        mutate(&mut body, &mutations);
        if let Ok(parsed) = serde_json::from_value::<CheckoutRequest>(body) {
            let again: CheckoutRequest = serde_json::from_str(&parsed.to_json()).unwrap();
            prop_assert_eq!(again, parsed);
        }
    }

    #[test]
    fn partner_answers(status in any::<u16>(), body in prop_oneof![any::<String>(), json_value().prop_map(|value| value.to_string())], retry_after in prop::option::of(text())) {
        let _ = classify_answer(status, &body, retry_after.as_deref());
        let _ = session_state_from(&body);
        if let Some(header) = &retry_after {
            let _ = parse_retry_after_ms(header);
        }
    }

    #[test]
    fn beacon_batches(
        events in prop::collection::vec((select(vec!["https://a.example/v1/events", "/v1/events", ""]), any::<String>()), 0..40),
        steps in prop::collection::vec(0u8..4, 0..20),
    ) {
        let mut queue = BeaconQueue::default();
        for (endpoint, json) in events {
            queue.push(endpoint, json);
        }
        for step in steps {
            match step {
                0 => {
                    if let Some(batch) = queue.take_batch() {
                        prop_assert!(!batch.events.is_empty());
                        prop_assert!(batch.events.iter().all(|event| event.endpoint == batch.endpoint));
                        let _ = batch.body();
                        queue.put_back(batch);
                    }
                }
                1 => queue.failed(),
                2 => queue.sent(),
                _ => {
                    let _ = queue.take_batch();
                }
            }
            prop_assert!(queue.len() <= MAX_QUEUED);
            prop_assert!(queue.next_delay_ms() > 0);
        }
    }

    #[test]
    fn creator_tokens(
        text in prop_oneof![any::<String>(), "[a-z-]{1,8}~[a-z.]{1,8}~-?[0-9]{1,20}~[0-9a-f]{32}"],
        issued_at in any::<i64>(),
        now in any::<i64>(),
    ) {
        if let Ok(token) = CreatorToken::parse(&text) {
            let _ = token.verify(b"key", &token.listing_id.clone(), &token.handle.clone(), now);
        }
        let issued = CreatorToken::issue(b"key", "candle-trio", "ana", issued_at);
        let token = CreatorToken::parse(&issued).unwrap();
        prop_assert_eq!(token.issued_at, issued_at);
        let verdict = token.verify(b"key", "candle-trio", "ana", now);
        let fresh = i128::from(now) - i128::from(issued_at) <= 365 * 86_400
            && i128::from(issued_at) <= i128::from(now) + 300;
        prop_assert_eq!(verdict.is_ok(), fresh);
    }

    #[test]
    fn webhook_signatures(header in prop_oneof![any::<String>(), "t=-?[0-9]{1,20},v1=[0-9a-f]{0,64}"], body in any::<Vec<u8>>(), now in any::<i64>(), sent in any::<i64>()) {
        let _ = verify_webhook("whsec", &header, &body, now);
        let signed = sign_webhook("whsec", sent, &body);
        prop_assert_eq!(verify_webhook("whsec", &signed, &body, sent), Ok(()));
        let skew = (i128::from(now) - i128::from(sent)).abs();
        prop_assert_eq!(verify_webhook("whsec", &signed, &body, now).is_ok(), skew <= 300);
    }

    #[test]
    fn rfc3339_from_any_text(text in prop_oneof![
        any::<String>(),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,4})?([Zz]|[+-][0-9]{2}:[0-9]{2})",
        "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]0[0-9]:[0-5][0-9])",
    ]) {
        if let Ok(stamp) = Timestamp::parse_rfc3339(&text) {
            // Written back in years 0000 to 9999, it reads back the same.
            if (-62_167_219_200..253_402_300_800).contains(&stamp.0) {
                prop_assert_eq!(Timestamp::parse_rfc3339(&stamp.to_rfc3339()), Ok(stamp));
            }
            let _ = stamp.add_months(1);
            let _ = stamp.add_months(12);
        }
    }

    #[test]
    fn locales_and_messages(locale in text(), template in prop_oneof![text(), any::<String>()], value in any::<String>()) {
        let language = mighty_core::i18n::catalog_language(&locale);
        prop_assert!(["en", "fr", "es", "de"].contains(&language));
        let _ = mighty_core::host::is_plausible_language_tag(&locale);
        let names = mighty_core::i18n::placeholders(&template);
        let values: Vec<(&str, &str)> = names.iter().map(|name| (*name, value.as_str())).collect();
        let _ = mighty_core::i18n::fill(&template, &values);
        prop_assert_eq!(mighty_core::i18n::fill(&template, &[]), template.clone());
    }

    #[test]
    fn urls(text in text(), other in any::<String>()) {
        for candidate in [&text, &other] {
            let _ = mighty_core::url::check_web_reference(candidate);
            let _ = mighty_core::url::scheme(candidate);
            let _ = mighty_core::url::origin(candidate);
            let _ = mighty_core::url::is_secure_endpoint(candidate);
        }
    }

    #[test]
    fn attribution_links_and_stored_touches(
        pairs in prop::collection::vec((prop_oneof![select(vec!["mighty_creator", "mighty_token", "utm_source", "utm_term"]).prop_map(String::from), any::<String>()], text()), 0..6),
        stored in prop_oneof![any::<String>(), json_value().prop_map(|value| value.to_string())],
        at in any::<i64>(),
        now in any::<i64>(),
        window_days in any::<u32>(),
    ) {
        let link = LinkParameters::from_pairs(pairs.iter().map(|(key, value)| (key.as_str(), value.as_str())));
        let listing = parse_listing(CANDLE_TRIO).unwrap();
        let touch = mighty_core::attribution::touch_for(&link, &listing, now);
        let stored = Touch::from_json(&stored);
        if let Some(touch) = &stored {
            let again = Touch::from_json(&touch.to_json());
            prop_assert_eq!(again.as_ref(), Some(touch));
        }
        let aged = stored.map(|touch| Touch { at, ..touch });
        let _ = current_touch(aged, touch, now, window_days);
        let _ = mighty_core::attribution::assign_variant(&link.token.unwrap_or_default(), &listing);
    }

    #[test]
    fn prices_in_major_units(text in text(), code in prop_oneof![select(vec!["EUR", "JPY", "KWD", "CLF"]).prop_map(String::from), "[A-Z]{3}"]) {
        let _ = mighty_core::listing::unknown_currency_message(&code);
        if let Some(currency) = Currency::from_code(&code)
            && let Ok(money) = Money::parse_major(&text, currency)
        {
            prop_assert!(money.minor >= 0);
            prop_assert_eq!(Money::parse_major(&money.to_decimal_string(), currency), Ok(money));
        }
    }

    #[test]
    fn numbers_and_slugs(text in text()) {
        if let Some(number) = parse_number(&text) {
            prop_assert!(number.is_finite());
        }
        let slug = slugify(&text);
        prop_assert!(slug.is_empty() || is_valid_listing_id(&slug), "{slug:?}");
        let _ = mighty_core::trust::badge_look(&text);
    }
}
