//! Storage: every durable fact of the reference server, behind one `Store` whose methods speak
//! in domain types (sessions, orders, subscriptions, outbox events), never in driver types.
//! Handlers never see SQL. Each method that changes several tables does so in one
//! transaction: a paid session, its order, its subscription and the webhook events that
//! report them are committed together or not at all.
//!
//! Two databases, one code path (`sql.rs`, sqlx's `Any` driver): SQLite, a file created on
//! first run (the default, for the demo and small sellers), and PostgreSQL, which several
//! instances share. Methods are synchronous; handlers call them through
//! [`crate::AppState::store`], which runs them on the blocking pool.

mod sql;

use serde::Serialize;

pub use sql::{AllocationClaim, ShareSnapshot, StoredVariantTest, VariantCounts};
pub use sql::{
    Dialect, NewSave, OrderPayment, RetentionChange, SaveTotals, Store, SubscriptionLink,
    add_retention_fields, create_postgres_database, subscription_change_scope,
};

/// Connections a PostgreSQL pool opens at most unless `MIGHTY_DB_POOL_SIZE` says otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// A storage failure: the driver's message (for the log) and whether it was a conflict.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Backend(String),
    /// The database cannot be reached (down, restarting, no free connection in time): a
    /// request is answered 503 and may be tried again.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// It exists, and belongs to someone else.
    #[error("{0}")]
    Forbidden(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        let unavailable = match &error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection exceptions (08) and operator interventions such as a
            // shutdown (57).
            sqlx::Error::Database(database) => database
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
            _ => false,
        };
        if unavailable {
            StoreError::Unavailable(error.to_string())
        } else {
            StoreError::Backend(error.to_string())
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where the data lives, from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(std::path::PathBuf),
    /// `:memory:` (tests).
    SqliteMemory,
    /// `postgres://user@host:port/db` (PostgreSQL 14 or newer), as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// `sqlite:mighty.db`, `sqlite://path/to.db`, a plain path, `sqlite::memory:`, or
    /// `postgres://...` / `postgresql://...`.
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        if text == "sqlite::memory:" || text == ":memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let parsed = url::Url::parse(text).map_err(|error| {
                format!("DATABASE_URL is not a PostgreSQL URL ({error}); write it like postgres://user@host:5432/mighty")
            })?;
            if parsed.host_str().is_none_or(str::is_empty)
                && !parsed.query().is_some_and(|query| query.contains("host="))
            {
                return Err("DATABASE_URL names no PostgreSQL host; write it like postgres://user@host:5432/mighty".to_string());
            }
            return Ok(DatabaseUrl::Postgres(text.to_string()));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "DATABASE_URL={text:?} is not understood; use sqlite:mighty.db (a file path) or postgres://user@host:5432/mighty"
            ));
        }
        Ok(DatabaseUrl::Sqlite(path.into()))
    }

    /// For messages: the file, or the PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => path.display().to_string(),
            DatabaseUrl::SqliteMemory => "an in-memory SQLite database".to_string(),
            DatabaseUrl::Postgres(text) => match url::Url::parse(text) {
                Ok(mut parsed) => {
                    // Messages and logs never carry the password.
                    let _ = parsed.set_password(None);
                    parsed.to_string()
                }
                Err(_) => "a PostgreSQL database".to_string(),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Seller {
    pub id: String,
    pub name: String,
}

/// A listing as stored: the document as the seller wrote it (unknown fields kept), who owns
/// it, which origins may embed it, and its drop stock.
#[derive(Debug, Clone)]
pub struct StoredListing {
    pub seller_id: String,
    pub document: serde_json::Value,
    pub allowed_origins: Vec<String>,
    pub stock: Option<Stock>,
    /// When it was last put (the seller's clock, seconds): strictly increasing per listing.
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stock {
    pub inventory: i64,
    pub sold: i64,
    pub reserved: i64,
}

impl Stock {
    pub fn remaining(&self) -> i64 {
        self.inventory - self.sold - self.reserved
    }
}

/// Who brought the buyer, as stored on sessions, orders and subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoredAttribution {
    /// The `attribution` object the widget sent (JSON).
    pub raw: serde_json::Value,
    pub creator: Option<String>,
    /// Whether the server verified the creator's signed link token.
    pub creator_verified: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferKindName {
    Bundle,
    Retainer,
}

impl OfferKindName {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferKindName::Bundle => "bundle",
            OfferKindName::Retainer => "retainer",
        }
    }
}

