//! Benchmark (not a test): event ingest over a real socket — one million events in batches of
//! 100 at a fixed concurrency, into SQLite — then the time of the dashboard's queries over
//! them (`/v1/metrics` and the dashboard page's data). Prints a table.
//! Run with `cargo xtask bench` (or `cargo bench -p mighty-server --bench ingest`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mighty_server::config::TEST_SELLER_TOKEN;
use mighty_server::store::DatabaseUrl;
use mighty_server::{AppState, Config, app};
use serde_json::json;

const EVENTS: usize = 1_000_000;
const BATCH: usize = 100;
const CONCURRENCY: usize = 8;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let directory = std::env::temp_dir().join(format!("mighty-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let mut config = Config::for_tests(directory.clone());
    config.database = DatabaseUrl::Sqlite(directory.join("ingest.db"));
    config.events_per_minute = u32::MAX;
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
        "version": 1, "id": "bench", "title": "Benchmark", "currency": "EUR",
        "creators": [ { "handle": "ana" }, { "handle": "theo" }, { "handle": "sam" } ],
        "offers": [ { "id": "trio", "kind": "bundle", "name": "Trio", "price": 2400 } ],
        "allowed_origins": ["*"]
    });
    let put = client
        .put(format!("{base}/v1/listings/bench"))
        .bearer_auth(TEST_SELLER_TOKEN)
        .body(listing.to_string())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());

    let batches = EVENTS / BATCH;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, base, next) = (client.clone(), base.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let batch = next.fetch_add(1, Ordering::Relaxed);
                    if batch >= batches {
                        break;
                    }
                    let events: Vec<_> = (0..BATCH)
                        .map(|index| {
                            let number = batch * BATCH + index;
                            let variant = ["ana", "theo", "sam"][number % 3];
                            let kind = if number.is_multiple_of(10) { "demo-play" } else { "view" };
                            json!({ "id": format!("e{number}"), "type": kind, "listing_id": "bench", "creator": null, "variant": variant,
                                    "visitor_id": format!("v{}", number % 50_000), "at": "2026-11-20T10:00:00Z" })
                        })
                        .collect();
                    let body = json!({ "events": events }).to_string();
                    let begun = Instant::now();
                    // As the widget sends them: text/plain from a page (its Origin).
                    let response = client.post(format!("{base}/v1/events")).header("content-type", "text/plain").header("origin", "https://directory.example").body(body).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    latencies.push(begun.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |fraction: f64| {
        latencies[((latencies.len() - 1) as f64 * fraction) as usize].as_secs_f64() * 1000.0
    };

    let mut query_times = Vec::new();
    for _ in 0..5 {
        let begun = Instant::now();
        let response = client
            .get(format!("{base}/v1/metrics?listing=bench"))
            .bearer_auth(TEST_SELLER_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let _ = response.text().await.unwrap();
        query_times.push(begun.elapsed().as_secs_f64() * 1000.0);
    }
    query_times.sort_by(f64::total_cmp);

    println!(
        "\nevent ingest over a real socket, SQLite (WAL), {CONCURRENCY} clients, batches of {BATCH}"
    );
    println!("{:<40} {:>14}", "measure", "value");
    println!("{:<40} {:>14}", "events stored", EVENTS);
    println!(
        "{:<40} {:>14.0}",
        "events per second",
        EVENTS as f64 / elapsed.as_secs_f64()
    );
    println!("{:<40} {:>14.2}", "batch latency p50 (ms)", at(0.5));
    println!("{:<40} {:>14.2}", "batch latency p99 (ms)", at(0.99));
    println!(
        "{:<40} {:>14.1}",
        "GET /v1/metrics over 1M events, median (ms)", query_times[2]
    );
    println!(
        "{:<40} {:>14.1}",
        "GET /v1/metrics, slowest of 5 (ms)", query_times[4]
    );
    let _ = std::fs::remove_dir_all(directory);
}
