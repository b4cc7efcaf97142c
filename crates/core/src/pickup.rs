//! Pick-up codes: what a shopper shows at the pop-up stand and the seller types or reads
//! back (SPEC section 7, `GET /v1/orders?pickup_code=`). Six characters from an alphabet
//! without the look-alikes `0`/`O` and `1`/`I`, drawn at random by the server (which retries
//! on the rare collision within one seller); here only the format: making one from random
//! bytes, reading one back from what a person typed, and showing it.

/// The 32 characters a code is made of: digits and capitals without `0`, `O`, `1` and `I`.
pub const PICKUP_CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Characters in a code: 32⁶ ≈ 1.07 billion codes, so a seller's few thousand pick-up
/// orders rarely collide, and a guess at the stand is hopeless.
pub const PICKUP_CODE_LENGTH: usize = 6;

/// A code from random bytes: each byte picks a character by its low five bits (32 divides
/// 256, so every character is equally likely).
pub fn pickup_code_from_random(random: [u8; PICKUP_CODE_LENGTH]) -> String {
    random
        .iter()
        .map(|byte| char::from(PICKUP_CODE_ALPHABET[usize::from(byte & 31)]))
        .collect()
}

/// The code a person typed, as stored (`7KQ4XP`), or `None` when it cannot be one: case
/// does not matter, and spaces, dashes, dots and underscores between characters are left
/// out (`7kq-4xp`, `7KQ 4XP`). A character outside the alphabet is refused rather than
/// guessed at.
pub fn normalize_pickup_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|character| !matches!(character, ' ' | '-' | '.' | '_' | '\t'))
        .map(|character| character.to_ascii_uppercase())
        .collect();
    let valid = code.len() == PICKUP_CODE_LENGTH
        && code
            .bytes()
            .all(|byte| PICKUP_CODE_ALPHABET.contains(&byte));
    valid.then_some(code)
}

/// The code as a person reads it aloud: two groups of three (`7KQ-4XP`).
pub fn display_pickup_code(code: &str) -> String {
    if code.len() == PICKUP_CODE_LENGTH && code.is_ascii() {
        format!("{}-{}", &code[..3], &code[3..])
    } else {
        code.to_string()
    }
}

/// When a pop-up is open, in the wall-clock time its document was written in, for pages the
/// server renders (no time zone database here; the card uses the browser's):
/// `2026-12-05 10:00–16:00 (UTC+01:00)`, or both dates when it runs past midnight. `None`
/// when either is not RFC 3339.
pub fn wall_clock_span(opens_at: &str, closes_at: &str) -> Option<String> {
    let opens = WallClock::read(opens_at)?;
    let closes = WallClock::read(closes_at)?;
    let zone = |offset: &str| match offset {
        "Z" | "z" | "+00:00" | "-00:00" => "UTC".to_string(),
        other => format!("UTC{other}"),
    };
    Some(
        if opens.date == closes.date && opens.offset == closes.offset {
            format!(
                "{} {}–{} ({})",
                opens.date,
                opens.time,
                closes.time,
                zone(opens.offset)
            )
        } else {
            format!(
                "{} {} ({}) – {} {} ({})",
                opens.date,
                opens.time,
                zone(opens.offset),
                closes.date,
                closes.time,
                zone(closes.offset)
            )
        },
    )
}

/// Why a pick-up bought at `now` is refused, or `None` while it can still be collected: until
/// the pop-up closes. After that a shopper would pay for something nobody hands over (a
/// pop-up may close before its drop ends). `can_ship`: whether the offer may be shipped
/// instead, which the message then suggests.
pub fn pickup_refusal(
    popup: &crate::listing::Popup,
    can_ship: bool,
    now: crate::time::Timestamp,
) -> Option<String> {
    if now < popup.closes_at {
        return None;
    }
    let instead = if can_ship {
        "choose \"ship\" instead"
    } else {
        "this offer can no longer be bought"
    };
    Some(format!(
        "the pop-up closed at {}: nothing bought now can be picked up there; {instead}",
        popup.closes_at
    ))
}

/// An RFC 3339 date-time as written: its date, hours and minutes, and offset.
struct WallClock<'t> {
    date: &'t str,
    time: &'t str,
    offset: &'t str,
}

