//! Which offer variant a visitor is shown (SPEC section 3.1, issue 15): the draw follows the
//! served shares, is stable per visitor, never newly draws a variant without a share, and a
//! remembered variant is kept while the bundle has it.

use mighty_core::listing::{Bundle, OfferKind, parse_listing};
use mighty_core::offer_variants::{choose, shown, storage_key};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A variant as a test writes it: id, price, share (`null`: none).
type VariantSpec<'a> = (&'a str, i64, Value);

/// A bundle with these variants (`[id, price, share]`; a share of `null` is left out).
fn bundle_with(variants: &[(&str, i64, Value)]) -> Bundle {
    let variants: Vec<Value> = variants
        .iter()
        .map(|(id, price, share)| {
            let mut variant = json!({ "id": id, "price": price });
            if !share.is_null() {
                variant["share"] = share.clone();
            }
            variant
        })
        .collect();
    let document = json!({
        "version": 1, "id": "candle-trio", "title": "Candles", "currency": "EUR",
        "offers": [ { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400,
                      "compare_at": 3000, "items": ["3 candles", "gift box"],
                      "variants": variants } ]
    });
    let listing = parse_listing(&document.to_string()).expect("a valid document");
    match listing.offers.into_iter().next().map(|offer| offer.kind) {
        Some(OfferKind::Bundle(bundle)) => bundle,
        other => panic!("not a bundle: {other:?}"),
    }
}

fn chosen(bundle: &Bundle, visitor: &str, remembered: Option<&str>) -> Option<String> {
    choose(bundle, visitor, "candle-trio", "trio", remembered).map(|variant| variant.id.clone())
}

/// How many of `visitors` generated ids draw each variant.
fn counts(bundle: &Bundle, visitors: usize) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = bundle
        .variants
        .iter()
        .map(|variant| (variant.id.clone(), 0))
        .collect();
    for visitor in 0..visitors {
        let id = chosen(bundle, &format!("visitor-{visitor}"), None).unwrap();
        counts.iter_mut().find(|(known, _)| *known == id).unwrap().1 += 1;
    }
    counts
}

#[test]
fn a_table_of_shares_and_what_visitors_draw() {
    // (variants with shares, expected fraction of 20,000 visitors per variant)
    let cases: [(&[VariantSpec], &[f64]); 5] = [
        (
            &[("a", 2400, json!(0.5)), ("b", 2200, json!(0.5))],
            &[0.5, 0.5],
        ),
        (
            &[("a", 2400, json!(0.8)), ("b", 2200, json!(0.2))],
            &[0.8, 0.2],
        ),
        (
            &[
                ("a", 2400, json!(0.1)),
                ("b", 2200, json!(0.3)),
                ("c", 2000, json!(0.6)),
            ],
            &[0.1, 0.3, 0.6],
        ),
        // The bandit stopped on "b": nobody new sees "a".
        (
            &[("a", 2400, json!(0.0)), ("b", 2200, json!(1.0))],
            &[0.0, 1.0],
        ),
        // No shares (an inline document): even.
        (
            &[
                ("a", 2400, Value::Null),
                ("b", 2200, Value::Null),
                ("c", 2000, Value::Null),
            ],
            &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
        ),
    ];
    for (variants, expected) in cases {
        let bundle = bundle_with(variants);
        let counts = counts(&bundle, 20_000);
        for ((id, count), expected) in counts.iter().zip(expected) {
            let fraction = *count as f64 / 20_000.0;
            assert!(
                (fraction - expected).abs() < 0.015,
                "{variants:?}: {id} drew {fraction}, expected {expected}"
            );
        }
    }
}

#[test]
fn a_bundle_without_variants_has_none_to_show() {
    let document = json!({
        "version": 1, "id": "candle-trio", "title": "Candles", "currency": "EUR",
        "offers": [ { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400 } ]
    });
    let listing = parse_listing(&document.to_string()).unwrap();
    let OfferKind::Bundle(bundle) = &listing.offers[0].kind else {
        panic!("not a bundle")
    };
    assert!(choose(bundle, "v", "candle-trio", "trio", Some("a")).is_none());
    let (price, compare_at, items) = shown(bundle, None);
    assert_eq!(
        (
            price.minor,
            compare_at.map(|money| money.minor),
            items.len()
        ),
        (2400, None, 0)
    );
}

