//! The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`.
//!
//! Generated from the code with utoipa: each handler carries its `#[utoipa::path]` (in
//! `routes/`), the bodies are `schemas.rs`, and [`ApiDoc`] gathers them. What the handlers
//! cannot say is added by [`Modify`] steps here, which the tests cover like the rest
//! (`tests/openapi.rs`): the security schemes, the seller's webhooks (OpenAPI `webhooks`,
//! made from the `#[utoipa::path]`s of [`WebhookDoc`]), the error body as every operation's
//! `default` answer, and the CORS preflights and static files, which have no handler of
//! their own. The document served follows the mode: operations marked `x-mighty-mode` exist
//! in that mode only.
//!
//! The description must stay true: `tests/openapi.rs` compares it with the router's routes
//! and methods, and every answer of the in-process tests is validated against it.

pub mod schemas;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::config::Mode;
use crate::routes::*;
use schemas::*;

/// The operation extension naming the one mode an operation exists in (`sandbox`, `live`).
pub const MODE_EXTENSION: &str = "x-mighty-mode";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mighty-server",
        description = "The reference server of Mighty: the listing feed, the partner payments sandbox (checkout sessions, hosted pay page, subscriptions), signed webhooks to the seller, the event collector, KPIs and the seller's pages. Every error is `{\"error\": {\"code\", \"message\", \"field\"?}}`. The prose reference is docs/server.md; the checkout protocol is SPEC section 4.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        crate::healthz,
        crate::readyz,
        serve,
        index_page,
        bundle_file,
        bundle_file_versioned,
        listings::get_listing,
        listings::put_listing,
        listing_preflight,
        popup::calendar,
        offer_variants::get_test,
        offer_variants::stop,
        creator_links::create,
        creator_links_preflight,
        creator_links::revoke,
        checkout::create_session,
        checkout::get_session,
        checkout_sessions_preflight,
        checkout_session_preflight,
        subscriptions::upgrade,
        upgrade_preflight,
        subscriptions::cancel,
        cancel_preflight,
        subscriptions::get_subscription,
        subscription_preflight,
        retention::pause,
        pause_preflight,
        retention::resume,
        resume_preflight,
        retention::downgrade,
        downgrade_preflight,
        events::collect,
        events_preflight,
        metrics::metrics,
        metrics::put_creator_fees,
        creator_view::create,
        creator_view::page,
        builder::page,
        builder::script,
        dashboard::home,
        dashboard::sign_in,
        dashboard::sign_out,
        dashboard::asset,
        dashboard::listing,
        dashboard::export,
        orders::list,
        orders::refund,
        webhook_endpoints::create,
        webhook_endpoints::remove,
        webhook_endpoints::deliveries,
        pay::asset,
        pay::page,
        pay::submit,
        manage::page,
        manage::upgrade,
        manage::cancel,
        manage::cancel_screen,
        manage::pause,
        manage::resume,
        manage::downgrade,
        sandbox::advance_clock,
        sandbox::set_fault,
        checkout_return::page,
        stripe_webhook::receive,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes, &Webhooks, &ErrorsByDefault),
    tags(
        (name = "listings", description = "The seller's listing feed (SPEC section 3)."),
        (name = "checkout", description = "The partner side of the checkout protocol (SPEC section 4)."),
        (name = "subscriptions", description = "Memberships: read, upgrade, cancel, pause, resume, downgrade."),
        (name = "creators", description = "Creator links and creator views (SPEC section 5)."),
        (name = "measurement", description = "The event collector and the KPIs (SPEC section 6)."),
        (name = "orders", description = "Paid orders and refunds."),
        (name = "webhooks", description = "The seller's webhook receivers and their delivery log."),
        (name = "sandbox", description = "Sandbox mode only: the hosted pay page, the clock and faults."),
        (name = "live", description = "Live mode only: Stripe Checkout's return page and events."),
        (name = "pages", description = "Server-rendered pages: dashboard, builder, manage, creator view."),
        (name = "static", description = "The widget bundle, the demo page, health and this description."),
    )
)]
pub struct ApiDoc;

/// The seller's webhooks: one `#[utoipa::path]` per event type, whose paths become the
/// description's `webhooks` ([`Webhooks`]).
#[derive(OpenApi)]
#[openapi(paths(
    webhook_checkout_session_completed,
    webhook_checkout_session_expired,
    webhook_subscription_created,
    webhook_subscription_updated,
    webhook_subscription_renewed,
    webhook_subscription_canceled,
    webhook_subscription_paused,
    webhook_subscription_resumed,
    webhook_order_refunded,
))]
pub struct WebhookDoc;

