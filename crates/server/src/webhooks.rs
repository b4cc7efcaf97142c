//! Webhook delivery from the durable outbox: each event is POSTed to the seller's URL with
//! `Mighty-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (core's `sign_webhook`),
//! retried with exponential backoff for 24 hours, every attempt written to the delivery log.
//! Rows are leased before sending so that several instances never send one event twice at
//! once; delivery is at least once, and receivers de-duplicate by the event `id`.

use std::time::{Duration, Instant};

use mighty_core::signing::{SIGNATURE_HEADER, sign_webhook};

use crate::AppState;
use crate::clock::real_now;
use crate::store::PendingDelivery;

/// How long events are retried.
pub const RETRY_WINDOW_SECONDS: i64 = 24 * 60 * 60;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed row is reserved for this instance: one attempt's timeout plus a
/// margin. An instance that dies mid-attempt holds the event no longer than this.
const LEASE_SECONDS: i64 = 15;

/// Seconds to wait after the `attempts`-th failure: 2 s, 4 s, 8 s, ... capped at one hour.
pub fn backoff_seconds(attempts: i64) -> i64 {
    let exponent = attempts.clamp(1, 12) as u32;
    (1_i64 << exponent).min(3600)
}

/// Delivers due events until the process ends; wakes on new events or every second.
pub async fn deliver_forever(state: AppState) {
    let client = match reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook delivery cannot start: no HTTP client");
            return;
        }
    };
    loop {
        match deliver_due(&state, &client).await {
            Ok(0) => state.outbox_wait(Duration::from_secs(1)).await,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "webhook delivery pass failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// One pass: claims due deliveries and sends them. Returns how many were attempted.
pub async fn deliver_due(
    state: &AppState,
    client: &reqwest::Client,
) -> Result<usize, crate::error::AppError> {
    let now = real_now();
    let due = state
        .store(move |store| store.claim_due_deliveries(now, LEASE_SECONDS, 20))
        .await?;
    let count = due.len();
    for delivery in due {
        attempt(state, client, delivery).await?;
    }
    Ok(count)
}

async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    delivery: PendingDelivery,
) -> Result<(), crate::error::AppError> {
    let attempted_at = real_now();
    let signature = sign_webhook(&delivery.secret, attempted_at, delivery.payload.as_bytes());
    let started = Instant::now();
    let result = client
        .post(&delivery.url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header("Mighty-Event-Id", &delivery.event_id)
        .header(
            "User-Agent",
            concat!("Mighty-Webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .body(delivery.payload.clone())
        .send()
        .await;
    let duration_ms = started.elapsed().as_millis() as i64;
    let (status_code, error) = match result {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => (
            Some(response.status().as_u16()),
            Some(format!("the receiver answered {}", response.status())),
        ),
        Err(error) if error.is_timeout() => (
            None,
            Some(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
        ),
        Err(error) => (None, Some(format!("could not connect: {error}"))),
    };
    let delivered = error.is_none();
    let attempts = delivery.attempts + 1;
    let next = attempted_at + backoff_seconds(attempts);
    let next_attempt_at =
        (!delivered && next < delivery.created_at + RETRY_WINDOW_SECONDS).then_some(next);
    if !delivered {
        tracing::info!(event = %delivery.event_id, url = %delivery.url, attempts, error = error.as_deref().unwrap_or(""), "webhook delivery failed; will retry");
    }
    state
        .store(move |store| {
            store.record_delivery_attempt(
                &delivery,
                attempted_at,
                status_code,
                error.as_deref(),
                duration_ms,
                delivered,
                next_attempt_at,
            )
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::backoff_seconds;

    #[test]
    fn backoff_doubles_then_caps_at_an_hour() {
        let waits: Vec<i64> = (1..=14).map(backoff_seconds).collect();
        assert_eq!(
            waits,
            [
                2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600
            ]
        );
    }
}
