//! The command line besides serving: `mighty-server seller add --name NAME` and
//! `mighty-server import --csv FILE --out DIR` and `mighty-server report --listing ID`.

use crate::Config;
use crate::store::{Store, new_id};

/// Runs a subcommand; `Ok(output)` is printed on standard output.
pub async fn run(arguments: &[String], config: &Config) -> Result<String, String> {
    match arguments {
        [report, rest @ ..] if report == "report" => report_command(rest, config).await,
        [seller, add, rest @ ..] if seller == "seller" && add == "add" => {
            let name = match rest {
                [flag, name] if flag == "--name" && !name.trim().is_empty() => name.trim(),
                _ => return Err("usage: mighty-server seller add --name NAME".to_string()),
            };
            let (database, name) = (config.database.clone(), name.to_string());
            let token = new_id("msk");
            let secret = token.clone();
            // Storage calls block: off the async runtime.
            let seller = tokio::task::spawn_blocking(move || {
                Store::open(&database)?.add_seller(&name, &secret, crate::clock::real_now())
            })
            .await
            .map_err(|error| error.to_string())?
            .map_err(|error| error.to_string())?;
            Ok(serde_json::json!({ "seller_id": seller.id, "token": token }).to_string())
        }
        [import, rest @ ..] if import == "import" => import_command(rest),
        _ => Err(format!(
            "unknown command {:?}; see mighty-server --help",
            arguments.join(" ")
        )),
    }
}

const IMPORT_USAGE: &str = "usage: mighty-server import --csv FILE --out DIR [--script URL] [--checkout URL] [--title TEXT]";

/// `import`: writes `DIR/listings/<id>.json`, `DIR/index.html` and `DIR/directory.css`;
/// reports bad rows (with line numbers) on standard error and a summary on standard output.
fn import_command(arguments: &[String]) -> Result<String, String> {
    let mut options = crate::import::ImportOptions::default();
    let (mut csv_path, mut out) = (None, None);
    let mut pairs = arguments.chunks(2);
    for pair in &mut pairs {
        match pair {
            [flag, value] if flag == "--csv" => csv_path = Some(std::path::PathBuf::from(value)),
            [flag, value] if flag == "--out" => out = Some(std::path::PathBuf::from(value)),
            [flag, value] if flag == "--script" => options.script_url = value.clone(),
            [flag, value] if flag == "--checkout" => options.checkout = Some(value.clone()),
            [flag, value] if flag == "--title" => options.title = value.clone(),
            _ => return Err(IMPORT_USAGE.to_string()),
        }
    }
    let (Some(csv_path), Some(out)) = (csv_path, out) else {
        return Err(IMPORT_USAGE.to_string());
    };
    let text = std::fs::read_to_string(&csv_path)
        .map_err(|error| format!("reading {}: {error}", csv_path.display()))?;
    let report = crate::import::import_directory(&text, &options)?;
    let listings_dir = out.join("listings");
    std::fs::create_dir_all(&listings_dir)
        .map_err(|error| format!("creating {}: {error}", listings_dir.display()))?;
    for (id, document) in &report.listings {
        let path = listings_dir.join(format!("{id}.json"));
        let text = serde_json::to_string_pretty(document).unwrap_or_default();
        std::fs::write(&path, text + "\n")
            .map_err(|error| format!("writing {}: {error}", path.display()))?;
    }
    let write = |name: &str, contents: &str| {
        std::fs::write(out.join(name), contents)
            .map_err(|error| format!("writing {}: {error}", out.join(name).display()))
    };
    write("index.html", &report.page)?;
    write("directory.css", crate::import::DIRECTORY_CSS)?;
    for error in &report.errors {
        eprintln!("{}: {error}", csv_path.display());
    }
    if report.listings.is_empty() {
        return Err(format!(
            "no row of {} could be imported ({} bad rows)",
            csv_path.display(),
            report.errors.len()
        ));
    }
    Ok(serde_json::json!({
        "imported": report.listings.len(),
        "rejected": report.errors.len(),
        "errors": report.errors.iter().map(|error| serde_json::json!({ "line": error.line, "message": error.message })).collect::<Vec<_>>(),
        "page": out.join("index.html").display().to_string(),
    })
    .to_string())
}

