//! The demo's history (`cargo xtask demo`, `cargo xtask seed [BASE_URL]`): eight weeks of a
//! listing's life, seeded through the public HTTP API and the seller's sandbox clock only
//! (listing `PUT`, creator fees, event batches, checkout sessions paid on the hosted pay
//! page, two bundle variants shown as the server's bandit shares them, an upgrade, a
//! pause, a move to a lower tier, a cancel, a refund, and
//! `POST /sandbox/clock/advance` day by day, which also runs the renewals), so a newcomer's
//! dashboard is alive from the first minute. Deterministic: a fixed seed drives every draw.
//!
//! The clock. A seller's sandbox clock only moves forward, so the history cannot be written
//! into the past: it starts at the seller's "now" and the clock is advanced one day at a
//! time for 55 days; the history ends at the seller's new "now". That moves every listing
//! of the seller eight weeks on, including the demo directory's drops (`www/listings`),
//! which would then be over. So:
//! - the history goes to a listing of its own, [`HISTORY_LISTING`] (the candle trio's
//!   document without its drop, so bundles sell on every day), and
//! - afterwards each `www/listings` document with a drop is `PUT` again with its drop (and
//!   pop-up) times moved by the same amount as the clock: the directory page looks exactly
//!   as it would have without the history (a drop opening in a day and a half still does).
//!
//! The seeding runs once per database: a server that already has [`HISTORY_LISTING`] is
//! left as it is (the clock must not move again).

use std::path::Path;
use std::time::Duration;

use mighty_core::Timestamp;
use serde_json::{Value, json};

/// The listing that carries the history.
pub const HISTORY_LISTING: &str = "candle-studio";
/// Days of history: eight weeks, the dashboard's charts' period.
const DAYS: i64 = 56;
const DAY: i64 = 86_400;

/// What a seeding did.
#[derive(Debug, Default)]
pub struct Seeded {
    pub events: usize,
    pub orders: usize,
    pub memberships: usize,
    /// How far the seller's clock moved, in seconds.
    pub clock_moved: i64,
    pub shifted_drops: Vec<String>,
}

