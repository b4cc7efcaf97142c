//! Benchmark (not a test): listing reads and checkout-session creation over a real socket at a
//! fixed concurrency, against the SQLite store. Prints throughput and latency percentiles.
//! Run with `cargo xtask bench` (or `cargo bench -p mighty-server --bench http`).

use mighty_server::config::TEST_SELLER_TOKEN;
use mighty_server::store::DatabaseUrl;
use mighty_server::{AppState, Config, app};
use serde_json::json;

mod common;

use common::{CONCURRENCY, run};

const LISTING_READS: usize = 4000;
const CHECKOUTS: usize = 2000;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let directory = std::env::temp_dir().join(format!("mighty-bench-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let mut config = Config::for_tests(directory.clone());
    config.database = DatabaseUrl::Sqlite(directory.join("bench.db"));
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let listing = json!({
        "version": 1, "id": "bench", "title": "Benchmark candles", "currency": "EUR",
        "offers": [ { "id": "trio", "kind": "bundle", "name": "Trio", "price": 2400 } ],
        "drop": { "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z", "inventory": 1000000 },
        "allowed_origins": ["*"]
    });
    let put = client
        .put(format!("{base}/v1/listings/bench"))
        .bearer_auth(TEST_SELLER_TOKEN)
        .body(listing.to_string())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());

    let reads = {
        let (client, base) = (client.clone(), base.clone());
        run("GET /v1/listings/{id}", LISTING_READS, move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                client
                    .get(format!("{base}/v1/listings/bench"))
                    .send()
                    .await
                    .is_ok_and(|response| response.status() == 200)
            }
        })
        .await
    };
    let checkouts = {
        let (client, base) = (client.clone(), base.clone());
        run("POST /v1/checkout/sessions", CHECKOUTS, move |index| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let body = json!({
                    "listing_id": "bench", "offer_id": "trio", "quantity": 1,
                    "attribution": { "creator": null, "token": null, "variant": null, "page": "https://d.example/" },
                    "return_url": "https://d.example/?mighty_listing=bench"
                });
                client
                    .post(format!("{base}/v1/checkout/sessions"))
                    .header("Idempotency-Key", format!("bench-{index}"))
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|response| response.status() == 201)
            }
        })
        .await
    };
    println!("\nmighty-server over a real socket, SQLite (WAL) store, concurrency {CONCURRENCY}");
    common::print_header();
    reads.print();
    checkouts.print();
    let _ = std::fs::remove_dir_all(directory);
}
