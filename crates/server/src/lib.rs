//! `mighty-server`: the reference server. [`app`] builds the whole HTTP surface as a `Router`
//! that tests drive without a socket; [`start`] opens storage and starts the background work
//! (webhook delivery, expiries and renewals); `main.rs` only reads the environment.

pub mod attribution;
pub mod bandit;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv_export;
pub mod error;
pub mod html;
pub mod http;
pub mod import;
pub mod live;
pub mod openapi;
pub mod routes;
pub mod same_origin;
pub mod scheduler;
pub mod secrets;
pub mod static_files;
pub mod store;
pub mod stripe;
pub mod throttle;
pub mod time_zones;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use config::Config;

use crate::clock::Clock;
use crate::error::AppError;
use crate::store::Store;

/// The largest request body accepted (413 above).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    config: Config,
    store: Arc<Store>,
    clock: Clock,
    secrets: secrets::Secrets,
    outbox_ready: tokio::sync::Notify,
    event_limiter: routes::events::RateLimiter,
    failed_attempts: throttle::FailedAttempts,
    /// Live mode's Stripe client.
    stripe: Option<stripe::Stripe>,
}

impl AppState {
    /// Opens storage, creates the configured seller and seed listings, reads the clock offset
    /// and the link key.
    pub fn open(config: Config) -> Result<AppState, String> {
        let secrets = secrets::Secrets::load(&config)?;
        let store = Store::open_with_pool(&config.database, config.database_pool_size)
            .map_err(|error| error.to_string())?;
        let offsets = store.clock_offsets().map_err(|error| error.to_string())?;
        let state = AppState {
            inner: Arc::new(StateInner {
                store: Arc::new(store),
                clock: Clock::new(offsets),
                secrets,
                outbox_ready: tokio::sync::Notify::new(),
                event_limiter: routes::events::RateLimiter::default(),
                failed_attempts: throttle::FailedAttempts::default(),
                stripe: config.live().map(stripe::Stripe::new),
                config,
            }),
        };
        state.seed()?;
        Ok(state)
    }

    /// `MIGHTY_SELLER_TOKEN`'s seller, and `MIGHTY_SEED_LISTINGS`' documents for it.
    fn seed(&self) -> Result<(), String> {
        let Some(token) = &self.config().seller_token else {
            return Ok(());
        };
        if token.len() < 16 {
            tracing::warn!(
                "MIGHTY_SELLER_TOKEN is shorter than 16 characters: anyone who guesses it is that seller; use a long random token outside tests"
            );
        }
        let now = self.now().0;
        let seller = self
            .inner
            .store
            .ensure_seller(&self.config().seller_name, token, now)
            .map_err(|error| error.to_string())?;
        let Some(folder) = &self.config().seed_listings else {
            return Ok(());
        };
        let entries = std::fs::read_dir(folder).map_err(|error| {
            format!(
                "MIGHTY_SEED_LISTINGS: reading {}: {error}",
                folder.display()
            )
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path)
                .map_err(|error| format!("reading {}: {error}", path.display()))?;
            let prepared = routes::listings::prepare_listing(&text, None)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            if self
                .inner
                .store
                .listing(&prepared.id)
                .map_err(|error| error.to_string())?
                .is_some()
            {
                continue;
            }
            self.inner
                .store
                .put_listing(
                    &seller.id,
                    &prepared.id,
                    &prepared.document,
                    &prepared.allowed_origins,
                    prepared.inventory,
                    now,
                )
                .map_err(|error| format!("{}: {error}", path.display()))?;
        }
        Ok(())
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Real time, for what belongs to no seller.
    pub fn now(&self) -> mighty_core::Timestamp {
        mighty_core::Timestamp(clock::real_now())
    }

    /// `seller_id`'s business time: real time plus their sandbox clock's offset. Everything
    /// of a seller's (sessions, drops, periods, their webhooks' `created`) follows it.
    pub fn now_for(&self, seller_id: &str) -> mighty_core::Timestamp {
        self.inner.clock.now_for(seller_id)
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn event_limiter(&self) -> &routes::events::RateLimiter {
        &self.inner.event_limiter
    }

    /// Wrong-token attempts per client address (`throttle`).
    pub fn failed_attempts(&self) -> &throttle::FailedAttempts {
        &self.inner.failed_attempts
    }

    pub fn link_key(&self) -> &[u8] {
        self.inner.secrets.link_key()
    }

    /// Live mode's Stripe client (`None` in the sandbox).
    pub fn stripe(&self) -> Option<&stripe::Stripe> {
        self.inner.stripe.as_ref()
    }

    /// The server key's derived secrets (session secrets, customer tokens).
    pub fn secrets(&self) -> &secrets::Secrets {
        &self.inner.secrets
    }

    /// Runs a storage call on the blocking pool.
    pub async fn store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, store::StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = Arc::clone(&self.inner.store);
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|error| AppError::Internal(format!("storage task: {error}")))?
            .map_err(AppError::from)
    }

