//! `cargo xtask test`: every test, in order of cost: native (core, server, xtask), the
//! server's again on a throwaway PostgreSQL cluster with the multi-instance tests, the lints
//! (rustfmt, clippy with warnings as errors), browser
//! unit tests (wasm-bindgen-test in headless Chromium), the size budgets of the production
//! bundle, the end-to-end suite (Playwright driving Chromium against the real server), and
//! the integrators' kit (the npm package packed, its TypeScript declarations checked).
//! Ends with one line `N passed, N failed`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::run::{build_server, cargo, start_server, workspace_root};
use crate::{dist, tools};

#[derive(Default, Clone, Copy)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Runs every step, or (with `only`) the steps whose names contain one of its words, e.g.
/// `cargo xtask test postgres end-to-end`.
pub fn run_all(only: &[String]) -> Result<(), String> {
    let mut total = Tally::default();
    let mut broken_steps = Vec::new();
    let selected = |name: &str| {
        let name = name.to_ascii_lowercase();
        only.is_empty()
            || only
                .iter()
                .any(|word| name.contains(&word.to_ascii_lowercase()))
    };
    let mut step =
        |name: &str, run: &mut dyn FnMut() -> Result<Tally, String>, total: &mut Tally| {
            if !selected(name) {
                return;
            }
            match run() {
                Ok(tally) => {
                    println!(
                        "xtask: {name}: {} passed, {} failed",
                        tally.passed, tally.failed
                    );
                    *total += tally;
                }
                Err(message) => {
                    eprintln!("xtask: {name} could not run: {message}");
                    broken_steps.push(name.to_string());
                    total.failed += 1;
                }
            }
        };

    step("native tests", &mut native_tests, &mut total);
    step(
        "storage and scale-out tests on PostgreSQL",
        &mut postgres_tests,
        &mut total,
    );
    step("lints", &mut lints, &mut total);
    step("browser unit tests", &mut browser_unit_tests, &mut total);
    let bundle = if selected("size budgets") || selected("end-to-end tests") {
        Some(crate::release::build())
    } else {
        None
    };
    if let Some(bundle) = &bundle {
        step(
            "size budgets",
            &mut || bundle.as_ref().map(size_budgets).map_err(Clone::clone),
            &mut total,
        );
        step(
            "end-to-end tests",
            &mut || match bundle {
                Ok(_) => end_to_end_tests(),
                Err(_) => Err("the bundle did not build".to_string()),
            },
            &mut total,
        );
    }

    step("integrators' kit", &mut integrators_kit, &mut total);

    if !broken_steps.is_empty() {
        eprintln!(
            "xtask: steps that could not run (each counted as one failure): {}",
            broken_steps.join(", ")
        );
    }
    println!("{} passed, {} failed", total.passed, total.failed);
    if total.failed == 0 {
        Ok(())
    } else {
        Err("some tests failed".to_string())
    }
}

/// Runs a command, echoing its output, and returns the lines it printed.
fn run_and_capture(command: &mut Command) -> Result<(Vec<String>, bool), String> {
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|error| format!("could not start {command:?}: {error}"))?;
    let mut lines = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            lines.push(line);
        }
    }
    let status = child.wait().map_err(|error| error.to_string())?;
    Ok((lines, status.success()))
}

/// Sums cargo's and wasm-bindgen-test's `test result: ok. N passed; M failed` lines.
fn count_cargo_results(lines: &[String]) -> Tally {
    let mut tally = Tally::default();
    for line in lines
        .iter()
        .filter(|line| line.trim_start().starts_with("test result:"))
    {
        let number_before = |word: &str| {
            line.split(';')
                .find_map(|part| {
                    part.trim()
                        .trim_start_matches("test result: ok.")
                        .trim_start_matches("test result: FAILED.")
                        .trim()
                        .strip_suffix(word)
                })
                .and_then(|number| number.trim().parse::<usize>().ok())
                .unwrap_or(0)
        };
        tally.passed += number_before("passed");
        tally.failed += number_before("failed");
    }
    tally
}

fn checked(lines: Vec<String>, success: bool, what: &str) -> Result<Tally, String> {
    let tally = count_cargo_results(&lines);
    if !success && tally.failed == 0 {
        return Err(format!("{what} did not build or run"));
    }
    Ok(tally)
}

fn native_tests() -> Result<Tally, String> {
    let mut command = cargo();
    command.args([
        "test",
        "--workspace",
        "--exclude",
        "mighty-widget",
        "--no-fail-fast",
    ]);
    // Stripe's OpenAPI description is not in the repository (it is Stripe's): when a copy of
    // its `openapi/spec3.json` is here, the live-mode tests check their requests against it.
    let description = workspace_root().join("target/stripe-openapi/spec3.json");
    if description.is_file() {
        command.env("MIGHTY_STRIPE_OPENAPI", &description);
    }
    // Likewise its example objects (`openapi/fixtures3.json`), read by the client's types.
    let fixtures = workspace_root().join("target/stripe-openapi/fixtures3.json");
    if fixtures.is_file() {
        command.env("MIGHTY_STRIPE_FIXTURES", &fixtures);
    }
    let (lines, success) = run_and_capture(&mut command)?;
    checked(lines, success, "cargo test")
}

