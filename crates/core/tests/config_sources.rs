//! Data-driven tests over every listing source of SPEC section 2 and every rule of section 3:
//! each case is an input and the exact message a site owner would read.

use mighty_core::host::{HostConfig, ListingSource, MountListing};
use mighty_core::listing::{Interval, OfferKind, parse_listing};
use mighty_core::sources::{
    JsonLdBlocks, listing_from_attributes, listing_from_document, listing_from_schema_org,
};
use mighty_core::{CheckoutMode, ConfigErrorCode, Theme};
use serde_json::{Value, json};

const SPEC_EXAMPLE: &str = r#"{ "version": 1, "id": "candle-trio", "title": "Lavender candle trio", "summary": "Hand-poured in Lyon",
  "currency": "EUR",
  "seller": { "name": "Hearth & Wick", "location": "Lyon", "url": "https://hearth.example" },
  "creators": [ { "handle": "ana", "name": "Ana Ruiz", "avatar": "https://cdn.example/ana.jpg",
                  "demo": { "src": "https://cdn.example/ana.webm", "poster": "https://cdn.example/ana.jpg",
                            "captions": "https://cdn.example/ana.vtt", "duration_s": 15 } } ],
  "trust": { "rating": { "value": 4.8, "count": 132 },
             "testimonials": [ { "author": "Marie", "text": "Lovely", "verified": true } ],
             "case_studies": [ { "title": "Café", "metric": "+38% repeat", "url": "https://x.example" } ],
             "badges": [ "local-maker", "ships-48h" ] },
  "offers": [
    { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400, "compare_at": 3000,
      "items": ["3 candles", "gift box"], "ships": true },
    { "id": "club", "kind": "retainer", "name": "Candle club",
      "tiers": [ { "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month" },
                 { "id": "plus", "name": "Plus", "price": 2500, "interval": "month",
                   "perks": ["early drops"] } ] } ],
  "drop": { "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-04T18:00:00Z",
            "inventory": 50, "remaining": 37 },
  "checkout": { "endpoint": "https://pay.partner.example/v1/checkout/sessions" },
  "server_time": "2026-11-25T10:00:00Z",
  "a_future_field": { "ignored": true } }"#;

fn spec_example() -> Value {
    serde_json::from_str(SPEC_EXAMPLE).unwrap()
}

/// The SPEC example with the value at one JSON pointer replaced.
fn with(pointer: &str, value: Value) -> String {
    let mut document = spec_example();
    *document
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = value;
    document.to_string()
}

fn without(parent: &str, key: &str) -> String {
    let mut document = spec_example();
    document
        .pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    document.to_string()
}

fn first_error(json: &str) -> String {
    parse_listing(json)
        .expect_err("should be refused")
        .first()
        .to_string()
}

#[test]
fn the_spec_example_is_valid_and_unknown_fields_are_ignored() {
    let listing = parse_listing(SPEC_EXAMPLE).unwrap();
    assert_eq!(listing.id, "candle-trio");
    assert_eq!(listing.currency.code(), "EUR");
    assert_eq!(
        listing.seller.as_ref().unwrap().location.as_deref(),
        Some("Lyon")
    );
    assert_eq!(
        listing.creators[0].demo.as_ref().unwrap().sources[0].src,
        "https://cdn.example/ana.webm"
    );
    assert_eq!(listing.trust.rating.unwrap().count, 132);
    assert_eq!(listing.trust.badges, ["local-maker", "ships-48h"]);
    let OfferKind::Bundle(bundle) = &listing.offers[0].kind else {
        panic!("bundle")
    };
    assert_eq!(
        (
            bundle.price.minor,
            bundle.compare_at.unwrap().minor,
            bundle.ships
        ),
        (2400, 3000, true)
    );
    let OfferKind::Retainer(retainer) = &listing.offers[1].kind else {
        panic!("retainer")
    };
    assert_eq!(retainer.tiers[1].price.minor, 2500);
    assert_eq!(retainer.tiers[1].interval, Interval::Month);
    let drop = listing.drop.unwrap();
    assert_eq!((drop.inventory, drop.remaining), (50, Some(37)));
    assert!(drop.ends_at > drop.starts_at);
    assert_eq!(
        listing.server_time.unwrap().to_rfc3339(),
        "2026-11-25T10:00:00Z"
    );
}