impl<'t> WallClock<'t> {
    fn read(text: &'t str) -> Option<WallClock<'t>> {
        let text = text.trim();
        crate::time::Timestamp::parse_rfc3339(text).ok()?;
        let offset_at = text.rfind(['Z', 'z', '+', '-']).filter(|at| *at > 10)?;
        Some(WallClock {
            date: text.get(..10)?,
            time: text.get(11..16)?,
            offset: &text[offset_at..],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_alphabet_has_no_look_alikes() {
        assert_eq!(PICKUP_CODE_ALPHABET.len(), 32);
        for confusing in [b'0', b'O', b'1', b'I'] {
            assert!(!PICKUP_CODE_ALPHABET.contains(&confusing));
        }
        let mut sorted = PICKUP_CODE_ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 32, "no character twice");
    }

    #[test]
    fn typed_codes_by_hand() {
        for (typed, read) in [
            ("7KQ4XP", Some("7KQ4XP")),
            ("7kq4xp", Some("7KQ4XP")),
            ("7KQ-4XP", Some("7KQ4XP")),
            (" 7kq 4xp ", Some("7KQ4XP")),
            ("7.K.Q_4-X P", Some("7KQ4XP")),
            ("7KQ4X", None),
            ("7KQ4XPP", None),
            ("7KQ4X0", None),
            ("7KQ4XO", None),
            ("7KQ4X1", None),
            ("7KQ4XI", None),
            ("7KQ4X%", None),
            ("7KQ4XÉ", None),
            ("", None),
            ("------", None),
        ] {
            assert_eq!(normalize_pickup_code(typed).as_deref(), read, "{typed:?}");
        }
        assert_eq!(display_pickup_code("7KQ4XP"), "7KQ-4XP");
    }

    #[test]
    fn random_bytes_pick_by_their_low_bits() {
        assert_eq!(pickup_code_from_random([0, 1, 2, 29, 30, 31]), "234XYZ");
        assert_eq!(
            pickup_code_from_random([32, 33, 255, 224, 64, 96]),
            "23Z222"
        );
    }

    #[test]
    fn pop_up_times_as_written() {
        for (opens, closes, shown) in [
            (
                "2026-12-05T10:00:00+01:00",
                "2026-12-05T16:00:00+01:00",
                Some("2026-12-05 10:00–16:00 (UTC+01:00)"),
            ),
            (
                "2026-12-05T09:00:00Z",
                "2026-12-05T15:30:00.5Z",
                Some("2026-12-05 09:00–15:30 (UTC)"),
            ),
            (
                "2026-12-05T22:00:00-05:00",
                "2026-12-06T02:00:00-05:00",
                Some("2026-12-05 22:00 (UTC-05:00) – 2026-12-06 02:00 (UTC-05:00)"),
            ),
            ("2026-12-05T10:00:00", "2026-12-05T16:00:00Z", None),
            ("soon", "2026-12-05T16:00:00Z", None),
        ] {
            assert_eq!(wall_clock_span(opens, closes).as_deref(), shown, "{opens}");
        }
    }

    #[test]
    fn a_pick_up_is_refused_once_the_pop_up_closed() {
        let popup = crate::listing::Popup {
            name: "Night market".into(),
            address: "Place de la Croix-Rousse".into(),
            lat: 45.7745,
            lon: 4.832,
            opens_at: crate::Timestamp::parse_rfc3339("2026-12-05T10:00:00+01:00").unwrap(),
            closes_at: crate::Timestamp::parse_rfc3339("2026-12-05T16:00:00+01:00").unwrap(),
            timezone: "Europe/Paris".into(),
        };
        let at = |text: &str| crate::Timestamp::parse_rfc3339(text).unwrap();
        for (now, can_ship, refused) in [
            // Before it opens (bought during the drop) and while it is open: collected.
            ("2026-12-01T18:00:00Z", false, None),
            ("2026-12-05T14:59:59Z", true, None),
            (
                "2026-12-05T15:00:00Z",
                true,
                Some(
                    "the pop-up closed at 2026-12-05T15:00:00Z: nothing bought now can be picked up there; choose \"ship\" instead",
                ),
            ),
            (
                "2026-12-24T00:00:00Z",
                false,
                Some(
                    "the pop-up closed at 2026-12-05T15:00:00Z: nothing bought now can be picked up there; this offer can no longer be bought",
                ),
            ),
        ] {
            assert_eq!(
                pickup_refusal(&popup, can_ship, at(now)).as_deref(),
                refused,
                "{now}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_code_reads_back_however_it_is_written(random: [u8; 6], lower: bool, dashed: bool) {
            let code = pickup_code_from_random(random);
            prop_assert_eq!(normalize_pickup_code(&code), Some(code.clone()));
            let mut typed = if dashed { display_pickup_code(&code) } else { code.clone() };
            if lower {
                typed = typed.to_lowercase();
            }
            prop_assert_eq!(normalize_pickup_code(&typed), Some(code));
        }

        #[test]
        fn anything_read_is_a_code(typed in ".{0,12}") {
            if let Some(code) = normalize_pickup_code(&typed) {
                prop_assert_eq!(code.len(), PICKUP_CODE_LENGTH);
                prop_assert!(code.bytes().all(|byte| PICKUP_CODE_ALPHABET.contains(&byte)));
            }
        }
    }
}
