//! The widget's queue of measurement events (SPEC section 6), pure: bounded, cut into batches
//! per endpoint within the collector's limits, failed batches back at the front in order, and
//! the wait before the next send. The widget's `beacons.rs` does the sending.

use std::collections::VecDeque;

use crate::protocol::event_batch_json;

/// Events kept while the endpoint cannot be reached; past it the oldest go first.
pub const MAX_QUEUED: usize = 500;
/// Per batch: the collector takes at most 100 events and 64 KB.
pub const MAX_BATCH_EVENTS: usize = 100;
pub const MAX_BATCH_BYTES: usize = 60 * 1024;
/// The batching window after an event, before the first send.
pub const BATCH_DELAY_MS: u32 = 2_000;
/// Waits after failed sends: 5 s, 10 s, 20 s, ... at most 5 minutes.
pub const RETRY_BASE_MS: u32 = 5_000;
pub const RETRY_MAX_MS: u32 = 300_000;

/// One event, already written as JSON, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub endpoint: String,
    pub json: String,
}

/// Events for one endpoint, sent together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub endpoint: String,
    pub events: Vec<Queued>,
}

impl Batch {
    /// The request body: `{"events":[...]}`.
    pub fn body(&self) -> String {
        event_batch_json(self.events.iter().map(|event| event.json.as_str()))
    }
}

#[derive(Debug, Default)]
pub struct BeaconQueue {
    events: VecDeque<Queued>,
    /// Failed sends in a row, for the backoff.
    failures: u32,
}

impl BeaconQueue {
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Adds an event at the back; the oldest goes when the queue is full.
    pub fn push(&mut self, endpoint: &str, json: String) {
        if self.events.len() >= MAX_QUEUED {
            self.events.pop_front();
        }
        self.events.push_back(Queued {
            endpoint: endpoint.to_owned(),
            json,
        });
    }

    /// Takes the next batch: the oldest event's endpoint, its events in order, at most
    /// [`MAX_BATCH_EVENTS`] and [`MAX_BATCH_BYTES`] of body (one event larger than that still
    /// goes alone: the collector answers for it).
    pub fn take_batch(&mut self) -> Option<Batch> {
        let endpoint = self.events.front()?.endpoint.clone();
        let mut events = Vec::new();
        // `{"events":[` and `]}`.
        let mut bytes = 13;
        let mut index = 0;
        while index < self.events.len() && events.len() < MAX_BATCH_EVENTS {
            let event = &self.events[index];
            if event.endpoint != endpoint {
                index += 1;
                continue;
            }
            let size = event.json.len() + usize::from(!events.is_empty());
            if bytes + size > MAX_BATCH_BYTES && !events.is_empty() {
                break;
            }
            bytes += size;
            events.extend(self.events.remove(index));
        }
        Some(Batch { endpoint, events })
    }

    /// A batch that could not be sent goes back to the front, in its order, as far as the
    /// bound allows (newer events already queued are kept first).
    pub fn put_back(&mut self, batch: Batch) {
        for event in batch.events.into_iter().rev() {
            if self.events.len() >= MAX_QUEUED {
                break;
            }
            self.events.push_front(event);
        }
    }

    /// Drops every event (consent withdrawn).
    pub fn clear(&mut self) {
        self.events.clear();
    }

    /// The endpoint took (or refused for good) the last batch: the backoff starts over.
    pub fn sent(&mut self) {
        self.failures = 0;
    }

    /// The last batch failed (network, timeout, 429, 5xx): the next send waits longer.
    pub fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    /// How long the send task waits before its next batch.
    pub fn next_delay_ms(&self) -> u32 {
        match self.failures {
            0 => BATCH_DELAY_MS,
            failures => RETRY_BASE_MS
                .saturating_mul(1 << (failures - 1).min(16))
                .min(RETRY_MAX_MS),
        }
    }
}

