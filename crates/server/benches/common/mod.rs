//! The load harness the server benchmarks share: `CONCURRENCY` requests in flight, each
//! timed; throughput and latency percentiles printed as a table row.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests in flight at once.
pub const CONCURRENCY: usize = 16;

pub struct Measurement {
    pub name: String,
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failures: usize,
}

impl Measurement {
    pub fn percentile(&self, fraction: f64) -> Duration {
        let index = ((self.latencies.len() as f64 - 1.0) * fraction).round() as usize;
        self.latencies[index]
    }

    pub fn print(&self) {
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
pub async fn run<F, Fut>(name: impl Into<String>, total: usize, make: F) -> Measurement
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
        name: name.into(),
        requests: total,
        elapsed,
        latencies,
        failures,
    }
}

/// The table's header.
pub fn print_header() {
    println!(
        "{:<34} {:>7} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "endpoint", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "failed"
    );
}
