//! Webhook delivery from the durable outbox: each event is POSTed to the seller's URL with
//! `Mighty-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (core's `sign_webhook`),
//! retried with exponential backoff for 24 hours, every attempt written to the delivery log.
//! Rows are leased before sending so that several instances never send one event twice at
//! once; delivery is at least once, and receivers de-duplicate by the event `id`.
//!
//! Attempts run concurrently, at most [`PER_ENDPOINT_IN_FLIGHT`] per endpoint and
//! [`IN_FLIGHT`] in all, so that one slow receiver cannot delay other sellers' webhooks.
//! Under [`WebhookDestinations::PublicOnly`] (live mode) only public addresses are reached:
//! IP literals are checked before sending, names on the addresses the resolver hands to the
//! connector (so a name that changes its answer after registration is caught too), and
//! redirects are never followed. What the delivery log and the logs say stays coarse: never
//! the resolver's or the OS's words, never a resolved address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mighty_core::signing::{SIGNATURE_HEADER, sign_webhook};
use tokio::task::JoinSet;

use crate::AppState;
use crate::clock::real_now;
use crate::config::WebhookDestinations;
use crate::error::AppError;
use crate::store::PendingDelivery;

/// How long events are retried.
pub const RETRY_WINDOW_SECONDS: i64 = 24 * 60 * 60;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed row is reserved for this instance: one attempt's timeout plus a
/// margin. An instance that dies mid-attempt holds the event no longer than this. Rows are
/// claimed only when their attempt can start at once (within the bounds below), so the lease
/// covers the attempt.
const LEASE_SECONDS: i64 = 15;
const _: () = assert!(
    LEASE_SECONDS as u64 >= ATTEMPT_TIMEOUT.as_secs() + 5,
    "the lease must outlast an attempt"
);
/// Attempts in flight to one endpoint at most (per instance): a slow receiver holds this
/// many and no more. Events of one endpoint may therefore arrive out of order.
pub const PER_ENDPOINT_IN_FLIGHT: usize = 4;
/// Attempts in flight at most, all endpoints together (per instance).
pub const IN_FLIGHT: usize = 64;
/// The delivery log's words when a destination is refused.
pub const NOT_ALLOWED: &str = "destination not allowed";

/// Seconds to wait after the `attempts`-th failure: 2 s, 4 s, 8 s, ... capped at one hour.
pub fn backoff_seconds(attempts: i64) -> i64 {
    let exponent = attempts.clamp(1, 12) as u32;
    (1_i64 << exponent).min(3600)
}

/// Whether `address` is on the public internet. Refused: unspecified, "this network"
/// (0.0.0.0/8), private (10/8, 172.16/12, 192.168/16), shared (100.64/10, CGNAT), loopback,
/// link-local, IETF protocol assignments (192.0.0.0/24), documentation, benchmarking
/// (198.18/15), multicast, reserved (240/4) and broadcast; in IPv6 `::`, `::1`, the
/// deprecated IPv4-compatible `::/96`, discard-only `100::/64`, Teredo, documentation,
/// unique local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10), multicast
/// (ff00::/8) and local-use NAT64 (64:ff9b:1::/48). IPv4-mapped (`::ffff:0:0/96`), NAT64
/// (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are judged by the IPv4 address they carry.
pub fn is_public_address(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(address) => is_public_v4(address),
        IpAddr::V6(address) => is_public_v6(address),
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    let refused = a == 0
        || a == 10
        || (a == 100 && (64..128).contains(&b))
        || a == 127
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224;
    !refused
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let s = address.segments();
    let carried = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = address.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(carried(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(carried(s[1], s[2]));
    }
    let refused = s[..6] == [0; 6]
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
        || s[..4] == [0x100, 0, 0, 0]
        || (s[0] == 0x2001 && (s[1] == 0 || s[1] == 0xdb8))
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] & 0xff00) == 0xff00;
    !refused
}