#[test]
fn invalid_documents_name_the_json_path_and_the_fix() {
    let cases: Vec<(String, &str)> = vec![
        // Wrong types.
        (
            with("/offers/0/price", json!("24.00")),
            "offers[0].price: expected a whole number of minor units (2400 for 24.00) or {\"amount\": 2400, \"currency\": \"EUR\"}, found the string \"24.00\"",
        ),
        (
            with("/offers/0/price", json!(24.5)),
            "offers[0].price: 24.5 is not a whole number: prices are integers in minor units, e.g. 2400 for 24.00",
        ),
        (
            with("/title", json!(12)),
            "title: expected a string, found the number 12",
        ),
        (
            with("/offers", json!({"id": "x"})),
            "offers: expected a list, found an object",
        ),
        (
            with("/offers/1/tiers/0/price", json!({"amount": "15"})),
            "offers[1].tiers[0].price.amount: expected a whole number of minor units (2400 for 24.00), found the string \"15\"",
        ),
        (
            with("/trust/rating/value", json!("high")),
            "trust.rating.value: expected a number, found the string \"high\"",
        ),
        // Negative price.
        (
            with("/offers/0/price", json!(-100)),
            "offers[0].price: -100 is negative; a price is 0 or more minor units",
        ),
        (
            with("/offers/1/tiers/1/price", json!(-1)),
            "offers[1].tiers[1].price: -1 is negative; a price is 0 or more minor units",
        ),
        // Unknown currency.
        (
            with("/currency", json!("EURO")),
            "currency: \"EURO\" is not an ISO 4217 currency code; use one such as \"EUR\", \"USD\" or \"JPY\"",
        ),
        (
            with("/currency", json!("eur")),
            "currency: \"eur\" must be written in capitals: \"EUR\"",
        ),
        (
            with(
                "/offers/0/price",
                json!({"amount": 2400, "currency": "ZZZ"}),
            ),
            "offers[0].price.currency: \"ZZZ\" is not an ISO 4217 currency code; use one such as \"EUR\", \"USD\" or \"JPY\"",
        ),
        (
            with(
                "/offers/0/price",
                json!({"amount": 2400, "currency": "USD"}),
            ),
            "offers[0].price.currency: USD differs from the listing's currency EUR; one listing sells in one currency",
        ),
        // Retainer without tiers.
        (
            with("/offers/1/tiers", json!([])),
            "offers[1].tiers: a retainer needs at least one tier, e.g. [{\"id\": \"monthly\", \"name\": \"Monthly\", \"price\": 1500, \"interval\": \"month\"}]",
        ),
        (
            without("/offers/1", "tiers"),
            "offers[1].tiers: a retainer needs at least one tier, e.g. [{\"id\": \"monthly\", \"name\": \"Monthly\", \"price\": 1500, \"interval\": \"month\"}]",
        ),
        // Drop ending before it starts.
        (
            with("/drop/ends_at", json!("2026-11-30T18:00:00Z")),
            "drop.ends_at: 2026-11-30T18:00:00Z is not after starts_at 2026-12-01T18:00:00Z; a drop ends after it starts",
        ),
        (
            with("/drop/starts_at", json!("next friday")),
            "drop.starts_at: \"next friday\" is not an RFC 3339 date-time; write it like 2026-12-01T18:00:00Z",
        ),
        (
            with("/drop/remaining", json!(51)),
            "drop.remaining: 51 is more than the inventory of 50",
        ),
        (
            without("/drop", "inventory"),
            "drop.inventory: is missing; give the number of units in the drop, e.g. 50",
        ),
        // Missing and malformed fields.
        (
            without("", "title"),
            "title: is missing; add it, e.g. \"Lavender candle trio\"",
        ),
        (
            with("/title", json!("   ")),
            "title: is empty; give it a value, e.g. \"Lavender candle trio\"",
        ),
        (
            without("", "currency"),
            "currency: is missing; add the ISO 4217 code of the prices, e.g. \"EUR\"",
        ),
        (
            with("/id", json!("candle trio")),
            "id: \"candle trio\" is not a valid listing id; use 1 to 64 letters, digits, '-' or '_'",
        ),
        (
            with("/id", json!("x".repeat(65))),
            "id: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" is not a valid listing id; use 1 to 64 letters, digits, '-' or '_'",
        ),
        (
            with("/version", json!(2)),
            "version: 2 is not supported; this widget reads version 1 documents",
        ),
        (
            with("/offers", json!([])),
            "offers: is empty; add at least one bundle or retainer offer",
        ),
        (
            with("/offers/0/kind", json!("gift")),
            "offers[0].kind: \"gift\" is not an offer kind; use \"bundle\" (one-time) or \"retainer\" (membership)",
        ),
        (
            with("/offers/1/id", json!("trio")),
            "offers[1].id: \"trio\" appears twice; each offer needs its own id",
        ),
        (
            with("/offers/0/compare_at", json!(2000)),
            "offers[0].compare_at: 2000 is not above the price 2400; compare_at is the higher, usual price",
        ),
        (
            with("/offers/1/tiers/0/interval", json!("fortnight")),
            "offers[1].tiers[0].interval: \"fortnight\" is not an interval; use \"day\", \"week\", \"month\" or \"year\"",
        ),
        (
            with("/trust/rating/value", json!(7)),
            "trust.rating.value: 7 is outside 0 to 5",
        ),
        (
            with("/seller/url", json!("javascript:alert(1)")),
            "seller.url: \"javascript:\" URLs are not allowed; use an https:// URL",
        ),
        (
            with("/creators/0/demo/src", json!(["ok.webm", 3])),
            "creators[0].demo.src[1]: must be a URL or {\"src\", \"type\"}",
        ),
        (
            with("/creators/0/handle", json!("ana ruiz")),
            "creators[0].handle: \"ana ruiz\" is not a valid handle; use 1 to 64 letters, digits, '.', '-' or '_'",
        ),
        (
            with("/checkout/endpoint", json!("data:text/plain,x")),
            "checkout.endpoint: \"data:\" URLs are not allowed; use an https:// URL",
        ),
        // Not JSON, or not an object.
        (
            "{\"id\": \"x\",".to_string(),
            "the listing document is not valid JSON: EOF while parsing a value at line 1 column 11",
        ),
        (
            "[1, 2]".to_string(),
            "the listing document must be a JSON object ({ \"version\": 1, \"id\": ... }), found a list",
        ),
    ];
    let mut failures = Vec::new();
    for (json, expected) in &cases {
        let actual = first_error(json);
        if actual != *expected {
            failures.push(format!("expected: {expected}\n  actual: {actual}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_problem_of_a_document_is_reported_for_the_builder() {
    let json = json!({"id": "x", "title": "", "currency": "EUR", "offers": [{"id": "a", "kind": "bundle", "name": "A", "price": -1}, {"id": "b", "kind": "retainer", "name": "B"}]});
    let errors = parse_listing(&json.to_string()).unwrap_err();
    let paths: Vec<&str> = errors.0.iter().map(|error| error.at.as_str()).collect();
    assert_eq!(paths, ["title", "offers[0].price", "offers[1].tiers"]);
}

#[test]
fn prices_may_carry_their_own_currency() {
    let json = json!({"id": "ramen", "title": "Ramen kit", "offers": [{"id": "kit", "kind": "bundle", "name": "Kit", "price": {"amount": 2400, "currency": "JPY"}}]});
    let listing = parse_listing(&json.to_string()).unwrap();
    assert_eq!(listing.currency.code(), "JPY");
    assert_eq!(listing.offers[0].entry_price().to_decimal_string(), "2400");
}

fn host(tag: &str, attributes: &[(&str, &str)]) -> HostConfig {
    HostConfig {
        tag_name: tag.to_string(),
        attributes: attributes
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        ..HostConfig::default()
    }
}

#[test]
fn sources_are_chosen_in_the_spec_order() {
    let everything = HostConfig {
        mount_listing: Some(MountListing::Url("/from-mount.json".into())),
        inline_config: Some("{}".into()),
        ..host(
            "div",
            &[
                ("", "x"),
                ("listing", "/from-attr.json"),
                ("source", "schema.org"),
                ("title", "T"),
                ("price", "1"),
            ],
        )
    };
    assert_eq!(
        everything.listing_source(),
        Ok(ListingSource::Url("/from-mount.json".into()))
    );
    let inline = HostConfig {
        mount_listing: None,
        ..everything.clone()
    };
    assert!(matches!(
        inline.listing_source(),
        Ok(ListingSource::Document {
            origin: "data-mighty-config",
            ..
        })
    ));
    let attr_url = HostConfig {
        inline_config: None,
        ..inline.clone()
    };
    assert_eq!(
        attr_url.listing_source(),
        Ok(ListingSource::Url("/from-attr.json".into()))
    );
    let mut schema = attr_url.clone();
    schema.attributes.remove("listing");
    assert_eq!(schema.listing_source(), Ok(ListingSource::SchemaOrg));
    let mut minimal = schema.clone();
    minimal.attributes.remove("source");
    assert_eq!(minimal.listing_source(), Ok(ListingSource::Attributes));
    let by_id = host(
        "div",
        &[
            ("", "candle-trio"),
            ("checkout", "https://pay.example/v1/checkout/sessions"),
        ],
    );
    assert_eq!(
        by_id.listing_source(),
        Ok(ListingSource::ById {
            id: "candle-trio".into(),
            checkout: Some("https://pay.example/v1/checkout/sessions".into())
        })
    );
    let mounted_document = HostConfig {
        mount_listing: Some(MountListing::Document("{}".into())),
        ..HostConfig::default()
    };
    assert!(matches!(
        mounted_document.listing_source(),
        Ok(ListingSource::Document {
            origin: "Mighty.mount config.listing",
            ..
        })
    ));
}

#[test]
fn a_mount_config_object_is_its_own_source_read_as_it_is() {
    let document = serde_json::json!({"version": 1, "id": "tea", "offers": [{"id": "a"}]});
    let mounted = HostConfig {
        inline_config: Some("{}".into()),
        mount_listing: Some(MountListing::Parsed(mighty_core::host::ParsedDocument(
            document.clone(),
        ))),
        ..host("div", &[("listing", "/from-attr.json")])
    };
    // Before the inline child and the attribute, and the value itself, lists still lists.
    assert_eq!(
        mounted.listing_source(),
        Ok(ListingSource::Parsed {
            document: mighty_core::host::ParsedDocument(document),
            origin: "Mighty.mount config.listing",
        })
    );
}

#[test]
fn a_mount_config_naming_a_source_comes_before_the_hosts_own() {
    let on_page = HostConfig {
        inline_config: Some("{}".into()),
        ..host(
            "div",
            &[("listing", "/from-attr.json"), ("source", "schema.org")],
        )
    };
    // `Mighty.mount(host, {title, price})`: a minimal listing, over the inline child and the
    // listing/source attributes.
    let mut minimal = on_page.clone();
    for (key, value) in [("title", "Tea"), ("price", "9.00")] {
        minimal.attributes.insert(key.into(), value.into());
    }
    minimal.prefer_mount_source(&["title".into(), "price".into()]);
    assert_eq!(minimal.listing_source(), Ok(ListingSource::Attributes));
    // `{source: "schema.org"}`: the JSON-LD, over the inline child and the listing URL.
    let mut schema = on_page.clone();
    schema.prefer_mount_source(&["source".into()]);
    assert_eq!(schema.listing_source(), Ok(ListingSource::SchemaOrg));
    // A config that names no source (`{checkout, locale}`) leaves the host's sources as they are.
    let mut settings_only = on_page.clone();
    settings_only.prefer_mount_source(&["checkout".into(), "locale".into()]);
    assert_eq!(settings_only, on_page);
    assert!(matches!(
        settings_only.listing_source(),
        Ok(ListingSource::Document {
            origin: "data-mighty-config",
            ..
        })
    ));
}

#[test]
fn source_errors_name_the_attribute() {
    let cases = [
        (
            host("div", &[("", "")]),
            "data-mighty: names no listing; give the listing id (data-mighty=\"candle-trio\" with data-mighty-checkout), data-mighty-listing=\"<URL>\", an inline <script type=\"application/json\" data-mighty-config>, or data-mighty-title with data-mighty-price",
        ),
        (
            host("div", &[("", "bad id!")]),
            "data-mighty: \"bad id!\" is not a valid listing id; use 1 to 64 letters, digits, '-' or '_'",
        ),
        (
            host("div", &[("listing", "")]),
            "data-mighty-listing: is empty; give the URL of a listing JSON document",
        ),
        (
            host("div", &[("listing", "javascript:alert(1)")]),
            "data-mighty-listing: \"javascript:\" URLs are not allowed; use an https:// URL",
        ),
        (
            host("div", &[("source", "microdata")]),
            "data-mighty-source: \"microdata\" is not a listing source; the only value is \"schema.org\"",
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(config.listing_source().unwrap_err().to_string(), expected);
    }
}

#[test]
fn host_elements_must_accept_a_shadow_root() {
    for tag in [
        "div",
        "section",
        "article",
        "aside",
        "main",
        "span",
        "p",
        "header",
        "footer",
        "nav",
        "blockquote",
        "maker-card",
    ] {
        assert_eq!(host(tag, &[]).check_host_element(), Ok(()), "{tag}");
    }
    for tag in ["li", "a", "button", "img", "td", "ul"] {
        let error = host(tag, &[]).check_host_element().unwrap_err();
        assert_eq!(error.code, ConfigErrorCode::UnsupportedHost);
        assert_eq!(
            error.to_string(),
            format!(
                "data-mighty: a <{tag}> cannot hold the widget; put data-mighty on a div, section, article, aside, main, span, p, header, footer, nav, blockquote or a custom element"
            )
        );
    }
}

#[test]
fn settings_are_validated() {
    let settings = host("div", &[]).settings().unwrap();
    assert_eq!(
        (
            settings.checkout_mode,
            settings.theme,
            settings.attribution_days,
            settings.consent_required,
            settings.eager
        ),
        (CheckoutMode::Popup, Theme::Auto, 30, false, false)
    );
    let settings = host(
        "div",
        &[
            ("checkout-mode", "redirect"),
            ("theme", "dark"),
            ("attribution-days", "7"),
            ("consent", "required"),
            ("eager", ""),
            ("locale", "fr-FR"),
        ],
    )
    .settings()
    .unwrap();
    assert_eq!(
        (
            settings.checkout_mode,
            settings.theme,
            settings.attribution_days,
            settings.consent_required,
            settings.eager
        ),
        (CheckoutMode::Redirect, Theme::Dark, 7, true, true)
    );
    assert_eq!(settings.locale.as_deref(), Some("fr-FR"));
    let cases = [
        (
            ("checkout-mode", "modal"),
            "data-mighty-checkout-mode: \"modal\" is not a checkout mode; use \"popup\" (the default) or \"redirect\"",
        ),
        (
            ("theme", "blue"),
            "data-mighty-theme: \"blue\" is not a theme; use \"light\", \"dark\" or \"auto\" (the default)",
        ),
        (
            ("attribution-days", "0"),
            "data-mighty-attribution-days: \"0\" is not a whole number of days from 1 to 365 (the default is 30)",
        ),
        (
            ("attribution-days", "thirty"),
            "data-mighty-attribution-days: \"thirty\" is not a whole number of days from 1 to 365 (the default is 30)",
        ),
        (
            ("consent", "yes"),
            "data-mighty-consent: \"yes\" is not understood; use \"required\", or remove the attribute",
        ),
        (
            ("locale", "fr_FR"),
            "data-mighty-locale: \"fr_FR\" is not a BCP 47 language tag; write it like \"fr\" or \"fr-FR\"",
        ),
        (
            ("checkout", "javascript:void(0)"),
            "data-mighty-checkout: \"javascript:\" URLs are not allowed; use an https:// URL",
        ),
        (
            ("events", "ftp://x"),
            "data-mighty-events: \"ftp:\" URLs are not allowed; use an https:// URL",
        ),
    ];
    for ((key, value), expected) in cases {
        assert_eq!(
            host("div", &[(key, value)])
                .settings()
                .unwrap_err()
                .to_string(),
            expected,
            "{key}={value}"
        );
    }
}

#[test]
fn documents_follow_the_data_mighty_id_rule() {
    let document = json!({"id": "candle-trio", "title": "T", "currency": "EUR", "offers": [{"id": "a", "kind": "bundle", "name": "A", "price": 100}]});
    let json = document.to_string();
    assert_eq!(
        listing_from_document(&json, &host("div", &[("", "candle-trio")]))
            .unwrap()
            .id,
        "candle-trio"
    );
    assert_eq!(
        listing_from_document(&json, &host("div", &[("", "")]))
            .unwrap()
            .id,
        "candle-trio"
    );
    let mismatch = listing_from_document(&json, &host("div", &[("", "soap-bar")])).unwrap_err();
    assert_eq!(mismatch.first().code, ConfigErrorCode::IdMismatch);
    assert_eq!(
        mismatch.first().to_string(),
        "data-mighty: \"soap-bar\" differs from the listing document's id \"candle-trio\"; set data-mighty=\"candle-trio\" or leave it empty"
    );
    // A document without an id takes the host's.
    let mut anonymous = document.clone();
    anonymous.as_object_mut().unwrap().remove("id");
    assert_eq!(
        listing_from_document(&anonymous.to_string(), &host("div", &[("", "soap-bar")]))
            .unwrap()
            .id,
        "soap-bar"
    );
    assert_eq!(
        listing_from_document(&anonymous.to_string(), &host("div", &[]))
            .unwrap_err()
            .first()
            .to_string(),
        "id: is missing; add it, e.g. \"trio\""
    );
}

#[test]
fn minimal_attributes_make_a_one_bundle_listing() {
    let listing = listing_from_attributes(&host(
        "div",
        &[
            ("title", "Sourdough Starter Kit"),
            ("seller", "Pain Perdu"),
            ("price", "18.50"),
            ("currency", "EUR"),
            ("demo", "/media/bread.webm"),
            ("demo-poster", "/media/bread.jpg"),
            ("creator", "lea"),
            ("rating", "4.6"),
            ("reviews", "41"),
        ],
    ))
    .unwrap();
    assert_eq!(listing.id, "sourdough-starter-kit");
    assert_eq!(listing.offers.len(), 1);
    assert_eq!(listing.offers[0].id, "default");
    assert_eq!(listing.offers[0].entry_price().minor, 1850);
    assert_eq!(listing.seller.unwrap().name, "Pain Perdu");
    assert_eq!(listing.creators[0].handle, "lea");
    assert_eq!(
        listing.creators[0].demo.as_ref().unwrap().poster.as_deref(),
        Some("/media/bread.jpg")
    );
    let rating = listing.trust.rating.unwrap();
    assert_eq!((rating.value, rating.count), (4.6, 41));

    let with_id = listing_from_attributes(&host(
        "span",
        &[
            ("", "starter"),
            ("title", "Café Lumière"),
            ("price", "1200"),
            ("currency", "JPY"),
        ],
    ))
    .unwrap();
    assert_eq!(
        (
            with_id.id.as_str(),
            with_id.currency.code(),
            with_id.offers[0].entry_price().minor
        ),
        ("starter", "JPY", 1200)
    );
    let slugged = listing_from_attributes(&host(
        "span",
        &[("title", "Café Lumière & Co."), ("price", "3")],
    ))
    .unwrap();
    assert_eq!(
        (slugged.id.as_str(), slugged.currency.code()),
        ("cafe-lumiere-co", "EUR")
    );
}

#[test]
fn minimal_attribute_errors_name_the_attribute() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("title", "T"), ("price", "24,00")],
            "data-mighty-price: \"24,00\" is not a plain number; write it like 24.00 (digits and one dot, no currency symbol, thousands separator or sign)",
        ),
        (
            &[("title", "T"), ("price", "-4")],
            "data-mighty-price: \"-4\" is not a plain number; write it like 24.00 (digits and one dot, no currency symbol, thousands separator or sign)",
        ),
        (
            &[("title", "T"), ("price", "2.5"), ("currency", "JPY")],
            "data-mighty-price: \"2.5\" has 1 decimals but JPY has 0",
        ),
        (
            &[("title", "T")],
            "data-mighty-price: is missing; give the price in major units, e.g. data-mighty-price=\"24.00\"",
        ),
        (
            &[("price", "2")],
            "data-mighty-title: is missing; the minimal listing needs a title, e.g. data-mighty-title=\"Candle trio\"",
        ),
        (
            &[("title", "T"), ("price", "2"), ("currency", "Euro")],
            "data-mighty-currency: \"Euro\" is not an ISO 4217 currency code; use one such as \"EUR\", \"USD\" or \"JPY\"",
        ),
        (
            &[("title", "T"), ("price", "2"), ("rating", "9")],
            "data-mighty-rating: \"9\" is not a rating from 0 to 5, e.g. 4.8",
        ),
        (
            &[
                ("title", "T"),
                ("price", "2"),
                ("rating", "4"),
                ("reviews", "many"),
            ],
            "data-mighty-reviews: \"many\" is not a whole number of reviews, e.g. 132",
        ),
        (
            &[("title", "T"), ("price", "2"), ("demo", "javascript:x")],
            "data-mighty-demo: \"javascript:\" URLs are not allowed; use an https:// URL",
        ),
        (
            &[("title", "***"), ("price", "2")],
            "data-mighty: a listing id cannot be made from the title \"***\"; set data-mighty=\"my-listing\"",
        ),
    ];
    for (attributes, expected) in cases {
        let errors = listing_from_attributes(&host("div", attributes)).unwrap_err();
        assert_eq!(errors.first().to_string(), *expected, "{attributes:?}");
    }
}

fn product(sku: &str, name: &str, price: Value) -> Value {
    json!({
        "@context": "https://schema.org", "@type": "Product", "name": name, "sku": sku,
        "description": "Hand thrown stoneware",
        "brand": {"@type": "Brand", "name": "Terre & Feu"},
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.7", "reviewCount": "58"},
        "review": [{"@type": "Review", "author": {"@type": "Person", "name": "Jules"}, "reviewBody": "Beautiful glaze"}],
        "offers": {"@type": "Offer", "price": price, "priceCurrency": "EUR"}
    })
}

#[test]
fn schema_org_block_inside_the_host_wins() {
    let blocks = JsonLdBlocks {
        inside_host: vec![product("bowl-set", "Bowl set", json!("32.00"))],
        page: vec![product("mug", "Mug", json!(12))],
    };
    let listing =
        listing_from_schema_org(&blocks, &host("article", &[("source", "schema.org")])).unwrap();
    assert_eq!(listing.id, "bowl-set");
    assert_eq!(listing.title, "Bowl set");
    assert_eq!(listing.summary.as_deref(), Some("Hand thrown stoneware"));
    assert_eq!(listing.offers[0].entry_price().minor, 3200);
    assert_eq!(listing.seller.unwrap().name, "Terre & Feu");
    let rating = listing.trust.rating.unwrap();
    assert_eq!((rating.value, rating.count), (4.7, 58));
    assert_eq!(listing.trust.testimonials[0].author, "Jules");
}

#[test]
fn schema_org_page_block_by_sku_then_the_only_product() {
    let page = vec![
        json!({"@context": "https://schema.org", "@graph": [product("mug", "Mug", json!(12)), product("vase", "Vase", json!("45.5"))]}),
        json!({"@type": "LocalBusiness", "name": "Atelier Argile", "address": {"@type": "PostalAddress", "addressLocality": "Lyon"}}),
    ];
    let blocks = JsonLdBlocks {
        inside_host: vec![],
        page,
    };
    let vase = listing_from_schema_org(
        &blocks,
        &host("div", &[("", "vase"), ("source", "schema.org")]),
    )
    .unwrap();
    assert_eq!(
        (vase.id.as_str(), vase.offers[0].entry_price().minor),
        ("vase", 4550)
    );
    let seller = vase.seller.unwrap();
    assert_eq!(
        (seller.name.as_str(), seller.location.as_deref()),
        ("Atelier Argile", Some("Lyon"))
    );

    // Two products on the page and no id: which one is meant cannot be told.
    let error =
        listing_from_schema_org(&blocks, &host("div", &[("source", "schema.org")])).unwrap_err();
    assert_eq!(
        error.first().to_string(),
        "data-mighty-source: found no JSON-LD Product, Offer or LocalBusiness for this host; put a <script type=\"application/ld+json\"> inside the host, or exactly one Product on the page"
    );
    let only = JsonLdBlocks {
        inside_host: vec![],
        page: vec![product("mug", "Mug", json!(12))],
    };
    assert_eq!(
        listing_from_schema_org(&only, &host("div", &[("source", "schema.org")]))
            .unwrap()
            .id,
        "mug"
    );
}

#[test]
fn schema_org_offer_and_local_business_roots() {
    let offer = json!({"@type": "Offer", "price": "9.90", "priceCurrency": "EUR", "itemOffered": {"@type": "Product", "name": "Herbal tea", "productID": "tea-7"}});
    let listing = listing_from_schema_org(
        &JsonLdBlocks {
            inside_host: vec![offer],
            page: vec![],
        },
        &host("div", &[]),
    )
    .unwrap();
    assert_eq!(
        (
            listing.id.as_str(),
            listing.title.as_str(),
            listing.offers[0].entry_price().minor
        ),
        ("tea-7", "Herbal tea", 990)
    );

    let business = json!({"@type": "Bakery", "name": "Pain Perdu", "address": {"addressLocality": "Lyon"},
        "makesOffer": [{"@type": "Offer", "name": "Bread club", "price": 15, "priceCurrency": "EUR", "itemOffered": {"@type": "Product", "name": "Weekly loaf"}}]});
    let blocks = JsonLdBlocks {
        inside_host: vec![business],
        page: vec![],
    };
    let listing = listing_from_schema_org(&blocks, &host("div", &[])).unwrap();
    // No sku or productID: the id is a slug of the product's name (SPEC section 2).
    assert_eq!(
        (listing.id.as_str(), listing.offers[0].name.as_str()),
        ("weekly-loaf", "Bread club")
    );
    assert_eq!(listing.seller.unwrap().location.as_deref(), Some("Lyon"));
    // So a data-mighty value that differs is a config error naming the id to use.
    let error = listing_from_schema_org(&blocks, &host("div", &[("", "bread")])).unwrap_err();
    assert_eq!(error.first().code, ConfigErrorCode::IdMismatch);
    assert!(
        error
            .first()
            .message
            .contains("data-mighty=\"weekly-loaf\"")
    );
}

#[test]
fn schema_org_errors_point_into_the_json_ld() {
    let blocks = JsonLdBlocks {
        inside_host: vec![product("bowl", "Bowl", json!("32,00"))],
        page: vec![],
    };
    let error = listing_from_schema_org(&blocks, &host("div", &[])).unwrap_err();
    assert_eq!(
        error.first().to_string(),
        "data-mighty-source (JSON-LD offers[0]).price: \"32,00\" is not a plain number; write it like 24.00 (digits and one dot, no currency symbol, thousands separator or sign)"
    );
    let nameless =
        json!({"@type": "Product", "sku": "x", "offers": {"price": "1", "priceCurrency": "EUR"}});
    let error = listing_from_schema_org(
        &JsonLdBlocks {
            inside_host: vec![nameless],
            page: vec![],
        },
        &host("div", &[]),
    )
    .unwrap_err();
    assert_eq!(
        error.first().to_string(),
        "data-mighty-source (JSON-LD title): is missing; add it, e.g. \"Lavender candle trio\""
    );
    let mismatch = listing_from_schema_org(
        &JsonLdBlocks {
            inside_host: vec![product("bowl", "Bowl", json!(3))],
            page: vec![],
        },
        &host("div", &[("", "vase")]),
    )
    .unwrap_err();
    assert_eq!(mismatch.first().code, ConfigErrorCode::IdMismatch);
}

#[test]
fn a_demo_says_its_shape_and_the_card_frames_it() {
    use mighty_core::listing::DemoAspect;
    for (ratio, aspect) in [
        ("9:16", Some(DemoAspect::Tall)),
        ("4:5", Some(DemoAspect::Tall)),
        ("2:3", Some(DemoAspect::Tall)),
        ("1:1", Some(DemoAspect::Square)),
        (" 10 : 11 ", Some(DemoAspect::Square)),
        ("16:9", Some(DemoAspect::Wide)),
        ("4:3", Some(DemoAspect::Wide)),
        ("1920:1080", Some(DemoAspect::Wide)),
        ("0:1", None),
        ("16/9", None),
        ("wide", None),
        ("9:", None),
        ("-9:16", None),
        ("99999:1", None),
    ] {
        assert_eq!(DemoAspect::from_ratio(ratio), aspect, "{ratio:?}");
    }
    // Absent: vertical, as creators shoot.
    let listing = parse_listing(SPEC_EXAMPLE).unwrap();
    let demo = |listing: &mighty_core::Listing| listing.creators[0].demo.clone().unwrap();
    assert_eq!(demo(&listing).aspect, DemoAspect::Tall);
    let with_aspect = |aspect: &str| {
        let mut document = spec_example();
        document["creators"][0]["demo"]["aspect"] = json!(aspect);
        document.to_string()
    };
    let square = parse_listing(&with_aspect("1:1")).unwrap();
    assert_eq!(demo(&square).aspect, DemoAspect::Square);
    assert_eq!(
        first_error(&with_aspect("wide")),
        r#"creators[0].demo.aspect: "wide" is not a ratio; write it like "9:16" (vertical), "1:1" or "16:9""#
    );
}
