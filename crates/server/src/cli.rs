//! The command line besides serving: `mighty-server seller add --name NAME` and
//! `mighty-server import --csv FILE --out DIR`.

use crate::Config;
use crate::store::{Store, new_id};

/// Runs a subcommand; `Ok(output)` is printed on standard output.
pub fn run(arguments: &[String], config: &Config) -> Result<String, String> {
    match arguments {
        [seller, add, rest @ ..] if seller == "seller" && add == "add" => {
            let name = match rest {
                [flag, name] if flag == "--name" && !name.trim().is_empty() => name.trim(),
                _ => return Err("usage: mighty-server seller add --name NAME".to_string()),
            };
            let store = Store::open(&config.database).map_err(|error| error.to_string())?;
            let token = new_id("msk");
            let seller = store
                .add_seller(name, &token, crate::clock::real_now())
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
