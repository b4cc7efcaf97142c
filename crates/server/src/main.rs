//! `mighty-server`: reads the environment, then serves [`mighty_server::app`].

use mighty_server::{AppState, Config, app, config::HELP};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::args()
        .skip(1)
        .any(|argument| argument == "--help" || argument == "-h")
    {
        println!("{HELP}");
        return std::process::ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("mighty-server: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "mighty-server: cannot listen on {}: {error} (set MIGHTY_ADDR to another address)",
                config.address
            );
            return std::process::ExitCode::from(2);
        }
    };
    tracing::info!(address = %config.address, mode = ?config.mode, "listening; demo directory at http://{}/", config.address);
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
    if let Err(error) = axum::serve(listener, app(AppState::new(&config)))
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("mighty-server: {error}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
