//! Writing an iCalendar file (RFC 5545) for a drop's pop-up: TEXT escaping, line folding at
//! 75 octets, UTC date-times, and the one `VEVENT` the server serves at
//! `GET /v1/listings/{id}/popup.ics`.
//!
//! Only writing, and only what a pop-up needs: times are always UTC (`...Z`), so the file
//! needs no `VTIMEZONE` and core no time zone database. One `UID` per listing, with a
//! `SEQUENCE` that grows with each revision, so a moved pop-up moves in calendars. The calendar shows the times in the
//! reader's own zone; the card shows them in the pop-up's.

use crate::listing::{Listing, Popup};
use crate::time::Timestamp;

/// The product identifier every file carries (`PRODID`).
pub const PRODUCT_ID: &str = "-//Mighty//Pop-up calendar 1.0//EN";

/// The longest content line, in octets, without its CRLF (RFC 5545 section 3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// A `TEXT` value (RFC 5545 section 3.3.11): `\`, `;` and `,` escaped with a backslash,
/// every line break (`\r\n`, `\n` or `\r`) as `\n`; other control characters, which TEXT may
/// not hold, are left out (tab stays).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                characters.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            control if control.is_control() => {}
            other => out.push(other),
        }
    }
    out
}

/// The inverse of [`escape_text`] (for tests and readers): `\n` and `\N` are a newline.
pub fn unescape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match characters.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(escaped) => out.push(escaped),
            None => out.push('\\'),
        }
    }
    out
}

/// One content line folded (RFC 5545 section 3.1): pieces of at most 75 octets joined by
/// CRLF and a space, never splitting a UTF-8 sequence; ends with CRLF.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut octets_on_line = 0;
    for character in line.chars() {
        let width = character.len_utf8();
        if octets_on_line + width > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            // The continuation's leading space counts towards its 75 octets.
            octets_on_line = 1;
        }
        out.push(character);
        octets_on_line += width;
    }
    out.push_str("\r\n");
    out
}

/// Unfolds a file (RFC 5545 section 3.1): a CRLF followed by a space or a tab is removed.
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

/// `20261205T090000Z`: a DATE-TIME in UTC (RFC 5545 section 3.3.5, form 2).
pub fn utc_date_time(at: Timestamp) -> String {
    let text = at.to_rfc3339();
    // `2026-12-05T09:00:00Z` → `20261205T090000Z`.
    text.chars()
        .filter(|character| !matches!(character, '-' | ':'))
        .collect()
}

/// A map of the place, for people and for calendar apps that link it.
pub fn map_url(lat: f64, lon: f64) -> String {
    format!("https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=17/{lat:.5}/{lon:.5}")
}

/// The first second [`sequence`] counts from (2026-01-01T00:00:00Z): SEQUENCE is an INTEGER,
/// 32 bits (RFC 5545 section 3.3.8), which Unix seconds would outgrow in 2038.
pub const SEQUENCE_EPOCH: i64 = 1_767_225_600;

/// Whose pop-up a file describes and which revision of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarRevision<'a> {
    /// The listing's seller: a listing id that another seller takes later is another event.
    pub seller_id: &'a str,
    /// When the listing was last stored: later for every revision (the server's store makes
    /// it strictly increase per listing).
    pub updated_at: Timestamp,
}

/// The event's `UID` (RFC 5545 section 3.8.4.7): the listing id and a hash of its seller, not
/// the pop-up's times, so a pop-up that moves updates the event already in a calendar instead
/// of leaving it there beside a new one.
pub fn popup_uid(listing_id: &str, seller_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(seller_id.as_bytes())
        .chain_update([0])
        .chain_update(listing_id.as_bytes())
        .finalize();
    let hash: String = digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{listing_id}-popup-{hash}@mighty.invalid")
}

