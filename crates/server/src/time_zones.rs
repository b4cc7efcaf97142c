//! A pop-up's time zone against the IANA time zone database (jiff's bundled copy, the same on
//! every machine). Core checks only the name's shape: it carries no database, to keep the
//! widget small. The server, which stores listings, refuses a zone the database does not have
//! (`Europe/Lyon`) and opening or closing times written with an offset that is not the zone's
//! at that instant (`+01:00` for `America/New_York` in December): both are a seller's mistake
//! that would show shoppers the wrong time.

use jiff::civil::DateTime;
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::error::AppError;

/// Checks `drop.popup` of a document core has already validated (its times are RFC 3339 with
/// an offset, its zone is shaped like an IANA name). 422 naming `drop.popup.timezone`, else
/// the first of `drop.popup.opens_at` / `closes_at` whose offset is wrong (the message lists
/// both).
pub fn check_popup(document: &Value) -> Result<(), AppError> {
    let Some(popup) = document.pointer("/drop/popup") else {
        return Ok(());
    };
    let Some(name) = popup.get("timezone").and_then(Value::as_str).map(str::trim) else {
        return Ok(());
    };
    let zone = time_zone(name)?;
    let problems: Vec<(String, String)> = ["opens_at", "closes_at"]
        .into_iter()
        .filter_map(|key| {
            let text = popup.get(key).and_then(Value::as_str)?;
            let problem = offset_problem(&zone, name, key, text)?;
            Some((format!("drop.popup.{key}"), problem))
        })
        .collect();
    match problems.first() {
        None => Ok(()),
        Some((field, _)) => Err(AppError::invalid(
            field.clone(),
            problems
                .iter()
                .map(|(field, problem)| format!("{field}: {problem}"))
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

/// The zone named exactly as the database spells it (legacy names such as `US/Eastern` are
/// in it too).
fn time_zone(name: &str) -> Result<TimeZone, AppError> {
    const FIELD: &str = "drop.popup.timezone";
    let zone = jiff::tz::db().get(name).map_err(|_| {
        AppError::invalid(
            FIELD,
            format!(
                "drop.popup.timezone: \"{name}\" is not in the IANA time zone database; name the zone of the pop-up's place as the database does, e.g. \"Europe/Paris\" for Lyon or \"America/New_York\" for Boston"
            ),
        )
    })?;
    // The database's lookups ignore case; the document keeps its one spelling.
    match zone.iana_name() {
        Some(spelled) if spelled != name => Err(AppError::invalid(
            FIELD,
            format!("drop.popup.timezone: \"{name}\" is spelled \"{spelled}\"; write it so"),
        )),
        _ => Ok(zone),
    }
}

/// What is wrong with `text`'s offset in `zone`, if anything. `Z` (and `-00:00`) say the
/// instant in UTC without claiming a local offset (RFC 9557), so they always fit.
fn offset_problem(zone: &TimeZone, name: &str, key: &str, text: &str) -> Option<String> {
    let pieces = Pieces::parse(text).ok()?;
    let PiecesOffset::Numeric(written) = pieces.offset()? else {
        return None;
    };
    if written.is_negative() && written.offset().seconds() == 0 {
        return None;
    }
    let written = written.offset();
    let local = pieces.date().to_datetime(pieces.time()?);
    let instant = written.to_timestamp(local).ok()?;
    let actual = zone.to_offset(instant);
    if actual == written {
        return None;
    }
    let wall = wall_time(zone, local)?;
    Some(format!(
        "\"{text}\" is written with offset {}, but {name} is at {} then; if {} is the local time there, write \"{wall}\"; if the pop-up is elsewhere, correct drop.popup.timezone ({key} and the zone must agree)",
        offset_text(written.seconds()),
        offset_text(actual.seconds()),
        local.strftime("%H:%M"),
    ))
}

/// The same wall-clock time in `zone`, as RFC 3339 with the zone's offset then.
fn wall_time(zone: &TimeZone, local: DateTime) -> Option<String> {
    let zoned = zone.to_zoned_datetime(local).ok()?;
    Some(zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name in the database has the shape core accepts, so core never refuses a zone
    /// the server would store.
    #[test]
    fn every_database_name_passes_cores_shape_check() {
        let names: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.as_str().to_string())
            .collect();
        assert!(names.len() > 500, "{}", names.len());
        for name in names {
            assert!(mighty_core::listing::is_time_zone_name(&name), "{name}");
        }
    }

    #[test]
    fn offsets_are_written_as_rfc_3339() {
        assert_eq!(offset_text(3_600), "+01:00");
        assert_eq!(offset_text(-18_000), "-05:00");
        assert_eq!(offset_text(19_800), "+05:30");
        assert_eq!(offset_text(-9_000), "-02:30");
        assert_eq!(offset_text(0), "+00:00");
    }
}
