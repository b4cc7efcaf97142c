//! Security review, issue 11: money bounds (point 9) and invisible direction controls in
//! seller text (point 12), over every listing source. Each case is an input and the exact
//! message a site owner reads.

use mighty_core::host::HostConfig;
use mighty_core::listing::{check_text, is_direction_control, parse_listing};
use mighty_core::money::{Currency, MAX_AMOUNT_MINOR, MAX_QUANTITY, Money};
use mighty_core::sources::{JsonLdBlocks, listing_from_attributes, listing_from_schema_org};
use proptest::prelude::*;
use serde_json::{Value, json};

fn document() -> Value {
    json!({
        "version": 1, "id": "candle-trio", "title": "Lavender candle trio", "summary": "Hand-poured",
        "currency": "EUR",
        "seller": { "name": "Hearth & Wick", "location": "Lyon", "url": "https://hearth.example" },
        "creators": [ { "handle": "ana", "name": "Ana Ruiz",
                        "demo": { "src": [{ "src": "https://cdn.example/ana.webm", "type": "video/webm" }] } } ],
        "trust": { "testimonials": [ { "author": "Marie", "text": "Lovely" } ],
                   "case_studies": [ { "title": "Café", "metric": "+38% repeat" } ],
                   "badges": [ "local-maker" ] },
        "offers": [
            { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400, "compare_at": 3000,
              "items": ["3 candles", "gift box"] },
            { "id": "club", "kind": "retainer", "name": "Candle club",
              "tiers": [ { "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month",
                           "perks": ["early drops"] } ] } ]
    })
}

fn with(pointer: &str, value: Value) -> String {
    let mut document = document();
    *document.pointer_mut(pointer).expect(pointer) = value;
    document.to_string()
}

fn first_error(json: &str) -> String {
    parse_listing(json)
        .expect_err("should be refused")
        .first()
        .to_string()
}

fn host(attributes: &[(&str, &str)]) -> HostConfig {
    HostConfig {
        tag_name: "div".into(),
        attributes: attributes
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
        ..HostConfig::default()
    }
}

fn euro() -> Currency {
    Currency::from_code("EUR").unwrap()
}

#[test]
fn the_bounds_are_stripes() {
    assert_eq!(MAX_AMOUNT_MINOR, 99_999_999);
    assert_eq!(MAX_QUANTITY, 999);
}

#[test]
fn document_prices_past_the_bound_are_refused_with_the_path_and_the_limit() {
    let limit = "is too large; a price is at most 99999999 minor units (999999.99 EUR)";
    let cases = [
        (
            "/offers/0/price",
            json!(100_000_000),
            format!("offers[0].price: 100000000 {limit}"),
        ),
        (
            "/offers/0/price",
            json!(i64::MAX),
            format!("offers[0].price: {} {limit}", i64::MAX),
        ),
        (
            "/offers/0/price",
            json!({"amount": 100_000_000, "currency": "EUR"}),
            format!("offers[0].price: 100000000 {limit}"),
        ),
        (
            "/offers/0/compare_at",
            json!(100_000_000),
            format!("offers[0].compare_at: 100000000 {limit}"),
        ),
        (
            "/offers/1/tiers/0/price",
            json!(4_000_000_000_i64),
            format!("offers[1].tiers[0].price: 4000000000 {limit}"),
        ),
        (
            "/offers/0/price",
            json!(-1),
            "offers[0].price: -1 is negative; a price is 0 or more minor units".to_string(),
        ),
    ];
    for (pointer, value, expected) in cases {
        assert_eq!(
            first_error(&with(pointer, value.clone())),
            expected,
            "{pointer} = {value}"
        );
    }
    // The limit is said in the listing's currency.
    let mut yen = document();
    yen["currency"] = json!("JPY");
    yen["offers"][0]["price"] = json!(100_000_000);
    yen["offers"][0]["compare_at"] = Value::Null;
    assert_eq!(
        first_error(&yen.to_string()),
        "offers[0].price: 100000000 is too large; a price is at most 99999999 minor units (99999999 JPY)"
    );
    // The bound itself is a price.
    let mut at_bound = document();
    at_bound["offers"][0]["price"] = json!(MAX_AMOUNT_MINOR - 1);
    at_bound["offers"][0]["compare_at"] = json!(MAX_AMOUNT_MINOR);
    at_bound["offers"][1]["tiers"][0]["price"] = json!(MAX_AMOUNT_MINOR);
    assert!(parse_listing(&at_bound.to_string()).is_ok());
}