/// A small deterministic generator (splitmix64): the same history on every run.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// The seller's side of the HTTP API.
struct Api {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Api {
    fn new(base: &str, token: &str) -> Api {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Api {
            agent,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    /// Sends a request and reads its JSON answer; an unexpected status is an error naming
    /// the request and the server's message.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
        headers: &[(&str, &str)],
        expect: &[u16],
    ) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let failed = |error: ureq::Error| format!("{method} {path}: {error}");
        let authorization = format!("Bearer {}", self.token);
        let mut response = match (method, body) {
            ("GET", _) => {
                let mut request = self.agent.get(&url).header("Authorization", &authorization);
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                request.call().map_err(failed)?
            }
            (_, body) => {
                let mut request = match method {
                    "PUT" => self.agent.put(&url),
                    _ => self.agent.post(&url),
                };
                request = request.header("Authorization", &authorization);
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let (content_type, text) = body.unwrap_or(("application/json", "{}".to_string()));
                request
                    .header("Content-Type", content_type)
                    .send(text.as_str())
                    .map_err(failed)?
            }
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|error| format!("{method} {path}: reading the answer: {error}"))?;
        if !expect.contains(&status) {
            return Err(format!("{method} {path}: {status} {text}"));
        }
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    fn json(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> Result<Value, String> {
        let headers: Vec<(&str, &str)> = key
            .map(|key| ("Idempotency-Key", key))
            .into_iter()
            .collect();
        self.call(
            method,
            path,
            Some(("application/json", body.to_string())),
            &headers,
            &[200, 201],
        )
        .map(|(_, value)| value)
    }
}

/// The history's listing: the candle trio's document (creators, demos, offers) without its
/// drop, under its own id and title.
fn history_listing(root: &Path) -> Result<Value, String> {
    let path = root.join("www/listings/candle-trio.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("reading {}: {error}", path.display()))?;
    let mut document: Value =
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
    let object = document
        .as_object_mut()
        .ok_or("candle-trio.json is not an object")?;
    object.remove("drop");
    // Without the drop there is no pop-up to pick up at: every offer ships.
    for offer in object
        .get_mut("offers")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(offer) = offer.as_object_mut() {
            offer.remove("fulfilment");
        }
    }
    // Two bundle variants for the bandit: the trio as it is, and a little cheaper with a box
    // of matches (which converts better in this history, so the shares move towards it).
    let trio = object
        .get_mut("offers")
        .and_then(Value::as_array_mut)
        .and_then(|offers| offers.iter_mut().find(|offer| offer["id"] == "trio"))
        .ok_or("candle-trio.json has no trio offer")?;
    trio["variants"] = json!([
        { "id": "a", "price": 2400 },
        { "id": "b", "price": 2200, "items": ["3 candles", "gift box", "matches"] },
    ]);
    trio["variant_bounds"] = json!({ "floor": 1800, "ceiling": 3000 });
    object.insert("id".into(), json!(HISTORY_LISTING));
    object.insert(
        "title".into(),
        json!("Hearth & Wick studio (eight weeks of demo history)"),
    );
    Ok(document)
}

/// One visitor's day: where they came from and what they saw.
struct Visitor {
    id: String,
    /// The creator link they came by (`mighty_creator`), if any.
    creator: Option<&'static str>,
    /// The creator whose demo was shown.
    variant: &'static str,
    source: Option<&'static str>,
    /// The bundle variant shown, drawn by the shares the server serves today.
    offer_variant: &'static str,
}

fn visitor(draws: &mut Draws, day: i64, index: u64, share_of_a: f64) -> Visitor {
    let roll = draws.unit();
    // Instagram brings most of the traffic (a quarter of it by Ana's links), on purpose: the
    // dashboard's one-source warning has something to say. Théo has a YouTube audience.
    let (source, creator) = if roll < 0.25 {
        (Some("instagram"), Some("ana"))
    } else if roll < 0.80 {
        (Some("instagram"), None)
    } else if roll < 0.87 {
        (Some("youtube"), Some("theo"))
    } else if roll < 0.94 {
        (Some("newsletter"), None)
    } else {
        (None, None)
    };
    let variant = creator.unwrap_or(if draws.chance(0.5) { "ana" } else { "theo" });
    let offer_variant = if draws.chance(share_of_a) { "a" } else { "b" };
    Visitor {
        id: format!("seed-visitor-{day}-{index}"),
        creator,
        variant,
        source,
        offer_variant,
    }
}

/// A paid membership the history acts on later.
struct Member {
    subscription_id: String,
    tier: &'static str,
    day: i64,
}

/// Seeds the history into the server at `base` for the seller of `token`, unless it is there
/// already (`Ok(None)`). `root` is the workspace (for `www/listings`).
pub fn seed(base: &str, token: &str, root: &Path) -> Result<Option<Seeded>, String> {
    let api = Api::new(base, token);
    let (status, _) = api.call(
        "GET",
        &format!("/v1/listings/{HISTORY_LISTING}"),
        None,
        &[],
        &[200, 404],
    )?;
    if status == 200 {
        return Ok(None);
    }
    let listing = history_listing(root)?;
    api.json(
        "PUT",
        &format!("/v1/listings/{HISTORY_LISTING}"),
        &listing,
        None,
    )?;
    api.json(
        "PUT",
        &format!("/v1/listings/{HISTORY_LISTING}/creator-fees"),
        &json!({ "ana": 30000, "theo": 20000 }),
        None,
    )?;

    let mut draws = Draws(0x6d69_6768_7479);
    let mut seeded = Seeded::default();
    let mut members: Vec<Member> = Vec::new();
    let mut first_bundle_order_of_refund_day: Option<String> = None;
    let mut now = seller_now(&api)?;
    for day in 0..DAYS {
        if day > 0 {
            let moved = api.json(
                "POST",
                "/sandbox/clock/advance",
                &json!({ "seconds": DAY }),
                None,
            )?;
            now = moved["now"]
                .as_str()
                .and_then(|text| Timestamp::parse_rfc3339(text).ok())
                .ok_or_else(|| format!("the clock's answer has no now: {moved}"))?
                .0;
            seeded.clock_moved = moved["offset_seconds"].as_i64().unwrap_or(0);
        }
        // Traffic grows over the weeks and is higher at weekends (day 5 and 6 of each week).
        let weekend = matches!(day % 7, 5 | 6);
        let visitors = 26 + day as u64 * 3 / 4 + if weekend { 10 } else { 0 };
        let share_of_a = served_share(&api, "a")?;
        let mut events = Vec::new();
        let mut purchases = Vec::new();
        for index in 0..visitors {
            let visitor = visitor(&mut draws, day, index, share_of_a);
            let at = now - DAY + 600 + draws.below((DAY - 1200) as u64) as i64;
            let mut event = |kind: &str, offset: i64| {
                events.push(json!({
                    "id": format!("{}-{kind}", visitor.id), "type": kind, "listing_id": HISTORY_LISTING,
                    "creator": visitor.creator, "variant": visitor.variant, "offer_variant": visitor.offer_variant,
                    "visitor_id": visitor.id, "at": Timestamp(at + offset).to_rfc3339(),
                }));
            };
            event("view", 0);
            // Théo's demo is watched and converts a little more: the interval chart shows it.
            let (plays, starts) = if visitor.variant == "theo" {
                (0.58, 0.10)
            } else {
                (0.47, 0.07)
            };
            if !draws.chance(plays) {
                continue;
            }
            event("demo-play", 20);
            if !draws.chance(starts / plays) {
                continue;
            }
            event("checkout-start", 60);
            // Variant b (cheaper, with matches) is paid more often once started.
            let paid = if visitor.offer_variant == "b" {
                0.82
            } else {
                0.66
            };
            if draws.chance(paid) {
                event("checkout-complete", 180);
                purchases.push(visitor);
            }
        }
        for batch in events.chunks(100) {
            api.json("POST", "/v1/events", &json!({ "events": batch }), None)?;
        }
        seeded.events += events.len();
        for (index, visitor) in purchases.iter().enumerate() {
            let membership = draws.chance(0.35);
            let tier = if draws.chance(0.75) {
                "monthly"
            } else {
                "plus"
            };
            let key = format!("seed-{day}-{index}");
            let session = checkout(&api, visitor, membership.then_some(tier), &key)?;
            seeded.orders += 1;
            if membership {
                let subscription_id = session["subscription_id"].as_str().ok_or_else(|| {
                    format!("a paid membership without subscription_id: {session}")
                })?;
                members.push(Member {
                    subscription_id: subscription_id.to_string(),
                    tier,
                    day,
                });
                seeded.memberships += 1;
            } else if day == 24 && first_bundle_order_of_refund_day.is_none() {
                first_bundle_order_of_refund_day = Some(
                    session["session_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
        retention_moments(&api, day, &members)?;
        if day == 24
            && let Some(session_id) = first_bundle_order_of_refund_day.take()
        {
            refund_order_of(&api, &session_id)?;
        }
    }
    seeded.shifted_drops = shift_drops(&api, root, seeded.clock_moved)?;
    Ok(Some(seeded))
}

/// The seller's clock now, from a clock read that moves nothing: the listing document's
/// `server_time`.
fn seller_now(api: &Api) -> Result<i64, String> {
    let (_, listing) = api.call(
        "GET",
        &format!("/v1/listings/{HISTORY_LISTING}"),
        None,
        &[],
        &[200],
    )?;
    listing["server_time"]
        .as_str()
        .and_then(|text| Timestamp::parse_rfc3339(text).ok())
        .map(|stamp| stamp.0)
        .ok_or_else(|| format!("the listing has no server_time: {listing}"))
}

/// The share of new visitors the server gives bundle variant `id` today (the listing
/// document's `offers[].variants[].share`, recomputed on the seller's clock).
fn served_share(api: &Api, id: &str) -> Result<f64, String> {
    let (_, listing) = api.call(
        "GET",
        &format!("/v1/listings/{HISTORY_LISTING}"),
        None,
        &[],
        &[200],
    )?;
    listing["offers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|offer| offer["variants"].as_array())
        .flatten()
        .find(|variant| variant["id"] == id)
        .and_then(|variant| variant["share"].as_f64())
        .ok_or_else(|| format!("the listing serves no share for bundle variant {id}"))
}

/// A checkout paid on the hosted pay page with the sandbox's test card; the session as
/// `GET` answers it with its secret (a membership's `subscription_id`).
fn checkout(api: &Api, visitor: &Visitor, tier: Option<&str>, key: &str) -> Result<Value, String> {
    let mut utm = serde_json::Map::new();
    if let Some(source) = visitor.source {
        utm.insert("source".into(), json!(source));
        utm.insert(
            "medium".into(),
            json!(if source == "newsletter" {
                "email"
            } else {
                "social"
            }),
        );
    }
    let body = json!({
        "listing_id": HISTORY_LISTING,
        "offer_id": if tier.is_some() { "club" } else { "trio" },
        "tier_id": tier,
        "quantity": 1,
        "attribution": { "creator": visitor.creator, "token": null, "variant": visitor.variant,
                         "page": "http://127.0.0.1/", "utm": utm },
        "return_url": "http://127.0.0.1/",
        "offer_variant": if tier.is_some() { Value::Null } else { json!(visitor.offer_variant) },
    });
    let session = api.json("POST", "/v1/checkout/sessions", &body, Some(key))?;
    let session_id = session["session_id"].as_str().ok_or("no session_id")?;
    let secret = session["session_secret"].as_str().unwrap_or_default();
    let mut form = vec![
        ("email", format!("{}@example.com", visitor.id)),
        ("cc-name", "Demo Shopper".to_string()),
        ("cc-number", "4242424242424242".to_string()),
        ("cc-exp", "12/40".to_string()),
        ("cc-csc", "123".to_string()),
    ];
    if tier.is_none() {
        for (name, value) in [
            ("ship-name", "Demo Shopper"),
            ("ship-address-line1", "1 rue Mercière"),
            ("ship-postal-code", "69002"),
            ("ship-city", "Lyon"),
            ("ship-country", "France"),
        ] {
            form.push((name, value.to_string()));
        }
    }
    let encoded = form
        .iter()
        .map(|(name, value)| format!("{name}={}", form_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    api.call(
        "POST",
        &format!("/pay/{session_id}"),
        Some(("application/x-www-form-urlencoded", encoded)),
        &[],
        &[200, 303],
    )?;
    let (_, paid) = api.call(
        "GET",
        &format!("/v1/checkout/sessions/{session_id}"),
        None,
        &[("Mighty-Session-Secret", secret)],
        &[200],
    )?;
    if paid["status"] != "paid" {
        return Err(format!("session {session_id} is not paid: {paid}"));
    }
    Ok(paid)
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// What the members do, on set days: the first monthly member upgrades (day 20); another
/// pauses for a month instead of cancelling (day 33); a Plus member moves down to Monthly
/// instead of cancelling (day 38); one cancels (day 44).
fn retention_moments(api: &Api, day: i64, members: &[Member]) -> Result<(), String> {
    let monthly: Vec<&Member> = members
        .iter()
        .filter(|member| member.tier == "monthly" && member.day < 15)
        .collect();
    let plus: Vec<&Member> = members
        .iter()
        .filter(|member| member.tier == "plus" && member.day < 20)
        .collect();
    let act = |member: Option<&&Member>, action: &str, body: Value| -> Result<(), String> {
        let member = member.ok_or_else(|| format!("no member to {action} on day {day}"))?;
        api.json(
            "POST",
            &format!("/v1/subscriptions/{}/{action}", member.subscription_id),
            &body,
            Some(&format!("seed-{action}-{}", member.subscription_id)),
        )
        .map(|_| ())
    };
    match day {
        20 => act(monthly.first(), "upgrade", json!({ "tier_id": "plus" })),
        33 => act(
            monthly.get(1),
            "pause",
            json!({ "months": 1, "instead_of_cancel": true }),
        ),
        38 => act(
            plus.first(),
            "downgrade",
            json!({ "tier_id": "monthly", "instead_of_cancel": true }),
        ),
        44 => act(monthly.get(2), "cancel", json!({})),
        _ => Ok(()),
    }
}

/// Refunds the order a session paid.
fn refund_order_of(api: &Api, session_id: &str) -> Result<(), String> {
    let (_, orders) = api.call(
        "GET",
        &format!("/v1/orders?listing={HISTORY_LISTING}"),
        None,
        &[],
        &[200],
    )?;
    let order = orders["orders"]
        .as_array()
        .or_else(|| orders.as_array())
        .into_iter()
        .flatten()
        .find(|order| order["session_id"] == session_id)
        .ok_or_else(|| format!("no order for session {session_id}"))?;
    let id = order["id"].as_str().ok_or("an order without id")?;
    api.json(
        "POST",
        &format!("/v1/orders/{id}/refund"),
        &json!({}),
        Some(&format!("seed-refund-{id}")),
    )
    .map(|_| ())
}

/// `PUT`s each `www/listings` document with a drop again, its drop and pop-up times moved by
/// `seconds` (how far the seller's clock moved). Returns the listings moved.
fn shift_drops(api: &Api, root: &Path, seconds: i64) -> Result<Vec<String>, String> {
    let folder = root.join("www/listings");
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .map_err(|error| format!("reading {}: {error}", folder.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    let mut shifted = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("reading {}: {error}", path.display()))?;
        let mut document: Value =
            serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
        if document.get("drop").is_none() || seconds == 0 {
            continue;
        }
        for pointer in [
            "/drop/starts_at",
            "/drop/ends_at",
            "/drop/popup/opens_at",
            "/drop/popup/closes_at",
        ] {
            if let Some(slot) = document.pointer_mut(pointer) {
                let moved = slot
                    .as_str()
                    .and_then(|text| Timestamp::parse_rfc3339(text).ok())
                    .map(|stamp| Timestamp(stamp.0 + seconds).to_rfc3339())
                    .ok_or_else(|| format!("{}: {pointer} is not RFC 3339", path.display()))?;
                *slot = json!(moved);
            }
        }
        let id = document["id"]
            .as_str()
            .ok_or("a listing without id")?
            .to_string();
        api.json("PUT", &format!("/v1/listings/{id}"), &document, None)?;
        shifted.push(id);
    }
    Ok(shifted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_uniform_enough() {
        let (mut a, mut b) = (Draws(7), Draws(7));
        let first: Vec<u64> = (0..5).map(|_| a.next()).collect();
        let second: Vec<u64> = (0..5).map(|_| b.next()).collect();
        assert_eq!(first, second);
        let mut draws = Draws(1);
        let hits = (0..10_000).filter(|_| draws.chance(0.3)).count();
        assert!((2_800..3_200).contains(&hits), "{hits}");
    }

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(form_encode("1 rue Mercière"), "1+rue+Merci%C3%A8re");
        assert_eq!(form_encode("12/40"), "12%2F40");
    }

    #[test]
    fn the_history_listing_has_no_drop() {
        let listing = history_listing(&crate::run::workspace_root()).unwrap();
        assert_eq!(listing["id"], HISTORY_LISTING);
        assert!(listing.get("drop").is_none());
        assert!(mighty_core::parse_listing(&listing.to_string()).is_ok());
    }
}
