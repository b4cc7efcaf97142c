//! The JSON bodies of the HTTP API as OpenAPI schemas (utoipa's `ToSchema`).
//!
//! Most handlers write their answers with `json!` or with core's protocol types, and core
//! cannot depend on utoipa (it is compiled into the widget's wasm): so the bodies are
//! described here, by types that exist only for the description. Nothing serializes them.
//! What keeps them true is the tests: every answer of the in-process tests is validated
//! against the description (`tests/support/described.rs`), and core's protocol types are
//! serialized and validated against their schemas here (`tests/openapi.rs`).
//!
//! Field names are public API (SPEC sections 3 to 7). `Option` fields the server always
//! writes (as `null` when empty) are marked `required`; fields it leaves out are not.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

// --- errors ------------------------------------------------------------------------------

/// Every error answer of the API: `{"error": {"code", "message", "field"?}}`.
#[derive(ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// What went wrong and how to fix it, in English, meant for people (a widget shows a
    /// 422's message verbatim).
    pub message: String,
    /// The field of the request the error is about (422 `invalid_request`), as a JSON
    /// path (`offers[1].price`) or a parameter name.
    pub field: Option<String>,
}

/// The error codes (`docs/server.md`, "HTTP surface").
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body or the query cannot be read.
    MalformedBody,
    /// 401: no token, or one that is not known.
    Unauthorized,
    /// 403: not yours.
    Forbidden,
    /// 403: the `Origin` is not on the listing's `allowed_origins` (CORS-readable).
    OriginNotAllowed,
    /// 403: a form post from another site.
    CrossSiteRequest,
    /// 404.
    NotFound,
    /// 405: a known path with another method.
    MethodNotAllowed,
    /// 409: the drop is sold out.
    SoldOut,
    /// 409: the drop is not open now.
    DropClosed,
    /// 409: an `Idempotency-Key` used before with another body.
    IdempotencyConflict,
    /// 409: any other conflict (a refund made twice, ...).
    Conflict,
    /// 413: a body over 64 KB.
    TooLarge,
    /// 422: a value that is missing, of the wrong type or out of range (`field` names it).
    InvalidRequest,
    /// 429: with `Retry-After`.
    RateLimited,
    /// 503: retry later (the database is away, a sandbox fault).
    Unavailable,
    /// 500.
    Internal,
}

// --- health ------------------------------------------------------------------------------

#[derive(ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(pattern = "^ok$")]
    pub status: String,
    /// The server's version.
    pub version: String,
}

#[derive(ToSchema)]
pub struct Ready {
    /// Always `ready`.
    #[schema(pattern = "^ready$")]
    pub status: String,
}

// --- listing documents (SPEC sections 3 and 3.1) -------------------------------------------

/// A price: whole minor units in the document's `currency` (`2400` for 24.00 EUR), or an
/// amount with its own currency, which must be the document's. Never a float.
#[derive(ToSchema, Serialize)]
#[serde(untagged)]
pub enum Price {
    MinorUnits(i64),
    Money(Money),
}

/// An amount in minor units with its ISO 4217 currency.
#[derive(ToSchema, Serialize)]
pub struct Money {
    #[schema(minimum = 0)]
    pub amount: i64,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

/// A listing document, version 1 (SPEC section 3), as `GET /v1/listings/{id}` serves it:
/// with `server_time`, `test_mode` and `drop.remaining` added, and without
/// `allowed_origins`. Unknown fields are kept and ignored (forward compatible).
#[derive(ToSchema)]
pub struct ListingDocument {
    /// Always 1.
    #[schema(minimum = 1, maximum = 1)]
    pub version: i64,
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub id: String,
    pub title: String,
    pub summary: Option<String>,
    /// ISO 4217 code of every price of the document.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    pub seller: Option<ListingSeller>,
    pub creators: Option<Vec<Creator>>,
    pub trust: Option<Trust>,
    #[schema(min_items = 1)]
    pub offers: Vec<Offer>,
    pub drop: Option<Drop>,
    pub checkout: Option<CheckoutTarget>,
    /// The server's clock (added by the server that serves the document): countdowns
    /// follow it, not the visitor's.
    #[schema(format = DateTime)]
    pub server_time: Option<String>,
    /// Added by the server: `true` in the sandbox and with a Stripe test key.
    pub test_mode: Option<bool>,
}

/// What a seller stores with `PUT /v1/listings/{id}`: the document and the directory origins
/// that may embed it (never served on `GET`): `allOf` the document and `allowed_origins`.
pub struct StoredListing;

impl utoipa::PartialSchema for StoredListing {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, Type};
        let origins = ObjectBuilder::new()
            .property(
                "allowed_origins",
                ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some(
                        "Origins (`https://directory.example`) that may embed the listing, or `[\"*\"]` for any.",
                    )),
            )
            .required("allowed_origins");
        AllOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name("ListingDocument"))
            .item(origins)
            .description(Some(
                "A listing document as a seller stores it: the document and the directory origins that may embed it (never served on GET).",
            ))
            .into()
    }
}

impl ToSchema for StoredListing {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            "ListingDocument".to_string(),
            <ListingDocument as utoipa::PartialSchema>::schema(),
        ));
        <ListingDocument as ToSchema>::schemas(schemas);
    }
}