/// The event's `SEQUENCE` (RFC 5545 section 3.8.7.4): seconds from [`SEQUENCE_EPOCH`] to the
/// listing's last update, so each revision's is higher (0 before the epoch, capped to 32 bits).
pub fn sequence(updated_at: Timestamp) -> i64 {
    (updated_at.0 - SEQUENCE_EPOCH).clamp(0, i64::from(i32::MAX))
}

/// The pop-up of `listing`'s drop as an iCalendar file (CRLF line endings, folded), or
/// `None` when the listing has no pop-up. `now` is the file's `DTSTAMP`.
///
/// The `UID` is the same for every revision of the listing's pop-up ([`popup_uid`]);
/// `SEQUENCE` and `LAST-MODIFIED` say which revision it is, so a calendar that imported an
/// earlier one replaces it.
pub fn popup_calendar(
    listing: &Listing,
    revision: CalendarRevision<'_>,
    now: Timestamp,
) -> Option<String> {
    let popup = listing.drop.as_ref()?.popup.as_ref()?;
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        format!("PRODID:{PRODUCT_ID}"),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", popup_uid(&listing.id, revision.seller_id)),
        format!("DTSTAMP:{}", utc_date_time(now)),
        format!("SEQUENCE:{}", sequence(revision.updated_at)),
        format!("LAST-MODIFIED:{}", utc_date_time(revision.updated_at)),
        format!("DTSTART:{}", utc_date_time(popup.opens_at)),
        format!("DTEND:{}", utc_date_time(popup.closes_at)),
        format!("SUMMARY:{}", escape_text(&summary(listing, popup))),
        format!("LOCATION:{}", escape_text(&popup.address)),
        format!("GEO:{:.6};{:.6}", popup.lat, popup.lon),
        format!("DESCRIPTION:{}", escape_text(&description(listing, popup))),
    ];
    if let Some(url) = listing
        .seller
        .as_ref()
        .and_then(|seller| seller.url.as_ref())
    {
        // A URI value is not TEXT: written as it is (sellers' URLs are checked web URLs).
        lines.push(format!("URL:{url}"));
    }
    lines.extend(["END:VEVENT".into(), "END:VCALENDAR".into()]);
    Some(lines.iter().map(|line| fold_line(line)).collect())
}

fn summary(listing: &Listing, popup: &Popup) -> String {
    match &listing.seller {
        Some(seller) => format!("{} — {}", popup.name, seller.name),
        None => format!("{} — {}", popup.name, listing.title),
    }
}