/// The description of the API served in `mode`, as JSON.
pub fn description(mode: Mode) -> Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let wanted = match mode {
        Mode::Sandbox => "sandbox",
        Mode::Live => "live",
    };
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            if let Some(operations) = item.as_object_mut() {
                operations.retain(|_, operation| {
                    operation
                        .get(MODE_EXTENSION)
                        .and_then(Value::as_str)
                        .is_none_or(|only| only == wanted)
                });
            }
        }
        paths.retain(|_, item| item.as_object().is_some_and(|item| !item.is_empty()));
    }
    document
}

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "static",
    operation_id = "openapi_description",
    responses((status = 200, description = "This description (OpenAPI 3.1) of the server as it runs: operations of the other mode are left out.", content_type = "application/json", body = Object)),
)]
pub async fn serve(axum::extract::State(state): axum::extract::State<crate::AppState>) -> Response {
    let mut response = axum::Json(description(state.config().mode.clone())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300, must-revalidate"),
    );
    response
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "seller",
            bearer("The seller token (`msk_...`), from `mighty-server seller add`. Wrong tokens count as failed attempts of the client's address: 10 a minute, then 429."),
        );
        components.add_security_scheme(
            "customer",
            bearer("A subscription's customer token, given to the browser that paid (`customer_token` of the checkout session)."),
        );
        components.add_security_scheme(
            "dashboard_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "mighty_seller",
                "The dashboard's session cookie (HttpOnly, SameSite=Strict, 7 days), set by POST /dashboard/sign-in.",
            ))),
        );
        components.add_security_scheme(
            "stripe_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Stripe-Signature",
                "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">` keyed with STRIPE_WEBHOOK_SECRET; five minutes' tolerance.",
            ))),
        );
    }
}

/// Moves [`WebhookDoc`]'s paths to the description's `webhooks` (named by event type).
struct Webhooks;

impl Modify for Webhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let doc = WebhookDoc::openapi();
        let mut webhooks = utoipa::openapi::path::PathsBuilder::new();
        for (name, item) in doc.paths.paths {
            webhooks = webhooks.path(name.trim_start_matches('/'), item);
        }
        openapi.webhooks = Some(webhooks.build());
        let components = openapi.components.get_or_insert_with(Default::default);
        if let Some(theirs) = doc.components {
            components.schemas.extend(theirs.schemas);
        }
    }
}

/// Every operation answers its errors with the error body: the `default` response names it,
/// beside the statuses each operation lists.
struct ErrorsByDefault;

impl Modify for ErrorsByDefault {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::ResponseBuilder;
        use utoipa::openapi::content::ContentBuilder;
        let error = || {
            ResponseBuilder::new()
                .description("An error: `{\"error\": {\"code\", \"message\", \"field\"?}}` (codes in ErrorCode). 405 `method_not_allowed` answers a known path with another method, 503 `unavailable` a request with no answer within 30 s, 429 `rate_limited` (with `Retry-After`) a client past a limit.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .responses
                    .responses
                    .entry("default".to_string())
                    .or_insert_with(|| error().into());
            }
        }
    }
}

// --- operations without a handler of their own --------------------------------------------

/// A CORS preflight (`OPTIONS`) of a path the widget calls from other origins.
macro_rules! preflight {
    ($name:ident, $path:literal, $methods:literal $(, $param:literal)*) => {
        #[utoipa::path(
            options,
            path = $path,
            tag = "static",
            operation_id = stringify!($name),
            summary = "CORS preflight",
            params($(($param = String, Path, description = "As on the request it precedes.")),*),
            description = concat!("Answers browsers' preflights: `Access-Control-Allow-Methods: ", $methods, "`, `Access-Control-Allow-Headers: Content-Type, Idempotency-Key, Mighty-Session-Secret, Authorization`, `Access-Control-Max-Age: 600`, and the request's `Origin` allowed (the actual request is checked against the listing's `allowed_origins`)."),
            responses((status = 204, description = "The preflight's headers, no body.")),
        )]
        #[allow(dead_code)]
        fn $name() {}
    };
}

preflight!(listing_preflight, "/v1/listings/{id}", "GET, OPTIONS", "id");
preflight!(
    creator_links_preflight,
    "/v1/listings/{id}/creator-links",
    "POST, OPTIONS",
    "id"
);
preflight!(
    checkout_sessions_preflight,
    "/v1/checkout/sessions",
    "GET, POST, OPTIONS"
);
preflight!(
    checkout_session_preflight,
    "/v1/checkout/sessions/{id}",
    "GET, POST, OPTIONS",
    "id"
);
preflight!(
    upgrade_preflight,
    "/v1/subscriptions/{id}/upgrade",
    "POST, OPTIONS",
    "id"
);
preflight!(
    cancel_preflight,
    "/v1/subscriptions/{id}/cancel",
    "POST, OPTIONS",
    "id"
);
preflight!(
    pause_preflight,
    "/v1/subscriptions/{id}/pause",
    "POST, OPTIONS",
    "id"
);
preflight!(
    resume_preflight,
    "/v1/subscriptions/{id}/resume",
    "POST, OPTIONS",
    "id"
);
preflight!(
    downgrade_preflight,
    "/v1/subscriptions/{id}/downgrade",
    "POST, OPTIONS",
    "id"
);
preflight!(
    subscription_preflight,
    "/v1/subscriptions/{id}",
    "GET, OPTIONS",
    "id"
);
preflight!(events_preflight, "/v1/events", "POST, OPTIONS");

