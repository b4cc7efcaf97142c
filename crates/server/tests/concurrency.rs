//! Stock and idempotency under concurrency: 200 parallel checkouts against a drop of 50, and
//! a retry storm on one key.

mod support;

use axum::http::StatusCode;
use support::{TestServer, listing};

async fn drop_of_fifty() -> TestServer {
    let server = TestServer::new().await;
    let now = server.state.now().0;
    let (starts, ends) = (
        mighty_core::Timestamp(now - 60).to_rfc3339(),
        mighty_core::Timestamp(now + 86_400).to_rfc3339(),
    );
    let response = server
        .put_listing(
            "candle-trio",
            listing("candle-trio", Some((&starts, &ends, 50))),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_checkouts_against_fifty_units() {
    let server = std::sync::Arc::new(drop_of_fifty().await);
    let tasks: Vec<_> = (0..200)
        .map(|index| {
            let server = server.clone();
            tokio::spawn(async move {
                server
                    .checkout(
                        &format!("shopper-{index}"),
                        &TestServer::checkout_body("trio", None, 1),
                    )
                    .await
            })
        })
        .collect();
    let (mut created, mut sold_out, mut other) = (0, 0, Vec::new());
    for task in tasks {
        let response = task.await.unwrap();
        match (response.status, response.error_code().as_str()) {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, "sold_out") => sold_out += 1,
            (status, _) => other.push(format!("{status}: {}", response.text())),
        }
    }
    assert!(other.is_empty(), "{other:?}");
    assert_eq!((created, sold_out), (50, 150));
    assert_eq!(
        server.get("/v1/listings/candle-trio").await.json()["drop"]["remaining"],
        0
    );

    // Expiry returns every unpaid unit.
    let advanced = server.advance_clock(31 * 60).await.json();
    assert_eq!(advanced["expired_sessions"], 50);
    assert_eq!(
        server.get("/v1/listings/candle-trio").await.json()["drop"]["remaining"],
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_storm_on_one_key_makes_one_session() {
    let server = std::sync::Arc::new(drop_of_fifty().await);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                server
                    .checkout("one-intent", &TestServer::checkout_body("trio", None, 1))
                    .await
            })
        })
        .collect();
    let mut sessions = std::collections::HashSet::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        sessions.insert(response.json()["session_id"].as_str().unwrap().to_string());
    }
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        server.get("/v1/listings/candle-trio").await.json()["drop"]["remaining"],
        49,
        "one unit reserved, once"
    );
}
