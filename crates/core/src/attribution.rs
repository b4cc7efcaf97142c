//! Creator attribution and experiments (SPEC section 5), as pure rules: which listing a
//! creator link applies to, last-touch attribution within a window, and the deterministic
//! assignment of a visitor to one of a listing's creators (the A/B/n variant). The widget
//! reads the URL and storage; these functions decide. Tokens are never trusted here: the
//! server verifies them.

use serde_json::{Map, Value};

use crate::listing::{Listing, is_valid_handle};
use crate::protocol::{Attribution, Utm, json_string, params};
use crate::signing::CreatorToken;

/// What a page URL says about who sent the visitor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkParameters {
    pub creator: Option<String>,
    pub token: Option<String>,
    pub utm: Utm,
}

impl LinkParameters {
    /// From the page URL's decoded query pairs (as `URLSearchParams` gives them).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> LinkParameters {
        let mut link = LinkParameters::default();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let text = Some(value.to_string());
            match key {
                params::CREATOR if is_valid_handle(value) => link.creator = text,
                params::TOKEN => link.token = text,
                "utm_source" => link.utm.source = text,
                "utm_medium" => link.utm.medium = text,
                "utm_campaign" => link.utm.campaign = text,
                "utm_content" => link.utm.content = text,
                "utm_term" => link.utm.term = text,
                _ => {}
            }
        }
        link
    }

    fn has_utm(&self) -> bool {
        self.utm != Utm::default()
    }
}

/// One touch: a creator link (or UTM-tagged visit) seen for a listing at `at` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub creator: Option<String>,
    pub token: Option<String>,
    pub utm: Utm,
    pub at: i64,
}

/// The touch this page's link makes for `listing`, if it applies to it. A token names its
/// listing, so a tokened link applies to that listing only; an untokened handle applies to
/// every listing that has that creator; UTM parameters alone apply to every listing.
pub fn touch_for(link: &LinkParameters, listing: &Listing, now: i64) -> Option<Touch> {
    let has_creator = |handle: &str| {
        listing
            .creators
            .iter()
            .any(|creator| creator.handle == handle)
    };
    let parsed_token = link
        .token
        .as_deref()
        .and_then(|token| CreatorToken::parse(token).ok());
    let (creator, token) = match (&link.creator, parsed_token) {
        (creator, Some(token)) => {
            if token.listing_id != listing.id {
                return None;
            }
            let handle = creator.clone().unwrap_or_else(|| token.handle.clone());
            if !has_creator(&handle) {
                return None;
            }
            (Some(handle), link.token.clone())
        }
        // No token, or one the widget cannot read: the untokened rule picks the listings, and
        // the token still goes on (only the server judges it; it will be unverified).
        (Some(handle), None) if has_creator(handle) => (Some(handle.clone()), link.token.clone()),
        (Some(_), None) => {
            return link.has_utm().then(|| Touch {
                creator: None,
                token: None,
                utm: link.utm.clone(),
                at: now,
            });
        }
        (None, None) if link.has_utm() => (None, None),
        (None, None) => return None,
    };
    Some(Touch {
        creator,
        token,
        utm: link.utm.clone(),
        at: now,
    })
}

/// Last touch wins: a new touch replaces the stored one; an expired stored touch is gone.
/// A touch without a creator (UTM parameters only) does not replace a creator's: the
/// creator who brought the shopper keeps the sale for the window.
pub fn current_touch(
    stored: Option<Touch>,
    new: Option<Touch>,
    now: i64,
    window_days: u32,
) -> Option<Touch> {
    let window = i64::from(window_days) * 86_400;
    // Saturating: a stored `at` is outside input (storage); i64::MIN once wrapped to "recent".
    let stored = stored.filter(|touch| {
        now.saturating_sub(touch.at) <= window && touch.at <= now.saturating_add(300)
    });
    match (new, stored) {
        (Some(new), Some(stored)) if new.creator.is_none() && stored.creator.is_some() => {
            Some(stored)
        }
        (new, stored) => new.or(stored),
    }
}

