//! An independent webhook receiver for tests: a real HTTP server on a loopback port that
//! records every delivery, can fail the first N on purpose and can answer slowly.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Debug, Clone)]
pub struct Delivery {
    pub signature: String,
    pub event_id_header: String,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The delivery against the description's `webhooks` entry of its type: the body's
    /// schema, and the signature and event id headers it declares.
    pub fn check_described(&self) -> Result<(), String> {
        let description = super::described::description(&mighty_server::config::Mode::Sandbox);
        let event: serde_json::Value = serde_json::from_slice(&self.body)
            .map_err(|error| format!("the body is not JSON: {error}"))?;
        let event_type = event["type"].as_str().unwrap_or_default();
        let webhook = &description.document["webhooks"][event_type]["post"];
        if webhook.is_null() {
            return Err(format!("the event type {event_type:?} is not described"));
        }
        let schema = &webhook["requestBody"]["content"]["application/json"]["schema"];
        description
            .validate(schema, &event)
            .map_err(|errors| format!("{event_type}:\n{errors}\nbody: {event}"))?;
        if self.signature.is_empty()
            || self.event_id_header != event["id"].as_str().unwrap_or_default()
        {
            return Err(format!(
                "{event_type}: the Mighty-Signature or Mighty-Event-Id header is missing or wrong"
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
    failures_left: Arc<Mutex<u32>>,
    delay: Arc<Mutex<Duration>>,
}

impl Receiver {
    /// Every delivery so far; each must be what the server's OpenAPI description says of
    /// its event type (`webhooks`), or the test fails naming the difference.
    pub fn received(&self) -> Vec<Delivery> {
        let deliveries = self.deliveries.lock().unwrap().clone();
        for delivery in &deliveries {
            if let Err(difference) = delivery.check_described() {
                panic!("a webhook delivery is not as the OpenAPI description says: {difference}");
            }
        }
        deliveries
    }

    pub fn types(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|delivery| delivery.json()["type"].as_str().unwrap().to_string())
            .collect()
    }

    /// Makes every later delivery wait `delay` before it is answered (and recorded).
    pub fn answer_after(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delay = *receiver.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    {
        let mut failures = receiver.failures_left.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    receiver.deliveries.lock().unwrap().push(Delivery {
        signature: header("mighty-signature"),
        event_id_header: header("mighty-event-id"),
        body: body.to_vec(),
    });
    StatusCode::NO_CONTENT
}

/// Starts a receiver on `address` (port 0 for any); fails the first `failures` deliveries.
pub async fn start(address: SocketAddr, failures: u32) -> (Receiver, SocketAddr) {
    let receiver = Receiver {
        deliveries: Arc::default(),
        failures_left: Arc::new(Mutex::new(failures)),
        delay: Arc::default(),
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let bound = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, bound)
}
