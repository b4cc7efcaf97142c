//! `mighty-server`: the reference server. [`app`] builds the whole HTTP surface as a `Router`
//! that tests drive without a socket; `main.rs` only reads the environment and serves it.

pub mod config;
pub mod error;
pub mod listings;
pub mod static_files;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use config::Config;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    root: PathBuf,
}

impl AppState {
    pub fn new(config: &Config) -> AppState {
        AppState {
            inner: Arc::new(StateInner {
                root: config.root.clone(),
            }),
        }
    }

    /// The folder holding `index.html`, `www/` and `dist/`.
    pub fn root(&self) -> &PathBuf {
        &self.inner.root
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/v1/listings/{id}",
            get(listings::get_listing).options(listings::preflight),
        )
        .merge(static_files::routes(state.root()))
        .with_state(state)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": mighty_core::VERSION }))
}