/// Whether `url`'s host is an IP literal off the public internet. The resolver never sees
/// IP literals, so they are checked before sending.
fn is_private_literal(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => !is_public_address(address.into()),
        Some(url::Host::Ipv6(address)) => !is_public_address(address.into()),
        Some(url::Host::Domain(_)) => false,
        None => true,
    }
}

/// Registration's check under [`WebhookDestinations::PublicOnly`]: an IP literal off the
/// public internet, or `localhost` (and `*.localhost`). Other names are checked on every
/// delivery, on the addresses actually connected to.
pub fn is_refused_at_registration(url: &url::Url) -> bool {
    let localhost = |name: &str| {
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        name == "localhost" || name.ends_with(".localhost")
    };
    is_private_literal(url)
        || matches!(url.host(), Some(url::Host::Domain(name)) if localhost(name))
}

/// A resolver's refusal: every address of the name is off the public internet.
#[derive(Debug)]
struct DestinationNotAllowed;

impl std::fmt::Display for DestinationNotAllowed {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(NOT_ALLOWED)
    }
}

impl std::error::Error for DestinationNotAllowed {}

/// Resolves with tokio (the system's resolver) and keeps only public addresses: the
/// connector never sees another, whatever the name answers at delivery time.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|address| is_public_address(address.ip()))
                .collect();
            if public.is_empty() && !resolved.is_empty() {
                return Err(Box::new(DestinationNotAllowed) as _);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client deliveries use: 10 s per attempt, no redirects; under
/// [`WebhookDestinations::PublicOnly`] the public-only resolver and no proxy (a proxy would
/// connect on our behalf, past the check).
pub fn delivery_client(destinations: WebhookDestinations) -> Result<reqwest::Client, String> {
    let builder = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    let builder = match destinations {
        WebhookDestinations::AnyAddress => builder,
        WebhookDestinations::PublicOnly => builder
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnlyResolver)),
    };
    builder.build().map_err(|error| error.to_string())
}

/// Delivers due events until the process ends: claims what is due within the bounds, starts
/// one task per attempt, and claims again when an attempt ends, a new event arrives, or
/// every second.
pub async fn deliver_forever(state: AppState) {
    let client = match delivery_client(state.config().webhook_destinations) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook delivery cannot start: no HTTP client");
            return;
        }
    };
    let mut dispatcher = Dispatcher::new(client);
    loop {
        dispatcher.reap_finished();
        let room = dispatcher.room();
        match dispatcher.start_due(&state).await {
            // Every free place was taken: more may be due.
            Ok(started) if started > 0 && started == room => continue,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "webhook delivery pass failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        tokio::select! {
            Some(finished) = dispatcher.tasks.join_next(), if !dispatcher.tasks.is_empty() => {
                report(finished);
            }
            () = state.outbox_wait(Duration::from_secs(1)) => {}
        }
    }
}

/// One pass (tests, tools): claims what is due within the bounds, runs those attempts
/// concurrently and waits for them. Returns how many were attempted.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> Result<usize, AppError> {
    let mut dispatcher = Dispatcher::new(client.clone());
    let started = dispatcher.start_due(state).await?;
    let mut failure = None;
    while let Some(finished) = dispatcher.tasks.join_next().await {
        match finished {
            Ok(Ok(())) => {}
            Ok(Err(error)) => failure = Some(error),
            Err(error) => failure = Some(AppError::Internal(format!("delivery task: {error}"))),
        }
    }
    failure.map_or(Ok(started), Err)
}

/// Logs what a finished attempt task could not do (record its attempt, or a panic).
fn report(finished: Result<Result<(), AppError>, tokio::task::JoinError>) {
    match finished {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "webhook delivery attempt not recorded"),
        Err(error) => tracing::error!(%error, "webhook delivery task failed"),
    }
}

/// Attempts in flight on this instance, by endpoint.
#[derive(Clone, Default)]
struct InFlight(Arc<Mutex<HashMap<String, usize>>>);