#[derive(ToSchema)]
pub struct ListingSeller {
    pub name: String,
    pub location: Option<String>,
    pub url: Option<String>,
}

#[derive(ToSchema)]
pub struct Creator {
    /// 1 to 64 ASCII letters, digits, `_`, `-`, `.`.
    pub handle: String,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub demo: Option<Demo>,
}

#[derive(ToSchema)]
pub struct Demo {
    /// A video URL, or a list of sources (`{"src", "type"}`).
    pub src: DemoSource,
    pub poster: Option<String>,
    /// WebVTT captions.
    pub captions: Option<String>,
    pub duration_s: Option<f64>,
}

#[derive(ToSchema, Serialize)]
#[serde(untagged)]
pub enum DemoSource {
    Url(String),
    Sources(Vec<DemoSourceEntry>),
}

#[derive(ToSchema, Serialize)]
pub struct DemoSourceEntry {
    pub src: String,
    /// A media type with codecs, e.g. `video/webm; codecs="vp9,opus"`.
    #[serde(rename = "type")]
    pub media_type: Option<String>,
}

#[derive(ToSchema)]
pub struct Trust {
    pub rating: Option<Rating>,
    pub testimonials: Option<Vec<Testimonial>>,
    pub case_studies: Option<Vec<CaseStudy>>,
    /// Badge ids: `local-maker`, `handmade`, `ships-48h`, ... (others are shown as written).
    pub badges: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub struct Rating {
    #[schema(minimum = 0, maximum = 5)]
    pub value: f64,
    #[schema(minimum = 0)]
    pub count: i64,
}

#[derive(ToSchema)]
pub struct Testimonial {
    pub author: Option<String>,
    pub text: String,
    pub verified: Option<bool>,
}

#[derive(ToSchema)]
pub struct CaseStudy {
    pub title: String,
    pub metric: Option<String>,
    pub url: Option<String>,
}

/// A `bundle` (one-time) or a `retainer` (a membership with tiers).
#[derive(ToSchema)]
pub struct Offer {
    pub id: String,
    pub kind: OfferKind,
    pub name: String,
    /// A bundle's price.
    pub price: Option<Price>,
    pub compare_at: Option<Price>,
    pub items: Option<Vec<String>>,
    pub ships: Option<bool>,
    /// `ship` and/or `pickup` (SPEC section 3.1).
    pub fulfilment: Option<Vec<Fulfilment>>,
    /// 2 to 4 variants of a bundle (SPEC section 3.1).
    pub variants: Option<Vec<OfferVariant>>,
    pub variant_bounds: Option<VariantBounds>,
    /// A retainer's tiers.
    pub tiers: Option<Vec<Tier>>,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferKind {
    Bundle,
    Retainer,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fulfilment {
    Ship,
    Pickup,
}

/// A bundle's price point or composition: what it sets replaces the offer's own.
#[derive(ToSchema)]
pub struct OfferVariant {
    /// Unique within the offer.
    pub id: String,
    /// Within `variant_bounds` when the offer has them.
    pub price: Option<Price>,
    pub compare_at: Option<Price>,
    pub items: Option<Vec<String>>,
    /// Added by the server that serves the document: the variant's current traffic share.
    #[schema(minimum = 0, maximum = 1)]
    pub share: Option<f64>,
}

/// The prices the seller allows the variants; `floor` ≤ `ceiling`.
#[derive(ToSchema)]
pub struct VariantBounds {
    pub floor: Price,
    pub ceiling: Price,
}

#[derive(ToSchema)]
pub struct Tier {
    pub id: String,
    pub name: String,
    pub price: Price,
    pub interval: Interval,
    pub perks: Option<Vec<String>>,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

/// A drop gates the listing's bundles: a window and a stock.
#[derive(ToSchema)]
pub struct Drop {
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[schema(format = DateTime)]
    pub ends_at: String,
    #[schema(minimum = 0)]
    pub inventory: Option<i64>,
    /// Added by the server: inventory − sold − reserved.
    #[schema(minimum = 0)]
    pub remaining: Option<i64>,
    pub popup: Option<Popup>,
}

/// Where the drop's pop-up stand is (SPEC section 3.1).
#[derive(ToSchema)]
pub struct Popup {
    pub name: String,
    pub address: String,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// RFC 3339 with an offset; before `closes_at`. The offset is `timezone`'s at that
    /// instant (or `Z`), else `PUT` refuses it.
    #[schema(format = DateTime)]
    pub opens_at: String,
    /// RFC 3339 with an offset, `timezone`'s at that instant (or `Z`).
    #[schema(format = DateTime)]
    pub closes_at: String,
    /// A name in the IANA time zone database (`Europe/Paris`; legacy names such as
    /// `US/Eastern` too), in which the card shows the times.
    pub timezone: String,
}

#[derive(ToSchema)]
pub struct CheckoutTarget {
    /// The partner's checkout endpoint (absolute, or relative to the document's URL).
    pub endpoint: String,
}

// --- checkout (SPEC section 4; core's `protocol` types) ------------------------------------

/// `POST /v1/checkout/sessions`: core's `CheckoutRequest`.
#[derive(ToSchema)]
pub struct CheckoutRequest {
    pub listing_id: String,
    pub offer_id: String,
    /// A retainer's tier.
    pub tier_id: Option<String>,
    /// 1 to 10 (default 1); a retainer is always 1.
    #[schema(minimum = 1)]
    pub quantity: Option<i64>,
    pub attribution: Option<Attribution>,
    /// The page to come back to, without `mighty_*` parameters, plus `mighty_listing`: an
    /// absolute `https` URL (`http` on localhost) on the listing's `allowed_origins`.
    pub return_url: String,
    /// The bundle's offer variant shown (SPEC section 3.1); its stored price is charged, and
    /// an id the offer does not have is refused with 422.
    pub offer_variant: Option<String>,
    /// What the shopper chose; one the offer does not allow is refused with 422 (`field`:
    /// `fulfilment`). Without it, an offer that ships is shipped, a pick-up-only offer is
    /// picked up.
    pub fulfilment: Option<Fulfilment>,
}

/// Who brought the shopper (SPEC section 5).
#[derive(ToSchema)]
pub struct Attribution {
    pub creator: Option<String>,
    /// The signed creator-link token, passed on as the page had it; only the server
    /// verifies it.
    pub token: Option<String>,
    /// The shown creator's handle.
    pub variant: Option<String>,
    pub page: Option<String>,
    pub utm: Option<Utm>,
}

/// UTM parameters; all five keys, `null` when absent.
#[derive(ToSchema)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub content: Option<String>,
    pub term: Option<String>,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Open,
    Paid,
    /// Declined.
    Failed,
    Expired,
}

/// `201` of `POST /v1/checkout/sessions`: core's `CheckoutSessionCreated`.
#[derive(ToSchema)]
pub struct CheckoutSessionCreated {
    pub session_id: String,
    pub status: SessionStatus,
    /// The hosted payment page: open it in the popup or the page itself.
    #[schema(format = "uri")]
    pub redirect_url: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    /// Send it back as `Mighty-Session-Secret` on `GET /v1/checkout/sessions/{id}` to be
    /// given the `customer_token`; keep it in memory only.
    pub session_secret: Option<String>,
}

/// `GET /v1/checkout/sessions/{id}`: core's `CheckoutSessionState`.
#[derive(ToSchema)]
pub struct CheckoutSessionState {
    pub session_id: String,
    pub status: SessionStatus,
    pub amount: i64,
    pub currency: String,
    #[schema(format = DateTime)]
    pub server_time: String,
    /// A paid retainer's subscription.
    pub subscription_id: Option<String>,
    /// Only with the right `Mighty-Session-Secret`: upgrades and cancels the membership.
    pub customer_token: Option<String>,
    /// How a bundle that ships or is picked up reaches the shopper.
    pub fulfilment: Option<Fulfilment>,
    /// A paid pick-up order's code for the pop-up stand; only with the right
    /// `Mighty-Session-Secret`.
    pub pickup_code: Option<String>,
}

// --- subscriptions -------------------------------------------------------------------------

/// `POST /v1/subscriptions/{id}/upgrade`: core's `UpgradeRequest`.
#[derive(ToSchema)]
pub struct UpgradeRequest {
    pub tier_id: String,
}

/// The upgrade's answer: core's `UpgradeResponse`; `amount_due` in minor units.
#[derive(ToSchema)]
pub struct UpgradeResponse {
    pub subscription_id: String,
    pub tier_id: String,
    /// (new price − old price) × the remaining part of the period, rounded half-even.
    pub amount_due: i64,
}

#[derive(ToSchema)]
pub struct Subscription {
    pub subscription_id: String,
    pub status: SubscriptionStatus,
    pub listing_id: String,
    pub offer_id: String,
    pub tier_id: String,
    /// Minor units per interval.
    pub price: i64,
    pub currency: String,
    pub interval: Interval,
    #[schema(format = DateTime)]
    pub current_period_start: String,
    #[schema(format = DateTime)]
    pub current_period_end: String,
    #[schema(required = true)]
    pub creator: Option<String>,
    pub creator_verified: bool,
    #[schema(required = true, format = DateTime)]
    pub canceled_at: Option<String>,
    // Retention by value (issue 15); each `null` when there is none.
    /// The end of the period paid for, when paused: renewals are skipped from then.
    #[schema(required = true, format = DateTime)]
    pub paused_from: Option<String>,
    /// The start of the first period charged again; the membership resumes by itself then.
    /// `null` while paused too when a pause set in Stripe's dashboard has no end (live mode):
    /// it lasts until someone resumes it.
    #[schema(required = true, format = DateTime)]
    pub paused_until: Option<String>,
    /// A lower tier it moves to at `pending_effective_at` (the current period's end).
    #[schema(required = true)]
    pub pending_tier_id: Option<String>,
    /// That tier's price per interval, in minor units: what the next renewal charges.
    #[schema(required = true)]
    pub pending_price: Option<i64>,
    #[schema(required = true, format = DateTime)]
    pub pending_effective_at: Option<String>,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionStatus {
    Active,
    /// Renewals are skipped until `paused_until`.
    Paused,
    Canceled,
}

/// `POST /v1/subscriptions/{id}/pause`.
#[derive(ToSchema)]
pub struct PauseRequest {
    /// How long: 1 to 3 months of renewals skipped (whole periods).
    #[schema(minimum = 1, maximum = 3)]
    pub months: i64,
    /// The shopper chose this instead of cancelling: recorded as a save.
    pub instead_of_cancel: Option<bool>,
}

/// `POST /v1/subscriptions/{id}/downgrade`.
#[derive(ToSchema)]
pub struct DowngradeRequest {
    /// A strictly cheaper tier of the same retainer, billed on the same interval.
    pub tier_id: String,
    /// The shopper chose this instead of cancelling: recorded as a save.
    pub instead_of_cancel: Option<bool>,
}

// --- measurement (SPEC section 6) -------------------------------------------------------------

/// `{"events": [...]}` or a bare array: at most 100 events and 64 KB.
#[derive(ToSchema, Serialize)]
#[serde(untagged)]
pub enum EventBatch {
    Wrapped(EventList),
    Bare(Vec<MeasurementEvent>),
}

#[derive(ToSchema, Serialize)]
pub struct EventList {
    #[schema(max_items = 100)]
    pub events: Vec<MeasurementEvent>,
}

/// One beacon of the widget: core's `MeasurementEvent`.
#[derive(ToSchema, Serialize)]
pub struct MeasurementEvent {
    /// Unique per event: the collector keeps one copy of each id.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: MeasurementEventType,
    pub listing_id: String,
    pub creator: Option<String>,
    pub variant: Option<String>,
    /// The bundle variant shown (SPEC section 3.1).
    pub offer_variant: Option<String>,
    pub visitor_id: String,
    #[schema(format = DateTime)]
    pub at: String,
}

/// The widget's DOM event names without `mighty:`.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MeasurementEventType {
    View,
    DemoPlay,
    DemoComplete,
    OfferSelect,
    CheckoutStart,
    CheckoutComplete,
    CheckoutError,
    Share,
}

#[derive(ToSchema)]
pub struct EventsAccepted {
    /// Events stored now.
    pub accepted: i64,
    /// Events whose id was already stored.
    pub duplicates: i64,
}

/// The KPIs of one listing per creator × variant (definitions in core's `kpi.rs`).
#[derive(ToSchema)]
pub struct Metrics {
    pub listing_id: String,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    /// The currency of the listing's payments (`null` before the first).
    #[schema(required = true)]
    pub currency: Option<String>,
    pub segments: Vec<MetricsSegment>,
    /// Every variant against the first.
    pub comparisons: Vec<VariantComparison>,
    /// Per creator with a fee: CAC payback.
    pub creators: Vec<CreatorPayback>,
    pub repeat_rate_30d: RepeatRate,
    #[schema(required = true)]
    pub drop: Option<DropSellThrough>,
    pub funnel: Funnel,
    pub concentration: RevenueConcentration,
    pub saves: Saves,
    /// Each bundle offer with offer variants: its test (SPEC 3.1; counts since the test
    /// began, whatever `from` and `to`).
    pub offer_variants: Vec<OfferVariantTest>,
}

/// Cancellations turned into a pause or a lower tier in [from, to) (issue 15).
#[derive(ToSchema)]
pub struct Saves {
    /// `pauses` + `downgrades`.
    pub total: i64,
    pub pauses: i64,
    pub downgrades: i64,
    /// Per currency of the memberships saved.
    pub revenue: Vec<SavedRevenue>,
}

#[derive(ToSchema)]
pub struct SavedRevenue {
    pub currency: String,
    /// Monthly recurring revenue kept, in minor units: the price a pause resumes at, a
    /// downgrade's lower price (a cancel keeps nothing).
    pub mrr_kept: i64,
    /// What the downgrades gave up against staying: the price differences, per month.
    pub mrr_given_up: i64,
}

/// Event counts and paid commits in [from, to), in the order a shopper goes.
#[derive(ToSchema)]
pub struct Funnel {
    pub views: i64,
    pub demo_plays: i64,
    pub checkout_starts: i64,
    /// First purchases, refunds excluded (as in `segments[].paid_commits`).
    pub paid_commits: i64,
}

/// Not relying on one source: non-refunded revenue of the last 30 days of the seller's clock
/// (`from` to `to`, whatever the query's range) by creator and by UTM source.
#[derive(ToSchema)]
pub struct RevenueConcentration {
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    /// The share above which one part warns: 0.6 (exactly 60 % does not).
    pub limit: f64,
    /// By the creator of the link, else the creator whose demo was shown.
    pub by_creator: RevenueSplit,
    /// By `attribution.utm.source`.
    pub by_source: RevenueSplit,
}

#[derive(ToSchema)]
pub struct RevenueSplit {
    /// Minor units.
    pub total: i64,
    /// Largest first.
    pub parts: Vec<RevenuePart>,
    /// The named part over the limit, if one is: the dashboard's warning.
    #[schema(required = true)]
    pub dominant: Option<RevenuePart>,
}

#[derive(ToSchema)]
pub struct RevenuePart {
    /// The creator's handle or the UTM source; `null` for revenue credited to none.
    #[schema(required = true)]
    pub key: Option<String>,
    /// Minor units.
    pub revenue: i64,
    /// Of the total, from 0 to 1.
    pub share: f64,
}

#[derive(ToSchema)]
pub struct MetricsSegment {
    #[schema(required = true)]
    pub creator: Option<String>,
    #[schema(required = true)]
    pub variant: Option<String>,
    pub views: i64,
    pub paid_commits: i64,
    /// Views → paid commits, with a Wilson 95 % interval.
    pub conversion: Rate,
    pub repeat_rate_30d: RepeatRate,
    #[schema(required = true)]
    pub recurring_revenue_per_active_customer: Option<f64>,
    /// Minor units, refunds excluded.
    pub revenue: i64,
}

#[derive(ToSchema)]
pub struct Rate {
    pub successes: i64,
    pub trials: i64,
    #[schema(required = true)]
    pub value: Option<f64>,
    #[schema(required = true)]
    pub low: Option<f64>,
    #[schema(required = true)]
    pub high: Option<f64>,
}

#[derive(ToSchema)]
pub struct RepeatRate {
    pub customers: i64,
    pub repeated: i64,
    pub eligible: i64,
    #[schema(required = true)]
    pub value: Option<f64>,
}

#[derive(ToSchema)]
pub struct VariantComparison {
    #[schema(required = true)]
    pub a: Option<String>,
    #[schema(required = true)]
    pub b: Option<String>,
    #[schema(required = true)]
    pub difference: Option<f64>,
    #[schema(required = true)]
    pub probability_b_beats_a: Option<f64>,
}

#[derive(ToSchema)]
pub struct CreatorPayback {
    pub creator: String,
    /// Minor units.
    pub fee: i64,
    #[schema(required = true)]
    pub cac_payback_months: Option<f64>,
}

#[derive(ToSchema)]
pub struct DropSellThrough {
    pub inventory: i64,
    pub sold: i64,
    pub reserved: i64,
    #[schema(required = true)]
    pub sell_through: Option<f64>,
}

/// A bundle offer's test of its offer variants (dynamic value bundles, SPEC 3.1): Thompson
/// sampling on revenue per view (`docs/server.md`, "Dynamic value bundles").
#[derive(ToSchema)]
pub struct OfferVariantTest {
    pub offer_id: String,
    /// `exploring`: shares follow each variant's probability of being best (with a floor while
    /// young); `stopped`: the winner gets every new visitor.
    pub status: OfferVariantTestStatus,
    /// The variant that gets every new visitor once stopped.
    #[schema(required = true)]
    pub winner: Option<String>,
    /// `confident` (best with probability ≥ `rules.stop_probability`) or `seller`.
    #[schema(required = true)]
    pub stop_reason: Option<OfferVariantStopReason>,
    /// A variant has fewer than `rules.young_until_views` views: every variant gets at least
    /// `rules.young_floor_share`, and the test cannot stop on its own.
    pub young: bool,
    #[schema(format = DateTime)]
    pub started_at: String,
    /// When the shares were last computed (seller's clock).
    #[schema(format = DateTime)]
    pub computed_at: String,
    #[schema(required = true, format = DateTime)]
    pub stopped_at: Option<String>,
    pub rules: OfferVariantRules,
    /// In the listing's order.
    pub variants: Vec<OfferVariantStats>,
    /// The shares served over time, oldest first: one point per recompute that changed them.
    pub history: Vec<OfferVariantSharePoint>,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferVariantTestStatus {
    Exploring,
    Stopped,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferVariantStopReason {
    Confident,
    Seller,
}

/// The constants the allocation follows (core's `bandit`).
#[derive(ToSchema)]
pub struct OfferVariantRules {
    /// 0.95.
    pub stop_probability: f64,
    /// 0.10.
    pub young_floor_share: f64,
    /// 300.
    pub young_until_views: i64,
    /// 3600: seconds of the seller's clock between recomputes.
    pub recompute_seconds: i64,
    /// Monte Carlo draws per recompute: 10,000.
    pub draws: i64,
}

/// One offer variant's numbers.
#[derive(ToSchema)]
pub struct OfferVariantStats {
    pub id: String,
    /// The price charged (minor units): the variant's own, else the offer's.
    pub price: i64,
    /// `view` events that named it.
    pub views: i64,
    /// Paid purchases at it, refunds excluded.
    pub commits: i64,
    /// What they paid, minor units.
    pub revenue: i64,
    /// Views → paid commits, with a Wilson 95 % interval.
    pub conversion: Rate,
    /// Minor units per view: conversion (and its interval) × mean order value (the price
    /// before a first commit).
    pub revenue_per_view: RevenuePerView,
    /// Of new visitors, now (all shares sum to 1).
    #[schema(minimum = 0, maximum = 1)]
    pub share: f64,
    #[schema(minimum = 0, maximum = 1)]
    pub probability_best: f64,
}

/// Revenue per view with its 95 % interval (`null`s without views).
#[derive(ToSchema)]
pub struct RevenuePerView {
    #[schema(required = true)]
    pub value: Option<f64>,
    #[schema(required = true)]
    pub low: Option<f64>,
    #[schema(required = true)]
    pub high: Option<f64>,
}

/// The shares one recompute served.
#[derive(ToSchema)]
pub struct OfferVariantSharePoint {
    #[schema(format = DateTime)]
    pub at: String,
    pub variants: Vec<OfferVariantShare>,
}

#[derive(ToSchema)]
pub struct OfferVariantShare {
    pub id: String,
    #[schema(minimum = 0, maximum = 1)]
    pub share: f64,
    #[schema(minimum = 0, maximum = 1)]
    pub probability_best: f64,
    /// The counts it was computed from.
    pub views: i64,
    pub commits: i64,
    pub revenue: i64,
}

/// `POST /v1/listings/{id}/offers/{offer_id}/variants/stop`.
#[derive(ToSchema)]
pub struct StopOfferVariants {
    /// The variant to keep; without it, the one most likely to be best now.
    pub winner: Option<String>,
}

/// `{"<creator handle>": <fee in minor units>}`.
#[derive(ToSchema)]
pub struct CreatorFees(pub BTreeMap<String, i64>);

#[derive(ToSchema)]
pub struct CreatorFeesSaved {
    pub listing_id: String,
    pub creator_fees: BTreeMap<String, i64>,
}

// --- creator links and views (SPEC section 5) ----------------------------------------------

#[derive(ToSchema)]
pub struct NewCreatorLink {
    pub handle: String,
    /// The directory page the link points at (default: this server's demo directory).
    pub page: Option<String>,
}

#[derive(ToSchema)]
pub struct CreatorLink {
    /// `<listing>~<handle>~<issued>~<signature>`.
    pub token: String,
    /// The page with `mighty_creator` and `mighty_token`.
    #[schema(format = "uri")]
    pub url: String,
    pub handle: String,
    pub listing_id: String,
    /// A QR code of `url`, as SVG.
    pub qr_svg: String,
}

#[derive(ToSchema)]
pub struct CreatorLinksRevoked {
    pub listing_id: String,
    pub handle: String,
    /// Links issued at or before this second no longer verify.
    #[schema(format = DateTime)]
    pub revoked_at: String,
}

#[derive(ToSchema)]
pub struct NewCreatorView {
    pub handle: String,
}

#[derive(ToSchema)]
pub struct CreatorView {
    /// The signed read-only page of that creator's numbers.
    #[schema(format = "uri")]
    pub url: String,
    pub handle: String,
    pub listing_id: String,
}

// --- orders ----------------------------------------------------------------------------------

#[derive(ToSchema)]
pub struct Orders {
    pub orders: Vec<Order>,
}

/// A payment: a purchase, a renewal or an upgrade charge.
#[derive(ToSchema)]
pub struct Order {
    pub id: String,
    pub kind: OrderKind,
    #[schema(required = true)]
    pub session_id: Option<String>,
    #[schema(required = true)]
    pub subscription_id: Option<String>,
    pub listing_id: String,
    pub offer_id: String,
    #[schema(required = true)]
    pub tier_id: Option<String>,
    pub quantity: i64,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    #[schema(required = true)]
    pub email: Option<String>,
    /// The shipping address given on the pay page, for offers that ship.
    #[schema(required = true)]
    pub shipping: Option<Shipping>,
    /// A purchase's `ship` or `pickup`; `null` for memberships and what is neither.
    #[schema(required = true)]
    pub fulfilment: Option<Fulfilment>,
    /// A paid pick-up order's code for the pop-up stand (6 characters, no `0`/`O`/`1`/`I`).
    #[schema(required = true)]
    pub pickup_code: Option<String>,
    /// The widget's `attribution` object as cleaned at the door.
    pub attribution: StoredAttribution,
    #[schema(required = true)]
    pub creator: Option<String>,
    /// The creator's signed link was genuine, unexpired and unrevoked.
    pub creator_verified: bool,
    /// A stable id of the paying customer (their subscription's, else the session's).
    #[schema(required = true)]
    pub customer: Option<String>,
    pub status: OrderStatus,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required = true, format = DateTime)]
    pub refunded_at: Option<String>,
    /// The bundle's offer variant bought (SPEC 3.1); `null` for other orders.
    #[schema(required = true)]
    pub offer_variant: Option<String>,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderKind {
    Purchase,
    Renewal,
    Upgrade,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Paid,
    Refunded,
}

/// A shipping address: from the sandbox pay page's fields (`name`, `address-line1`,
/// `postal-code`, `city`, `country`), or as Stripe Checkout collected it in live mode.
#[derive(ToSchema)]
pub struct Shipping {
    pub name: Option<String>,
    #[schema(rename = "address-line1")]
    pub address_line1: Option<String>,
    #[schema(rename = "postal-code")]
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// The stored `attribution` of a checkout: what the widget sent, cleaned (`token` only
/// when it reads as a creator token, `page` only an http(s) URL, each `utm` value at most
/// 100 characters).
#[derive(ToSchema)]
pub struct StoredAttribution {
    pub creator: Option<String>,
    pub token: Option<String>,
    pub variant: Option<String>,
    pub page: Option<String>,
    pub utm: Option<Utm>,
}

// --- webhooks (the seller's receivers) -----------------------------------------------------

#[derive(ToSchema)]
pub struct NewWebhook {
    /// Where deliveries are posted.
    pub url: String,
}

#[derive(ToSchema)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// Keys the `Mighty-Signature` HMAC (its UTF-8 bytes).
    pub secret: String,
}

#[derive(ToSchema)]
pub struct WebhookRemoved {
    pub id: String,
    pub deleted: bool,
    /// Events not yet delivered to it, given up.
    pub undelivered_given_up: i64,
}

#[derive(ToSchema)]
pub struct Deliveries {
    pub webhook_id: String,
    pub events: Vec<OutboxEntry>,
    pub attempts: Vec<DeliveryAttempt>,
}

#[derive(ToSchema)]
pub struct OutboxEntry {
    pub event_id: String,
    pub event_type: WebhookEventType,
    pub attempts: i64,
    pub delivered: bool,
    pub gave_up: bool,
    /// Unix seconds.
    pub next_attempt_at: i64,
    #[schema(required = true)]
    pub last_error: Option<String>,
}

#[derive(ToSchema)]
pub struct DeliveryAttempt {
    pub event_id: String,
    pub event_type: WebhookEventType,
    /// Unix seconds.
    pub attempted_at: i64,
    /// The receiver's status code; `null` when there was no answer.
    #[schema(required = true)]
    pub status_code: Option<i64>,
    /// `could not connect`, `no answer within 10 s`, ...
    #[schema(required = true)]
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(ToSchema, Serialize)]
pub enum WebhookEventType {
    #[serde(rename = "checkout.session.completed")]
    CheckoutSessionCompleted,
    #[serde(rename = "checkout.session.expired")]
    CheckoutSessionExpired,
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "subscription.updated")]
    SubscriptionUpdated,
    #[serde(rename = "subscription.renewed")]
    SubscriptionRenewed,
    #[serde(rename = "subscription.canceled")]
    SubscriptionCanceled,
    #[serde(rename = "subscription.paused")]
    SubscriptionPaused,
    #[serde(rename = "subscription.resumed")]
    SubscriptionResumed,
    #[serde(rename = "order.refunded")]
    OrderRefunded,
}

/// A checkout session as webhooks report it.
#[derive(ToSchema)]
pub struct WebhookSession {
    pub session_id: String,
    pub status: SessionStatus,
    pub listing_id: String,
    pub offer_id: String,
    #[schema(required = true)]
    pub tier_id: Option<String>,
    pub quantity: i64,
    pub amount: i64,
    pub currency: String,
    #[schema(required = true)]
    pub email: Option<String>,
    pub attribution: StoredAttribution,
    #[schema(required = true)]
    pub creator: Option<String>,
    pub creator_verified: bool,
    #[schema(required = true)]
    pub subscription_id: Option<String>,
    /// `ship` or `pickup` for a bundle that is shipped or picked up, else `null`; a pick-up
    /// order's code is on the `order`.
    #[schema(required = true)]
    pub fulfilment: Option<Fulfilment>,
    #[schema(format = DateTime)]
    pub created: String,
    /// The bundle's offer variant charged (SPEC 3.1), else `null`.
    #[schema(required = true)]
    pub offer_variant: Option<String>,
}

/// A subscription as webhooks report it.
#[derive(ToSchema)]
pub struct WebhookSubscription {
    pub subscription_id: String,
    pub status: SubscriptionStatus,
    pub listing_id: String,
    pub offer_id: String,
    pub tier_id: String,
    pub price: i64,
    pub currency: String,
    pub interval: Interval,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub creator: Option<String>,
    pub creator_verified: bool,
    #[schema(format = DateTime)]
    pub current_period_start: String,
    #[schema(format = DateTime)]
    pub current_period_end: String,
    pub attribution: StoredAttribution,
    // Retention by value (issue 15); each `null` when there is none.
    /// The end of the period paid for, when paused: renewals are skipped from then.
    #[schema(required = true, format = DateTime)]
    pub paused_from: Option<String>,
    /// The start of the first period charged again; the membership resumes by itself then.
    /// `null` while paused too when a pause set in Stripe's dashboard has no end (live mode):
    /// it lasts until someone resumes it.
    #[schema(required = true, format = DateTime)]
    pub paused_until: Option<String>,
    /// A lower tier it moves to at `pending_effective_at` (the current period's end).
    #[schema(required = true)]
    pub pending_tier_id: Option<String>,
    /// That tier's price per interval, in minor units: what the next renewal charges.
    #[schema(required = true)]
    pub pending_price: Option<i64>,
    #[schema(required = true, format = DateTime)]
    pub pending_effective_at: Option<String>,
}

#[derive(ToSchema)]
pub struct SessionCompletedData {
    pub session: WebhookSession,
    pub order: Order,
}

#[derive(ToSchema)]
pub struct SessionExpiredData {
    pub session: WebhookSession,
}

#[derive(ToSchema)]
pub struct SubscriptionData {
    pub subscription: WebhookSubscription,
}

#[derive(ToSchema)]
pub struct SubscriptionUpdatedData {
    pub subscription: WebhookSubscription,
    /// What the change charged now, in minor units (0 for a change from the next period).
    pub amount_due: i64,
}

#[derive(ToSchema)]
pub struct OrderRefundedData {
    pub order: Order,
}

/// One webhook delivery's body for each event type: `{"id", "type", "created", "data"}`.
macro_rules! webhook_event {
    ($name:ident, $type_pattern:literal, $data:ty) => {
        #[derive(ToSchema)]
        pub struct $name {
            /// `evt_...`, also in the `Mighty-Event-Id` header: de-duplicate by it.
            pub id: String,
            #[schema(rename = "type", pattern = $type_pattern)]
            pub event_type: String,
            /// When it happened, on the seller's (sandbox) clock.
            #[schema(format = DateTime)]
            pub created: String,
            pub data: $data,
        }
    };
}

webhook_event!(
    CheckoutSessionCompletedEvent,
    "^checkout\\.session\\.completed$",
    SessionCompletedData
);
webhook_event!(
    CheckoutSessionExpiredEvent,
    "^checkout\\.session\\.expired$",
    SessionExpiredData
);
webhook_event!(
    SubscriptionCreatedEvent,
    "^subscription\\.created$",
    SubscriptionData
);
webhook_event!(
    SubscriptionUpdatedEvent,
    "^subscription\\.updated$",
    SubscriptionUpdatedData
);
webhook_event!(
    SubscriptionRenewedEvent,
    "^subscription\\.renewed$",
    SubscriptionData
);
webhook_event!(
    SubscriptionCanceledEvent,
    "^subscription\\.canceled$",
    SubscriptionData
);
webhook_event!(
    SubscriptionPausedEvent,
    "^subscription\\.paused$",
    SubscriptionData
);
webhook_event!(
    SubscriptionResumedEvent,
    "^subscription\\.resumed$",
    SubscriptionData
);
webhook_event!(OrderRefundedEvent, "^order\\.refunded$", OrderRefundedData);

// --- sandbox --------------------------------------------------------------------------------

#[derive(ToSchema)]
pub struct ClockAdvance {
    /// 1 to 34 560 000 (400 days): the clock only moves forward.
    #[schema(minimum = 1, maximum = 34_560_000)]
    pub seconds: i64,
}

#[derive(ToSchema)]
pub struct ClockAdvanced {
    /// The calling seller's time now.
    #[schema(format = DateTime)]
    pub now: String,
    pub offset_seconds: i64,
    pub expired_sessions: i64,
    pub renewals: i64,
}

#[derive(ToSchema)]
pub struct SandboxFault {
    pub listing_id: String,
    pub mode: FaultMode,
    /// How many of the listing's next checkout requests fail; 0 disarms.
    #[schema(minimum = 0)]
    pub count: i64,
}

#[derive(ToSchema, Serialize)]
pub enum FaultMode {
    /// `503 unavailable`.
    #[serde(rename = "503")]
    Unavailable,
    /// `429 rate_limited` with `Retry-After: 1`.
    #[serde(rename = "429")]
    RateLimited,
    /// No answer for 20 s, then 503.
    #[serde(rename = "hang")]
    Hang,
    /// A `201` whose body is broken JSON.
    #[serde(rename = "malformed")]
    Malformed,
}

// --- forms of the server's pages ------------------------------------------------------------

/// The dashboard's sign-in form.
#[derive(ToSchema)]
pub struct SignInForm {
    /// The seller token.
    pub token: String,
}

/// The sandbox pay page's form (its `autocomplete` tokens are in `docs/server.md`).
#[derive(ToSchema)]
pub struct PayForm {
    pub email: String,
    #[schema(rename = "cc-name")]
    pub cc_name: String,
    /// `4242 4242 4242 4242` pays; `4000 0000 0000 0002` is declined.
    #[schema(rename = "cc-number")]
    pub cc_number: String,
    /// MM/YY.
    #[schema(rename = "cc-exp")]
    pub cc_exp: String,
    #[schema(rename = "cc-csc")]
    pub cc_csc: String,
    /// The shipping fields, for offers that ship.
    #[schema(rename = "ship-name")]
    pub ship_name: Option<String>,
    #[schema(rename = "ship-address-line1")]
    pub ship_address_line1: Option<String>,
    #[schema(rename = "ship-postal-code")]
    pub ship_postal_code: Option<String>,
    #[schema(rename = "ship-city")]
    pub ship_city: Option<String>,
    #[schema(rename = "ship-country")]
    pub ship_country: Option<String>,
}

/// The manage page's upgrade form.
#[derive(ToSchema)]
pub struct ManageUpgradeForm {
    pub tier_id: String,
    /// The form's idempotency key (a hidden field): a double submit changes nothing more.
    pub key: Option<String>,
}

/// The cancel screen's pause form.
#[derive(ToSchema)]
pub struct ManagePauseForm {
    /// 1 to 3.
    pub months: String,
    /// `1` on the cancel screen: recorded as a save.
    pub instead_of_cancel: Option<String>,
    pub key: Option<String>,
}

/// The cancel screen's lower-tier form.
#[derive(ToSchema)]
pub struct ManageDowngradeForm {
    pub tier_id: String,
    /// `1` on the cancel screen: recorded as a save.
    pub instead_of_cancel: Option<String>,
    pub key: Option<String>,
}

/// A form with only its idempotency key (resume).
#[derive(ToSchema)]
pub struct ManageKeyForm {
    pub key: Option<String>,
}

// --- live mode --------------------------------------------------------------------------------

#[derive(ToSchema)]
pub struct StripeEventReceived {
    pub received: bool,
    /// The event id was handled before (nothing changed).
    pub duplicate: Option<bool>,
}