    /// Wakes the webhook worker: new events are in the outbox.
    pub fn outbox_changed(&self) {
        self.inner.outbox_ready.notify_one();
    }

    pub(crate) async fn outbox_wait(&self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.inner.outbox_ready.notified()).await;
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    use routes::*;
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi::serve))
        .route(
            "/v1/listings/{id}",
            get(listings::get_listing)
                .put(listings::put_listing)
                .options(http::preflight_get),
        )
        .route("/v1/listings/{id}/popup.ics", get(popup::calendar))
        .route(
            "/v1/listings/{id}/offers/{offer_id}/variants",
            get(offer_variants::get_test),
        )
        .route(
            "/v1/listings/{id}/offers/{offer_id}/variants/stop",
            post(offer_variants::stop),
        )
        .route(
            "/v1/listings/{id}/creator-links",
            post(creator_links::create).options(http::preflight_post),
        )
        .route(
            "/v1/listings/{id}/creator-links/{handle}",
            axum::routing::delete(creator_links::revoke),
        )
        .route(
            "/v1/checkout/sessions",
            post(checkout::create_session).options(http::preflight_get_post),
        )
        .route(
            "/v1/checkout/sessions/{id}",
            get(checkout::get_session).options(http::preflight_get_post),
        )
        .route(
            "/v1/subscriptions/{id}/upgrade",
            post(subscriptions::upgrade).options(http::preflight_post),
        )
        .route(
            "/v1/subscriptions/{id}/cancel",
            post(subscriptions::cancel).options(http::preflight_post),
        )
        .route(
            "/v1/subscriptions/{id}/pause",
            post(retention::pause).options(http::preflight_post),
        )
        .route(
            "/v1/subscriptions/{id}/resume",
            post(retention::resume).options(http::preflight_post),
        )
        .route(
            "/v1/subscriptions/{id}/downgrade",
            post(retention::downgrade).options(http::preflight_post),
        )
        .route(
            "/v1/subscriptions/{id}",
            get(subscriptions::get_subscription).options(http::preflight_get),
        )
        .route(
            "/v1/events",
            post(events::collect).options(http::preflight_post),
        )
        .route("/v1/metrics", get(metrics::metrics))
        .route(
            "/v1/listings/{id}/creator-fees",
            axum::routing::put(metrics::put_creator_fees),
        )
        .route(
            "/v1/listings/{id}/creator-views",
            post(creator_view::create),
        )
        .route("/creator/{token}", get(creator_view::page))
        .route("/builder", get(builder::page))
        .route("/builder/assets/builder.js", get(builder::script))
        .route("/dashboard", get(dashboard::home))
        .route("/dashboard/sign-in", post(dashboard::sign_in))
        .route("/dashboard/sign-out", post(dashboard::sign_out))
        .route("/dashboard/assets/dashboard.css", get(dashboard::asset))
        .route("/dashboard/listings/{id}", get(dashboard::listing))
        .route("/dashboard/listings/{id}/{file}", get(dashboard::export))
        .route("/v1/orders", get(orders::list))
        .route("/v1/orders/{id}/refund", post(orders::refund))
        .route("/v1/webhooks", post(webhook_endpoints::create))
        .route(
            "/v1/webhooks/{id}",
            axum::routing::delete(webhook_endpoints::remove),
        )
        .route(
            "/v1/webhooks/{id}/deliveries",
            get(webhook_endpoints::deliveries),
        )
        .route("/pay/assets/{file}", get(pay::asset))
        .route("/manage/{customer_token}", get(manage::page))
        .route("/manage/{customer_token}/upgrade", post(manage::upgrade))
        .route(
            "/manage/{customer_token}/cancel",
            get(manage::cancel_screen).post(manage::cancel),
        )
        .route("/manage/{customer_token}/pause", post(manage::pause))
        .route("/manage/{customer_token}/resume", post(manage::resume))
        .route(
            "/manage/{customer_token}/downgrade",
            post(manage::downgrade),
        );
    // The sandbox's surfaces (pay page, test cards, clock, faults) exist in sandbox mode only;
    // live mode has Stripe's return page and webhook instead.
    let api = match state.config().mode {
        config::Mode::Sandbox => api
            .route("/sandbox/clock/advance", post(sandbox::advance_clock))
            .route("/sandbox/faults", post(sandbox::set_fault))
            .route("/pay/{session_id}", get(pay::page).post(pay::submit)),
        config::Mode::Live => api
            .route("/checkout/return/{session_id}", get(checkout_return::page))
            .route(
                "/v1/partners/stripe/webhook",
                post(stripe_webhook::receive)
                    .layer(DefaultBodyLimit::max(stripe_webhook::BODY_LIMIT_BYTES)),
            ),
    };
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(axum::middleware::from_fn(errors_readable_cross_origin));
    Router::new()
        .merge(static_files::routes(&state.config().root))
        .merge(api)
        .with_state(state)
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            tracing::info_span!("request", method = %request.method(), path = %redacted_path(request.uri().path()))
        }))
}