#[test]
fn a_remembered_variant_is_kept_while_the_bundle_has_it() {
    let bundle = bundle_with(&[("a", 2400, json!(0.0)), ("b", 2200, json!(1.0))]);
    // Kept although nobody new draws it any more.
    assert_eq!(chosen(&bundle, "v1", Some("a")).as_deref(), Some("a"));
    // Gone from the document: drawn again, by the shares.
    assert_eq!(chosen(&bundle, "v1", Some("gone")).as_deref(), Some("b"));
    assert_eq!(chosen(&bundle, "v1", None).as_deref(), Some("b"));
}

#[test]
fn what_the_card_shows_for_a_variant() {
    let document = json!({
        "version": 1, "id": "candle-trio", "title": "Candles", "currency": "EUR",
        "offers": [ { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400,
                      "compare_at": 3000, "items": ["3 candles", "gift box"],
                      "variants": [ { "id": "a" },
                                    { "id": "b", "price": 2200, "compare_at": 2800,
                                      "items": ["3 candles", "gift box", "matches"] } ] } ]
    });
    let listing = parse_listing(&document.to_string()).unwrap();
    let OfferKind::Bundle(bundle) = &listing.offers[0].kind else {
        panic!("not a bundle")
    };
    let read = |id: &str| {
        let (price, compare_at, items) = shown(bundle, bundle.variant(id));
        (
            price.minor,
            compare_at.map(|money| money.minor),
            items.join(", "),
        )
    };
    // What a variant leaves out is the offer's own.
    assert_eq!(
        read("a"),
        (2400, Some(3000), "3 candles, gift box".to_string())
    );
    assert_eq!(
        read("b"),
        (2200, Some(2800), "3 candles, gift box, matches".to_string())
    );
    assert_eq!(
        storage_key("candle-trio", "trio"),
        "mighty:offer-variant:candle-trio:trio"
    );
}

fn shares() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop_oneof![Just(0.0), 0.01f64..1.0], 2..=4)
}

proptest! {
    /// The same visitor draws the same variant every time (a reload without storage).
    #[test]
    fn the_draw_is_stable(shares in shares(), visitor in "[a-z0-9-]{1,40}") {
        let variants: Vec<(String, i64, Value)> = shares
            .iter()
            .enumerate()
            .map(|(index, share)| (format!("v{index}"), 2000 + index as i64, json!(share)))
            .collect();
        let borrowed: Vec<(&str, i64, Value)> =
            variants.iter().map(|(id, price, share)| (id.as_str(), *price, share.clone())).collect();
        let bundle = bundle_with(&borrowed);
        let first = chosen(&bundle, &visitor, None);
        prop_assert!(first.is_some());
        prop_assert_eq!(first, chosen(&bundle, &visitor, None));
    }

    /// A variant without a share is never newly drawn while another has one; one that is
    /// remembered is kept whatever its share.
    #[test]
    fn zero_shares_are_never_newly_drawn(shares in shares(), visitor in "[a-z0-9-]{1,40}", kept in 0usize..4) {
        let variants: Vec<(String, i64, Value)> = shares
            .iter()
            .enumerate()
            .map(|(index, share)| (format!("v{index}"), 2000 + index as i64, json!(share)))
            .collect();
        let borrowed: Vec<(&str, i64, Value)> =
            variants.iter().map(|(id, price, share)| (id.as_str(), *price, share.clone())).collect();
        let bundle = bundle_with(&borrowed);
        let id = chosen(&bundle, &visitor, None).unwrap();
        let index: usize = id[1..].parse().unwrap();
        if shares.iter().any(|share| *share > 0.0) {
            prop_assert!(shares[index] > 0.0, "{} drawn with share {}", id, shares[index]);
        }
        if kept < shares.len() {
            let remembered = format!("v{kept}");
            prop_assert_eq!(chosen(&bundle, &visitor, Some(&remembered)), Some(remembered));
        }
    }

    /// Over many visitors the draw follows the shares (within two points).
    #[test]
    fn the_draw_follows_the_shares(shares in prop::collection::vec(0.05f64..1.0, 2..=4)) {
        let variants: Vec<(String, i64, Value)> = shares
            .iter()
            .enumerate()
            .map(|(index, share)| (format!("v{index}"), 2000 + index as i64, json!(share)))
            .collect();
        let borrowed: Vec<(&str, i64, Value)> =
            variants.iter().map(|(id, price, share)| (id.as_str(), *price, share.clone())).collect();
        let bundle = bundle_with(&borrowed);
        let total: f64 = shares.iter().sum();
        for ((id, count), share) in counts(&bundle, 8_000).iter().zip(&shares) {
            let fraction = *count as f64 / 8_000.0;
            prop_assert!((fraction - share / total).abs() < 0.02, "{} drew {} for {}", id, fraction, share / total);
        }
    }
}
