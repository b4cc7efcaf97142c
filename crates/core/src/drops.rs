//! Drops (SPEC section 3): which phase a drop is in and how long until the next one, measured
//! on the server's clock (`server_time`), never the visitor's.

use crate::listing::{Drop, Listing, Offer, OfferKind};
use crate::time::Timestamp;

/// Where a drop stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropPhase {
    /// Not open yet: a countdown to the start.
    Upcoming { starts_in_seconds: i64 },
    /// Open: a countdown to the end, and the stock left when the server said.
    Live {
        ends_in_seconds: i64,
        remaining: Option<u64>,
    },
    /// Open, but nothing left.
    SoldOut,
    /// Over.
    Ended,
}

pub fn drop_phase(drop: &Drop, now: Timestamp) -> DropPhase {
    if now < drop.starts_at {
        DropPhase::Upcoming {
            starts_in_seconds: drop.starts_at.0 - now.0,
        }
    } else if now >= drop.ends_at {
        DropPhase::Ended
    } else if drop.remaining == Some(0) {
        DropPhase::SoldOut
    } else {
        DropPhase::Live {
            ends_in_seconds: drop.ends_at.0 - now.0,
            remaining: drop.remaining,
        }
    }
}

/// Whether `offer` can be bought now: bundles follow the listing's drop; retainers stay open
/// (they are the follow-on after a drop).
pub fn offer_open(listing: &Listing, offer: &Offer, now: Timestamp) -> bool {
    match (&offer.kind, &listing.drop) {
        (OfferKind::Bundle(_), Some(drop)) => {
            matches!(drop_phase(drop, now), DropPhase::Live { .. })
        }
        _ => true,
    }
}

/// A duration split for display: `2 d 03:04:05`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Countdown {
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
}

pub fn countdown(total_seconds: i64) -> Countdown {
    let total = total_seconds.max(0);
    Countdown {
        days: total / 86_400,
        hours: total % 86_400 / 3600,
        minutes: total % 3600 / 60,
        seconds: total % 60,
    }
}

/// The server's clock as seen from the browser: the offset between the document's
/// `server_time` and the visitor's clock when the document arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerClock {
    offset_ms: i64,
}

impl ServerClock {
    /// `local_ms` is the visitor's clock (ms since the epoch) when `server_time` was read.
    pub fn new(server_time: Option<Timestamp>, local_ms: i64) -> ServerClock {
        ServerClock {
            offset_ms: server_time.map_or(0, |server| server.0 * 1000 - local_ms),
        }
    }

    /// The server's time now, given the visitor's clock now.
    pub fn now(&self, local_ms: i64) -> Timestamp {
        Timestamp((local_ms + self.offset_ms).div_euclid(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drop(remaining: Option<u64>) -> Drop {
        Drop {
            starts_at: Timestamp(1_000),
            ends_at: Timestamp(2_000),
            inventory: 50,
            remaining,
            popup: None,
        }
    }

    #[test]
    fn phases() {
        let cases = [
            (
                drop(Some(37)),
                400,
                DropPhase::Upcoming {
                    starts_in_seconds: 600,
                },
            ),
            (
                drop(Some(37)),
                1_000,
                DropPhase::Live {
                    ends_in_seconds: 1_000,
                    remaining: Some(37),
                },
            ),
            (
                drop(None),
                1_999,
                DropPhase::Live {
                    ends_in_seconds: 1,
                    remaining: None,
                },
            ),
            (drop(Some(0)), 1_500, DropPhase::SoldOut),
            (drop(Some(0)), 2_000, DropPhase::Ended),
            (drop(Some(5)), 9_999, DropPhase::Ended),
        ];
        for (drop, now, expected) in cases {
            assert_eq!(drop_phase(&drop, Timestamp(now)), expected, "at {now}");
        }
    }

    #[test]
    fn countdowns() {
        assert_eq!(
            countdown(2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
            Countdown {
                days: 2,
                hours: 3,
                minutes: 4,
                seconds: 5
            }
        );
        assert_eq!(
            countdown(-5),
            Countdown {
                days: 0,
                hours: 0,
                minutes: 0,
                seconds: 0
            }
        );
    }

    #[test]
    fn the_server_clock_wins_over_a_wrong_visitor_clock() {
        // The visitor's clock is an hour fast.
        let server_time = Timestamp(1_800_000_000);
        let local_at_arrival = (1_800_000_000 + 3600) * 1000;
        let clock = ServerClock::new(Some(server_time), local_at_arrival);
        assert_eq!(
            clock.now(local_at_arrival + 10_500),
            Timestamp(1_800_000_010)
        );
        assert_eq!(ServerClock::new(None, 5_000).now(7_000), Timestamp(7));
    }

    #[test]
    fn only_bundles_follow_the_drop() {
        let document = r#"{"id": "x", "title": "T", "currency": "EUR",
            "offers": [{"id": "b", "kind": "bundle", "name": "B", "price": 100},
                       {"id": "r", "kind": "retainer", "name": "R", "tiers": [{"id": "m", "name": "M", "price": 100, "interval": "month"}]}],
            "drop": {"starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-04T18:00:00Z", "inventory": 5}}"#;
        let listing = crate::parse_listing(document).unwrap();
        let before = Timestamp::parse_rfc3339("2026-11-30T00:00:00Z").unwrap();
        let during = Timestamp::parse_rfc3339("2026-12-02T00:00:00Z").unwrap();
        assert!(!offer_open(&listing, &listing.offers[0], before));
        assert!(offer_open(&listing, &listing.offers[0], during));
        assert!(
            offer_open(&listing, &listing.offers[1], before),
            "retainers stay open"
        );
    }
}
