//! `cargo xtask bench`: benchmarks that print their tables. Core (criterion), the server's
//! listing reads and checkout creation over a socket, the bundle's sizes (the SPEC
//! section 8 budgets), checkout creation and event ingest on SQLite, PostgreSQL and two
//! instances on one PostgreSQL (a throwaway cluster), and the mount benchmark: 50 widgets on one page, in real Chromium,
//! reporting the time to mount them all and the longest task.

use std::process::Command;

use crate::run::{build_server, cargo, run_command, start_server, workspace_root};
use crate::{dist, tools};

pub fn run() -> Result<(), String> {
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
    println!("\n== bundle sizes");
    dist::build()?;
    println!("\n== 50 widgets on one page (headless Chromium)");
    tools::ensure_chromium()?;
    let binary = build_server()?;
    let server = start_server(&binary, true)?;
    run_command(
        Command::new("node")
            .arg("tests/bench/mount.mjs")
            .current_dir(workspace_root())
            .env("MIGHTY_BASE_URL", &server.base_url)
            .env("CHROMIUM", tools::CHROMIUM),
    )
}