#[test]
fn attribute_and_schema_org_prices_past_the_bound_are_refused() {
    let errors =
        listing_from_attributes(&host(&[("title", "T"), ("price", "1000000.00")])).unwrap_err();
    assert_eq!(
        errors.first().to_string(),
        "data-mighty-price: 100000000 is too large; a price is at most 99999999 minor units (999999.99 EUR)"
    );
    let listing =
        listing_from_attributes(&host(&[("title", "T"), ("price", "999999.99")])).unwrap();
    assert_eq!(listing.offers[0].entry_price().minor, MAX_AMOUNT_MINOR);

    let product = |price: &str| {
        json!({"@type": "Product", "name": "Bowl", "sku": "bowl",
               "offers": {"@type": "Offer", "price": price, "priceCurrency": "EUR"}})
    };
    let schema_org = |price: &str| {
        let blocks = JsonLdBlocks {
            inside_host: vec![product(price)],
            page: vec![],
        };
        listing_from_schema_org(&blocks, &host(&[("source", "schema.org")]))
    };
    assert_eq!(
        schema_org("1000000").unwrap_err().first().to_string(),
        "data-mighty-source (JSON-LD offers[0].price): 100000000 is too large; a price is at most 99999999 minor units (999999.99 EUR)"
    );
    assert!(schema_org("999999.99").is_ok());
}

