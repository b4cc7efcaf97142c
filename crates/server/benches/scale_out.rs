//! Benchmark (not a test): checkout creation and event ingest over real sockets at a fixed
//! concurrency, against three deployments of the real binary: one instance on SQLite, one
//! instance on PostgreSQL, and two instances on one PostgreSQL (requests alternate between
//! them, as a load balancer would). Prints throughput and latency percentiles per deployment.
//! `cargo xtask bench` starts a throwaway PostgreSQL cluster and names it in
//! `MIGHTY_BENCH_DATABASE_URL`; without it only SQLite is measured.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::run;
use serde_json::json;

const SELLER: &str = "msk_bench_seller_token_0123456789";
const SECRET_KEY: &str = "bench-secret-key-0123456789abcdef-0123456";
const CHECKOUTS: usize = 2000;
const EVENT_BATCHES: usize = 2000;
const EVENTS_PER_BATCH: usize = 10;

struct Instance(Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `count` instances on `database`; returns them and their base URLs once ready.
async fn deploy(
    database: &str,
    count: usize,
    root: &std::path::Path,
) -> (Vec<Instance>, Vec<String>) {
    let mut instances = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..count {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_mighty-server"))
            .env("MIGHTY_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database)
            .env("MIGHTY_SECRET_KEY", SECRET_KEY)
            .env("MIGHTY_SELLER_TOKEN", SELLER)
            .env("MIGHTY_ROOT", root)
            .env("MIGHTY_EVENTS_RATE_LIMIT", "1000000")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        instances.push(Instance(child));
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let client = reqwest::Client::new();
    for base in &bases {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            assert!(Instant::now() < deadline, "{base} did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    (instances, bases)
}

async fn measure(label: &str, database: &str, instances: usize, root: &std::path::Path) {
    let (_instances, bases) = deploy(database, instances, root).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(common::CONCURRENCY)
        .build()
        .unwrap();
    let listing = json!({
        "version": 1, "id": "bench", "title": "Benchmark candles", "currency": "EUR",
        "creators": [ { "handle": "ana", "name": "Ana" } ],
        "offers": [ { "id": "trio", "kind": "bundle", "name": "Trio", "price": 2400 } ],
        "drop": { "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z", "inventory": 1000000 },
        "allowed_origins": ["https://d.example"]
    });
    let put = client
        .put(format!("{}/v1/listings/bench", bases[0]))
        .bearer_auth(SELLER)
        .body(listing.to_string())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());

    let checkouts = {
        let (client, bases) = (client.clone(), bases.clone());
        run("POST /v1/checkout/sessions", CHECKOUTS, move |index| {
            let (client, base) = (client.clone(), bases[index % bases.len()].clone());
            async move {
                let body = json!({
                    "listing_id": "bench", "offer_id": "trio", "quantity": 1,
                    "attribution": { "creator": "ana", "token": null, "variant": "ana", "page": "https://d.example/" },
                    "return_url": "https://d.example/?mighty_listing=bench"
                });
                client
                    .post(format!("{base}/v1/checkout/sessions"))
                    .header("Idempotency-Key", format!("bench-{index}"))
                    .header("Origin", "https://d.example")
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|response| response.status() == 201)
            }
        })
        .await
    };
    let now = mighty_core::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .to_rfc3339();
    let ingest = {
        let (client, bases) = (client.clone(), bases.clone());
        run(
            format!("POST /v1/events ({EVENTS_PER_BATCH} per batch)"),
            EVENT_BATCHES,
            move |index| {
                let (client, base) = (client.clone(), bases[index % bases.len()].clone());
                let events: Vec<_> = (0..EVENTS_PER_BATCH)
                    .map(|event| json!({ "id": format!("e-{index}-{event}"), "type": "view", "listing_id": "bench",
                        "creator": "ana", "variant": "ana", "visitor_id": format!("v-{index}"), "at": now }))
                    .collect();
                let batch = json!({ "events": events }).to_string();
                async move {
                    client
                        .post(format!("{base}/v1/events"))
                        .header("Origin", "https://d.example")
                        .header("Content-Type", "text/plain")
                        .body(batch)
                        .send()
                        .await
                        .is_ok_and(|response| response.status().is_success())
                }
            },
        )
        .await
    };
    println!("\n{label}");
    common::print_header();
    checkouts.print();
    ingest.print();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let root = std::env::temp_dir().join(format!("mighty-bench-scale-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    println!(
        "checkout creation and event ingest over real sockets, {} requests in flight",
        common::CONCURRENCY
    );
    let sqlite = format!("sqlite:{}", root.join("bench.db").display());
    measure("one instance, SQLite (WAL)", &sqlite, 1, &root).await;
    match std::env::var("MIGHTY_BENCH_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            for (label, instances) in [
                ("one instance, PostgreSQL", 1),
                ("two instances, one PostgreSQL", 2),
            ] {
                let name = format!("mighty_bench_{instances}_{}", std::process::id());
                let admin = admin.clone();
                let database = tokio::task::spawn_blocking(move || {
                    mighty_server::store::create_postgres_database(&admin, &name)
                })
                .await
                .unwrap()
                .unwrap();
                measure(label, &database, instances, &root).await;
            }
        }
        _ => println!(
            "\n(PostgreSQL not measured: set MIGHTY_BENCH_DATABASE_URL, as cargo xtask bench does)"
        ),
    }
    let _ = std::fs::remove_dir_all(root);
}
