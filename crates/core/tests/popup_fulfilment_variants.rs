//! SPEC section 3.1 (pop-ups, fulfilment, offer variants): each rule as a table of documents
//! and the exact message a site owner reads, plus properties over generated documents.

use mighty_core::listing::{
    Bundle, FulfilmentOptions, Listing, OfferKind, is_time_zone_name, parse_listing,
};
use mighty_core::protocol::Fulfilment;
use mighty_core::time::Timestamp;
use proptest::prelude::*;
use serde_json::{Value, json};

/// The SPEC 3.1 example, completed into a whole document.
fn example() -> Value {
    json!({
        "version": 1, "id": "candle-trio", "title": "Lavender candle trio", "currency": "EUR",
        "offers": [
            { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400,
              "fulfilment": ["ship", "pickup"],
              "variants": [ { "id": "a", "price": 2400 },
                            { "id": "b", "price": 2200, "items": ["3 candles", "gift box", "matches"] } ],
              "variant_bounds": { "floor": 1800, "ceiling": 3000 },
              "items": ["3 candles", "gift box"] },
            { "id": "club", "kind": "retainer", "name": "Candle club",
              "tiers": [ { "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month" } ] } ],
        "drop": { "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-04T18:00:00Z",
                  "inventory": 50,
                  "popup": { "name": "Croix-Rousse night market",
                             "address": "Place de la Croix-Rousse, 69004 Lyon",
                             "lat": 45.7745, "lon": 4.8320,
                             "opens_at": "2026-12-05T10:00:00+01:00",
                             "closes_at": "2026-12-05T16:00:00+01:00",
                             "timezone": "Europe/Paris" } }
    })
}

/// The example with the value at one JSON pointer replaced (`Value::Null` removes the key).
fn with(changes: &[(&str, Value)]) -> String {
    let mut document = example();
    for (pointer, value) in changes {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = document
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"));
        match (parent, value) {
            (Value::Object(object), Value::Null) => {
                object.remove(key);
            }
            (Value::Object(object), value) => {
                object.insert(key.to_string(), value.clone());
            }
            (Value::Array(items), value) => items[key.parse::<usize>().unwrap()] = value.clone(),
            _ => panic!("{pointer} is not in an object or a list"),
        }
    }
    document.to_string()
}

fn bundle(listing: &Listing) -> &Bundle {
    match &listing.offers[0].kind {
        OfferKind::Bundle(bundle) => bundle,
        OfferKind::Retainer(_) => panic!("the first offer is the bundle"),
    }
}

