//! Throttling of token guesses: at most [`LIMIT`] failed attempts (a wrong seller token, a
//! wrong customer token) per client address in [`WINDOW`]; past that, every attempt from the
//! address, even with a correct token, is `429 rate_limited` with `Retry-After` (the seconds
//! until the oldest failure leaves the window).
//!
//! The count lives in this instance's memory: each instance of a deployment counts on its
//! own, and a restart forgets. The address is the TCP peer's (`ConnectInfo`); behind a proxy
//! every client shares the proxy's address (`X-Forwarded-For` is not trusted: anyone can
//! send it).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tokio::time::Instant;

use crate::error::AppError;

/// Failed attempts allowed per address in a window.
pub const LIMIT: usize = 10;
/// The sliding window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many addresses, expired ones are dropped before a new one is counted.
const PRUNE_ABOVE: usize = 10_000;

/// The client address a request came from: the TCP peer, or (a request without
/// `ConnectInfo`, as in tests driving the router without a socket) the unspecified address,
/// which all such requests share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The key of requests without a peer address.
    pub const UNKNOWN: ClientAddress = ClientAddress(IpAddr::V4(Ipv4Addr::UNSPECIFIED));

    pub fn of(parts: &Parts) -> ClientAddress {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(ClientAddress::UNKNOWN, |ConnectInfo(address)| {
                ClientAddress(address.ip())
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(parts))
    }
}

/// The failed attempts of each address within the window.
#[derive(Default)]
pub struct FailedAttempts {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl FailedAttempts {
    /// `Ok` when `client` may try a token now; `429 rate_limited` when it already failed
    /// [`LIMIT`] times within the window.
    pub fn check(&self, client: ClientAddress) -> Result<(), AppError> {
        let now = Instant::now();
        let mut failures = self.lock();
        let Some(times) = failures.get_mut(&client.0) else {
            return Ok(());
        };
        expire(times, now);
        if times.len() < LIMIT {
            if times.is_empty() {
                failures.remove(&client.0);
            }
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = (oldest + WINDOW).saturating_duration_since(now);
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Err(AppError::RateLimited {
            message: format!(
                "too many wrong tokens from this address ({LIMIT} a minute at most); try again in {} s",
                seconds.max(1)
            ),
            retry_after_seconds: seconds.max(1),
        })
    }

    /// Counts a wrong token from `client`.
    pub fn record_failure(&self, client: ClientAddress) {
        let now = Instant::now();
        let mut failures = self.lock();
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
        }
        let times = failures.entry(client.0).or_default();
        expire(times, now);
        times.push_back(now);
        while times.len() > LIMIT {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
        // The map stays consistent whatever a panicking holder did: take it back.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn expire(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(last: u8) -> ClientAddress {
        ClientAddress(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
    }

    #[tokio::test(start_paused = true)]
    async fn ten_failures_a_minute_then_429_until_the_oldest_leaves_the_window() {
        let attempts = FailedAttempts::default();
        let (client, other) = (address(1), address(2));
        for _ in 0..LIMIT {
            assert!(attempts.check(client).is_ok());
            attempts.record_failure(client);
            tokio::time::advance(Duration::from_secs(2)).await;
        }
        // Ten failures at 0, 2, ..., 18 s; now is 20 s: the first leaves the window at 60 s.
        match attempts.check(client) {
            Err(AppError::RateLimited {
                retry_after_seconds,
                ..
            }) => assert_eq!(retry_after_seconds, 40),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(attempts.check(other).is_ok(), "another address is not held");
        tokio::time::advance(Duration::from_secs(39)).await;
        assert!(attempts.check(client).is_err());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(
            attempts.check(client).is_ok(),
            "one failure left the window"
        );
        attempts.record_failure(client);
        assert!(
            attempts.check(client).is_err(),
            "ten in the last minute again"
        );
    }

    #[test]
    fn requests_without_a_peer_share_one_key() {
        let request = axum::http::Request::new(());
        let (parts, ()) = request.into_parts();
        assert_eq!(ClientAddress::of(&parts), ClientAddress::UNKNOWN);
        let mut request = axum::http::Request::new(());
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([198, 51, 100, 7], 4000))));
        let (parts, ()) = request.into_parts();
        assert_eq!(
            ClientAddress::of(&parts).0,
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7))
        );
    }
}
