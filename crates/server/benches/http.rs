//! Benchmark (not a test): listing reads and checkout-session creation over a real socket at a
//! fixed concurrency, against the SQLite store. Prints throughput and latency percentiles.
//! Run with `cargo xtask bench` (or `cargo bench -p mighty-server --bench http`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mighty_server::config::TEST_SELLER_TOKEN;
use mighty_server::store::DatabaseUrl;
use mighty_server::{AppState, Config, app};
use serde_json::json;

const CONCURRENCY: usize = 16;
const LISTING_READS: usize = 4000;
const CHECKOUTS: usize = 2000;

struct Measurement {
    name: &'static str,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failures: usize,
}

impl Measurement {
    fn percentile(&self, fraction: f64) -> Duration {
        let index = ((self.latencies.len() as f64 - 1.0) * fraction).round() as usize;
        self.latencies[index]
    }

    fn print(&self) {
        println!(
            "{:<34} {:>7} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>8}",
            self.name,
            self.requests,
            self.requests as f64 / self.elapsed.as_secs_f64(),
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
            self.latencies.last().unwrap().as_secs_f64() * 1000.0,
            self.failures
        );
    }
}

/// Runs `total` requests made by `make(index)` with `CONCURRENCY` in flight.
async fn run<F, Fut>(name: &'static str, total: usize, make: F) -> Measurement
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (make, next) = (make.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0;
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index >= total {
                        break;
                    }
                    let begun = Instant::now();
                    if !make(index).await {
                        failures += 1;
                    }
                    latencies.push(begun.elapsed());
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    for worker in workers {
        let (mut worker_latencies, worker_failures) = worker.await.unwrap();
        latencies.append(&mut worker_latencies);
        failures += worker_failures;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Measurement {
        name,
        requests: total,
        elapsed,
        latencies,
        failures,
    }
}

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
    println!(
        "{:<34} {:>7} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "endpoint", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "failed"
    );
    reads.print();
    checkouts.print();
    let _ = std::fs::remove_dir_all(directory);
}
