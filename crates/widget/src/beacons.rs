//! Measurement beacons (SPEC section 6): the card's events, queued for the host's
//! `data-mighty-events` endpoint and sent in batches.
//!
//! - Batches leave 2 s after their first event, as `text/plain` JSON with `fetch` and
//!   `keepalive` (a CORS "simple" request: no preflight), at most 100 events and 60 KB each
//!   (the collector takes 100 and 64 KB). Core's `beacon_queue` holds the queue's rules.
//! - When the page is hidden or left (`visibilitychange` to hidden, `pagehide`), everything
//!   queued goes with `navigator.sendBeacon` at once, and so does a batch still in flight
//!   (its `fetch` may not outlive the page; the collector de-duplicates by event id).
//! - A failed batch (network, timeout, 429, 5xx: what `fetch` can see and a beacon cannot)
//!   goes back to the front of the queue and is retried later, with the same event ids, so
//!   the collector counts it once. Any other refusal is logged once and the batch dropped:
//!   retrying cannot fix it.
//! - The queue is bounded: past 500 events the oldest go first.
//! - Nothing here can block the page: sending is a task of its own, errors are swallowed.
//!
//! One queue for the page, shared by every widget (each event carries its endpoint).

use std::cell::RefCell;

use mighty_core::beacon_queue::{BeaconQueue, worth_retrying};
use mighty_core::protocol::MeasurementEvent;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::http::{FetchFailure, sleep};

const SEND_TIMEOUT_MS: u32 = 10_000;

#[derive(Default)]
struct Beacons {
    queue: BeaconQueue,
    /// A send task is waiting or sending: new events join its next batch.
    task_running: bool,
    /// The batch `fetch` is sending (endpoint, body), until it answers: a page hide sends it
    /// again by beacon, once.
    in_flight: Option<(String, String)>,
    page_hide_listener: Option<Closure<dyn FnMut(web_sys::Event)>>,
    /// The collector refused a batch: said once on the console.
    refusal_logged: bool,
}

thread_local! {
    static BEACONS: RefCell<Beacons> = RefCell::new(Beacons::default());
}

/// Queues one event for `endpoint` and makes sure a send follows.
pub fn record(endpoint: &str, event: &MeasurementEvent) {
    let start_task = BEACONS.with_borrow_mut(|beacons| {
        if beacons.page_hide_listener.is_none() {
            beacons.page_hide_listener = listen_for_page_hide();
        }
        beacons.queue.push(endpoint, event.to_json());
        !std::mem::replace(&mut beacons.task_running, true)
    });
    if start_task {
        crate::spawn(send_queued());
    }
}

/// Drops every queued event (`Mighty.consent(false)`).
pub fn clear() {
    BEACONS.with_borrow_mut(|beacons| beacons.queue.clear());
}

/// The send task: waits for the batching window (or the backoff), sends batches until the
/// queue is empty, and ends.
async fn send_queued() {
    loop {
        sleep(BEACONS.with_borrow(|beacons| beacons.queue.next_delay_ms())).await;
        let Some((batch, body)) = BEACONS.with_borrow_mut(|beacons| {
            let batch = beacons.queue.take_batch();
            beacons.task_running = batch.is_some();
            let batch = batch?;
            let body = batch.body();
            beacons.in_flight = Some((batch.endpoint.clone(), body.clone()));
            Some((batch, body))
        }) else {
            return;
        };
        let answer = send(&batch.endpoint, &body).await;
        BEACONS.with_borrow_mut(|beacons| {
            beacons.in_flight = None;
            match answer {
                Ok(status) if !worth_retrying(status) => {
                    beacons.queue.sent();
                    if !(200..300).contains(&status)
                        && !std::mem::replace(&mut beacons.refusal_logged, true)
                    {
                        web_sys::console::warn_1(
                            &format!(
                                "Mighty: {} refused a batch of events ({status}); they are dropped",
                                batch.endpoint
                            )
                            .into(),
                        );
                    }
                }
                _ => {
                    beacons.queue.failed();
                    beacons.queue.put_back(batch);
                }
            }
        });
    }
}

/// One batch with `fetch`: `text/plain` (no preflight), `keepalive` (it outlives the page).
/// The status, or why there is none.
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
/// browser does not take stays queued for a later send, if the page comes back. A batch in
/// flight goes too: if its `fetch` also arrives, the collector keeps one copy.
fn flush_with_beacons() {
    let Some(navigator) = web_sys::window().map(|window| window.navigator()) else {
        return;
    };
    BEACONS.with_borrow_mut(|beacons| {
        if let Some((endpoint, body)) = beacons.in_flight.take() {
            let _ = navigator.send_beacon_with_opt_str(&endpoint, Some(&body));
        }
        while let Some(batch) = beacons.queue.take_batch() {
            let taken = navigator
                .send_beacon_with_opt_str(&batch.endpoint, Some(&batch.body()))
                .unwrap_or(false);
            if !taken {
                beacons.queue.put_back(batch);
                break;
            }
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
