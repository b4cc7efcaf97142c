//! Installing what the commands need: the wasm32 target, wasm-bindgen-cli at the exact
//! version in Cargo.lock, the npm packages (binaryen's wasm-opt, playwright-core), Debian's
//! Chromium and ChromeDriver. Each installs when it can, or stops with the command to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{command_output, run_command, workspace_root};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn ensure_wasm_target() -> Result<(), String> {
    let installed = command_output(Command::new("rustup").args(["target", "list", "--installed"]))
        .map_err(|error| format!("rustup is needed to add the wasm32 target: {error}"))?;
    if installed
        .lines()
        .any(|line| line.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    println!("xtask: installing the wasm32-unknown-unknown target");
    run_command(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The `wasm-bindgen` version Cargo.lock resolved: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock"))
        .map_err(|error| format!("reading Cargo.lock: {error}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            let version = lines.next().unwrap_or_default();
            if let Some(version) = version
                .trim()
                .strip_prefix("version = \"")
                .and_then(|rest| rest.strip_suffix('"'))
            {
                return Ok(version.to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry; run `cargo generate-lockfile`".to_string())
}

pub fn ensure_wasm_bindgen() -> Result<(), String> {
    let wanted = locked_wasm_bindgen_version()?;
    let installed =
        command_output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if installed.split_whitespace().nth(1) == Some(wanted.as_str()) {
        return Ok(());
    }
    println!(
        "xtask: installing wasm-bindgen-cli {wanted} (matches Cargo.lock; takes a few minutes once)"
    );
    // Without --locked: with it, one of the CLI's pinned dependencies cannot be resolved.
    run_command(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &wanted]))
}

/// rustfmt and clippy, for the lint step: rustup adds them when a minimal profile left them out.
pub fn ensure_lint_tools() -> Result<(), String> {
    let present = |subcommand: &str| {
        command_output(crate::run::cargo().args([subcommand, "--version"])).is_ok()
    };
    if present("fmt") && present("clippy") {
        return Ok(());
    }
    println!("xtask: installing the rustfmt and clippy components");
    run_command(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))
        .map_err(|error| format!("{error}; run `rustup component add rustfmt clippy`"))
}

pub fn node_modules() -> PathBuf {
    workspace_root().join("node_modules")
}

pub fn wasm_opt() -> PathBuf {
    node_modules().join(".bin").join("wasm-opt")
}

/// terser, which minifies the wasm-bindgen glue.
pub fn terser() -> PathBuf {
    node_modules().join(".bin").join("terser")
}

/// npm packages from package-lock.json: binaryen (wasm-opt; Debian's is too old and breaks
/// externref tables), terser, playwright-core, axe-core.
pub fn ensure_node_packages() -> Result<(), String> {
    let root = workspace_root();
    let lock = root.join("package-lock.json");
    let stamp = node_modules().join(".package-lock.json");
    let fresh = stamp.exists()
        && modified(&stamp) >= modified(&lock)
        && wasm_opt().exists()
        && terser().exists();
    if fresh {
        return Ok(());
    }
    if command_output(Command::new("npm").arg("--version")).is_err() {
        return Err("npm is missing; install Node.js 20 or newer with npm (Debian: `apt-get install -y nodejs npm`)".to_string());
    }
    println!("xtask: installing node packages (npm ci)");
    run_command(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&root),
    )
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
}

pub fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let install = "apt-get update && apt-get install -y chromium chromium-driver";
    let is_root = command_output(Command::new("id").arg("-u"))
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false);
    if !is_root {
        return Err(format!(
            "Chromium and ChromeDriver are needed for the browser tests; run: sudo sh -c '{install}'"
        ));
    }
    println!("xtask: installing Debian's chromium and chromium-driver");
    run_command(
        Command::new("sh").args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {install}")]),
    )
}
