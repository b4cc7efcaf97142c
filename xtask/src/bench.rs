//! `cargo xtask bench`: benchmarks that print their tables. Core (criterion), the server's
//! listing reads and checkout creation over a socket, the bundle's sizes (the SPEC
//! section 8 budgets), checkout creation and event ingest on SQLite, PostgreSQL and two
//! instances on one PostgreSQL (a throwaway cluster), and the widget's: the bundle's sizes with
//! what each part of the wasm costs (twiggy), the mount benchmark (50 widgets on one page, in
//! real Chromium: the time to mount them all and the longest task) and the visible-widgets
//! benchmark (1, 10, 50 at once, unthrottled and at 4×, beside an empty page: time to all
//! interactive, longest task, total blocking time, heap). `bench widget` runs the widget's only.

use std::process::Command;

use crate::run::{build_server, cargo, run_command, start_server, workspace_root};
use crate::{dist, tools};

pub fn run(only: &[String]) -> Result<(), String> {
    if !only.iter().any(|word| word == "widget") {
        server_and_core()?;
    }
    println!("\n== bundle sizes");
    dist::build()?;
    println!("\n== what each part of the widget's wasm costs (twiggy)");
    size_by_part();
    tools::ensure_chromium()?;
    let binary = build_server()?;
    let server = start_server(&binary, true)?;
    for (title, script) in [
        (
            "50 widgets on one page (headless Chromium)",
            "tests/bench/mount.mjs",
        ),
        (
            "1, 10 and 50 widgets visible at once, unthrottled and at 4× (headless Chromium)",
            "tests/bench/widgets.mjs",
        ),
    ] {
        println!("\n== {title}");
        run_command(
            Command::new("node")
                .arg(script)
                .current_dir(workspace_root())
                .env("MIGHTY_BASE_URL", &server.base_url)
                .env("CHROMIUM", tools::CHROMIUM),
        )?;
    }
    Ok(())
}

fn server_and_core() -> Result<(), String> {
    println!("== core benchmarks (criterion)");
    run_command(cargo().args(["bench", "--package", "mighty-core"]))?;
    println!("\n== server over a real socket");
    run_command(cargo().args(["bench", "--package", "mighty-server", "--bench", "http"]))?;
    println!("\n== SQLite, PostgreSQL, two instances on PostgreSQL (real sockets)");
    let cluster = crate::postgres::Cluster::start()?;
    run_command(
        cargo()
            .args([
                "bench",
                "--package",
                "mighty-server",
                "--bench",
                "scale_out",
            ])
            .env("MIGHTY_BENCH_DATABASE_URL", cluster.admin_url()),
    )?;
    drop(cluster);
    println!("\n== event ingest and dashboard queries over 1M events");
    run_command(cargo().args(["bench", "--package", "mighty-server", "--bench", "ingest"]))?;
    Ok(())
}

/// The widget's wasm as cargo wrote it (names kept; before wasm-bindgen and wasm-opt), its
/// code and data summed by the crate each item comes from: what each part costs, relatively
/// (the shipped sizes are the size report's). Needs `twiggy` (`cargo install twiggy`).
fn size_by_part() {
    let wasm =
        workspace_root().join("target/wasm32-unknown-unknown/wasm-release/mighty_widget.wasm");
    let output = Command::new("twiggy")
        .args(["top", "-n", "1000000", "--format", "csv"])
        .arg(&wasm)
        .output();
    let csv = match output {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        _ => {
            println!("twiggy is not installed (cargo install twiggy): per-part costs skipped");
            return;
        }
    };
    let parts = parts_of(&csv);
    let total: u64 = parts.iter().map(|(_, bytes)| bytes).sum();
    println!(
        "{:<44} {:>9} {:>7}",
        "part (wasm before wasm-opt, names kept)", "bytes", "share"
    );
    for (part, bytes) in &parts {
        println!(
            "{part:<44} {bytes:>9} {:>6.1}%",
            *bytes as f64 * 100.0 / total.max(1) as f64
        );
    }
    println!("{:<44} {total:>9}", "total (code and data)");
}

