//! Directory import: a CSV of scraped directory rows becomes listing documents and a static
//! directory page with the widgets embedded (`mighty-server import`). Every row goes through
//! core's validation, so a bad row is reported with its line number and the same words the
//! widget would show, and the good rows are still imported.

use std::collections::HashSet;

use maud::{DOCTYPE, html};
use mighty_core::listing::slugify;
use mighty_core::{Currency, Money};
use serde_json::{Value, json};

/// Where the page finds the loader and the listings.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The loader's URL in the generated page.
    pub script_url: String,
    /// The partner checkout endpoint written into each listing, if any.
    pub checkout: Option<String>,
    /// The page's title.
    pub title: String,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            script_url: "/dist/mighty.js".into(),
            checkout: None,
            title: "Local directory".into(),
        }
    }
}

/// A row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the CSV file (the header is line 1).
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What an import produced.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// `(id, listing document)` in file order.
    pub listings: Vec<(String, Value)>,
    pub errors: Vec<RowError>,
    /// The static directory page.
    pub page: String,
}

/// The columns read; `name` is required, the others optional.
const COLUMNS: &[&str] = &[
    "name", "address", "city", "category", "url", "summary", "offer", "price", "currency",
    "interval",
];

/// Imports `csv_text`. A row becomes a listing with one offer: a bundle priced `price` (major
/// units, in `currency`, default EUR), or a one-tier retainer when `interval` is set.
pub fn import_directory(csv_text: &str, options: &ImportOptions) -> Result<ImportReport, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| format!("the header row is unreadable: {error}"))?
        .iter()
        .map(|header| header.to_ascii_lowercase())
        .collect();
    if !headers.iter().any(|header| header == "name") {
        return Err(format!(
            "the header row has no \"name\" column (columns: {})",
            COLUMNS.join(", ")
        ));
    }
    let mut report = ImportReport::default();
    let mut used_ids = HashSet::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |position| position.line());
                report.errors.push(RowError {
                    line,
                    message: format!("unreadable row: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |position| position.line());
        let field = |name: &str| {
            headers
                .iter()
                .position(|header| header == name)
                .and_then(|index| record.get(index))
                .unwrap_or("")
                .to_string()
        };
        match listing_from_row(&field, &mut used_ids, options) {
            Ok((id, document)) => {
                rows.push((
                    id.clone(),
                    field("name"),
                    field("address"),
                    field("city"),
                    field("category"),
                    field("url"),
                ));
                report.listings.push((id, document));
            }
            Err(message) => report.errors.push(RowError { line, message }),
        }
    }
    report.page = directory_page(&rows, options);
    Ok(report)
}

fn listing_from_row(
    field: &dyn Fn(&str) -> String,
    used_ids: &mut HashSet<String>,
    options: &ImportOptions,
) -> Result<(String, Value), String> {
    let name = field("name");
    if name.is_empty() {
        return Err("name: is empty; every row needs the business's name".into());
    }
    let base = slugify(&name);
    if base.is_empty() {
        return Err(format!(
            "name: \"{name}\" gives no listing id; use letters or digits"
        ));
    }
    let mut id = base.chars().take(60).collect::<String>();
    let mut suffix = 2;
    while used_ids.contains(&id) {
        id = format!("{}-{suffix}", base.chars().take(60).collect::<String>());
        suffix += 1;
    }
    let code = match field("currency") {
        code if code.is_empty() => "EUR".to_string(),
        code => code,
    };
    let currency = Currency::from_code(&code).ok_or_else(|| {
        format!(
            "currency: {}",
            mighty_core::listing::unknown_currency_message(&code)
        )
    })?;
    let price_text = field("price");
    if price_text.is_empty() {
        return Err(
            "price: is missing; a listing needs at least one offer with a price, e.g. 24.00".into(),
        );
    }
    let price =
        Money::parse_major(&price_text, currency).map_err(|error| format!("price: {error}"))?;
    let offer_name = match field("offer") {
        offer if offer.is_empty() => name.clone(),
        offer => offer,
    };
    let offer = match field("interval") {
        interval if interval.is_empty() => {
            json!({ "id": "default", "kind": "bundle", "name": offer_name, "price": price.minor })
        }
        interval => json!({ "id": "membership", "kind": "retainer", "name": offer_name,
            "tiers": [{ "id": interval, "name": offer_name, "price": price.minor, "interval": interval }] }),
    };
    let location = [field("city"), field("address")]
        .into_iter()
        .find(|value| !value.is_empty());
    let mut seller = json!({ "name": name });
    if let Some(location) = location {
        seller["location"] = Value::String(location);
    }
    let url = field("url");
    if !url.is_empty() {
        seller["url"] = Value::String(url);
    }
    let mut document = json!({ "version": 1, "id": id, "title": offer_name, "currency": currency.code(), "seller": seller, "offers": [offer] });
    let summary = field("summary");
    if !summary.is_empty() {
        document["summary"] = Value::String(summary);
    }
    if let Some(checkout) = &options.checkout {
        document["checkout"] = json!({ "endpoint": checkout });
    }
    // The same validation as the widget's, with its messages; the category is shown on the
    // page only, so it gets the same text check here.
    mighty_core::parse_listing(&document.to_string()).map_err(|errors| errors.to_string())?;
    mighty_core::listing::check_text(&field("category"))
        .map_err(|message| format!("category: {message}"))?;
    used_ids.insert(id.clone());
    Ok((id, document))
}

type PageRow = (String, String, String, String, String, String);

fn directory_page(rows: &[PageRow], options: &ImportOptions) -> String {
    // maud escapes every value; the "\n" and spaces keep the written file readable.
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n  " meta charset="utf-8";
                "\n  " meta name="viewport" content="width=device-width, initial-scale=1";
                "\n  " title { (options.title) }
                "\n  " link rel="stylesheet" href="directory.css";
                "\n  " script type="module" src=(options.script_url) {}
                "\n"
            }
            "\n"
            body {
                "\n  " h1 { (options.title) }
                "\n  "
                main class="grid" {
                    "\n"
                    @for (id, name, address, city, category, url) in rows {
                        @let meta = [category.as_str(), city.as_str(), address.as_str()]
                            .into_iter()
                            .filter(|part| !part.is_empty())
                            .collect::<Vec<_>>()
                            .join(" · ");
                        "    "
                        article class="listing" {
                            "\n      " h2 { (name) }
                            "\n      " p class="meta" { (meta) }
                            "\n      "
                            div data-mighty=(id) data-mighty-listing={ "listings/" (id) ".json" } {
                                "\n        "
                                p {
                                    (name) "."
                                    @if !url.is_empty() { " " a href=(url) { "Website" } }
                                }
                                "\n      "
                            }
                            "\n    "
                        }
                        "\n"
                    }
                    "  "
                }
                "\n"
            }
            "\n"
        }
        "\n"
    };
    page.into_string()
}