/// A checkout session about to be created.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub listing_id: String,
    pub seller_id: String,
    pub offer_id: String,
    pub tier_id: Option<String>,
    pub quantity: i64,
    pub amount: i64,
    pub currency: String,
    pub kind: OfferKindName,
    pub interval: Option<String>,
    pub ships: bool,
    /// How the bundle reaches the shopper (SPEC 3.1, 4); `None` for what is neither.
    pub fulfilment: Option<mighty_core::protocol::Fulfilment>,
    pub attribution: StoredAttribution,
    pub return_url: String,
    pub redirect_url: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// The drop window this offer is gated by (bundles of a listing with a drop).
    pub drop_window: Option<(i64, i64)>,
    /// The bundle's offer variant the shopper was shown and is charged for (SPEC 3.1).
    pub offer_variant: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: String,
    pub listing_id: String,
    pub seller_id: String,
    pub offer_id: String,
    pub tier_id: Option<String>,
    pub quantity: i64,
    pub amount: i64,
    pub currency: String,
    pub kind: String,
    pub interval: Option<String>,
    /// Whether a shipping address is asked for (never for a pick-up).
    pub ships: bool,
    /// `ship`, `pickup`, or `None` for what is neither.
    pub fulfilment: Option<String>,
    pub attribution: StoredAttribution,
    pub return_url: String,
    pub redirect_url: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub paid_at: Option<i64>,
    pub email: Option<String>,
    pub card_last4: Option<String>,
    pub failure_reason: Option<String>,
    pub subscription_id: Option<String>,
    /// The bundle's offer variant charged (SPEC 3.1).
    pub offer_variant: Option<String>,
}

/// An answer stored under an idempotency key, returned again on replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What creating a session came to.
#[derive(Debug, Clone)]
pub enum CreateSessionOutcome {
    /// Boxed: a session is large, the other outcomes are small.
    Created(Box<Session>),
    /// The key was used before with the same body: the stored answer.
    Replayed(StoredResponse),
    /// The key was used before with another body.
    IdempotencyConflict,
    SoldOut,
    DropClosed,
}

/// What the shopper gave on the pay page, once checked (or, in live mode, what Stripe's
/// Checkout Session says they gave).
#[derive(Debug, Clone)]
pub struct Payment {
    pub email: String,
    pub card_last4: String,
    pub shipping: Option<serde_json::Value>,
    /// Live mode: what Stripe says of the payment (`None` in the sandbox).
    pub partner: Option<PartnerPayment>,
}

/// Stripe's ids for a live payment (never a key), and the period Stripe bills a membership
/// for (so prorations agree with Stripe's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerPayment {
    pub payment_intent: Option<String>,
    pub invoice: Option<String>,
    pub subscription: Option<String>,
    pub period: Option<(i64, i64)>,
}