/// Which part an item of twiggy's list belongs to: the first known crate its name names.
const PARTS: &[(&str, &str)] = &[
    ("mighty_widget::", "widget (mighty-widget)"),
    ("mighty_core::", "core (mighty-core)"),
    ("gloo_net::", "gloo-net"),
    ("serde_wasm_bindgen::", "serde-wasm-bindgen"),
    ("leptos", "leptos, tachys, reactive_graph"),
    ("tachys::", "leptos, tachys, reactive_graph"),
    ("reactive_graph::", "leptos, tachys, reactive_graph"),
    ("serde_json::", "serde_json (Value)"),
    ("serde::", "serde"),
    ("js_sys::", "wasm-bindgen, js-sys, web-sys"),
    ("web_sys::", "wasm-bindgen, js-sys, web-sys"),
    ("wasm_bindgen", "wasm-bindgen, js-sys, web-sys"),
    ("talc::", "allocator (talc)"),
    ("alloc::", "Rust std (core, alloc, fmt)"),
    ("core::", "Rust std (core, alloc, fmt)"),
    ("core[", "Rust std (core, alloc, fmt)"),
    ("alloc[", "Rust std (core, alloc, fmt)"),
    ("std::", "Rust std (core, alloc, fmt)"),
];

/// Sums twiggy's CSV rows (`Name,ShallowSize,...`) by part, largest first; custom sections
/// (names, wasm-bindgen's descriptors) are not shipped and not counted.
fn parts_of(csv: &str) -> Vec<(String, u64)> {
    let mut sums: Vec<(String, u64)> = Vec::new();
    for line in csv.lines().skip(1) {
        // The name may be quoted and hold commas: the size is the first field after it.
        let Some((name, rest)) = split_name(line) else {
            continue;
        };
        let Some(bytes) = rest
            .split(',')
            .next()
            .and_then(|size| size.parse::<u64>().ok())
        else {
            continue;
        };
        if name.starts_with("custom section") || name.contains("subsection") {
            continue;
        }
        // Drop glue costs what it drops.
        let subject = name
            .strip_prefix("core::ptr::drop_in_place<")
            .unwrap_or(&name);
        let part = if name.starts_with("data segment") {
            "data (strings, tables)"
        } else {
            PARTS
                .iter()
                .filter_map(|(needle, part)| subject.find(needle).map(|at| (at, *part)))
                .min_by_key(|(at, _)| *at)
                .map_or("other (glue, tables, imports)", |(_, part)| part)
        };
        match sums.iter_mut().find(|(known, _)| known == part) {
            Some((_, sum)) => *sum += bytes,
            None => sums.push((part.to_string(), bytes)),
        }
    }
    sums.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
    sums
}

/// A CSV line's first field (unquoted) and the rest after its comma.
fn split_name(line: &str) -> Option<(String, &str)> {
    if let Some(quoted) = line.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = quoted.char_indices().peekable();
        while let Some((at, character)) = chars.next() {
            if character == '"' {
                if chars.peek().map(|(_, next)| *next) == Some('"') {
                    name.push('"');
                    chars.next();
                } else {
                    return Some((name, quoted[at + 1..].strip_prefix(',')?));
                }
            } else {
                name.push(character);
            }
        }
        None
    } else {
        let (name, rest) = line.split_once(',')?;
        Some((name.to_string(), rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twiggy_rows_are_summed_by_crate_and_sections_left_out() {
        let csv = "Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent\n\
            custom section '__wasm_bindgen_unstable',665291,36.8,,\n\
            \"\"\"function names\"\" subsection\",335980,18.6,,\n\
            \"data segment \"\".rodata\"\"\",32250,1.7,,\n\
            mighty_widget::start::{{closure}}::h1,24821,1.3,,\n\
            \"<tachys::view::tuples::<impl tachys::view::Render for (A,B)>::build\",12387,0.6,,\n\
            \"core::ptr::drop_in_place<leptos::mount::UnmountHandle<X>>\",2872,0.1,,\n\
            mighty_core::listing::RawListing::validate::h2,10530,0.5,,\n\
            <char as core[c5930c85a12de822]::fmt::Debug>::fmt,1713,0.1,,\n\
            func[7],100,0.0,,\n";
        assert_eq!(
            parts_of(csv),
            [
                ("data (strings, tables)".to_string(), 32250),
                ("widget (mighty-widget)".to_string(), 24821),
                ("leptos, tachys, reactive_graph".to_string(), 15259),
                ("core (mighty-core)".to_string(), 10530),
                ("Rust std (core, alloc, fmt)".to_string(), 1713),
                ("other (glue, tables, imports)".to_string(), 100),
            ]
        );
    }
}
