//! `mighty-server`: reads the environment, then serves [`mighty_server::app`] (or runs a
//! subcommand such as `seller add`).

use std::process::ExitCode;

use mighty_server::{AppState, Config, app, config::HELP};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments
        .iter()
        .any(|argument| argument == "--help" || argument == "-h")
    {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("mighty-server: {message}");
            return ExitCode::from(2);
        }
    };
    if !arguments.is_empty() {
        return match mighty_server::cli::run(&arguments, &config).await {
            Ok(output) => {
                println!("{output}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("mighty-server: {message}");
                ExitCode::from(2)
            }
        };
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let address = config.address;
    let state = match tokio::task::spawn_blocking(move || AppState::open(config)).await {
        Ok(Ok(state)) => state,
        Ok(Err(message)) => {
            eprintln!("mighty-server: {message}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("mighty-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "mighty-server: cannot listen on {address}: {error} (set MIGHTY_ADDR to another address)"
            );
            return ExitCode::from(2);
        }
    };
    mighty_server::start_background_work(&state);
    tracing::info!(%address, "listening; demo directory at http://{address}/");
    let shutdown = async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match terminate.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        tracing::info!("shutting down");
    };
    if let Err(error) = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    {
        eprintln!("mighty-server: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