/// What a payment attempt came to.
#[derive(Debug, Clone)]
pub enum PaymentOutcome {
    Paid(Session),
    Declined(Session),
    /// The session was not open (already paid, failed or expired).
    NotOpen(Session),
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: String,
    pub kind: String,
    pub session_id: Option<String>,
    pub subscription_id: Option<String>,
    pub listing_id: String,
    pub offer_id: String,
    pub tier_id: Option<String>,
    pub quantity: i64,
    pub amount: i64,
    pub currency: String,
    pub email: Option<String>,
    pub shipping: Option<serde_json::Value>,
    /// A purchase's `ship` or `pickup` (SPEC 3.1); `null` for memberships and what is neither.
    pub fulfilment: Option<String>,
    /// A paid pick-up order's code for the pop-up stand (core's `pickup`), unique per seller.
    pub pickup_code: Option<String>,
    pub attribution: serde_json::Value,
    pub creator: Option<String>,
    pub creator_verified: bool,
    pub customer: Option<String>,
    pub status: String,
    pub created_at: String,
    pub refunded_at: Option<String>,
    /// The bundle's offer variant bought (SPEC 3.1); `null` for everything else.
    pub offer_variant: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    pub id: String,
    pub listing_id: String,
    pub offer_id: String,
    pub tier_id: String,
    pub price: i64,
    pub currency: String,
    pub interval: String,
    pub status: String,
    /// SHA-256 of the customer token (the token itself is derived, never stored).
    #[serde(skip)]
    pub customer_token_hash: String,
    #[serde(skip)]
    pub seller_id: String,
    pub email: Option<String>,
    pub creator: Option<String>,
    pub creator_verified: bool,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub created_at: i64,
    pub canceled_at: Option<i64>,
    /// The `attribution` object of the checkout that started it.
    pub attribution: serde_json::Value,
    /// A pause: from the end of the period paid for to the start of the first period
    /// charged again (issue 15).
    pub pause_starts_at: Option<i64>,
    pub paused_until: Option<i64>,
    /// A downgrade waiting for the end of the current period: the lower tier and its price.
    pub pending_tier_id: Option<String>,
    pub pending_price: Option<i64>,
    /// The start of the first period: every period ends whole intervals after it (core's
    /// `billing`), on its day of the month where the month has that day.
    #[serde(skip)]
    pub billing_anchor: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    #[serde(skip)]
    pub seller_id: String,
}

/// A webhook event waiting in the outbox for one endpoint.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub outbox_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    pub endpoint_id: String,
    pub attempts: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryAttempt {
    pub event_id: String,
    pub event_type: String,
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxEntry {
    pub event_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub delivered: bool,
    pub gave_up: bool,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

/// A webhook event to record in the outbox of every endpoint of `seller_id`.
#[derive(Debug, Clone)]
pub struct Event {
    pub seller_id: String,
    pub event_type: &'static str,
    pub data: serde_json::Value,
}

/// A measurement event, validated, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub event_type: String,
    pub listing_id: String,
    pub creator: Option<String>,
    pub variant: Option<String>,
    /// The bundle offer variant shown, when the widget said a well-formed one.
    pub offer_variant: Option<String>,
    pub visitor_id: String,
    pub at: i64,
}

/// How many `view` events one (creator, variant) segment of a listing has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewCount {
    pub creator: Option<String>,
    pub variant: Option<String>,
    pub views: u64,
}

/// A sandbox fault armed for a listing's next checkout requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    ServiceUnavailable,
    TooManyRequests,
    Hang,
    Malformed,
}

impl FaultMode {
    pub fn parse(text: &str) -> Option<FaultMode> {
        match text {
            "503" => Some(FaultMode::ServiceUnavailable),
            "429" => Some(FaultMode::TooManyRequests),
            "hang" => Some(FaultMode::Hang),
            "malformed" => Some(FaultMode::Malformed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FaultMode::ServiceUnavailable => "503",
            FaultMode::TooManyRequests => "429",
            FaultMode::Hang => "hang",
            FaultMode::Malformed => "malformed",
        }
    }
}

/// A random identifier with a readable prefix: `cs_3f9a...` (128 bits).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    format!("{prefix}_{}", mighty_core::signing::hex(&bytes))
}

/// SHA-256 of a secret, as stored (tokens are never stored in clear).
pub fn hash_secret(secret: &str) -> String {
    use sha2::Digest;
    mighty_core::signing::hex(&sha2::Sha256::digest(secret.as_bytes()))
}