/// The server's tests again on a throwaway PostgreSQL cluster (every storage test against
/// both databases), then the multi-instance tests over real sockets (`scale_out.rs`, one at
/// a time: one of them stops and starts the cluster).
fn postgres_tests() -> Result<Tally, String> {
    let cluster = crate::postgres::Cluster::start()?;
    let mut tally = Tally::default();
    let (lines, success) = run_and_capture(
        cargo()
            .args(["test", "--package", "mighty-server", "--no-fail-fast"])
            .env("MIGHTY_TEST_DATABASE_URL", cluster.admin_url()),
    )?;
    tally += checked(lines, success, "the server tests on PostgreSQL")?;
    let (lines, success) = run_and_capture(
        cargo()
            .args([
                "test",
                "--package",
                "mighty-server",
                "--features",
                "scale-out-tests",
                "--test",
                "scale_out",
                "--",
                "--test-threads=1",
            ])
            .env("MIGHTY_TEST_DATABASE_URL", cluster.admin_url())
            .env("MIGHTY_TEST_PG_STOP", cluster.stop_command())
            .env("MIGHTY_TEST_PG_START", cluster.start_command()),
    )?;
    tally += checked(lines, success, "the scale-out tests")?;
    Ok(tally)
}

/// `cargo fmt --check` and clippy with warnings as errors: one check each.
fn lints() -> Result<Tally, String> {
    tools::ensure_lint_tools()?;
    const CHECKS: [&str; 2] = [
        "fmt --all --check",
        "clippy --workspace --all-targets --features mighty-server/scale-out-tests -- -D warnings",
    ];
    let mut tally = Tally::default();
    for check in CHECKS {
        let what = format!("cargo {check}");
        let status = cargo()
            .args(check.split(' '))
            .status()
            .map_err(|error| format!("could not start `{what}`: {error}"))?;
        if status.success() {
            tally.passed += 1;
        } else {
            eprintln!("xtask: `{what}` found problems (above)");
            tally.failed += 1;
        }
    }
    Ok(tally)
}

fn browser_unit_tests() -> Result<Tally, String> {
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    tools::ensure_chromium()?;
    let (lines, success) = run_and_capture(
        cargo()
            .args([
                "test",
                "--package",
                "mighty-widget",
                "--target",
                "wasm32-unknown-unknown",
                "--no-fail-fast",
            ])
            .env("CHROMEDRIVER", tools::CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    )?;
    checked(lines, success, "the browser unit tests")
}

fn size_budgets(report: &dist::SizeReport) -> Tally {
    let mut tally = Tally::default();
    for check in report.checks() {
        if check.measured <= check.budget {
            tally.passed += 1;
        } else {
            eprintln!(
                "size budget exceeded: {} ({} > {} bytes)",
                check.name, check.measured, check.budget
            );
            tally.failed += 1;
        }
    }
    tally
}

fn end_to_end_tests() -> Result<Tally, String> {
    tools::ensure_chromium()?;
    tools::ensure_node_packages()?;
    let binary = build_server()?;
    let server = start_server(&binary, true)?;
    let (lines, success) = run_and_capture(
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
            .arg("tests/e2e/")
            .current_dir(workspace_root())
            .env("MIGHTY_BASE_URL", &server.base_url)
            .env("MIGHTY_SELLER_TOKEN", crate::run::DEMO_SELLER_TOKEN)
            .env("CHROMIUM", tools::CHROMIUM),
    )?;
    drop(server);
    let tally = count_node_results(&lines);
    if !success && tally.failed == 0 {
        return Err("node --test did not run".to_string());
    }
    Ok(tally)
}

/// The npm package in `dist/` (`npm.rs`): packed, its declarations type-checked, imported
/// under Node. The bundler and SPA examples run in the end-to-end tests.
fn integrators_kit() -> Result<Tally, String> {
    tools::ensure_node_packages()?;
    let mut tally = Tally::default();
    for (name, outcome) in crate::npm::kit_checks(&crate::release::dist_dir()) {
        match outcome {
            Ok(()) => tally.passed += 1,
            Err(message) => {
                eprintln!("xtask: {name}: {message}");
                tally.failed += 1;
            }
        }
    }
    Ok(tally)
}

/// node's spec reporter ends with `ℹ pass N` and `ℹ fail N`.
fn count_node_results(lines: &[String]) -> Tally {
    let number_after = |prefix: &str| {
        lines.iter().rev().find_map(|line| {
            let line = line.trim_start_matches(['ℹ', '#', ' ']);
            line.strip_prefix(prefix)
                .and_then(|rest| rest.trim().parse::<usize>().ok())
        })
    };
    Tally {
        passed: number_after("pass ").unwrap_or(0),
        failed: number_after("fail ").unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cargo_result_lines() {
        let lines: Vec<String> = [
            "test result: ok. 13 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "running 0 tests",
            "test result: FAILED. 14 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
        ]
        .map(String::from)
        .to_vec();
        let tally = count_cargo_results(&lines);
        assert_eq!((tally.passed, tally.failed), (27, 2));
    }

    #[test]
    fn counts_node_spec_reporter_summary() {
        let lines: Vec<String> = [
            "ℹ tests 9",
            "ℹ suites 2",
            "ℹ pass 8",
            "ℹ fail 1",
            "ℹ cancelled 0",
        ]
        .map(String::from)
        .to_vec();
        let tally = count_node_results(&lines);
        assert_eq!((tally.passed, tally.failed), (8, 1));
    }
}