fn errors(json: &str) -> Vec<String> {
    parse_listing(json)
        .expect_err("should be refused")
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_spec_example_reads_into_the_model() {
    let listing = parse_listing(&example().to_string()).unwrap();
    let popup = listing.drop.as_ref().unwrap().popup.as_ref().unwrap();
    assert_eq!(popup.name, "Croix-Rousse night market");
    assert_eq!(popup.address, "Place de la Croix-Rousse, 69004 Lyon");
    assert_eq!((popup.lat, popup.lon), (45.7745, 4.8320));
    // 10:00 in Paris in December is 09:00 UTC.
    assert_eq!(popup.opens_at.to_rfc3339(), "2026-12-05T09:00:00Z");
    assert_eq!(popup.closes_at.to_rfc3339(), "2026-12-05T15:00:00Z");
    assert_eq!(popup.timezone, "Europe/Paris");

    let trio = bundle(&listing);
    assert_eq!(
        trio.fulfilment.list(),
        [Fulfilment::Ship, Fulfilment::Pickup]
    );
    assert!(trio.fulfilment.is_choice() && trio.ships);
    assert_eq!(trio.variants.len(), 2);
    let (a, b) = (trio.variant("a").unwrap(), trio.variant("b").unwrap());
    assert_eq!(trio.variant_price(a).minor, 2400);
    assert_eq!(trio.variant_price(b).minor, 2200);
    assert_eq!(trio.variant_items(a), ["3 candles", "gift box"]);
    assert_eq!(trio.variant_items(b), ["3 candles", "gift box", "matches"]);
    assert_eq!(trio.variant_compare_at(a), None);
    assert!(trio.variant("c").is_none());
    assert_eq!(
        trio.price_for(Some("b")).map(|money| money.minor),
        Some(2200)
    );
    assert_eq!(trio.price_for(None).map(|money| money.minor), Some(2400));
    assert_eq!(trio.price_for(Some("c")), None);
    let bounds = trio.variant_bounds.unwrap();
    assert_eq!((bounds.floor.minor, bounds.ceiling.minor), (1800, 3000));
}

#[test]
fn fulfilment_defaults_follow_ships() {
    let no_pickup = [
        ("/offers/0/fulfilment", Value::Null),
        ("/drop/popup", Value::Null),
    ];
    for (ships, expected) in [
        (
            json!(true),
            FulfilmentOptions {
                ship: true,
                pickup: false,
            },
        ),
        (json!(false), FulfilmentOptions::default()),
        (Value::Null, FulfilmentOptions::default()),
    ] {
        let mut changes = no_pickup.to_vec();
        changes.push(("/offers/0/ships", ships.clone()));
        let listing = parse_listing(&with(&changes)).unwrap();
        assert_eq!(bundle(&listing).fulfilment, expected, "ships {ships}");
        assert_eq!(bundle(&listing).ships, expected.ship, "ships {ships}");
    }
    for (written, expected, default) in [
        (
            json!(["ship"]),
            vec![Fulfilment::Ship],
            Some(Fulfilment::Ship),
        ),
        (
            json!(["pickup"]),
            vec![Fulfilment::Pickup],
            Some(Fulfilment::Pickup),
        ),
        (
            json!(["pickup", "ship", "pickup"]),
            Fulfilment::ALL.to_vec(),
            Some(Fulfilment::Ship),
        ),
        (json!([]), vec![], None),
    ] {
        let listing = parse_listing(&with(&[("/offers/0/fulfilment", written.clone())])).unwrap();
        let options = bundle(&listing).fulfilment;
        assert_eq!(options.list(), expected, "{written}");
        assert_eq!(options.default_choice(), default, "{written}");
        assert_eq!(bundle(&listing).ships, options.ship, "{written}");
    }
}

#[test]
fn wrong_additions_name_the_json_path_and_the_fix() {
    let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
        // Pop-up.
        (
            vec![("/drop/popup/timezone", json!("paris"))],
            "drop.popup.timezone: \"paris\" is not shaped like an IANA time zone name; write it like \"Europe/Paris\" or \"America/New_York\"",
        ),
        (
            vec![("/drop/popup/timezone", json!("Europe/Paris +1"))],
            "drop.popup.timezone: \"Europe/Paris +1\" is not shaped like an IANA time zone name; write it like \"Europe/Paris\" or \"America/New_York\"",
        ),
        (
            vec![("/drop/popup/timezone", Value::Null)],
            "drop.popup.timezone: is missing; give the pop-up's IANA time zone, e.g. \"Europe/Paris\"",
        ),
        (
            vec![("/drop/popup/timezone", json!(1))],
            "drop.popup.timezone: expected a string, found the number 1",
        ),
        (
            vec![("/drop/popup/closes_at", json!("2026-12-05T09:00:00+01:00"))],
            "drop.popup.closes_at: 2026-12-05T08:00:00Z is not after opens_at 2026-12-05T09:00:00Z; a pop-up closes after it opens",
        ),
        (
            vec![("/drop/popup/closes_at", json!("2026-12-05T10:00:00+01:00"))],
            "drop.popup.closes_at: 2026-12-05T09:00:00Z is not after opens_at 2026-12-05T09:00:00Z; a pop-up closes after it opens",
        ),
        (
            vec![("/drop/popup/opens_at", json!("2026-12-05T10:00:00"))],
            "drop.popup.opens_at: \"2026-12-05T10:00:00\" is not an RFC 3339 date-time; write it like 2026-12-01T18:00:00Z",
        ),
        (
            vec![("/drop/popup/opens_at", Value::Null)],
            "drop.popup.opens_at: is missing; give an RFC 3339 date-time such as 2026-12-01T18:00:00Z",
        ),
        (
            vec![("/drop/popup/lat", json!(91))],
            "drop.popup.lat: 91 is outside -90 to 90 degrees",
        ),
        (
            vec![("/drop/popup/lon", json!(-180.5))],
            "drop.popup.lon: -180.5 is outside -180 to 180 degrees",
        ),
        (
            vec![("/drop/popup/lon", json!("4.83"))],
            "drop.popup.lon: expected a number, found the string \"4.83\"",
        ),
        (
            vec![("/drop/popup/lat", Value::Null)],
            "drop.popup.lat: is missing; give it in decimal degrees, e.g. 45.7745",
        ),
        (
            vec![("/drop/popup/name", json!("  "))],
            "drop.popup.name: is empty; give it a value, e.g. \"Croix-Rousse night market\"",
        ),
        (
            vec![("/drop/popup/address", Value::Null)],
            "drop.popup.address: is missing; add it, e.g. \"Place de la Croix-Rousse, 69004 Lyon\"",
        ),
        (
            vec![("/drop/popup", json!("Lyon"))],
            "drop.popup: expected an object, found the string \"Lyon\"",
        ),
        // Fulfilment.
        (
            vec![("/drop/popup", Value::Null)],
            "offers[0].fulfilment: lists \"pickup\" but the listing has no pop-up to pick up at; add drop.popup or remove \"pickup\"",
        ),
        (
            vec![("/offers/0/fulfilment", json!(["ship", "collect"]))],
            "offers[0].fulfilment[1]: \"collect\" is not a fulfilment; use \"ship\" or \"pickup\"",
        ),
        (
            vec![("/offers/0/fulfilment", json!("ship"))],
            "offers[0].fulfilment: expected a list, found the string \"ship\"",
        ),
        (
            vec![
                ("/offers/0/fulfilment", json!(["pickup"])),
                ("/offers/0/ships", json!(true)),
            ],
            "offers[0].ships: is true but fulfilment does not list \"ship\"; remove \"ships\" (fulfilment says it all) or make them agree",
        ),
        (
            vec![("/offers/0/ships", json!(false))],
            "offers[0].ships: is false but fulfilment lists \"ship\"; remove \"ships\" (fulfilment says it all) or make them agree",
        ),
        (
            vec![("/offers/1/fulfilment", json!(["ship"]))],
            "offers[1].fulfilment: applies to bundle offers only; remove it from this retainer",
        ),
        // Offer variants.
        (
            vec![("/offers/0/variants", json!([{ "id": "a" }]))],
            "offers[0].variants: has 1 variants; give 2 to 4 (or none for a single price)",
        ),
        (
            vec![(
                "/offers/0/variants",
                json!([{ "id": "a" }, { "id": "b" }, { "id": "c" }, { "id": "d" }, { "id": "e" }]),
            )],
            "offers[0].variants: has 5 variants; give 2 to 4 (or none for a single price)",
        ),
        (
            vec![("/offers/0/variants/1/id", json!("a"))],
            "offers[0].variants[1].id: \"a\" appears twice; each variant of an offer needs its own id",
        ),
        (
            vec![("/offers/0/variants/1/id", json!("b c"))],
            "offers[0].variants[1].id: \"b c\" is not a valid offer variant id; use 1 to 64 letters, digits, '-' or '_'",
        ),
        (
            vec![("/offers/0/variants/1/id", Value::Null)],
            "offers[0].variants[1].id: is missing; add it, e.g. \"trio\"",
        ),
        (
            vec![("/offers/0/variants/1/price", json!(1700))],
            "offers[0].variants[1].price: 1700 is outside variant_bounds 1800 to 3000; set a price within them",
        ),
        (
            vec![
                ("/offers/0/price", json!(3100)),
                ("/offers/0/variants/1/price", Value::Null),
            ],
            "offers[0].variants[1].price: 3100 (the offer's own price) is outside variant_bounds 1800 to 3000; set a price within them",
        ),
        (
            vec![("/offers/0/price", json!(1500))],
            "offers[0].price: 1500 (what a checkout naming no offer variant pays) is outside variant_bounds 1800 to 3000; set a price within them",
        ),
        (
            vec![("/offers/0/variants/1/price", json!(-5))],
            "offers[0].variants[1].price: -5 is negative; a price is 0 or more minor units",
        ),
        (
            vec![("/offers/0/variants/1/price", json!("22.00"))],
            "offers[0].variants[1].price: expected a whole number of minor units (2400 for 24.00) or {\"amount\": 2400, \"currency\": \"EUR\"}, found the string \"22.00\"",
        ),
        (
            vec![(
                "/offers/0/variants/1/price",
                json!({ "amount": 2200, "currency": "USD" }),
            )],
            "offers[0].variants[1].price.currency: USD differs from the listing's currency EUR; one listing sells in one currency",
        ),
        (
            vec![("/offers/0/variants/1/compare_at", json!(2200))],
            "offers[0].variants[1].compare_at: 2200 is not above the variant's price 2200; compare_at is the higher, usual price",
        ),
        (
            vec![
                ("/offers/0/price", json!(2100)),
                ("/offers/0/compare_at", json!(2300)),
            ],
            "offers[0].variants[0].price: 2400 is not below the offer's compare_at 2300; lower it or give the variant its own compare_at",
        ),
        (
            vec![("/offers/0/variants/0/share", json!(1.5))],
            "offers[0].variants[0].share: 1.5 is outside 0 to 1",
        ),
        (
            vec![("/offers/0/variants/0/items", json!(["ok", 3]))],
            "offers[0].variants[0].items[1]: expected a string, found the number 3",
        ),
        (
            vec![(
                "/offers/0/variant_bounds",
                json!({ "floor": 3000, "ceiling": 1800 }),
            )],
            "offers[0].variant_bounds.ceiling: 1800 is below the floor 3000; the ceiling is the highest price a variant may have",
        ),
        (
            vec![("/offers/0/variant_bounds", json!({ "floor": 1800 }))],
            "offers[0].variant_bounds.ceiling: is missing; give the price in minor units, e.g. 2400 for 24.00",
        ),
        (
            vec![("/offers/1/variants", json!([{ "id": "a" }, { "id": "b" }]))],
            "offers[1].variants: applies to bundle offers only; remove it from this retainer",
        ),
        (
            vec![(
                "/offers/1/variant_bounds",
                json!({ "floor": 1, "ceiling": 2 }),
            )],
            "offers[1].variant_bounds: applies to bundle offers only; remove it from this retainer",
        ),
    ];
    let mut failures = Vec::new();
    for (changes, expected) in &cases {
        let found = parse_listing(&with(changes)).map_or_else(
            |errors| errors.0.iter().map(ToString::to_string).collect(),
            |_| vec![],
        );
        if found.first().map(String::as_str) != Some(*expected) {
            failures.push(format!(
                "{changes:?}\n  expected: {expected}\n  found:    {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_wrong_variant_refuses_the_offer_rather_than_drop_a_price_point() {
    // Both problems are reported (for the builder), and nothing is half-accepted.
    let found = errors(&with(&[
        ("/offers/0/variants/0/price", json!(1)),
        ("/offers/0/variants/1/share", json!(-0.1)),
    ]));
    assert_eq!(
        found,
        [
            "offers[0].variants[0].price: 1 is outside variant_bounds 1800 to 3000; set a price within them",
            "offers[0].variants[1].share: -0.1 is outside 0 to 1",
        ]
    );
}

/// The shape of a name in the IANA database, legacy names from its `backward` file included;
/// whether a well-shaped name exists (`Europe/Lyon` does not) is the server's check.
#[test]
fn time_zone_names_by_their_shape() {
    for name in [
        "UTC",
        "Europe/Paris",
        "America/New_York",
        "America/Argentina/Buenos_Aires",
        "America/Argentina/ComodRivadavia",
        "America/Port-au-Prince",
        "Etc/GMT+1",
        "Etc/GMT-14",
        "Asia/Ho_Chi_Minh",
        "Antarctica/DumontDUrville",
        // Legacy names the database keeps (`backward`), which browsers accept too.
        "US/Eastern",
        "GMT",
        "CET",
        "EST5EDT",
        "GMT+0",
        "NZ-CHAT",
        "W-SU",
        "Canada/Newfoundland",
        // Well shaped but not in the database: the server refuses it, core cannot know.
        "Europe/Lyon",
    ] {
        assert!(is_time_zone_name(name), "{name}");
    }
    for name in [
        "",
        "Paris ",
        "utc",
        "europe/paris",
        "Europe/",
        "/Paris",
        "Europe//Paris",
        "Europe/ Paris",
        "Europe/Paris/Left/Bank",
        "Europe/Paris\n",
        "Europe/_Paris",
        "Europe/Abcdefghijklmno",
        "Europe/Pa ris",
        "Europe/Parıs",
        "Europe/Paris.",
        "../etc/passwd",
        "+01:00",
        "5EST",
    ] {
        assert!(!is_time_zone_name(name), "{name:?}");
    }
}

fn time_zone() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Z][A-Za-z0-9_+-]{0,13}", 1..=3).prop_map(|parts| parts.join("/"))
}

proptest! {
    /// Any pop-up within the rules is accepted and read back to the same instants, whatever
    /// offset it was written in.
    #[test]
    fn valid_popups_are_accepted_at_their_instants(
        opens in 1_600_000_000i64..2_000_000_000,
        length in 60i64..86_400 * 3,
        offset_minutes in -14 * 60i64..=14 * 60,
        lat in -90.0f64..=90.0,
        lon in -180.0f64..=180.0,
        timezone in time_zone(),
    ) {
        let offset = offset_minutes - offset_minutes % 15;
        let local = |at: i64| {
            let shifted = Timestamp(at + offset * 60).to_rfc3339();
            let sign = if offset < 0 { '-' } else { '+' };
            format!("{}{sign}{:02}:{:02}", &shifted[..19], offset.abs() / 60, offset.abs() % 60)
        };
        let document = with(&[
            ("/drop/popup/opens_at", json!(local(opens))),
            ("/drop/popup/closes_at", json!(local(opens + length))),
            ("/drop/popup/lat", json!(lat)),
            ("/drop/popup/lon", json!(lon)),
            ("/drop/popup/timezone", json!(timezone)),
        ]);
        let listing = parse_listing(&document).map_err(|error| TestCaseError::fail(error.to_string()))?;
        let popup = listing.drop.unwrap().popup.unwrap();
        prop_assert_eq!(popup.opens_at, Timestamp(opens));
        prop_assert_eq!(popup.closes_at, Timestamp(opens + length));
        prop_assert_eq!(popup.timezone, timezone);
    }

    /// Variants are accepted exactly when every effective price, and the offer's own, lies
    /// within the bounds, and then `price_for` charges each variant's own price or the offer's.
    #[test]
    fn variant_prices_are_accepted_within_the_bounds_only(
        own in 0i64..5_000,
        floor in 0i64..5_000,
        span in 0i64..5_000,
        prices in prop::collection::vec(prop::option::of(0i64..10_000), 2..=4),
    ) {
        let ceiling = floor + span;
        let variants: Vec<Value> = prices
            .iter()
            .enumerate()
            .map(|(index, price)| match price {
                Some(price) => json!({ "id": format!("v{index}"), "price": price }),
                None => json!({ "id": format!("v{index}") }),
            })
            .collect();
        let document = with(&[
            ("/offers/0/price", json!(own)),
            ("/offers/0/variants", json!(variants)),
            ("/offers/0/variant_bounds", json!({ "floor": floor, "ceiling": ceiling })),
        ]);
        let effective: Vec<i64> = prices.iter().map(|price| price.unwrap_or(own)).collect();
        // The offer's own price too: a checkout naming no variant pays it.
        let within = effective.iter().chain([&own]).all(|price| (floor..=ceiling).contains(price));
        match parse_listing(&document) {
            Ok(listing) => {
                prop_assert!(within, "accepted {:?} outside {}..={}", effective, floor, ceiling);
                let trio = bundle(&listing);
                for (index, price) in effective.iter().enumerate() {
                    let id = format!("v{index}");
                    prop_assert_eq!(trio.price_for(Some(&id)).map(|money| money.minor), Some(*price));
                }
                prop_assert_eq!(trio.price_for(Some("nope")), None);
            }
            Err(error) => prop_assert!(!within, "refused {:?} within bounds: {}", effective, error),
        }
    }

    /// Any list of fulfilment words: accepted exactly when every word is known (and the
    /// pop-up is there for pick-up), and then the options are the set of words.
    #[test]
    fn fulfilment_lists_read_as_their_set(
        words in prop::collection::vec(prop::sample::select(vec!["ship", "pickup", "Ship", "deliver"]), 0..4),
        with_popup: bool,
    ) {
        let mut changes = vec![("/offers/0/fulfilment", json!(words))];
        if !with_popup {
            changes.push(("/drop/popup", Value::Null));
        }
        let known = words.iter().all(|word| matches!(*word, "ship" | "pickup"));
        let pickup = words.contains(&"pickup");
        match parse_listing(&with(&changes)) {
            Ok(listing) => {
                prop_assert!(known && (with_popup || !pickup));
                let options = bundle(&listing).fulfilment;
                prop_assert_eq!(options.ship, words.contains(&"ship"));
                prop_assert_eq!(options.pickup, pickup);
            }
            Err(_) => prop_assert!(!known || (pickup && !with_popup)),
        }
    }
}

#[test]
fn a_checkout_gets_the_fulfilment_it_asked_for_or_a_reason() {
    let both = FulfilmentOptions {
        ship: true,
        pickup: true,
    };
    let ship_only = FulfilmentOptions {
        ship: true,
        pickup: false,
    };
    let pickup_only = FulfilmentOptions {
        ship: false,
        pickup: true,
    };
    let neither = FulfilmentOptions::default();
    let (ship, pickup) = (Some(Fulfilment::Ship), Some(Fulfilment::Pickup));
    for (options, requested, expected) in [
        (both, None, Ok(ship)),
        (both, ship, Ok(ship)),
        (both, pickup, Ok(pickup)),
        (ship_only, None, Ok(ship)),
        (ship_only, ship, Ok(ship)),
        (
            ship_only,
            pickup,
            Err("\"pickup\" is not offered for this offer; it is only shipped"),
        ),
        (pickup_only, None, Ok(pickup)),
        (
            pickup_only,
            ship,
            Err("\"ship\" is not offered for this offer; it is only picked up at the pop-up"),
        ),
        (neither, None, Ok(None)),
        (
            neither,
            ship,
            Err("\"ship\" is not possible: this offer is neither shipped nor picked up"),
        ),
    ] {
        assert_eq!(
            options.choose(requested),
            expected.map_err(String::from),
            "{options:?} {requested:?}"
        );
    }
}
