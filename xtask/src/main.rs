//! `cargo xtask demo | test | dist | bench`: Mighty's build and test driver (SPEC section 9).
//! Each command installs what it needs, or says exactly what to install.

mod bench;
mod dist;
mod integrity;
mod npm;
mod postgres;
mod release;
mod run;
mod seed;
mod slim;
mod test;
mod tools;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  demo    build everything and run the reference server with the demo directory page,
          its seller's dashboard alive with eight weeks of history (seeded once per database)
  seed    seed that history into a running server: `seed [BASE_URL]` (default
          http://127.0.0.1:8080; the seller of MIGHTY_SELLER_TOKEN, else the demo's)
  test    run every test (native, on PostgreSQL, lints, browser unit, size budgets,
          end-to-end); `test WORD...` runs only the steps whose names contain a word
  dist    build the production bundle into dist/ and print its size report
  bench   run the benchmarks and print their tables; `bench widget` runs only the
          widget's (sizes with each part's cost, and the browser benchmarks)";

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let outcome = match command.as_str() {
        "demo" => run::demo(),
        "seed" => run::seed_command(std::env::args().nth(2)),
        "test" => test::run_all(&std::env::args().skip(2).collect::<Vec<_>>()),
        "dist" => release::build().and_then(|report| report.enforce()),
        "bench" => bench::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