/// `report --listing ID`: the dashboard's tables in the terminal, for the seller of
/// `MIGHTY_SELLER_TOKEN` (or `--token`).
async fn report_command(arguments: &[String], config: &Config) -> Result<String, String> {
    const USAGE: &str = "usage: mighty-server report --listing ID [--token SELLER_TOKEN] [--from RFC3339] [--to RFC3339]";
    let (mut listing, mut token, mut from, mut to) =
        (None, config.seller_token.clone(), None, None);
    for pair in arguments.chunks(2) {
        match pair {
            [flag, value] if flag == "--listing" => listing = Some(value.clone()),
            [flag, value] if flag == "--token" => token = Some(value.clone()),
            [flag, value] if flag == "--from" => from = Some(value.clone()),
            [flag, value] if flag == "--to" => to = Some(value.clone()),
            _ => return Err(USAGE.to_string()),
        }
    }
    let (Some(listing), Some(token)) = (listing, token) else {
        return Err(format!(
            "{USAGE}\n(the seller token comes from --token or MIGHTY_SELLER_TOKEN)"
        ));
    };
    let config = config.clone();
    let state = tokio::task::spawn_blocking(move || crate::AppState::open(config))
        .await
        .map_err(|error| error.to_string())??;
    let lookup = token.clone();
    let seller = state
        .store(move |store| store.seller_by_token(&lookup))
        .await
        .map_err(|error| error.to_string())?
        .ok_or("the seller token is not valid")?;
    let (from, to) = crate::routes::metrics::parse_range(from, to, state.now_for(&seller.id).0)
        .map_err(|error| error.to_string())?;
    let metrics = crate::routes::metrics::compute(&state, &seller.id, &listing, from, to)
        .await
        .map_err(|error| error.to_string())?;
    Ok(render_report(&metrics))
}

/// The metrics document as terminal tables.
pub fn render_report(metrics: &serde_json::Value) -> String {
    use std::fmt::Write;
    let percent = |value: &serde_json::Value| {
        value
            .as_f64()
            .map_or_else(|| "—".to_string(), |value| format!("{:.1}%", value * 100.0))
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} to {}",
        metrics["listing_id"].as_str().unwrap_or("?"),
        metrics["from"].as_str().unwrap_or("?"),
        metrics["to"].as_str().unwrap_or("?")
    );
    let _ = writeln!(
        out,
        "\n{:<14} {:<14} {:>7} {:>6} {:>8} {:>17} {:>8} {:>10}",
        "creator", "variant", "views", "paid", "conv.", "95% interval", "repeat", "revenue"
    );
    for segment in metrics["segments"].as_array().into_iter().flatten() {
        // Handles stored before they were checked at the door may hold control characters:
        // a terminal must not run them.
        let text = |key: &str| {
            segment[key]
                .as_str()
                .unwrap_or("-")
                .chars()
                .map(|character| {
                    if character.is_control() {
                        '?'
                    } else {
                        character
                    }
                })
                .collect::<String>()
        };
        let conversion = &segment["conversion"];
        let _ = writeln!(
            out,
            "{:<14} {:<14} {:>7} {:>6} {:>8} {:>17} {:>8} {:>10}",
            text("creator"),
            text("variant"),
            segment["views"],
            segment["paid_commits"],
            percent(&conversion["value"]),
            format!(
                "{}–{}",
                percent(&conversion["low"]),
                percent(&conversion["high"])
            ),
            percent(&segment["repeat_rate_30d"]["value"]),
            segment["revenue"],
        );
    }
    for comparison in metrics["comparisons"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "\n{} vs {}: difference {}, probability {} is better {}",
            comparison["b"].as_str().unwrap_or("none"),
            comparison["a"].as_str().unwrap_or("none"),
            percent(&comparison["difference"]),
            comparison["b"].as_str().unwrap_or("none"),
            percent(&comparison["probability_b_beats_a"]),
        );
    }
    for creator in metrics["creators"].as_array().into_iter().flatten() {
        let payback = creator["cac_payback_months"]
            .as_f64()
            .map_or_else(|| "—".to_string(), |months| format!("{months:.1} months"));
        let _ = writeln!(
            out,
            "creator {}: fee {}, CAC payback {payback}",
            creator["creator"].as_str().unwrap_or("?"),
            creator["fee"]
        );
    }
    let repeat = &metrics["repeat_rate_30d"];
    let _ = writeln!(
        out,
        "\n30-day repeat rate: {} ({} of {} customers)",
        percent(&repeat["value"]),
        repeat["repeated"],
        repeat["customers"]
    );
    if let Some(drop) = metrics["drop"].as_object() {
        let _ = writeln!(
            out,
            "drop sell-through: {} ({} of {})",
            percent(&drop["sell_through"]),
            drop["sold"],
            drop["inventory"]
        );
    }
    out
}