#[test]
fn money_times_a_quantity_is_checked() {
    let price = |minor| Money::new(minor, euro());
    let cases = [
        (2400, 1, Some(2400)),
        (2400, 10, Some(24_000)),
        (MAX_AMOUNT_MINOR, MAX_QUANTITY, Some(MAX_AMOUNT_MINOR * 999)),
        (0, 3, Some(0)),
        (2400, 0, None),
        (2400, MAX_QUANTITY + 1, None),
        (2400, u32::MAX, None),
        (MAX_AMOUNT_MINOR + 1, 1, None),
        // Once: i64::MAX × 2 wrapped to -2, and a price of 2^62 + 1 × 4 gave 4.
        (i64::MAX, 2, None),
        ((1 << 62) + 1, 4, None),
        (-1, 1, None),
    ];
    for (minor, quantity, expected) in cases {
        assert_eq!(
            price(minor).times(quantity).map(|total| total.minor),
            expected,
            "{minor} × {quantity}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Over the whole range of prices and quantities: never a panic, never a negative or
    /// wrapped total, and everything past the bounds refused.
    #[test]
    fn totals_over_the_whole_range(minor in any::<i64>(), quantity in any::<u32>()) {
        let total = Money::new(minor, euro()).times(quantity);
        let within = (0..=MAX_AMOUNT_MINOR).contains(&minor) && (1..=MAX_QUANTITY).contains(&quantity);
        prop_assert_eq!(total.is_some(), within);
        if let Some(total) = total {
            prop_assert!(total.minor >= 0);
            prop_assert_eq!(i128::from(total.minor), i128::from(minor) * i128::from(quantity));
        }
    }

    #[test]
    fn totals_within_the_bounds(minor in 0..=MAX_AMOUNT_MINOR, quantity in 1..=MAX_QUANTITY) {
        let total = Money::new(minor, euro()).times(quantity).unwrap();
        prop_assert_eq!(total.minor, minor * i64::from(quantity));
    }

    /// A document price anywhere in `i64`: accepted exactly when within the bounds.
    #[test]
    fn document_prices_over_the_whole_range(minor in any::<i64>()) {
        let mut document = document();
        document["offers"][0]["price"] = json!(minor);
        document["offers"][0]["compare_at"] = Value::Null;
        let result = parse_listing(&document.to_string());
        prop_assert_eq!(result.is_ok(), (0..=MAX_AMOUNT_MINOR).contains(&minor));
        if let Err(errors) = result {
            prop_assert_eq!(errors.first().at.as_str(), "offers[0].price");
        }
    }

    /// A price in major units, as attributes and JSON-LD write it.
    #[test]
    fn attribute_prices_over_the_whole_range(whole in 0u64..100_000_000_000, cents in 0u32..100) {
        let text = format!("{whole}.{cents:02}");
        let result = listing_from_attributes(&host(&[("title", "T"), ("price", &text)]));
        let minor = i128::from(whole) * 100 + i128::from(cents);
        prop_assert_eq!(result.is_ok(), minor <= i128::from(MAX_AMOUNT_MINOR));
    }
}

/// Every direction control the review names, and neighbours that are fine.
const CONTROLS: &[char] = &[
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

#[test]
fn which_characters_are_direction_controls() {
    for control in CONTROLS {
        assert!(
            is_direction_control(*control),
            "{:04X}",
            u32::from(*control)
        );
    }
    for fine in [
        'a', 'é', '\u{200D}', '\u{2029}', '\u{202F}', '\u{2065}', '\u{206A}', 'ب', '😀',
    ] {
        assert!(!is_direction_control(fine), "{:04X}", u32::from(fine));
    }
    assert_eq!(
        check_text("24.00\u{202E}"),
        Err("contains the invisible direction control U+202E; remove it".to_string())
    );
    assert_eq!(check_text("مرحبا Lyon"), Ok(()));
}

#[test]
fn every_text_of_a_document_refuses_direction_controls() {
    // (JSON pointer, JSON path in the message)
    let fields = [
        ("/title", "title"),
        ("/summary", "summary"),
        ("/seller/name", "seller.name"),
        ("/seller/location", "seller.location"),
        ("/seller/url", "seller.url"),
        ("/creators/0/name", "creators[0].name"),
        ("/creators/0/handle", "creators[0].handle"),
        (
            "/creators/0/demo/src/0/type",
            "creators[0].demo.src[0].type",
        ),
        (
            "/trust/testimonials/0/author",
            "trust.testimonials[0].author",
        ),
        ("/trust/testimonials/0/text", "trust.testimonials[0].text"),
        ("/trust/case_studies/0/title", "trust.case_studies[0].title"),
        (
            "/trust/case_studies/0/metric",
            "trust.case_studies[0].metric",
        ),
        ("/trust/badges/0", "trust.badges[0]"),
        ("/offers/0/name", "offers[0].name"),
        ("/offers/0/id", "offers[0].id"),
        ("/offers/0/items/1", "offers[0].items[1]"),
        ("/offers/1/tiers/0/name", "offers[1].tiers[0].name"),
        ("/offers/1/tiers/0/perks/0", "offers[1].tiers[0].perks[0]"),
    ];
    for (pointer, path) in fields {
        for control in CONTROLS {
            let mut document = document();
            let field = document.pointer_mut(pointer).expect(pointer);
            let text = format!("Candle {control}99.42");
            *field = json!(text);
            let expected = format!(
                "{path}: contains the invisible direction control U+{:04X}; remove it",
                u32::from(*control)
            );
            let errors = parse_listing(&document.to_string()).expect_err(pointer);
            assert!(
                errors.0.iter().any(|error| error.to_string() == expected),
                "{pointer} with U+{:04X}: {errors}",
                u32::from(*control)
            );
        }
    }
}

#[test]
fn attributes_and_schema_org_refuse_direction_controls() {
    for (key, value) in [
        ("title", "Candle \u{202E}00.42"),
        ("seller", "\u{2066}Hearth"),
    ] {
        let errors =
            listing_from_attributes(&host(&[("title", "T"), ("price", "2"), (key, value)]))
                .unwrap_err();
        let control = value.chars().find(|c| is_direction_control(*c)).unwrap();
        assert_eq!(
            errors.first().to_string(),
            format!(
                "data-mighty-{key}: contains the invisible direction control U+{:04X}; remove it",
                u32::from(control)
            )
        );
    }
    let blocks = |product: Value| JsonLdBlocks {
        inside_host: vec![product],
        page: vec![],
    };
    let cases = [
        (
            json!({"@type": "Product", "name": "Bowl \u{202E}", "sku": "bowl",
                   "offers": {"@type": "Offer", "price": "3", "priceCurrency": "EUR"}}),
            "data-mighty-source (JSON-LD title): contains the invisible direction control U+202E; remove it",
        ),
        (
            json!({"@type": "Product", "name": "Bowl", "sku": "bowl", "description": "x\u{200F}",
                   "offers": {"@type": "Offer", "price": "3", "priceCurrency": "EUR"}}),
            "data-mighty-source (JSON-LD summary): contains the invisible direction control U+200F; remove it",
        ),
        (
            json!({"@type": "Product", "name": "Bowl", "sku": "bowl",
                   "brand": {"name": "Terre \u{2067}& Feu"},
                   "offers": {"@type": "Offer", "price": "3", "priceCurrency": "EUR"}}),
            "data-mighty-source (JSON-LD seller.name): contains the invisible direction control U+2067; remove it",
        ),
        (
            json!({"@type": "Product", "name": "Bowl", "sku": "bowl",
                   "review": [{"author": {"name": "Jules"}, "reviewBody": "Nice\u{061C}"}],
                   "offers": {"@type": "Offer", "price": "3", "priceCurrency": "EUR"}}),
            "data-mighty-source (JSON-LD trust.testimonials[0].text): contains the invisible direction control U+061C; remove it",
        ),
    ];
    for (product, expected) in cases {
        let errors = listing_from_schema_org(&blocks(product), &host(&[("source", "schema.org")]))
            .unwrap_err();
        assert_eq!(errors.first().to_string(), expected);
    }
}

/// Found by the fuzz tests: time arithmetic on outside input overflowed (a panic in debug
/// builds, a wrap in release that could make a forged stamp look recent).
#[test]
fn extreme_stamps_from_outside_do_not_overflow() {
    use mighty_core::attribution::{Touch, current_touch};
    use mighty_core::protocol::Utm;
    use mighty_core::signing::{CreatorToken, WebhookVerifyError, verify_webhook};

    assert_eq!(
        verify_webhook(
            "whsec",
            "t=-9223372036854775808,v1=00",
            b"{}",
            1_700_000_000
        ),
        Err(WebhookVerifyError::OutsideTolerance(i64::MAX))
    );
    let token = CreatorToken::parse(&CreatorToken::issue(b"key", "trio", "ana", i64::MIN)).unwrap();
    assert!(token.verify(b"key", "trio", "ana", 1_700_000_000).is_err());
    let token = CreatorToken::parse(&CreatorToken::issue(b"key", "trio", "ana", i64::MAX)).unwrap();
    // Issued ten seconds "ahead", within the tolerance: fine, and `now + 300` no longer overflows.
    assert!(token.verify(b"key", "trio", "ana", i64::MAX - 10).is_ok());
    assert!(token.verify(b"key", "trio", "ana", 0).is_err());
    let ancient = Touch {
        creator: Some("ana".into()),
        token: None,
        utm: Utm::default(),
        at: i64::MIN,
    };
    assert_eq!(current_touch(Some(ancient), None, 1_700_000_000, 30), None);
}