fn description(listing: &Listing, popup: &Popup) -> String {
    format!(
        "{}\n{}\nMap: {}",
        listing.title,
        popup.address,
        map_url(popup.lat, popup.lon)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_escaping_by_hand() {
        for (text, escaped) in [
            (
                "Place de la Croix-Rousse, 69004 Lyon",
                "Place de la Croix-Rousse\\, 69004 Lyon",
            ),
            ("a;b", "a\\;b"),
            ("back\\slash", "back\\\\slash"),
            ("two\nlines", "two\\nlines"),
            ("windows\r\nline", "windows\\nline"),
            ("old mac\rline", "old mac\\nline"),
            ("\r\n\r\n", "\\n\\n"),
            ("tab\tkept, bell\u{7} dropped", "tab\tkept\\, bell dropped"),
            ("Hôtel-Dieu: 10:00", "Hôtel-Dieu: 10:00"),
            ("", ""),
        ] {
            assert_eq!(escape_text(text), escaped, "{text:?}");
        }
    }

    #[test]
    fn folding_by_hand() {
        let short = "SUMMARY:Night market";
        assert_eq!(fold_line(short), "SUMMARY:Night market\r\n");
        let exactly = "X".repeat(75);
        assert_eq!(fold_line(&exactly), format!("{exactly}\r\n"));
        let one_over = "X".repeat(76);
        assert_eq!(
            fold_line(&one_over),
            format!("{}\r\n X\r\n", "X".repeat(75))
        );
        // 74 ASCII octets then "é" (2 octets): the é moves whole to the next line.
        let accent = format!("{}é", "X".repeat(74));
        assert_eq!(fold_line(&accent), format!("{}\r\n é\r\n", "X".repeat(74)));
        // A continuation line holds its space and 74 octets.
        let long = "Y".repeat(75 + 74 + 1);
        assert_eq!(
            fold_line(&long),
            format!("{}\r\n {}\r\n Y\r\n", "Y".repeat(75), "Y".repeat(74))
        );
    }

    #[test]
    fn date_times_are_utc() {
        let at = Timestamp::parse_rfc3339("2026-12-05T10:00:00+01:00").unwrap();
        assert_eq!(utc_date_time(at), "20261205T090000Z");
        assert_eq!(utc_date_time(Timestamp(0)), "19700101T000000Z");
    }

    #[test]
    fn the_pop_up_as_a_file() {
        let listing = crate::listing::parse_listing(
            r#"{ "id": "candle-trio", "title": "Lavender candle trio", "currency": "EUR",
                 "seller": { "name": "Hearth & Wick", "url": "https://hearth.example/" },
                 "offers": [ { "id": "trio", "kind": "bundle", "name": "Trio", "price": 2400 } ],
                 "drop": { "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-04T18:00:00Z",
                           "inventory": 50,
                           "popup": { "name": "Croix-Rousse night market",
                                      "address": "Place de la Croix-Rousse, 69004 Lyon",
                                      "lat": 45.7745, "lon": 4.832,
                                      "opens_at": "2026-12-05T10:00:00+01:00",
                                      "closes_at": "2026-12-05T16:00:00+01:00",
                                      "timezone": "Europe/Paris" } } }"#,
        )
        .unwrap();
        let now = Timestamp::parse_rfc3339("2026-11-30T07:00:00Z").unwrap();
        let revision = CalendarRevision {
            seller_id: "sel_1",
            updated_at: Timestamp::parse_rfc3339("2026-11-29T12:00:00Z").unwrap(),
        };
        let file = popup_calendar(&listing, revision, now).unwrap();
        assert!(file.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !file.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
        for line in file.split("\r\n") {
            assert!(line.len() <= MAX_LINE_OCTETS, "{line:?}");
        }
        let lines: Vec<String> = unfold(&file).split("\r\n").map(String::from).collect();
        assert_eq!(
            lines,
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Mighty//Pop-up calendar 1.0//EN",
                "CALSCALE:GREGORIAN",
                "METHOD:PUBLISH",
                "BEGIN:VEVENT",
                &format!("UID:{}", popup_uid("candle-trio", "sel_1")),
                "DTSTAMP:20261130T070000Z",
                "SEQUENCE:28728000",
                "LAST-MODIFIED:20261129T120000Z",
                "DTSTART:20261205T090000Z",
                "DTEND:20261205T150000Z",
                "SUMMARY:Croix-Rousse night market — Hearth & Wick",
                "LOCATION:Place de la Croix-Rousse\\, 69004 Lyon",
                "GEO:45.774500;4.832000",
                "DESCRIPTION:Lavender candle trio\\nPlace de la Croix-Rousse\\, 69004 Lyon\\nMap: https://www.openstreetmap.org/?mlat=45.77450&mlon=4.83200#map=17/45.77450/4.83200",
                "URL:https://hearth.example/",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        );
        let mut without = listing.clone();
        without.drop.as_mut().unwrap().popup = None;
        assert_eq!(popup_calendar(&without, revision, now), None);
    }

    /// One UID per listing and seller, whatever the pop-up's times; another listing or
    /// another seller is another event.
    #[test]
    fn the_uid_is_the_listing_and_its_seller() {
        let uid = popup_uid("candle-trio", "sel_1");
        assert!(uid.starts_with("candle-trio-popup-"), "{uid}");
        assert!(uid.ends_with("@mighty.invalid"), "{uid}");
        assert_eq!(
            uid.len(),
            "candle-trio-popup-".len() + 16 + "@mighty.invalid".len()
        );
        assert_eq!(uid, popup_uid("candle-trio", "sel_1"));
        assert_ne!(uid, popup_uid("candle-trio", "sel_2"));
        assert_ne!(uid, popup_uid("candle-trios", "sel_1"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(popup_uid("c", "ab"), popup_uid("bc", "a"));
    }

    #[test]
    fn sequences_grow_with_the_update_time_within_32_bits() {
        for (updated_at, expected) in [
            (0, 0),
            (SEQUENCE_EPOCH - 1, 0),
            (SEQUENCE_EPOCH, 0),
            (SEQUENCE_EPOCH + 1, 1),
            (SEQUENCE_EPOCH + 86_400, 86_400),
            (SEQUENCE_EPOCH + i64::from(i32::MAX), i64::from(i32::MAX)),
            (
                SEQUENCE_EPOCH + i64::from(i32::MAX) + 1,
                i64::from(i32::MAX),
            ),
        ] {
            assert_eq!(sequence(Timestamp(updated_at)), expected, "{updated_at}");
        }
    }

    proptest! {
        /// Folding then unfolding gives the line back; no physical line is over 75 octets;
        /// every continuation starts with one space.
        #[test]
        fn unfolding_recovers_the_line(line in "[^\r\n]{0,400}") {
            let folded = fold_line(&line);
            prop_assert!(folded.ends_with("\r\n"));
            prop_assert_eq!(unfold(&folded), format!("{line}\r\n"));
            let physical: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
            for (index, piece) in physical.iter().enumerate() {
                prop_assert!(piece.len() <= MAX_LINE_OCTETS, "{} octets", piece.len());
                prop_assert!(index == 0 || piece.starts_with(' '));
            }
        }

        /// Escaped text holds no line break and no unescaped `,` or `;`, and reads back to
        /// the text with line breaks as `\n` and the other control characters left out.
        #[test]
        fn escaping_round_trips(text in any::<String>()) {
            let escaped = escape_text(&text);
            prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'));
            let mut after_backslash = false;
            for character in escaped.chars() {
                if !after_backslash {
                    prop_assert!(character != ',' && character != ';');
                }
                after_backslash = !after_backslash && character == '\\';
            }
            let expected: String = text
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .chars()
                .filter(|character| !character.is_control() || matches!(character, '\n' | '\t'))
                .collect();
            prop_assert_eq!(unescape_text(&escaped), expected);
        }

        /// A whole file unfolds to the same escaped values, whatever the seller wrote.
        #[test]
        fn any_pop_up_text_survives_the_file(name in "[^\u{0}-\u{1f}]{1,120}", address in any::<String>()) {
            prop_assume!(crate::listing::check_text(&name).is_ok() && !name.trim().is_empty());
            prop_assume!(crate::listing::check_text(&address).is_ok() && !address.trim().is_empty());
            let document = serde_json::json!({
                "id": "l", "title": "T", "currency": "EUR",
                "offers": [ { "id": "o", "kind": "bundle", "name": "O", "price": 1 } ],
                "drop": { "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-04T18:00:00Z",
                          "inventory": 1,
                          "popup": { "name": name, "address": address, "lat": 0, "lon": 0,
                                     "opens_at": "2026-12-05T10:00:00Z", "closes_at": "2026-12-05T11:00:00Z",
                                     "timezone": "UTC" } } });
            let listing = crate::listing::parse_listing(&document.to_string()).unwrap();
            let revision = CalendarRevision { seller_id: "s", updated_at: Timestamp(0) };
            let file = popup_calendar(&listing, revision, Timestamp(0)).unwrap();
            let unfolded = unfold(&file);
            let location = unfolded
                .split("\r\n")
                .find_map(|line| line.strip_prefix("LOCATION:"))
                .unwrap();
            let popup = listing.drop.unwrap().popup.unwrap();
            prop_assert_eq!(unescape_text(location), popup.address.replace("\r\n", "\n").replace('\r', "\n")
                .chars().filter(|character| !character.is_control() || matches!(character, '\n' | '\t')).collect::<String>());
        }
    }
}