/// `GET /`: the demo directory (`static_files.rs`).
#[utoipa::path(
    get,
    path = "/",
    tag = "static",
    operation_id = "demo_directory",
    responses((status = 200, description = "The demo directory page (`index.html`), under the strict CSP.", content_type = "text/html", body = String)),
)]
#[allow(dead_code)]
fn index_page() {}

/// `GET /dist/{file}`: the widget bundle (`static_files.rs`).
#[utoipa::path(
    get,
    path = "/dist/{file}",
    tag = "static",
    operation_id = "bundle_file",
    description = "A file of the widget bundle: the loader `mighty.js` (`Cache-Control: public, max-age=300, must-revalidate`), the content-hashed `mighty-<hash>.js|wasm|css|json` (`public, max-age=31536000, immutable`), `integrity.json`, the npm package's files. `Access-Control-Allow-Origin: *`; `.br`/`.gz` copies for clients that accept them.",
    params(("file" = String, Path, description = "A file name of `dist/` (flat).")),
    responses(
        (status = 200, description = "The file.", content(
            ("text/javascript"), ("application/wasm"), ("text/css"), ("application/json"), ("text/markdown"), ("text/plain"),
        )),
        (status = 404, description = "No such file of the bundle.", body = ErrorBody),
    ),
)]
#[allow(dead_code)]
fn bundle_file() {}

/// `GET /dist/v1/{file}`: the same files under the contract's major version.
#[utoipa::path(
    get,
    path = "/dist/v1/{file}",
    tag = "static",
    operation_id = "bundle_file_v1",
    description = "The same files as `/dist/{file}` with the same headers, under the contract's major version: the URL a page pastes (`/dist/v1/mighty.js`) keeps working when a new bundle of version 1 ships.",
    params(("file" = String, Path, description = "A file name of `dist/` (flat).")),
    responses(
        (status = 200, description = "The file.", content(
            ("text/javascript"), ("application/wasm"), ("text/css"), ("application/json"), ("text/markdown"), ("text/plain"),
        )),
        (status = 404, description = "No such file of the bundle.", body = ErrorBody),
    ),
)]
#[allow(dead_code)]
fn bundle_file_versioned() {}

// --- the seller's webhooks ------------------------------------------------------------------

macro_rules! webhook {
    ($name:ident, $event:literal, $body:ty, $description:literal) => {
        #[utoipa::path(
            post,
            path = concat!("/", $event),
            operation_id = stringify!($name),
            summary = $event,
            description = concat!($description, " Posted to each receiver registered with `POST /v1/webhooks`, as JSON; delivered at least once (de-duplicate by `id`), retried after 2, 4, 8 ... seconds (at most an hour apart) for 24 hours until a 2xx."),
            params(
                ("Mighty-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">`, keyed with the UTF-8 bytes of the receiver's `secret`; refuse it when |now − t| > 300."),
                ("Mighty-Event-Id" = String, Header, description = "The event's `id`."),
            ),
            request_body(content = $body, content_type = "application/json"),
            responses(
                (status = "2XX", description = "Delivered: not sent again."),
                (status = "default", description = "Not delivered: sent again later (a redirect is not followed)."),
            ),
        )]
        #[allow(dead_code)]
        fn $name() {}
    };
}

webhook!(
    webhook_checkout_session_completed,
    "checkout.session.completed",
    CheckoutSessionCompletedEvent,
    "A checkout session was paid: the session and its order (with attribution, email and shipping)."
);
webhook!(
    webhook_checkout_session_expired,
    "checkout.session.expired",
    CheckoutSessionExpiredEvent,
    "A checkout session was not paid within 30 minutes; its drop stock is back."
);
webhook!(
    webhook_subscription_created,
    "subscription.created",
    SubscriptionCreatedEvent,
    "A paid retainer started a subscription."
);
webhook!(
    webhook_subscription_updated,
    "subscription.updated",
    SubscriptionUpdatedEvent,
    "A subscription changed tier (`amount_due` charged now), or a downgrade was scheduled for the period's end (`pending_tier_id`, `amount_due` 0) and later applied."
);
webhook!(
    webhook_subscription_renewed,
    "subscription.renewed",
    SubscriptionRenewedEvent,
    "A subscription's period ended and it renewed (a `renewal` order at the current price)."
);
webhook!(
    webhook_subscription_canceled,
    "subscription.canceled",
    SubscriptionCanceledEvent,
    "A subscription was canceled."
);
webhook!(
    webhook_subscription_paused,
    "subscription.paused",
    SubscriptionPausedEvent,
    "A subscription was paused: renewals are skipped from `paused_from` (no charge, no renewal order) until `paused_until`."
);
webhook!(
    webhook_subscription_resumed,
    "subscription.resumed",
    SubscriptionResumedEvent,
    "A pause ended: asked for, or by itself at `paused_until` (that renewal is charged)."
);
webhook!(
    webhook_order_refunded,
    "order.refunded",
    OrderRefundedEvent,
    "An order was refunded."
);
