//! How long core takes for what every widget mount does: read and validate a listing
//! document (inline, fetched or from attributes), and format a price.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use mighty_core::host::HostConfig;
use mighty_core::sources::{listing_from_attributes, listing_from_document};
use mighty_core::{Currency, Money, parse_listing};

const CANDLES: &str = include_str!("../../../www/listings/candle-trio.json");

fn listing_benches(criterion: &mut Criterion) {
    criterion.bench_function("parse_and_validate_spec_listing", |bench| {
        bench.iter(|| parse_listing(black_box(CANDLES)).unwrap());
    });
    let host = HostConfig {
        tag_name: "div".into(),
        ..HostConfig::default()
    };
    criterion.bench_function("listing_from_document_with_id_rule", |bench| {
        bench.iter(|| listing_from_document(black_box(CANDLES), &host).unwrap());
    });
    let minimal = HostConfig {
        tag_name: "div".into(),
        attributes: [
            ("title", "Sourdough starter kit"),
            ("price", "18.50"),
            ("currency", "EUR"),
            ("rating", "4.6"),
            ("reviews", "41"),
        ]
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect(),
        ..HostConfig::default()
    };
    criterion.bench_function("listing_from_minimal_attributes", |bench| {
        bench.iter(|| listing_from_attributes(black_box(&minimal)).unwrap());
    });
    let euro = Currency::from_code("EUR").unwrap();
    criterion.bench_function("money_decimal_string", |bench| {
        bench.iter(|| Money::new(black_box(123_456), euro).to_decimal_string());
    });
    criterion.bench_function("money_parse_major", |bench| {
        bench.iter(|| Money::parse_major(black_box("1234.56"), euro).unwrap());
    });
}

criterion_group!(benches, listing_benches);
criterion_main!(benches);