/// The path as logged: credentials that travel in URLs (the shopper's manage link) are
/// replaced, so logs never carry a secret.
pub fn redacted_path(path: &str) -> String {
    // Path prefixes whose next segment is a secret (a token) or lets a stranger look a
    // shopper's purchase up (a checkout session id).
    const SECRET_SEGMENT_AFTER: [&str; 5] = [
        "/manage/",
        "/creator/",
        "/pay/",
        "/v1/checkout/sessions/",
        "/checkout/return/",
    ];
    for prefix in SECRET_SEGMENT_AFTER {
        if let Some(rest) = path.strip_prefix(prefix) {
            if prefix == "/pay/" && rest.starts_with("assets/") {
                break;
            }
            let tail = rest
                .split_once('/')
                .map(|(_, tail)| format!("/{tail}"))
                .unwrap_or_default();
            return format!("{prefix}[redacted]{tail}");
        }
    }
    path.to_string()
}

#[utoipa::path(
    get, path = "/healthz", tag = "static", operation_id = "healthz",
    description = "Liveness: the process answers (it does not ask the database).",
    responses((status = 200, description = "Alive.", body = crate::openapi::schemas::Health))
)]
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": mighty_core::VERSION }))
}

/// Readiness: this instance can reach its database (a load balancer sends traffic only to
/// ready instances; `/healthz` says only that the process answers).
#[utoipa::path(
    get, path = "/readyz", tag = "static", operation_id = "readyz",
    description = "Readiness: the database answers. What a load balancer should check.",
    responses((status = 200, description = "Ready.", body = crate::openapi::schemas::Ready), (status = 503, description = "The database cannot be reached (`unavailable`).", body = crate::openapi::schemas::ErrorBody))
)]
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    state.store(|store| store.ping()).await?;
    Ok(axum::Json(serde_json::json!({ "status": "ready" })))
}

/// Past the hang fault's 20 s: an API request never holds a connection forever. The answer
/// is the usual error body (and, being an error, readable cross-origin).
pub const REQUEST_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn time_limit(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIME_LIMIT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::Unavailable(format!(
            "no answer within {} s; try again",
            REQUEST_TIME_LIMIT.as_secs()
        ))
        .into_response(),
    }
}

/// Error answers carry no secret, and a widget on another origin must be able to read them
/// (a 400 or 422 it cannot read looks like a network failure and would be retried): errors
/// that left a handler without CORS headers get them here.
async fn errors_readable_cross_origin(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    let is_error = response.status().is_client_error() || response.status().is_server_error();
    if let Some(origin) = origin
        && is_error
        && !response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> AppError {
    AppError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}

async fn not_found(uri: axum::http::Uri) -> AppError {
    AppError::NotFound(format!("nothing at {}", uri.path()))
}

/// Starts the background work of a serving instance: webhook delivery and the scheduler
/// (session expiry, subscription renewals).
pub fn start_background_work(state: &AppState) {
    tokio::spawn(webhooks::deliver_forever(state.clone()));
    tokio::spawn(scheduler::run_forever(state.clone()));
}
