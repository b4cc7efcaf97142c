//! Measurement beacons (SPEC section 6): the card's events, queued for the host's
//! `data-mighty-events` endpoint and sent in batches.
//!
//! - Batches leave 2 s after their first event, as `text/plain` JSON with `fetch` and
//!   `keepalive` (a CORS "simple" request: no preflight), at most 100 events and 60 KB each
//!   (the collector takes 100 and 64 KB).
//! - When the page is hidden or left (`visibilitychange` to hidden, `pagehide`), everything
//!   queued goes with `navigator.sendBeacon` at once.
//! - A failed batch (network, timeout, 429, 5xx: what `fetch` can see and a beacon cannot)
//!   goes back to the front of the queue and is retried later, with the same event ids, so
//!   the collector counts it once. Any other refusal is logged once and the batch dropped:
//!   retrying cannot fix it.
//! - The queue is bounded: past 500 events the oldest go first.
//! - Nothing here can block the page: sending is a task of its own, errors are swallowed.
//!
//! One queue for the page, shared by every widget (each event carries its endpoint).

use std::cell::RefCell;
use std::collections::VecDeque;

use mighty_core::protocol::{MeasurementEvent, event_batch_json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::http::{FetchFailure, sleep};

/// Events kept while the endpoint cannot be reached.
const MAX_QUEUED: usize = 500;
/// Per batch: the collector's limits are 100 events and 64 KB.
const MAX_BATCH_EVENTS: usize = 100;
const MAX_BATCH_BYTES: usize = 60 * 1024;
/// The batching window after an event.
const BATCH_DELAY_MS: u32 = 2_000;
/// Waits after failures: 5 s, 10 s, 20 s, ... up to 5 minutes.
const RETRY_BASE_MS: u32 = 5_000;
const RETRY_MAX_MS: u32 = 300_000;
const SEND_TIMEOUT_MS: u32 = 10_000;

struct Queued {
    endpoint: String,
    json: String,
}

#[derive(Default)]
struct Queue {
    events: VecDeque<Queued>,
    /// A send task is waiting or sending: new events join its next batch.
    task_running: bool,
    /// Failed sends in a row, for the backoff.
    failures: u32,
    page_hide_listener: Option<Closure<dyn FnMut(web_sys::Event)>>,
    /// The collector refused a batch: said once on the console.
    refusal_logged: bool,
}

thread_local! {
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
}

/// Queues one event for `endpoint` and makes sure a send follows.
pub fn record(endpoint: &str, event: &MeasurementEvent) {
    let start_task = QUEUE.with_borrow_mut(|queue| {
        if queue.page_hide_listener.is_none() {
            queue.page_hide_listener = listen_for_page_hide();
        }
        if queue.events.len() >= MAX_QUEUED {
            queue.events.pop_front();
        }
        queue.events.push_back(Queued {
            endpoint: endpoint.to_owned(),
            json: event.to_json(),
        });
        !std::mem::replace(&mut queue.task_running, true)
    });
    if start_task {
        crate::spawn(send_queued());
    }
}

/// Drops every queued event (`Mighty.consent(false)`).
pub fn clear() {
    QUEUE.with_borrow_mut(|queue| queue.events.clear());
}

/// Takes the next batch off the queue: the first event's endpoint, in order, within the limits.
fn take_batch(queue: &mut Queue) -> Option<(String, Vec<Queued>)> {
    let endpoint = queue.events.front()?.endpoint.clone();
    let mut batch = Vec::new();
    let mut bytes = 0;
    let mut index = 0;
    while index < queue.events.len() && batch.len() < MAX_BATCH_EVENTS {
        let event = &queue.events[index];
        if event.endpoint != endpoint {
            index += 1;
            continue;
        }
        if bytes + event.json.len() + 1 > MAX_BATCH_BYTES && !batch.is_empty() {
            break;
        }
        bytes += event.json.len() + 1;
        batch.extend(queue.events.remove(index));
    }
    Some((endpoint, batch))
}

fn body_of(batch: &[Queued]) -> String {
    event_batch_json(batch.iter().map(|event| event.json.as_str()))
}

/// The send task: waits for the batching window (or the backoff), sends batches until the
/// queue is empty, and ends.
async fn send_queued() {
    loop {
        let failures = QUEUE.with_borrow(|queue| queue.failures);
        let wait = if failures == 0 {
            BATCH_DELAY_MS
        } else {
            RETRY_BASE_MS
                .saturating_mul(1 << (failures - 1).min(6))
                .min(RETRY_MAX_MS)
        };
        sleep(wait).await;
        let Some((endpoint, batch)) = QUEUE.with_borrow_mut(take_batch) else {
            QUEUE.with_borrow_mut(|queue| queue.task_running = false);
            return;
        };
        let body = body_of(&batch);
        let answer = send(&endpoint, &body).await;
        QUEUE.with_borrow_mut(|queue| match answer {
            Ok(status) if (200..300).contains(&status) => queue.failures = 0,
            Ok(status) if status != 429 && status < 500 => {
                queue.failures = 0;
                if !std::mem::replace(&mut queue.refusal_logged, true) {
                    web_sys::console::warn_1(
                        &format!("Mighty: the events endpoint {endpoint} refused a batch ({status}); those events are dropped").into(),
                    );
                }
            }
            _ => {
                queue.failures = queue.failures.saturating_add(1);
                // Back to the front, in order; the oldest go if the queue is full.
                for event in batch.into_iter().rev() {
                    if queue.events.len() >= MAX_QUEUED {
                        break;
                    }
                    queue.events.push_front(event);
                }
            }
        });
    }
}

/// One batch with `fetch`: `text/plain` (no preflight), `keepalive` (it outlives the page),
/// no cookies. The status, or why there is none.
async fn send(endpoint: &str, body: &str) -> Result<u16, FetchFailure> {
    let answer = crate::http::fetch_with(
        "POST",
        endpoint,
        &[],
        Some(("text/plain;charset=UTF-8", body)),
        true,
        SEND_TIMEOUT_MS,
    )
    .await?;
    Ok(answer.status)
}

/// Everything queued, with `navigator.sendBeacon`: the page is being hidden or left. What the
/// browser does not take stays queued for a later send, if the page comes back.
fn flush_with_beacons() {
    let Some(navigator) = web_sys::window().map(|window| window.navigator()) else {
        return;
    };
    QUEUE.with_borrow_mut(|queue| {
        while let Some((endpoint, batch)) = take_batch(queue) {
            if navigator
                .send_beacon_with_opt_str(&endpoint, Some(&body_of(&batch)))
                .unwrap_or(false)
            {
                continue;
            }
            for event in batch.into_iter().rev() {
                queue.events.push_front(event);
            }
            break;
        }
    });
}

fn listen_for_page_hide() -> Option<Closure<dyn FnMut(web_sys::Event)>> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let hidden = event.type_() == "pagehide"
            || web_sys::window()
                .and_then(|window| window.document())
                .is_some_and(|document| {
                    document.visibility_state() == web_sys::VisibilityState::Hidden
                });
        if hidden {
            flush_with_beacons();
        }
    });
    let callback = listener.as_ref().unchecked_ref();
    let _ = window.add_event_listener_with_callback("pagehide", callback);
    let _ = document.add_event_listener_with_callback("visibilitychange", callback);
    Some(listener)
}

/// The event's time, RFC 3339 in UTC with milliseconds.
pub fn now_rfc3339() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}