impl InFlight {
    fn counts(&self) -> HashMap<String, usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Takes a place for `endpoint`, given back when the returned guard drops (also when
    /// the attempt panics).
    fn take(&self, endpoint: &str) -> Place {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(endpoint.to_string())
            .or_default() += 1;
        Place {
            in_flight: self.clone(),
            endpoint: endpoint.to_string(),
        }
    }
}

struct Place {
    in_flight: InFlight,
    endpoint: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut counts = self
            .in_flight
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.endpoint) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.endpoint);
            }
        }
    }
}

/// Starts attempts as tasks within the bounds.
struct Dispatcher {
    client: reqwest::Client,
    in_flight: InFlight,
    tasks: JoinSet<Result<(), AppError>>,
}

impl Dispatcher {
    fn new(client: reqwest::Client) -> Dispatcher {
        Dispatcher {
            client,
            in_flight: InFlight::default(),
            tasks: JoinSet::new(),
        }
    }

    fn reap_finished(&mut self) {
        while let Some(finished) = self.tasks.try_join_next() {
            report(finished);
        }
    }

    /// How many more attempts may start now.
    fn room(&self) -> usize {
        IN_FLIGHT.saturating_sub(self.in_flight.counts().values().sum())
    }

    /// Claims due rows (none for an endpoint already at its bound) and starts their
    /// attempts. Returns how many started.
    async fn start_due(&mut self, state: &AppState) -> Result<usize, AppError> {
        let busy = self.in_flight.counts();
        let room = IN_FLIGHT.saturating_sub(busy.values().sum());
        if room == 0 {
            return Ok(0);
        }
        let now = real_now();
        let due = state
            .store(move |store| {
                store.claim_due_deliveries(now, LEASE_SECONDS, room, PER_ENDPOINT_IN_FLIGHT, &busy)
            })
            .await?;
        let started = due.len();
        for delivery in due {
            let place = self.in_flight.take(&delivery.endpoint_id);
            let (state, client) = (state.clone(), self.client.clone());
            self.tasks.spawn(async move {
                let result = attempt(&state, &client, delivery).await;
                drop(place);
                result
            });
        }
        Ok(started)
    }
}

/// Whether `error` (or what caused it) is the resolver's refusal.
fn is_refusal(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<DestinationNotAllowed>() {
            return true;
        }
        current = error.source();
    }
    false
}