impl Touch {
    /// The stored form (one entry per listing in the widget's storage). Written by hand, as
    /// the checkout body is (`protocol::json_string`): serde's serializer costs the widget
    /// kilobytes. `from_json` reads it back (tested round trip).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"creator\":");
        let optional = |out: &mut String, value: &Option<String>| match value {
            Some(value) => json_string(out, value),
            None => out.push_str("null"),
        };
        optional(&mut out, &self.creator);
        out.push_str(",\"token\":");
        optional(&mut out, &self.token);
        out.push_str(",\"utm\":{");
        let mut first = true;
        for (key, value) in [
            ("source", &self.utm.source),
            ("medium", &self.utm.medium),
            ("campaign", &self.utm.campaign),
            ("content", &self.utm.content),
            ("term", &self.utm.term),
        ] {
            if let Some(value) = value {
                if !first {
                    out.push(',');
                }
                first = false;
                json_string(&mut out, key);
                out.push(':');
                json_string(&mut out, value);
            }
        }
        out.push_str(&format!("}},\"at\":{}}}", self.at));
        out
    }

    /// Reads the stored form; anything unreadable is no touch at all.
    pub fn from_json(text: &str) -> Option<Touch> {
        Touch::from_value(&serde_json::from_str(text).ok()?)
    }

    /// [`Touch::from_json`] for a stored form the caller parsed (the widget uses the
    /// browser's `JSON.parse`).
    pub fn from_value(value: &Value) -> Option<Touch> {
        let text =
            |object: &Value, key: &str| object.get(key).and_then(Value::as_str).map(String::from);
        let empty = Value::Object(Map::new());
        let utm_value = value.get("utm").unwrap_or(&empty);
        Some(Touch {
            creator: text(value, "creator").filter(|creator| is_valid_handle(creator)),
            token: text(value, "token"),
            utm: Utm {
                source: text(utm_value, "source"),
                medium: text(utm_value, "medium"),
                campaign: text(utm_value, "campaign"),
                content: text(utm_value, "content"),
                term: text(utm_value, "term"),
            },
            at: value.get("at")?.as_i64()?,
        })
    }
}

/// FNV-1a, 64 bits: a stable, well-spread hash with no dependency, the same in every build.
/// Also the draw of a bundle's offer variant (`offer_variants`).
pub(crate) fn stable_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            hash ^= u64::from(b'|');
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    // Final avalanche (from MurmurHash3's fmix64) so that near-identical ids spread evenly.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// The creator a visitor sees first when no link says otherwise: a deterministic function of
/// the visitor id and the listing id, so the same visitor sees the same variant on every
/// reload and every listing splits its visitors evenly.
pub fn assign_variant<'a>(visitor_id: &str, listing: &'a Listing) -> Option<&'a str> {
    let count = listing
        .creators
        .iter()
        .filter(|creator| creator.demo.is_some())
        .count();
    let candidates: Vec<&str> = if count > 0 {
        listing
            .creators
            .iter()
            .filter(|creator| creator.demo.is_some())
            .map(|creator| creator.handle.as_str())
            .collect()
    } else {
        listing
            .creators
            .iter()
            .map(|creator| creator.handle.as_str())
            .collect()
    };
    if candidates.is_empty() {
        return None;
    }
    let index = (stable_hash(&[visitor_id, &listing.id]) % candidates.len() as u64) as usize;
    Some(candidates[index])
}

/// The creator shown first: the link's creator when a touch names one, else the assigned
/// variant. This handle is the `variant` of every event and checkout.
pub fn shown_creator<'a>(touch: Option<&'a Touch>, assigned: Option<&'a str>) -> Option<&'a str> {
    touch
        .and_then(|touch| touch.creator.as_deref())
        .or(assigned)
}

