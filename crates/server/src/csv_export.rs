//! Every CSV the server writes goes through here: the `csv` crate quotes fields holding a
//! comma, a quote, a CR or a LF (a bare CR can never start a new row), and text that came
//! from outside (handles, UTM values, anything a visitor or a seller typed) is neutralised
//! against formula injection as OWASP's "CSV Injection" page describes: a cell starting with
//! `=`, `+`, `-`, `@`, TAB or CR gets a leading `'`, so a spreadsheet shows it as text.
//!
//! How a cell is classed: the caller says. [`Cell::Text`] is any text that is or contains
//! outside input, and is always neutralised. [`Cell::Number`] is a number the server itself
//! formatted (a count, `-3.00 EUR`, `12.5 %`, a date): it is written as it is, so a refund's
//! negative amount stays a number, but only while it has the shape of one; anything else
//! marked as a number is neutralised like text, so a wrong class cannot open a hole.

use std::borrow::Cow;

use crate::error::AppError;

/// One cell of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// Text that is, or contains, outside input: neutralised.
    Text(&'a str),
    /// A number the server formatted: kept as it is while it looks like one.
    Number(&'a str),
}

/// The first characters that make a spreadsheet read a cell as a formula (OWASP).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` with a leading `'` when it starts like a formula.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A number as the server formats it: an optional `-`, digits with at most one `.` between
/// digits, then optionally ` %` or a space and a three-letter currency code.
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let number = match unsigned.split_once(' ') {
        Some((number, "%")) => number,
        Some((number, code))
            if code.len() == 3 && code.bytes().all(|byte| byte.is_ascii_uppercase()) =>
        {
            number
        }
        Some(_) => return false,
        None => unsigned,
    };
    let mut parts = number.split('.');
    let digits = |part: Option<&str>| {
        part.is_some_and(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
    };
    digits(parts.next())
        && match parts.next() {
            None => true,
            fraction => digits(fraction) && parts.next().is_none(),
        }
}

impl Cell<'_> {
    /// What is written for this cell (before the `csv` crate's quoting).
    pub fn written(&self) -> Cow<'_, str> {
        match *self {
            Cell::Number(text) if is_plain_number(text) => Cow::Borrowed(text),
            Cell::Number(text) | Cell::Text(text) => neutralise(text),
        }
    }
}

/// A whole CSV document: a header row (the server's own column names) and the rows.
pub fn table<'a>(
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell<'a>>>,
) -> Result<String, AppError> {
    let failed = |error: csv::Error| AppError::Internal(format!("writing CSV: {error}"));
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    writer
        .write_record(headers.iter().map(|header| neutralise(header).into_owned()))
        .map_err(failed)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| cell.written().into_owned()))
            .map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| AppError::Internal(format!("writing CSV: {error}")))?;
    String::from_utf8(bytes).map_err(|error| AppError::Internal(format!("writing CSV: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(text: &str) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|record| record.unwrap().iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn formula_starts_are_neutralised() {
        for (text, written) in [
            (
                "=HYPERLINK(\"https://evil.example\",\"x\")",
                "'=HYPERLINK(\"https://evil.example\",\"x\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("ana", "ana"),
            ("link: =1", "link: =1"),
            ("", ""),
        ] {
            assert_eq!(Cell::Text(text).written(), written, "{text:?}");
        }
    }

    #[test]
    fn the_servers_numbers_stay_numbers() {
        for number in [
            "-3",
            "-3.00 EUR",
            "-12.5 %",
            "0",
            "24.00 EUR",
            "2026-11-20",
            "12.0 % – 30.0 %",
        ] {
            assert_eq!(Cell::Number(number).written(), number);
        }
        // Text that is not number-shaped is neutralised even when marked as a number.
        for (text, written) in [
            ("-2+3", "'-2+3"),
            ("-1.", "'-1."),
            ("-x EUR", "'-x EUR"),
            ("=1", "'=1"),
            ("-", "'-"),
        ] {
            assert_eq!(Cell::Number(text).written(), written);
        }
        // Text from outside is neutralised even when it is a plain number.
        assert_eq!(Cell::Text("-2").written(), "'-2");
    }

    #[test]
    fn line_breaks_and_quotes_stay_inside_their_cell() {
        let hostile = [
            "=HYPERLINK(\"https://evil.example\")",
            "+1",
            "@x",
            "-2+3",
            "a\rb",
            "a\nb",
            "a\r\n=1+1",
            "say \"hi\", then",
        ];
        let text = table(
            &["value", "count"],
            hostile
                .iter()
                .map(|value| vec![Cell::Text(value), Cell::Number("-1")]),
        )
        .unwrap();
        let rows = read_back(&text);
        assert_eq!(rows.len(), hostile.len() + 1, "{text:?}");
        assert_eq!(rows[0], ["value", "count"]);
        for (row, value) in rows[1..].iter().zip(hostile) {
            assert_eq!(row.len(), 2);
            assert_eq!(row[0], neutralise(value));
            assert_eq!(row[1], "-1");
            assert!(!row[0].starts_with(FORMULA_STARTS), "{row:?}");
        }
    }
}
