//! Running things: commands with their output shown, the reference server on a free port,
//! and `cargo xtask demo`.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()));
    command.current_dir(workspace_root());
    command
}

/// Runs a command with inherited output; an error names the command.
pub fn run_command(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|error| format!("could not start {command:?}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// Runs a command and returns its standard output.
pub fn command_output(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|error| format!("could not start {command:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A running `mighty-server`, killed on drop.
pub struct Server {
    child: Child,
    pub base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn build_server() -> Result<PathBuf, String> {
    run_command(cargo().args(["build", "--package", "mighty-server"]))?;
    Ok(workspace_root().join("target/debug/mighty-server"))
}

/// A free loopback port (bound, then released).
pub fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|error| format!("no free port: {error}"))?;
    Ok(listener
        .local_addr()
        .map_err(|error| error.to_string())?
        .port())
}

/// The seller token the demo and the tests use (printed by `cargo xtask demo`).
pub const DEMO_SELLER_TOKEN: &str = "msk_demo_seller_token_change_me";

/// Starts the server on a free loopback port, with a fresh database seeded with the demo
/// listings for [`DEMO_SELLER_TOKEN`], and waits until it accepts connections.
pub fn start_server(binary: &PathBuf, quiet: bool) -> Result<Server, String> {
    let port = free_port()?;
    let address = format!("127.0.0.1:{port}");
    let database = workspace_root().join(format!("target/e2e/mighty-{port}.db"));
    for suffix in ["", "-wal", "-shm", ".key"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    let mut command = Command::new(binary);
    command
        .current_dir(workspace_root())
        .env("MIGHTY_ADDR", &address)
        .env("DATABASE_URL", format!("sqlite:{}", database.display()))
        .env("MIGHTY_SELLER_TOKEN", DEMO_SELLER_TOKEN)
        .env("MIGHTY_SEED_LISTINGS", "www/listings");
    if quiet {
        command.env("RUST_LOG", "warn").stdout(Stdio::null());
    }
    let child = command
        .spawn()
        .map_err(|error| format!("could not start {}: {error}", binary.display()))?;
    let server = Server {
        child,
        base_url: format!("http://{address}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&address).is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "mighty-server did not listen on {address} within 30 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
}

pub fn demo() -> Result<(), String> {
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    tools::ensure_node_packages()?;
    crate::release::build()?.enforce()?;
    let address = std::env::var("MIGHTY_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_string());
    let token =
        std::env::var("MIGHTY_SELLER_TOKEN").unwrap_or_else(|_| DEMO_SELLER_TOKEN.to_string());
    println!("xtask: starting the reference server (SQLite file mighty.db)");
    let mut server = cargo()
        .args(["run", "--package", "mighty-server", "--"])
        .env("MIGHTY_ADDR", &address)
        .env("MIGHTY_SELLER_TOKEN", &token)
        .env("MIGHTY_SEED_LISTINGS", "www/listings")
        .spawn()
        .map_err(|error| format!("could not start cargo run: {error}"))?;
    // The first run compiles the server: wait for it to listen, or for it to stop.
    while TcpStream::connect(&address).is_err() {
        if let Some(status) = server.try_wait().map_err(|error| error.to_string())? {
            return Err(format!("mighty-server stopped before listening ({status})"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let base_url = format!("http://{address}");
    // The demo still runs without its history: say why it is missing, keep serving.
    match seed_and_report(&base_url, &token) {
        Ok(()) => {}
        Err(message) => eprintln!("xtask: the dashboard's demo history was not seeded: {message}"),
    }
    println!("xtask: demo directory:    {base_url}/");
    println!("xtask: seller dashboard:  {base_url}/dashboard (sign in with the token below)");
    println!("xtask: demo seller token: {token}");
    let status = server.wait().map_err(|error| error.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("mighty-server stopped ({status})"))
    }
}

/// `cargo xtask seed [BASE_URL]`: the demo history into a running server.
pub fn seed_command(base_url: Option<String>) -> Result<(), String> {
    let base_url = base_url.unwrap_or_else(|| "http://127.0.0.1:8080".to_string());
    let token =
        std::env::var("MIGHTY_SELLER_TOKEN").unwrap_or_else(|_| DEMO_SELLER_TOKEN.to_string());
    seed_and_report(&base_url, &token)
}

fn seed_and_report(base_url: &str, token: &str) -> Result<(), String> {
    let started = Instant::now();
    match crate::seed::seed(base_url, token, &workspace_root())? {
        None => println!(
            "xtask: the demo history is already there ({base_url}/dashboard/listings/{})",
            crate::seed::HISTORY_LISTING
        ),
        Some(seeded) => println!(
            "xtask: seeded eight weeks of history in {:.1} s: {} events, {} paid checkouts ({} memberships), the seller's clock moved {} days{}; {base_url}/dashboard/listings/{}",
            started.elapsed().as_secs_f64(),
            seeded.events,
            seeded.orders,
            seeded.memberships,
            seeded.clock_moved / 86_400,
            if seeded.shifted_drops.is_empty() {
                String::new()
            } else {
                format!(
                    " (drops moved with it: {})",
                    seeded.shifted_drops.join(", ")
                )
            },
            crate::seed::HISTORY_LISTING
        ),
    }
    Ok(())
}