/// The `attribution` object sent with a checkout (SPEC section 5).
pub fn attribution_for(touch: Option<&Touch>, variant: Option<&str>, page: &str) -> Attribution {
    let utm = touch.map(|touch| touch.utm.clone()).unwrap_or_default();
    Attribution {
        creator: touch.and_then(|touch| touch.creator.clone()),
        token: touch.and_then(|touch| touch.token.clone()),
        variant: variant.map(String::from),
        page: Some(page.to_string()),
        utm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_listing;
    use serde_json::json;

    const KEY: &[u8] = b"link-key";

    fn listing(id: &str, creators: &[&str]) -> Listing {
        let creators: Vec<Value> = creators
            .iter()
            .map(|handle| json!({ "handle": handle, "demo": { "src": format!("/{handle}.webm") } }))
            .collect();
        let document = json!({ "id": id, "title": "T", "currency": "EUR", "creators": creators,
            "offers": [{ "id": "o", "kind": "bundle", "name": "O", "price": 100 }] });
        parse_listing(&document.to_string()).unwrap()
    }

    fn link(pairs: &[(&str, &str)]) -> LinkParameters {
        LinkParameters::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn link_parsing() {
        let parsed = link(&[
            ("mighty_creator", "ana"),
            ("mighty_token", "t"),
            ("utm_source", "instagram"),
            ("utm_campaign", "winter"),
            ("other", "x"),
        ]);
        assert_eq!(parsed.creator.as_deref(), Some("ana"));
        assert_eq!(parsed.token.as_deref(), Some("t"));
        assert_eq!(
            (
                parsed.utm.source.as_deref(),
                parsed.utm.campaign.as_deref(),
                parsed.utm.medium
            ),
            (Some("instagram"), Some("winter"), None)
        );
        assert_eq!(
            link(&[("mighty_creator", "ana ruiz")]).creator,
            None,
            "an invalid handle is ignored"
        );
        assert_eq!(link(&[("mighty_creator", "")]), LinkParameters::default());
    }

    #[test]
    fn which_listings_a_link_applies_to() {
        let candles = listing("candle-trio", &["ana", "theo"]);
        let soap = listing("soap-bar", &["ana"]);
        let bikes = listing("velo", &["sam"]);
        let token = CreatorToken::issue(KEY, "candle-trio", "ana", 1_000);
        let tokened = link(&[("mighty_creator", "ana"), ("mighty_token", &token)]);
        let untokened = link(&[("mighty_creator", "ana")]);
        let utm_only = link(&[("utm_source", "newsletter")]);
        // (link, listing, expected touch as (creator, has token), or no touch)
        type Case<'a> = (
            &'a LinkParameters,
            &'a Listing,
            Option<(Option<&'a str>, bool)>,
        );
        let cases: Vec<Case> = vec![
            (&tokened, &candles, Some((Some("ana"), true))),
            (&tokened, &soap, None), // the token names another listing
            (&tokened, &bikes, None),
            (&untokened, &candles, Some((Some("ana"), false))),
            (&untokened, &soap, Some((Some("ana"), false))),
            (&untokened, &bikes, None), // not one of its creators
            (&utm_only, &bikes, Some((None, false))),
        ];
        for (link, listing, expected) in cases {
            let touch = touch_for(link, listing, 2_000);
            let got = touch
                .as_ref()
                .map(|touch| (touch.creator.as_deref(), touch.token.is_some()));
            assert_eq!(got, expected, "{:?} on {}", link, listing.id);
        }
        // A token alone names its creator; a token for a creator the listing lacks is ignored.
        let token_only = link(&[("mighty_token", &token)]);
        assert_eq!(
            touch_for(&token_only, &candles, 0)
                .unwrap()
                .creator
                .as_deref(),
            Some("ana")
        );
        let stranger = CreatorToken::issue(KEY, "candle-trio", "eve", 1_000);
        assert_eq!(
            touch_for(&link(&[("mighty_token", &stranger)]), &candles, 0),
            None
        );
        // A malformed token: the untokened rule picks the listings, and the token is passed
        // on for the server to judge.
        let malformed = link(&[("mighty_creator", "ana"), ("mighty_token", "garbage")]);
        assert_eq!(
            touch_for(&malformed, &soap, 0).unwrap().token.as_deref(),
            Some("garbage")
        );
        assert_eq!(touch_for(&malformed, &bikes, 0), None);
    }

    #[test]
    fn last_touch_within_the_window() {
        let touch = |creator: &str, at: i64| Touch {
            creator: Some(creator.into()),
            token: None,
            utm: Utm::default(),
            at,
        };
        let utm_only = |at: i64| Touch {
            creator: None,
            token: None,
            utm: Utm {
                source: Some("newsletter".into()),
                ..Utm::default()
            },
            at,
        };
        let day = 86_400;
        let cases = [
            (Some(touch("ana", 0)), None, 29 * day, 30, Some("ana")),
            (Some(touch("ana", 0)), None, 30 * day, 30, Some("ana")),
            (Some(touch("ana", 0)), None, 30 * day + 1, 30, None),
            (
                Some(touch("ana", 0)),
                Some(touch("theo", 10 * day)),
                10 * day,
                30,
                Some("theo"),
            ),
            (Some(touch("ana", 0)), None, 8 * day, 7, None),
            (None, None, 0, 30, None),
            // A UTM-only visit keeps the creator's touch; after the window it counts.
            (
                Some(touch("ana", 0)),
                Some(utm_only(10 * day)),
                10 * day,
                30,
                Some("ana"),
            ),
            (
                Some(touch("ana", 0)),
                Some(utm_only(31 * day)),
                31 * day,
                30,
                None,
            ),
        ];
        for (stored, new, now, window, expected) in cases {
            let current = current_touch(stored, new, now, window);
            assert_eq!(
                current.as_ref().and_then(|touch| touch.creator.as_deref()),
                expected,
                "now {now}, window {window}"
            );
        }
    }

    #[test]
    fn touches_round_trip_through_storage() {
        let touch = Touch {
            creator: Some("ana".into()),
            token: Some("t~x".into()),
            utm: Utm {
                source: Some("ig".into()),
                ..Utm::default()
            },
            at: 42,
        };
        assert_eq!(Touch::from_json(&touch.to_json()), Some(touch));
        let odd = Touch {
            creator: None,
            token: Some("a\"b\\c\n".into()),
            utm: Utm {
                campaign: Some("été \"drop\"".into()),
                term: Some("x".into()),
                ..Utm::default()
            },
            at: -1,
        };
        assert_eq!(Touch::from_json(&odd.to_json()), Some(odd));
        for broken in ["", "{", "[]", "{\"creator\": \"ana\"}"] {
            assert_eq!(Touch::from_json(broken), None, "{broken}");
        }
    }

    #[test]
    fn assignment_is_stable_and_prefers_creators_with_a_demo() {
        let candles = listing("candle-trio", &["ana", "theo"]);
        let first = assign_variant("visitor-1", &candles);
        for _ in 0..10 {
            assert_eq!(assign_variant("visitor-1", &candles), first);
        }
        assert_eq!(assign_variant("v", &listing("x", &[])), None);
        let mut mixed = listing("mixed", &["ana"]);
        mixed.creators.push(crate::listing::Creator {
            handle: "nodemo".into(),
            name: "No demo".into(),
            avatar: None,
            demo: None,
        });
        for visitor in 0..50 {
            assert_eq!(assign_variant(&format!("v{visitor}"), &mixed), Some("ana"));
        }
    }

    #[test]
    fn a_split_test_spreads_100_000_visitors_evenly() {
        // Random visitor ids, as the widget makes them (UUID v4 text), from a fixed seed.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let visitors: Vec<String> = (0..100_000)
            .map(|_| format!("{:016x}-{:016x}", random(), random()))
            .collect();
        for creators in [2usize, 3, 5] {
            let handles: Vec<String> = (0..creators)
                .map(|index| format!("creator{index}"))
                .collect();
            let handle_refs: Vec<&str> = handles.iter().map(String::as_str).collect();
            let experiment = listing("split-test", &handle_refs);
            let mut counts = vec![0usize; creators];
            for visitor in &visitors {
                let shown = assign_variant(visitor, &experiment).unwrap();
                counts[handles.iter().position(|handle| handle == shown).unwrap()] += 1;
            }
            let even = 100.0 / creators as f64;
            for count in &counts {
                let share = *count as f64 / 1000.0;
                assert!(
                    (share - even).abs() < 1.0,
                    "{creators} creators: {counts:?} is not within 1 point of {even:.2}%"
                );
            }
        }
    }

    #[test]
    fn the_checkout_attribution_object() {
        let touch = Touch {
            creator: Some("ana".into()),
            token: Some("tok".into()),
            utm: Utm {
                campaign: Some("winter".into()),
                ..Utm::default()
            },
            at: 1,
        };
        let attribution =
            attribution_for(Some(&touch), Some("ana"), "https://directory.example/lyon");
        let value = serde_json::to_value(&attribution).unwrap();
        assert_eq!(
            value,
            json!({ "creator": "ana", "token": "tok", "variant": "ana", "page": "https://directory.example/lyon",
                    "utm": { "source": null, "medium": null, "campaign": "winter", "content": null, "term": null } })
        );
        let anonymous =
            serde_json::to_value(attribution_for(None, Some("theo"), "https://d.example/"))
                .unwrap();
        assert_eq!(
            anonymous,
            json!({ "creator": null, "token": null, "variant": "theo", "page": "https://d.example/",
                    "utm": { "source": null, "medium": null, "campaign": null, "content": null, "term": null } })
        );
        assert_eq!(shown_creator(Some(&touch), Some("theo")), Some("ana"));
        assert_eq!(shown_creator(None, Some("theo")), Some("theo"));
    }
}