async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    delivery: PendingDelivery,
) -> Result<(), AppError> {
    let attempted_at = real_now();
    // Endpoints registered before secrets were derived keep their stored secret.
    let secret = if delivery.secret.is_empty() {
        state.secrets().webhook_secret(&delivery.endpoint_id)
    } else {
        delivery.secret.clone()
    };
    let signature = sign_webhook(&secret, attempted_at, delivery.payload.as_bytes());
    let started = Instant::now();
    let allowed = match state.config().webhook_destinations {
        WebhookDestinations::AnyAddress => true,
        WebhookDestinations::PublicOnly => {
            url::Url::parse(&delivery.url).is_ok_and(|url| !is_private_literal(&url))
        }
    };
    // `Err(None)`: refused before sending; `Err(Some(_))`: the client's error.
    let result = if !allowed {
        Err(None)
    } else {
        client
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
            .await
            .map_err(Some)
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    // Coarse on purpose: the status code, or one of four sentences.
    let (status_code, error) = match result {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => (
            Some(response.status().as_u16()),
            Some(format!(
                "the receiver answered {}",
                response.status().as_u16()
            )),
        ),
        Err(None) => (None, Some(NOT_ALLOWED.to_string())),
        Err(Some(error)) if is_refusal(&error) => (None, Some(NOT_ALLOWED.to_string())),
        Err(Some(error)) if error.is_timeout() => (
            None,
            Some(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
        ),
        Err(Some(_)) => (None, Some("could not connect".to_string())),
    };
    let delivered = error.is_none();
    let attempts = delivery.attempts + 1;
    let next = attempted_at + backoff_seconds(attempts);
    let next_attempt_at =
        (!delivered && next < delivery.created_at + RETRY_WINDOW_SECONDS).then_some(next);
    if !delivered {
        tracing::info!(event = %delivery.event_id, endpoint = %delivery.endpoint_id, attempts, error = error.as_deref().unwrap_or(""), "webhook delivery failed; will retry");
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
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        let table: &[(&str, bool)] = &[
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("93.184.216.34", true),
            ("100.63.255.255", true),
            ("100.128.0.0", true),
            ("172.15.255.255", true),
            ("172.32.0.0", true),
            ("192.0.1.1", true),
            ("198.17.255.255", true),
            ("198.20.0.0", true),
            ("223.255.255.255", true),
            ("0.0.0.0", false),
            ("0.1.2.3", false),
            ("10.0.0.1", false),
            ("100.64.0.1", false),
            ("100.127.255.255", false),
            ("127.0.0.1", false),
            ("127.255.0.9", false),
            ("169.254.169.254", false),
            ("172.16.0.1", false),
            ("172.31.255.255", false),
            ("192.0.0.8", false),
            ("192.0.2.1", false),
            ("192.168.1.1", false),
            ("198.18.0.1", false),
            ("198.19.255.255", false),
            ("198.51.100.7", false),
            ("203.0.113.7", false),
            ("224.0.0.1", false),
            ("239.255.255.250", false),
            ("240.0.0.1", false),
            ("255.255.255.255", false),
            ("2606:4700:4700::1111", true),
            ("2a00:1450:4007:80e::200e", true),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::808:808", true),
            ("2002:808:808::1", true),
            ("::", false),
            ("::1", false),
            ("::127.0.0.1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.1.2.3", false),
            ("::ffff:169.254.169.254", false),
            ("64:ff9b::7f00:1", false),
            ("64:ff9b::a9fe:a9fe", false),
            ("64:ff9b:1::1", false),
            ("2002:7f00:1::1", false),
            ("2002:c0a8:101::1", false),
            ("100::1", false),
            ("2001::1", false),
            ("2001:db8::1", false),
            ("fc00::1", false),
            ("fd12:3456::1", false),
            ("fe80::1", false),
            ("febf::1", false),
            ("fec0::1", false),
            ("ff02::1", false),
            ("ff0e::1", false),
        ];
        for (text, public) in table {
            let address: IpAddr = text.parse().unwrap();
            assert_eq!(is_public_address(address), *public, "{text}");
        }
    }

    #[test]
    fn registration_refuses_private_literals_and_localhost() {
        let table: &[(&str, bool)] = &[
            ("https://hooks.example.com/mighty", false),
            ("http://93.184.216.34:8080/hook", false),
            ("https://[2606:4700:4700::1111]/hook", false),
            ("https://localhost.example.com/hook", false),
            ("http://127.0.0.1:9/hook", true),
            ("http://2130706433/hook", true),
            ("http://0x7f.1/hook", true),
            ("http://0/hook", true),
            ("http://[::1]/hook", true),
            ("http://[::ffff:7f00:1]/hook", true),
            ("http://169.254.169.254/latest/meta-data", true),
            ("http://10.0.0.5/hook", true),
            ("http://localhost/hook", true),
            ("http://LOCALHOST./hook", true),
            ("http://api.localhost/hook", true),
            ("http://user@127.0.0.1@example.com/hook", false),
            ("http://example.com@127.0.0.1/hook", true),
        ];
        for (text, refused) in table {
            let url = url::Url::parse(text).unwrap();
            assert_eq!(is_refused_at_registration(&url), *refused, "{text}");
        }
    }

    #[tokio::test]
    async fn the_public_only_resolver_refuses_names_of_this_machine() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let error = match PublicOnlyResolver.resolve(name).await {
            Ok(addresses) => panic!("resolved to {:?}", addresses.collect::<Vec<_>>()),
            Err(error) => error,
        };
        assert!(is_refusal(&*error), "{error}");
        assert_eq!(error.to_string(), NOT_ALLOWED);
    }

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