/// Whether a send that got `status` should be tried again later: the answers `fetch` sees
/// for an endpoint that may recover. Other refusals (400, 413, 422) will not change.
pub fn worth_retrying(status: u16) -> bool {
    status == 429 || status == 408 || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(number: usize) -> String {
        format!("{{\"id\":\"e{number}\"}}")
    }

    fn ids(batch: &Batch) -> Vec<String> {
        batch
            .events
            .iter()
            .map(|event| event.json.clone())
            .collect()
    }

    #[test]
    fn batches_keep_order_and_the_collectors_limits() {
        let mut queue = BeaconQueue::default();
        for number in 0..250 {
            queue.push("https://a.example/v1/events", event(number));
        }
        let sizes: Vec<usize> = std::iter::from_fn(|| queue.take_batch())
            .map(|batch| batch.events.len())
            .collect();
        assert_eq!(sizes, [100, 100, 50]);

        let big = "x".repeat(25_000);
        for _ in 0..5 {
            queue.push("https://a.example/v1/events", big.clone());
        }
        let batch = queue.take_batch().unwrap();
        assert_eq!(
            batch.events.len(),
            2,
            "two 25 KB events fit in 60 KB, three do not"
        );
        assert!(batch.body().len() <= MAX_BATCH_BYTES);
        queue.clear();

        let huge = "x".repeat(70_000);
        queue.push("https://a.example/v1/events", huge);
        assert_eq!(
            queue.take_batch().unwrap().events.len(),
            1,
            "alone, still sent"
        );
    }

    #[test]
    fn a_batch_has_one_endpoint_and_the_others_wait_in_order() {
        let mut queue = BeaconQueue::default();
        queue.push("https://a.example/e", event(1));
        queue.push("https://b.example/e", event(2));
        queue.push("https://a.example/e", event(3));
        queue.push("https://b.example/e", event(4));
        let first = queue.take_batch().unwrap();
        assert_eq!(first.endpoint, "https://a.example/e");
        assert_eq!(ids(&first), [event(1), event(3)]);
        let second = queue.take_batch().unwrap();
        assert_eq!(second.endpoint, "https://b.example/e");
        assert_eq!(ids(&second), [event(2), event(4)]);
        assert!(queue.take_batch().is_none());
    }

    #[test]
    fn the_queue_is_bounded_and_a_failed_batch_goes_back_first() {
        let mut queue = BeaconQueue::default();
        for number in 0..MAX_QUEUED + 20 {
            queue.push("e", event(number));
        }
        assert_eq!(queue.len(), MAX_QUEUED);
        let batch = queue.take_batch().unwrap();
        assert_eq!(batch.events[0].json, event(20), "the 20 oldest went");
        queue.push("e", event(9_999));
        queue.put_back(batch.clone());
        assert_eq!(queue.len(), MAX_QUEUED, "still bounded");
        let again = queue.take_batch().unwrap();
        assert_eq!(
            ids(&again)[..99],
            ids(&batch)[1..],
            "the same events, in order, less the oldest that no longer fits"
        );
    }

    #[test]
    fn the_wait_grows_after_failures_and_starts_over_after_a_send() {
        let mut queue = BeaconQueue::default();
        let mut waits = vec![queue.next_delay_ms()];
        for _ in 0..9 {
            queue.failed();
            waits.push(queue.next_delay_ms());
        }
        assert_eq!(
            waits,
            [
                2_000, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000
            ]
        );
        for _ in 0..100 {
            queue.failed();
        }
        assert_eq!(queue.next_delay_ms(), RETRY_MAX_MS);
        queue.sent();
        assert_eq!(queue.next_delay_ms(), BATCH_DELAY_MS);
    }

    #[test]
    fn only_answers_that_may_change_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(worth_retrying(status), "{status}");
        }
        for status in [200, 202, 400, 401, 403, 404, 413, 422] {
            assert!(!worth_retrying(status), "{status}");
        }
    }
}