/// The stylesheet written next to the page: the embed guide's line, and a simple grid.
pub const DIRECTORY_CSS: &str = "[data-mighty]{min-height:420px}\n\
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem}\n\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1.5rem}\n\
.meta{color:#555;font-size:.9rem}\n";

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "name,address,city,category,url,offer,price,currency,interval,summary
Hearth & Wick,2 rue Mercière,Lyon,Candles,https://hearth.example,Candle trio,24.00,EUR,,Hand-poured
Pain Perdu,,Lyon,Bakery,,Bread club,15,EUR,month,
Nameless Row,,,,,,,,,
,,,,,,,,,
Café Lumière,,Lyon,Café,,Coffee beans,12.345,EUR,,
Ramen Kit,,Tokyo,Food,,Kit,2400,JPY,,
Hearth & Wick,1 quai,Lyon,Candles,,Gift card,20,EUR,,
Bad Money,,,,,,20,EURO,,
<script>alert(1)</script>,,,,,,5,EUR,,
";

    #[test]
    fn good_rows_are_imported_and_bad_rows_reported_with_line_numbers() {
        let options = ImportOptions {
            checkout: Some("https://pay.example/v1/checkout/sessions".into()),
            ..ImportOptions::default()
        };
        let report = import_directory(CSV, &options).unwrap();
        let ids: Vec<&str> = report.listings.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "hearth-wick",
                "pain-perdu",
                "ramen-kit",
                "hearth-wick-2",
                "script-alert-1-script"
            ]
        );
        let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "line 4: price: is missing; a listing needs at least one offer with a price, e.g. 24.00",
                "line 5: name: is empty; every row needs the business's name",
                "line 6: price: \"12.345\" has 3 decimals but EUR has 2",
                "line 9: currency: \"EURO\" is not an ISO 4217 currency code; use one such as \"EUR\", \"USD\" or \"JPY\"",
            ]
        );
        let hearth = &report.listings[0].1;
        assert_eq!(hearth["offers"][0]["price"], 2400);
        assert_eq!(hearth["seller"]["location"], "Lyon");
        assert_eq!(
            hearth["checkout"]["endpoint"],
            "https://pay.example/v1/checkout/sessions"
        );
        let bread = &report.listings[1].1;
        assert_eq!(bread["offers"][0]["kind"], "retainer");
        assert_eq!(bread["offers"][0]["tiers"][0]["interval"], "month");
        assert_eq!(report.listings[2].1["offers"][0]["price"], 2400);
        assert_eq!(report.listings[2].1["currency"], "JPY");
        for (_, document) in &report.listings {
            assert!(mighty_core::parse_listing(&document.to_string()).is_ok());
        }
    }

    #[test]
    fn the_page_embeds_every_imported_listing_and_escapes_text() {
        let report = import_directory(CSV, &ImportOptions::default()).unwrap();
        let page = &report.page;
        assert!(page.contains("<script type=\"module\" src=\"/dist/mighty.js\"></script>"));
        assert!(page.contains(
            "<div data-mighty=\"hearth-wick\" data-mighty-listing=\"listings/hearth-wick.json\">"
        ));
        assert!(page.contains("<h2>Hearth &amp; Wick</h2>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>alert"));
        assert_eq!(
            page.matches("data-mighty-listing=").count(),
            report.listings.len()
        );
    }

    #[test]
    fn unreadable_files_say_why() {
        assert_eq!(
            import_directory("title,price\nx,1\n", &ImportOptions::default()).unwrap_err(),
            "the header row has no \"name\" column (columns: name, address, city, category, url, summary, offer, price, currency, interval)"
        );
        let ragged = "name,price\nA,1\nB,2,extra\nC,3\n";
        let report = import_directory(ragged, &ImportOptions::default()).unwrap();
        assert_eq!(report.listings.len(), 2);
        assert_eq!(report.errors.len(), 1);
        assert!(
            report.errors[0]
                .to_string()
                .starts_with("line 3: unreadable row"),
            "{}",
            report.errors[0]
        );
    }
}
