//! The SQL backend of [`Store`], over sqlx's `Any` driver: one code path for SQLite (a file,
//! the embedded default) and PostgreSQL (one database shared by several instances). The SQL
//! is written once with `$N` placeholders, which both databases take; the few places where
//! the dialects differ (migrations and their lock, row locks, insertion order) ask
//! [`Dialect`]. Flags are stored as integers 0/1 in both, so one SQL binds them alike.
//!
//! Nothing that matters relies on this process's memory: every change that must happen once
//! whatever the number of instances is a conditional `UPDATE` (drop stock, a session paid or
//! expired, a subscription period renewed, a webhook lease) or a unique key claimed first
//! (idempotency keys), so two instances racing for it make one winner.
//!
//! Methods are synchronous, like the handlers' `AppState::store` closures that call them on
//! the blocking pool: each one drives its sqlx future to completion on the storage runtime,
//! a small tokio runtime of its own whose threads also drive the connections' I/O.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Row};

use super::*;
use mighty_core::Timestamp;

mod bandit;
mod retention;
mod stripe;
pub use bandit::{AllocationClaim, ShareSnapshot, StoredVariantTest, VariantCounts};
pub use retention::{NewSave, RetentionChange, SaveTotals, add_retention_fields};
pub use stripe::{OrderPayment, SubscriptionLink};

/// Schema migrations, applied in order at start, the same numbers for both databases (one
/// file each in `migrations/sqlite` and `migrations/postgres`). Add a new pair for each
/// change; never edit an applied one.
const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/0001_schema.sql"),
    include_str!("migrations/sqlite/0002_events.sql"),
    include_str!("migrations/sqlite/0003_sessions.sql"),
    include_str!("migrations/sqlite/0004_secrets_and_clocks.sql"),
    include_str!("migrations/sqlite/0005_stripe.sql"),
    include_str!("migrations/sqlite/0006_pickup.sql"),
    include_str!("migrations/sqlite/0007_retention.sql"),
    include_str!("migrations/sqlite/0008_offer_variants.sql"),
    include_str!("migrations/sqlite/0009_stripe_expiry_backoff.sql"),
    include_str!("migrations/sqlite/0010_billing_anchor.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/0001_schema.sql"),
    include_str!("migrations/postgres/0002_events.sql"),
    include_str!("migrations/postgres/0003_sessions.sql"),
    include_str!("migrations/postgres/0004_secrets_and_clocks.sql"),
    include_str!("migrations/postgres/0005_stripe.sql"),
    include_str!("migrations/postgres/0006_pickup.sql"),
    include_str!("migrations/postgres/0007_retention.sql"),
    include_str!("migrations/postgres/0008_offer_variants.sql"),
    include_str!("migrations/postgres/0009_stripe_expiry_backoff.sql"),
    include_str!("migrations/postgres/0010_billing_anchor.sql"),
];
const _: () = assert!(SQLITE_MIGRATIONS.len() == POSTGRES_MIGRATIONS.len());

/// The PostgreSQL advisory lock held while one instance migrates (any constant key).
const MIGRATION_LOCK: i64 = 0x6d69_6768_7479;

/// How long a request waits for a connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which SQL database a store speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The column that orders rows as they were inserted.
    fn insertion_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "seq",
        }
    }

    /// Locks the selected rows until the transaction ends (PostgreSQL; SQLite's one writer
    /// at a time needs none).
    fn lock_rows(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    fn migrations(self) -> &'static [&'static str] {
        match self {
            Dialect::Sqlite => SQLITE_MIGRATIONS,
            Dialect::Postgres => POSTGRES_MIGRATIONS,
        }
    }
}

/// The reference server's storage.
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

/// The runtime that drives storage futures (and the connections' I/O) for every store of
/// this process. Its own threads keep the connections alive whatever thread calls.
fn storage_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        sqlx::any::install_default_drivers();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mighty-storage")
            .enable_all()
            .build()
            .expect("the storage runtime starts")
    })
}

fn rfc3339(seconds: i64) -> String {
    Timestamp(seconds).to_rfc3339()
}

fn to_json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

fn from_json_text(text: Option<String>) -> Option<Value> {
    text.and_then(|text| serde_json::from_str(&text).ok())
}

/// A flag as stored (0 or 1).
fn flag(value: bool) -> i64 {
    i64::from(value)
}

fn get_flag(row: &AnyRow, index: usize) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(index)? != 0)
}

const SESSION_COLUMNS: &str = "id, listing_id, seller_id, offer_id, tier_id, quantity, amount, currency, kind, interval, ships, \
    attribution, creator, creator_verified, return_url, redirect_url, status, created_at, expires_at, paid_at, email, card_last4, \
    failure_reason, subscription_id, offer_variant, fulfilment";

fn session_from_row(row: &AnyRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get(0)?,
        listing_id: row.try_get(1)?,
        seller_id: row.try_get(2)?,
        offer_id: row.try_get(3)?,
        tier_id: row.try_get(4)?,
        quantity: row.try_get(5)?,
        amount: row.try_get(6)?,
        currency: row.try_get(7)?,
        kind: row.try_get(8)?,
        interval: row.try_get(9)?,
        ships: get_flag(row, 10)?,
        fulfilment: row.try_get(25)?,
        attribution: StoredAttribution {
            raw: from_json_text(row.try_get(11)?).unwrap_or(Value::Null),
            creator: row.try_get(12)?,
            creator_verified: get_flag(row, 13)?,
        },
        return_url: row.try_get(14)?,
        redirect_url: row.try_get(15)?,
        status: row.try_get(16)?,
        created_at: row.try_get(17)?,
        expires_at: row.try_get(18)?,
        paid_at: row.try_get(19)?,
        email: row.try_get(20)?,
        card_last4: row.try_get(21)?,
        failure_reason: row.try_get(22)?,
        subscription_id: row.try_get(23)?,
        offer_variant: row.try_get(24)?,
    })
}

const ORDER_COLUMNS: &str = "id, kind, session_id, subscription_id, listing_id, offer_id, tier_id, quantity, amount, currency, email, \
    shipping, attribution, creator, creator_verified, customer, status, created_at, refunded_at, offer_variant, fulfilment, pickup_code";

fn order_from_row(row: &AnyRow) -> Result<Order, sqlx::Error> {
    Ok(Order {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        session_id: row.try_get(2)?,
        subscription_id: row.try_get(3)?,
        listing_id: row.try_get(4)?,
        offer_id: row.try_get(5)?,
        tier_id: row.try_get(6)?,
        quantity: row.try_get(7)?,
        amount: row.try_get(8)?,
        currency: row.try_get(9)?,
        email: row.try_get(10)?,
        shipping: from_json_text(row.try_get(11)?),
        fulfilment: row.try_get(20)?,
        pickup_code: row.try_get(21)?,
        attribution: from_json_text(row.try_get(12)?).unwrap_or(Value::Null),
        creator: row.try_get(13)?,
        creator_verified: get_flag(row, 14)?,
        customer: row.try_get(15)?,
        status: row.try_get(16)?,
        created_at: rfc3339(row.try_get(17)?),
        refunded_at: row.try_get::<Option<i64>, _>(18)?.map(rfc3339),
        offer_variant: row.try_get(19)?,
    })
}

const SUBSCRIPTION_COLUMNS: &str = "id, listing_id, offer_id, tier_id, price, currency, interval, status, customer_token_hash, seller_id, \
    email, creator, creator_verified, current_period_start, current_period_end, created_at, canceled_at, attribution, \
    pause_starts_at, paused_until, pending_tier_id, pending_price, billing_anchor";

fn subscription_from_row(row: &AnyRow) -> Result<Subscription, sqlx::Error> {
    Ok(Subscription {
        id: row.try_get(0)?,
        listing_id: row.try_get(1)?,
        offer_id: row.try_get(2)?,
        tier_id: row.try_get(3)?,
        price: row.try_get(4)?,
        currency: row.try_get(5)?,
        interval: row.try_get(6)?,
        status: row.try_get(7)?,
        customer_token_hash: row.try_get(8)?,
        seller_id: row.try_get(9)?,
        email: row.try_get(10)?,
        creator: row.try_get(11)?,
        creator_verified: get_flag(row, 12)?,
        current_period_start: row.try_get(13)?,
        current_period_end: row.try_get(14)?,
        created_at: row.try_get(15)?,
        canceled_at: row.try_get(16)?,
        attribution: from_json_text(row.try_get(17)?).unwrap_or(Value::Null),
        pause_starts_at: row.try_get(18)?,
        paused_until: row.try_get(19)?,
        pending_tier_id: row.try_get(20)?,
        pending_price: row.try_get(21)?,
        // Rows are anchored by migration 10; the period's start stands in for none.
        billing_anchor: row
            .try_get::<Option<i64>, _>(22)?
            .unwrap_or(row.try_get(13)?),
    })
}

fn pending_delivery_from_row(row: &AnyRow) -> Result<PendingDelivery, sqlx::Error> {
    Ok(PendingDelivery {
        outbox_id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        event_type: row.try_get(2)?,
        payload: row.try_get(3)?,
        url: row.try_get(4)?,
        secret: row.try_get(5)?,
        endpoint_id: row.try_get(6)?,
        attempts: row.try_get(7)?,
        created_at: row.try_get(8)?,
    })
}

/// The webhook `data` of a session.
pub fn session_data(session: &Session) -> Value {
    json!({
        "session_id": session.id, "status": session.status, "listing_id": session.listing_id,
        "offer_id": session.offer_id, "tier_id": session.tier_id, "quantity": session.quantity,
        "amount": session.amount, "currency": session.currency, "email": session.email,
        "attribution": session.attribution.raw, "creator": session.attribution.creator,
        "creator_verified": session.attribution.creator_verified,
        "subscription_id": session.subscription_id, "created": rfc3339(session.created_at),
        "offer_variant": session.offer_variant,
        "fulfilment": session.fulfilment,
    })
}

/// The webhook `data` of a subscription.
pub fn subscription_data(subscription: &Subscription) -> Value {
    let mut data = json!({
        "subscription_id": subscription.id, "status": subscription.status, "listing_id": subscription.listing_id,
        "offer_id": subscription.offer_id, "tier_id": subscription.tier_id, "price": subscription.price,
        "currency": subscription.currency, "interval": subscription.interval, "email": subscription.email,
        "creator": subscription.creator, "creator_verified": subscription.creator_verified,
        "current_period_start": rfc3339(subscription.current_period_start),
        "current_period_end": rfc3339(subscription.current_period_end),
        "attribution": subscription.attribution,
    });
    retention::add_retention_fields(subscription, &mut data);
    data
}

/// A stored idempotent answer: (request hash, status, body).
fn stored_answer(row: &AnyRow) -> Result<(String, StoredResponse), sqlx::Error> {
    let status: i64 = row.try_get(1)?;
    Ok((
        row.try_get(0)?,
        StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            body: row.try_get(2)?,
        },
    ))
}

impl Store {
    /// The schema version this server writes: the number of migrations it knows.
    pub const SCHEMA_VERSION: usize = SQLITE_MIGRATIONS.len();

    /// Opens (creating on first use) the database with the default pool size and applies
    /// the migrations it has not seen.
    pub fn open(url: &DatabaseUrl) -> StoreResult<Store> {
        Store::open_with_pool(url, DEFAULT_POOL_SIZE)
    }

    /// Opens the database with at most `pool_size` connections (PostgreSQL; SQLite has one
    /// writer and keeps one connection). An unreachable database is an error naming it.
    pub fn open_with_pool(url: &DatabaseUrl, pool_size: u32) -> StoreResult<Store> {
        let (connect_url, dialect, connections) = match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path
                    .parent()
                    .filter(|parent| !parent.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent).map_err(|error| {
                        StoreError::Backend(format!("creating {}: {error}", parent.display()))
                    })?;
                }
                private_file(path)?;
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Dialect::Sqlite,
                    1,
                )
            }
            DatabaseUrl::SqliteMemory => ("sqlite::memory:".to_string(), Dialect::Sqlite, 1),
            DatabaseUrl::Postgres(url) => (url.clone(), Dialect::Postgres, pool_size.max(1)),
        };
        let options = AnyPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(ACQUIRE_TIMEOUT);
        // One SQLite connection lives as long as the store (an in-memory database is gone
        // with its last connection).
        let options = match dialect {
            Dialect::Sqlite => options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        // WAL: readers never block the writer; NORMAL sync is durable across
                        // process crashes (kill -9), which "nothing acknowledged is lost"
                        // needs; FULL would add power-loss durability at a cost per commit.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                        ] {
                            sqlx::Executor::execute(&mut *connection, pragma).await?;
                        }
                        Ok(())
                    })
                }),
            Dialect::Postgres => options,
        };
        let pool = storage_runtime()
            .block_on(options.connect(&connect_url))
            .map_err(|error| match dialect {
                Dialect::Postgres => StoreError::Unavailable(format!(
                    "DATABASE_URL: cannot reach PostgreSQL at {}: {error}; check that it runs and that the URL's host, port, user, password and database are right",
                    url.describe()
                )),
                Dialect::Sqlite => StoreError::Backend(format!("opening {}: {error}", url.describe())),
            })?;
        let store = Store { pool, dialect };
        store.run(store.migrate())?;
        Ok(store)
    }

    /// Which database this store speaks to.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Drives a storage future to its end on the storage runtime. Called from the blocking
    /// pool (`AppState::store`) or from plain threads, never from async code.
    fn run<T>(&self, work: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        storage_runtime().block_on(work)
    }

    /// Runs `work` in one transaction: committed when it succeeds, rolled back otherwise.
    fn write<T>(
        &self,
        work: impl AsyncFnOnce(&mut AnyConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.run(async {
            let mut transaction = self.pool.begin().await?;
            let value = work(&mut transaction).await?;
            transaction.commit().await?;
            Ok(value)
        })
    }

    /// Whether the database answers (`/readyz`).
    pub fn ping(&self) -> StoreResult<()> {
        self.run(async {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
    }

    /// Applies the migrations this database has not seen yet, each in its own transaction,
    /// one instance at a time (PostgreSQL: an advisory lock; SQLite: its one writer).
    async fn migrate(&self) -> StoreResult<()> {
        let mut connection = self.pool.acquire().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *connection)
                .await?;
        }
        let result = self.migrate_locked(&mut connection).await;
        if self.dialect == Dialect::Postgres {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *connection)
                .await;
        }
        result
    }

    async fn migrate_locked(&self, connection: &mut AnyConnection) -> StoreResult<()> {
        let applied = self.schema_version(connection).await?;
        let migrations = self.dialect.migrations();
        if applied > migrations.len() {
            return Err(StoreError::Backend(format!(
                "the database is at schema version {applied}, newer than this server knows ({}); upgrade mighty-server",
                migrations.len()
            )));
        }
        for (index, migration) in migrations.iter().enumerate().skip(applied) {
            let version = index + 1;
            let mut transaction = sqlx::Connection::begin(&mut *connection).await?;
            sqlx::raw_sql(migration).execute(&mut *transaction).await?;
            if version == 4 {
                hash_legacy_customer_tokens(&mut transaction).await?;
            }
            match self.dialect {
                Dialect::Sqlite => {
                    sqlx::raw_sql(&format!("PRAGMA user_version = {version}"))
                        .execute(&mut *transaction)
                        .await?;
                }
                Dialect::Postgres => {
                    sqlx::query("UPDATE schema_version SET version = $1")
                        .bind(version as i64)
                        .execute(&mut *transaction)
                        .await?;
                }
            }
            transaction.commit().await?;
        }
        Ok(())
    }

    /// How many migrations this database has seen (SQLite: `PRAGMA user_version`;
    /// PostgreSQL: the one row of `schema_version`, made on first start).
    async fn schema_version(&self, connection: &mut AnyConnection) -> StoreResult<usize> {
        let version: i64 = match self.dialect {
            Dialect::Sqlite => sqlx::query("SELECT user_version FROM pragma_user_version")
                .fetch_one(&mut *connection)
                .await?
                .try_get(0)?,
            Dialect::Postgres => {
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL); \
                     INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
                )
                .execute(&mut *connection)
                .await?;
                sqlx::query("SELECT version FROM schema_version")
                    .fetch_one(&mut *connection)
                    .await?
                    .try_get(0)?
            }
        };
        Ok(usize::try_from(version).unwrap_or(0))
    }

    // --- sandbox clocks ------------------------------------------------------------------

    /// Adds `seconds` to `seller_id`'s sandbox clock; returns its new offset from real time.
    pub fn advance_clock(&self, seller_id: &str, seconds: i64) -> StoreResult<i64> {
        self.write(async |connection| {
            Ok(sqlx::query(
                "INSERT INTO seller_clocks (seller_id, offset_seconds) VALUES ($1, $2) \
                 ON CONFLICT (seller_id) DO UPDATE SET offset_seconds = seller_clocks.offset_seconds + excluded.offset_seconds \
                 RETURNING offset_seconds",
            )
            .bind(seller_id)
            .bind(seconds)
            .fetch_one(connection)
            .await?
            .try_get(0)?)
        })
    }

    /// Every seller's sandbox clock offset (sellers whose clock never moved are left out).
    pub fn clock_offsets(&self) -> StoreResult<Vec<(String, i64)>> {
        self.run(async {
            let rows = sqlx::query("SELECT seller_id, offset_seconds FROM seller_clocks")
                .fetch_all(&self.pool)
                .await?;
            Ok(rows
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }

    // --- sellers -------------------------------------------------------------------------

    pub fn add_seller(&self, name: &str, token: &str, now: i64) -> StoreResult<Seller> {
        let seller = Seller {
            id: new_id("sel"),
            name: name.to_string(),
        };
        self.write(async |connection| {
            sqlx::query(
                "INSERT INTO sellers (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&seller.id)
            .bind(&seller.name)
            .bind(hash_secret(token))
            .bind(now)
            .execute(connection)
            .await?;
            Ok(())
        })?;
        Ok(seller)
    }

    /// The seller with this token, created under `name` if none exists yet (also when
    /// several instances start at once: the token's hash is unique, the loser reads it).
    pub fn ensure_seller(&self, name: &str, token: &str, now: i64) -> StoreResult<Seller> {
        if let Some(seller) = self.seller_by_token(token)? {
            return Ok(seller);
        }
        self.write(async |connection| {
            sqlx::query(
                "INSERT INTO sellers (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token_hash) DO NOTHING",
            )
            .bind(new_id("sel"))
            .bind(name)
            .bind(hash_secret(token))
            .bind(now)
            .execute(connection)
            .await?;
            Ok(())
        })?;
        self.seller_by_token(token)?
            .ok_or_else(|| StoreError::Backend("the seller was not created".into()))
    }

    pub fn seller_by_token(&self, token: &str) -> StoreResult<Option<Seller>> {
        self.run(async {
            let row = sqlx::query("SELECT id, name FROM sellers WHERE token_hash = $1")
                .bind(hash_secret(token))
                .fetch_optional(&self.pool)
                .await?;
            Ok(row
                .map(|row| {
                    Ok::<_, sqlx::Error>(Seller {
                        id: row.try_get(0)?,
                        name: row.try_get(1)?,
                    })
                })
                .transpose()?)
        })
    }

    /// Opens a browser session for a seller; `token` goes in the cookie, its hash here.
    pub fn create_seller_session(
        &self,
        seller_id: &str,
        token: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query("DELETE FROM seller_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *connection)
                .await?;
            sqlx::query(
                "INSERT INTO seller_sessions (token_hash, seller_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(hash_secret(token))
            .bind(seller_id)
            .bind(now)
            .bind(expires_at)
            .execute(connection)
            .await?;
            Ok(())
        })
    }

    pub fn seller_by_session(&self, token: &str, now: i64) -> StoreResult<Option<Seller>> {
        self.run(async {
            let row = sqlx::query(
                "SELECT s.id, s.name FROM seller_sessions t JOIN sellers s ON s.id = t.seller_id WHERE t.token_hash = $1 AND t.expires_at > $2",
            )
            .bind(hash_secret(token))
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row
                .map(|row| {
                    Ok::<_, sqlx::Error>(Seller {
                        id: row.try_get(0)?,
                        name: row.try_get(1)?,
                    })
                })
                .transpose()?)
        })
    }

    pub fn end_seller_session(&self, token: &str) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query("DELETE FROM seller_sessions WHERE token_hash = $1")
                .bind(hash_secret(token))
                .execute(connection)
                .await?;
            Ok(())
        })
    }

    // --- listings ------------------------------------------------------------------------

    /// A seller's listings: `(id, document)`, by id.
    pub fn listings_of(&self, seller_id: &str) -> StoreResult<Vec<(String, Value)>> {
        self.run(async {
            let rows =
                sqlx::query("SELECT id, document FROM listings WHERE seller_id = $1 ORDER BY id")
                    .bind(seller_id)
                    .fetch_all(&self.pool)
                    .await?;
            Ok(rows
                .iter()
                .map(|row| {
                    let document: String = row.try_get(1)?;
                    Ok((
                        row.try_get(0)?,
                        serde_json::from_str(&document).unwrap_or(Value::Null),
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }

    /// Creates or replaces a listing (a validated document); `inventory` is the drop's.
    /// Returns whether it was created. A listing of another seller is a conflict.
    /// `updated_at` strictly increases with each put (`now`, else one second past the last),
    /// so it orders revisions even within a second or on a clock set back: the pop-up
    /// calendar's `SEQUENCE` comes from it.
    pub fn put_listing(
        &self,
        seller_id: &str,
        id: &str,
        document: &Value,
        allowed_origins: &[String],
        inventory: Option<i64>,
        now: i64,
    ) -> StoreResult<bool> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let owner: Option<String> = sqlx::query(&format!("SELECT seller_id FROM listings WHERE id = $1{lock}"))
                .bind(id)
                .fetch_optional(&mut *connection)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            if let Some(owner) = &owner
                && owner != seller_id
            {
                return Err(StoreError::Conflict(format!("listing \"{id}\" belongs to another seller")));
            }
            let origins = serde_json::to_string(allowed_origins).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "INSERT INTO listings (id, seller_id, document, allowed_origins, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET document = excluded.document, allowed_origins = excluded.allowed_origins, \
                 updated_at = CASE WHEN excluded.updated_at > listings.updated_at THEN excluded.updated_at ELSE listings.updated_at + 1 END",
            )
            .bind(id)
            .bind(seller_id)
            .bind(to_json_text(document))
            .bind(origins)
            .bind(now)
            .execute(&mut *connection)
            .await?;
            match inventory {
                Some(inventory) => {
                    let held: Option<i64> = sqlx::query(&format!("SELECT sold + reserved FROM drops WHERE listing_id = $1{lock}"))
                        .bind(id)
                        .fetch_optional(&mut *connection)
                        .await?
                        .map(|row| row.try_get(0))
                        .transpose()?;
                    if let Some(held) = held
                        && inventory < held
                    {
                        return Err(StoreError::Conflict(format!(
                            "drop.inventory {inventory} is below the {held} units already sold or reserved"
                        )));
                    }
                    sqlx::query(
                        "INSERT INTO drops (listing_id, inventory) VALUES ($1, $2) ON CONFLICT (listing_id) DO UPDATE SET inventory = excluded.inventory",
                    )
                    .bind(id)
                    .bind(inventory)
                    .execute(&mut *connection)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM drops WHERE listing_id = $1 AND sold = 0 AND reserved = 0")
                        .bind(id)
                        .execute(&mut *connection)
                        .await?;
                }
            }
            Ok(owner.is_none())
        })
    }

    pub fn listing(&self, id: &str) -> StoreResult<Option<StoredListing>> {
        self.run(async {
            let row = sqlx::query(
                "SELECT l.seller_id, l.document, l.allowed_origins, d.inventory, d.sold, d.reserved, l.updated_at \
                 FROM listings l LEFT JOIN drops d ON d.listing_id = l.id WHERE l.id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let document: String = row.try_get(1)?;
            let origins: String = row.try_get(2)?;
            let inventory: Option<i64> = row.try_get(3)?;
            let sold: Option<i64> = row.try_get(4)?;
            let reserved: Option<i64> = row.try_get(5)?;
            Ok(Some(StoredListing {
                seller_id: row.try_get(0)?,
                document: serde_json::from_str(&document).unwrap_or(Value::Null),
                allowed_origins: serde_json::from_str(&origins).unwrap_or_default(),
                stock: inventory.map(|inventory| Stock {
                    inventory,
                    sold: sold.unwrap_or(0),
                    reserved: reserved.unwrap_or(0),
                }),
                updated_at: row.try_get(6)?,
            }))
        })
    }

    // --- checkout sessions ---------------------------------------------------------------

    /// Creates a checkout session under an idempotency key: a replay returns the stored
    /// answer, another body under the same key is a conflict; drop stock is reserved in the
    /// same transaction, so it never goes below zero whatever the concurrency. The key is
    /// claimed first: a second request with it (on any instance) waits for the first's
    /// transaction and then gets its answer. `render` makes the answer stored under the key.
    pub fn create_session(
        &self,
        idempotency_key: &str,
        request_hash: &str,
        new: &NewSession,
        render: &dyn Fn(&CreateSessionOutcome) -> StoredResponse,
    ) -> StoreResult<CreateSessionOutcome> {
        let now = new.created_at;
        self.write(async |connection| {
            if let Some(earlier) = claim_idempotency_key(connection, "checkout", idempotency_key, request_hash, now).await? {
                return Ok(match earlier {
                    Earlier::Same(response) => CreateSessionOutcome::Replayed(response),
                    Earlier::Different => CreateSessionOutcome::IdempotencyConflict,
                });
            }
            let mut reserved = 0;
            let mut outcome = None;
            if let Some((starts_at, ends_at)) = new.drop_window {
                if now < starts_at || now >= ends_at {
                    outcome = Some(CreateSessionOutcome::DropClosed);
                } else {
                    let changed = sqlx::query(
                        "UPDATE drops SET reserved = reserved + $2 WHERE listing_id = $1 AND inventory - sold - reserved >= $2",
                    )
                    .bind(&new.listing_id)
                    .bind(new.quantity)
                    .execute(&mut *connection)
                    .await?
                    .rows_affected();
                    if changed == 0 {
                        outcome = Some(CreateSessionOutcome::SoldOut);
                    } else {
                        reserved = new.quantity;
                    }
                }
            }
            let outcome = match outcome {
                Some(refusal) => refusal,
                None => {
                    sqlx::query(&format!(
                        "INSERT INTO sessions ({SESSION_COLUMNS}, reserved) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'open', $17, $18, NULL, NULL, NULL, NULL, NULL, $20, $21, $19)"
                    ))
                    .bind(&new.id)
                    .bind(&new.listing_id)
                    .bind(&new.seller_id)
                    .bind(&new.offer_id)
                    .bind(new.tier_id.as_deref())
                    .bind(new.quantity)
                    .bind(new.amount)
                    .bind(&new.currency)
                    .bind(new.kind.as_str())
                    .bind(new.interval.as_deref())
                    .bind(flag(new.ships))
                    .bind(to_json_text(&new.attribution.raw))
                    .bind(new.attribution.creator.as_deref())
                    .bind(flag(new.attribution.creator_verified))
                    .bind(&new.return_url)
                    .bind(&new.redirect_url)
                    .bind(new.created_at)
                    .bind(new.expires_at)
                    .bind(reserved)
                    .bind(new.offer_variant.as_deref())
                    .bind(new.fulfilment.map(|fulfilment| fulfilment.as_str()))
                    .execute(&mut *connection)
                    .await?;
                    let session = session_in(connection, &new.id).await?;
                    CreateSessionOutcome::Created(Box::new(session))
                }
            };
            let response = render(&outcome);
            store_idempotent_answer(connection, "checkout", idempotency_key, &response).await?;
            Ok(outcome)
        })
    }

    pub fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        self.run(async {
            let row = sqlx::query(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(session_from_row).transpose()?)
        })
    }

    /// Expires every open session past its `expires_at` on its seller's clock (real time
    /// `real_now` plus that seller's sandbox offset): stock goes back to the drop and the
    /// seller is told (`checkout.session.expired`). Each session expires once, whichever
    /// instance gets there first. Returns how many expired here.
    pub fn expire_due_sessions(&self, real_now: i64) -> StoreResult<usize> {
        self.write(async |connection| {
            let rows = sqlx::query(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE status = 'open' AND expires_at <= $1 + {}",
                seller_offset_sql("sessions")
            ))
            .bind(real_now)
            .fetch_all(&mut *connection)
            .await?;
            let due = rows.iter().map(session_from_row).collect::<Result<Vec<_>, _>>()?;
            let mut expired_here = 0;
            for session in &due {
                if expire_open_session(connection, session, real_now).await? {
                    expired_here += 1;
                }
            }
            Ok(expired_here)
        })
    }

    /// The open sessions past their `expires_at` on their seller's clock (live mode expires
    /// each on Stripe first, then with [`Store::expire_session`]).
    pub fn due_open_sessions(&self, real_now: i64) -> StoreResult<Vec<Session>> {
        self.run(async {
            let rows = sqlx::query(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE status = 'open' AND expires_at <= $1 + {}",
                seller_offset_sql("sessions")
            ))
            .bind(real_now)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.iter().map(session_from_row).collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Expires one open session, as [`Store::expire_due_sessions`] does (stock back,
    /// `checkout.session.expired`), whatever its `expires_at`: Stripe said it expired.
    /// Returns whether it expired here (false: it was no longer open).
    pub fn expire_session(&self, session_id: &str, real_now: i64) -> StoreResult<bool> {
        self.write(async |connection| {
            let session = sqlx::query(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
            ))
            .bind(session_id)
            .fetch_optional(&mut *connection)
            .await?
            .as_ref()
            .map(session_from_row)
            .transpose()?;
            match session {
                Some(session) => expire_open_session(connection, &session, real_now).await,
                None => Ok(false),
            }
        })
    }

    /// Settles a payment attempt on the pay page. Approved: the session is paid, drop stock
    /// moves from reserved to sold, an order (and for a retainer a subscription with its
    /// customer token) is written, and the webhook events are queued, all in one transaction.
    /// Declined: the session fails and its stock is released. A session is settled once:
    /// the change from `open` is conditional, so a second attempt (on any instance) finds it
    /// no longer open.
    pub fn settle_payment(
        &self,
        session_id: &str,
        payment: &Payment,
        decline: Option<&str>,
        now: i64,
        customer_token_for: &dyn Fn(&str) -> String,
    ) -> StoreResult<PaymentOutcome> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let session = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1{lock}"))
                .bind(session_id)
                .fetch_optional(&mut *connection)
                .await?
                .as_ref()
                .map(session_from_row)
                .transpose()?
                .ok_or_else(|| StoreError::NotFound(format!("no checkout session {session_id}")))?;
            // Stripe's word on a live payment stands past Mighty's hold: the session is still
            // open (its stock held) until Stripe confirms it expired (`live::expire_one`).
            if session.status != "open" || (payment.partner.is_none() && session.expires_at <= now) {
                return Ok(PaymentOutcome::NotOpen(session));
            }
            if let Some(reason) = decline {
                release_stock(connection, session_id).await?;
                sqlx::query("UPDATE sessions SET status = 'failed', failure_reason = $2, email = $3, card_last4 = $4 WHERE id = $1")
                    .bind(session_id)
                    .bind(reason)
                    .bind(&payment.email)
                    .bind(&payment.card_last4)
                    .execute(&mut *connection)
                    .await?;
                return Ok(PaymentOutcome::Declined(session_in(connection, session_id).await?));
            }
            let shipping = payment.shipping.as_ref().map(to_json_text);
            // The customer token is derived from the subscription id with the server key
            // (served again to the paying browser); only its hash is stored.
            let (subscription_id, customer_token_hash) = if session.kind == "retainer" {
                let subscription_id = new_id("sub");
                let hash = hash_secret(&customer_token_for(&subscription_id));
                (Some(subscription_id), Some(hash))
            } else {
                (None, None)
            };
            let paid_now = sqlx::query(
                "UPDATE sessions SET status = 'paid', paid_at = $2, email = $3, card_last4 = $4, shipping = $5, subscription_id = $6 WHERE id = $1 AND status = 'open'",
            )
            .bind(session_id)
            .bind(now)
            .bind(&payment.email)
            .bind(&payment.card_last4)
            .bind(shipping.as_deref())
            .bind(subscription_id.as_deref())
            .execute(&mut *connection)
            .await?
            .rows_affected();
            if paid_now == 0 {
                return Ok(PaymentOutcome::NotOpen(session_in(connection, session_id).await?));
            }
            sqlx::query(
                "UPDATE drops SET reserved = drops.reserved - s.held, sold = drops.sold + s.held \
                 FROM (SELECT listing_id, reserved AS held FROM sessions WHERE id = $1) AS s WHERE drops.listing_id = s.listing_id AND s.held > 0",
            )
            .bind(session_id)
            .execute(&mut *connection)
            .await?;
            let paid = session_in(connection, session_id).await?;
            let order_id = new_id("ord");
            insert_order(connection, &order_id, "purchase", &paid, subscription_id.as_deref(), paid.amount, shipping.as_deref(), now).await?;
            if paid.fulfilment.as_deref() == Some("pickup") {
                assign_pickup_code(connection, &order_id, &paid.seller_id).await?;
            }
            if let Some(partner) = &payment.partner {
                set_order_stripe_refs(connection, &order_id, partner.payment_intent.as_deref(), partner.invoice.as_deref()).await?;
            }
            let order = order_in(connection, &order_id).await?;
            let completed = Event {
                seller_id: paid.seller_id.clone(),
                event_type: "checkout.session.completed",
                data: json!({ "session": session_data(&paid), "order": order }),
            };
            record_event(connection, &completed, now).await?;
            if let (Some(subscription_id), Some(customer_token_hash)) = (&subscription_id, &customer_token_hash) {
                let interval = paid.interval.as_deref().and_then(mighty_core::listing::Interval::parse).unwrap_or(mighty_core::listing::Interval::Month);
                // Live mode: the period Stripe bills (so prorations agree); else from now.
                let (period_start, period_end) = payment
                    .partner
                    .as_ref()
                    .and_then(|partner| partner.period)
                    .unwrap_or((now, mighty_core::billing::nth_period_end(Timestamp(now), interval, 1).0));
                sqlx::query(&format!(
                    "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}, session_id, stripe_subscription_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, $11, $12, $13, $14, $17, NULL, $16, NULL, NULL, NULL, NULL, $13, $15, $18)"
                ))
                .bind(subscription_id)
                .bind(&paid.listing_id)
                .bind(&paid.offer_id)
                .bind(paid.tier_id.clone().unwrap_or_default())
                .bind(paid.amount)
                .bind(&paid.currency)
                .bind(interval.as_str())
                .bind(customer_token_hash)
                .bind(&paid.seller_id)
                .bind(&payment.email)
                .bind(paid.attribution.creator.as_deref())
                .bind(flag(paid.attribution.creator_verified))
                .bind(period_start)
                .bind(period_end)
                .bind(&paid.id)
                .bind(to_json_text(&paid.attribution.raw))
                .bind(now)
                .bind(payment.partner.as_ref().and_then(|partner| partner.subscription.as_deref()))
                .execute(&mut *connection)
                .await?;
                let subscription = subscription_in(connection, subscription_id).await?;
                let created = Event {
                    seller_id: paid.seller_id.clone(),
                    event_type: "subscription.created",
                    data: json!({ "subscription": subscription_data(&subscription) }),
                };
                record_event(connection, &created, now).await?;
            }
            Ok(PaymentOutcome::Paid(paid))
        })
    }

    // --- orders --------------------------------------------------------------------------

    pub fn orders(&self, seller_id: &str, listing_id: Option<&str>) -> StoreResult<Vec<Order>> {
        let order = self.dialect.insertion_order();
        self.run(async {
            let rows = sqlx::query(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE seller_id = $1 AND ($2 IS NULL OR listing_id = $2) ORDER BY created_at, {order}"
            ))
            .bind(seller_id)
            .bind(listing_id)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.iter().map(order_from_row).collect::<Result<_, _>>()?)
        })
    }

    /// The orders of `seller_id` with this pick-up code (as stored: core's
    /// `normalize_pickup_code`); another seller's code finds nothing.
    pub fn orders_with_pickup_code(&self, seller_id: &str, code: &str) -> StoreResult<Vec<Order>> {
        self.run(async {
            let rows = sqlx::query(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE seller_id = $1 AND pickup_code = $2 ORDER BY created_at"
            ))
            .bind(seller_id)
            .bind(code)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.iter().map(order_from_row).collect::<Result<_, _>>()?)
        })
    }

    /// The order a checkout session paid for (its purchase, not later renewals).
    pub fn order_of_session(&self, session_id: &str) -> StoreResult<Option<Order>> {
        self.run(async {
            let row = sqlx::query(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE session_id = $1 AND kind = 'purchase'"
            ))
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(order_from_row).transpose()?)
        })
    }

    /// Refunds a paid order of `seller_id` and queues `order.refunded`.
    pub fn refund_order(&self, seller_id: &str, order_id: &str, now: i64) -> StoreResult<Order> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let order = sqlx::query(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND seller_id = $2{lock}"
            ))
            .bind(order_id)
            .bind(seller_id)
            .fetch_optional(&mut *connection)
            .await?
            .as_ref()
            .map(order_from_row)
            .transpose()?;
            let Some(order) = order else {
                let elsewhere = sqlx::query("SELECT 1 FROM orders WHERE id = $1")
                    .bind(order_id)
                    .fetch_optional(&mut *connection)
                    .await?;
                return Err(match elsewhere {
                    Some(_) => StoreError::Forbidden(format!("order {order_id} is not yours")),
                    None => StoreError::NotFound(format!("no order {order_id}")),
                });
            };
            if order.status == "refunded" {
                return Err(StoreError::Conflict(format!(
                    "order {order_id} is already refunded"
                )));
            }
            sqlx::query("UPDATE orders SET status = 'refunded', refunded_at = $2 WHERE id = $1")
                .bind(order_id)
                .bind(now)
                .execute(&mut *connection)
                .await?;
            let refunded = order_in(connection, order_id).await?;
            let event = Event {
                seller_id: seller_id.to_string(),
                event_type: "order.refunded",
                data: json!({ "order": refunded }),
            };
            record_event(connection, &event, now).await?;
            Ok(refunded)
        })
    }

    // --- subscriptions -------------------------------------------------------------------

    pub fn subscription(&self, id: &str) -> StoreResult<Option<Subscription>> {
        self.run(async {
            let row = sqlx::query(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(subscription_from_row).transpose()?)
        })
    }

    /// The subscription whose customer token is `token` (looked up by its hash).
    pub fn subscription_by_customer_token(&self, token: &str) -> StoreResult<Option<Subscription>> {
        self.run(async {
            let row = sqlx::query(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_token_hash = $1"
            ))
            .bind(hash_secret(token))
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(subscription_from_row).transpose()?)
        })
    }

    /// Moves a subscription to another tier under an idempotency key; the prorated
    /// `amount_due` is charged as an order of kind `upgrade`. The same subscription is
    /// changed: there is never a second one. `render` makes the stored answer.
    #[allow(clippy::too_many_arguments)]
    pub fn change_tier(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
        request_hash: &str,
        new_tier_id: &str,
        new_price: i64,
        amount_due: &dyn Fn(&Subscription) -> Option<i64>,
        now: i64,
        render: &dyn Fn(&Subscription, i64) -> StoredResponse,
        partner_invoice: Option<(&str, Option<&str>)>,
    ) -> StoreResult<StoredResponse> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let subscription = match claim_subscription_change(
                connection,
                lock,
                subscription_id,
                idempotency_key,
                request_hash,
                now,
            )
            .await?
            {
                Ok(subscription) => subscription,
                Err(earlier) => return Ok(earlier),
            };
            if subscription.status != "active" {
                return Err(StoreError::Conflict(format!(
                    "subscription {subscription_id} is {}",
                    subscription.status
                )));
            }
            if subscription.tier_id == new_tier_id {
                // Choosing the current tier again while a downgrade waits keeps it: the
                // downgrade is called off, nothing is charged.
                if subscription.pending_tier_id.is_none() {
                    return Err(StoreError::Conflict(format!(
                        "subscription {subscription_id} is already on tier {new_tier_id}"
                    )));
                }
            }
            // `None`: a stored price past core's bounds; refused rather than wrapped.
            let due = amount_due(&subscription).ok_or_else(|| {
                StoreError::Backend(format!(
                    "subscription {subscription_id}: the prorated amount is out of range"
                ))
            })?;
            // A downgrade waiting for the period's end gives way to the tier chosen now.
            sqlx::query("UPDATE subscriptions SET tier_id = $2, price = $3, pending_tier_id = NULL, pending_price = NULL WHERE id = $1")
                .bind(subscription_id)
                .bind(new_tier_id)
                .bind(new_price)
                .execute(&mut *connection)
                .await?;
            let updated = subscription_in(connection, subscription_id).await?;
            if due > 0 {
                let session = session_of_subscription(connection, subscription_id).await?;
                let mut charged = session.clone();
                charged.tier_id = Some(new_tier_id.to_string());
                charged.quantity = 1;
                let order_id = new_id("ord");
                insert_order(
                    connection,
                    &order_id,
                    "upgrade",
                    &charged,
                    Some(subscription_id),
                    due,
                    None,
                    now,
                )
                .await?;
                if let Some((invoice, payment_intent)) = partner_invoice {
                    set_order_stripe_refs(connection, &order_id, payment_intent, Some(invoice))
                        .await?;
                }
            }
            let event = Event {
                seller_id: updated.seller_id.clone(),
                event_type: "subscription.updated",
                data: json!({ "subscription": subscription_data(&updated), "amount_due": due }),
            };
            record_event(connection, &event, now).await?;
            let response = render(&updated, due);
            store_idempotent_answer(
                connection,
                &subscription_change_scope(subscription_id),
                idempotency_key,
                &response,
            ).await?;
            Ok(response)
        })
    }

    /// The answer stored under an idempotency key, with the hash of the request that made it.
    pub fn stored_response(
        &self,
        scope: &str,
        key: &str,
    ) -> StoreResult<Option<(String, StoredResponse)>> {
        self.run(async {
            let row = sqlx::query(
                "SELECT request_hash, status, body FROM idempotency WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(stored_answer).transpose()?)
        })
    }

    pub fn cancel_subscription(
        &self,
        subscription_id: &str,
        now: i64,
    ) -> StoreResult<Subscription> {
        self.write(async |connection| {
            let canceled_now = sqlx::query(
                "UPDATE subscriptions SET status = 'canceled', canceled_at = $2, pause_starts_at = NULL, paused_until = NULL, \
                 pending_tier_id = NULL, pending_price = NULL WHERE id = $1 AND status <> 'canceled'",
            )
            .bind(subscription_id)
            .bind(now)
            .execute(&mut *connection)
            .await?
            .rows_affected();
            let canceled = sqlx::query(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"))
                .bind(subscription_id)
                .fetch_optional(&mut *connection)
                .await?
                .as_ref()
                .map(subscription_from_row)
                .transpose()?
                .ok_or_else(|| StoreError::NotFound(format!("no subscription {subscription_id}")))?;
            if canceled_now == 1 {
                let event = Event {
                    seller_id: canceled.seller_id.clone(),
                    event_type: "subscription.canceled",
                    data: json!({ "subscription": subscription_data(&canceled) }),
                };
                record_event(connection, &event, now).await?;
            }
            Ok(canceled)
        })
    }

    /// Renews every active subscription whose period ended on its seller's clock: one
    /// renewal order per period (the clock may have jumped several), `subscription.renewed`
    /// each time. Each period is renewed once, whichever instances run the scheduler: moving
    /// the period on is conditional on its end being the one read. A paused subscription's
    /// periods move on without a charge until its pause ends (`retention::renewal_step`),
    /// and a downgrade waiting for the period's end is applied there, before the charge.
    pub fn renew_due_subscriptions(&self, real_now: i64) -> StoreResult<usize> {
        self.write(async |connection| {
            let rows = sqlx::query(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE status IN ('active', 'paused') AND current_period_end <= $1 + {}",
                seller_offset_sql("subscriptions")
            ))
            .bind(real_now)
            .fetch_all(&mut *connection)
            .await?;
            let due = rows.iter().map(subscription_from_row).collect::<Result<Vec<_>, _>>()?;
            let mut renewals = 0;
            for subscription in due {
                let now = real_now + seller_offset(connection, &subscription.seller_id).await?;
                let interval = mighty_core::listing::Interval::parse(&subscription.interval).unwrap_or(mighty_core::listing::Interval::Month);
                let mut end = subscription.current_period_end;
                let session = session_of_subscription(connection, &subscription.id).await?;
                while end <= now {
                    let start = end;
                    // From the anchor, not from the last end: a clamped month (Feb 28)
                    // does not move the billing day (Mar 30 after a Jan 30 start).
                    end = mighty_core::billing::next_period_end(Timestamp(subscription.billing_anchor), interval, Timestamp(start)).0;
                    let moved = sqlx::query(
                        "UPDATE subscriptions SET current_period_start = $2, current_period_end = $3 WHERE id = $1 AND current_period_end = $2",
                    )
                    .bind(&subscription.id)
                    .bind(start)
                    .bind(end)
                    .execute(&mut *connection)
                    .await?
                    .rows_affected();
                    if moved == 0 {
                        // Another instance renewed this period meanwhile.
                        break;
                    }
                    let current = retention::apply_pending_downgrade(connection, &subscription.id, start).await?;
                    let step = mighty_core::retention::renewal_step(Timestamp(start), current.paused_until.map(Timestamp));
                    let charged = match step {
                        mighty_core::retention::RenewalStep::Skip => continue,
                        mighty_core::retention::RenewalStep::Charge => current,
                        mighty_core::retention::RenewalStep::ResumeAndCharge => {
                            retention::end_pause(connection, &subscription.id, start).await?
                        }
                    };
                    record_renewal(connection, &charged, &session, start, charged.price).await?;
                    renewals += 1;
                }
            }
            Ok(renewals)
        })
    }

    // --- webhooks ------------------------------------------------------------------------

    /// Registers endpoint `id`. Its signing secret is derived from the id with the server
    /// key (`Secrets::webhook_secret`), so none is stored: the column stays empty, and only
    /// endpoints registered before migration 4's release have one there.
    pub fn add_webhook(
        &self,
        id: &str,
        seller_id: &str,
        url: &str,
        now: i64,
    ) -> StoreResult<WebhookEndpoint> {
        let endpoint = WebhookEndpoint {
            id: id.to_string(),
            url: url.to_string(),
            secret: String::new(),
            seller_id: seller_id.to_string(),
        };
        self.write(async |connection| {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, seller_id, url, secret, created_at) VALUES ($1, $2, $3, '', $4)",
            )
            .bind(&endpoint.id)
            .bind(seller_id)
            .bind(url)
            .bind(now)
            .execute(connection)
            .await?;
            Ok(())
        })?;
        Ok(endpoint)
    }

    /// Removes an endpoint; its events not yet delivered are given up (the delivery log
    /// keeps what was attempted). Returns how many were given up.
    pub fn remove_webhook(&self, id: &str, now: i64) -> StoreResult<usize> {
        self.write(async |connection| {
            let given_up = sqlx::query(
                "UPDATE outbox SET gave_up_at = $2, last_error = 'the endpoint was removed' \
                 WHERE endpoint_id = $1 AND delivered_at IS NULL AND gave_up_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *connection)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                .bind(id)
                .execute(&mut *connection)
                .await?;
            Ok(usize::try_from(given_up).unwrap_or(usize::MAX))
        })
    }

    pub fn webhook(&self, id: &str) -> StoreResult<Option<WebhookEndpoint>> {
        self.run(async {
            let row = sqlx::query(
                "SELECT id, url, secret, seller_id FROM webhook_endpoints WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row
                .map(|row| {
                    Ok::<_, sqlx::Error>(WebhookEndpoint {
                        id: row.try_get(0)?,
                        url: row.try_get(1)?,
                        secret: row.try_get(2)?,
                        seller_id: row.try_get(3)?,
                    })
                })
                .transpose()?)
        })
    }

    /// The delivery log of an endpoint: every attempt, and every event's current state.
    pub fn deliveries(
        &self,
        endpoint_id: &str,
    ) -> StoreResult<(Vec<DeliveryAttempt>, Vec<OutboxEntry>)> {
        self.run(async {
            let attempts = sqlx::query(
                "SELECT event_id, event_type, attempted_at, status_code, error, duration_ms FROM deliveries WHERE endpoint_id = $1 ORDER BY id",
            )
            .bind(endpoint_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(DeliveryAttempt {
                    event_id: row.try_get(0)?,
                    event_type: row.try_get(1)?,
                    attempted_at: row.try_get(2)?,
                    status_code: row.try_get(3)?,
                    error: row.try_get(4)?,
                    duration_ms: row.try_get(5)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
            let events = sqlx::query(
                "SELECT event_id, event_type, attempts, delivered_at, gave_up_at, next_attempt_at, last_error FROM outbox WHERE endpoint_id = $1 ORDER BY id",
            )
            .bind(endpoint_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(OutboxEntry {
                    event_id: row.try_get(0)?,
                    event_type: row.try_get(1)?,
                    attempts: row.try_get(2)?,
                    delivered: row.try_get::<Option<i64>, _>(3)?.is_some(),
                    gave_up: row.try_get::<Option<i64>, _>(4)?.is_some(),
                    next_attempt_at: row.try_get(5)?,
                    last_error: row.try_get(6)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
            Ok((attempts, events))
        })
    }

    /// Claims up to `limit` due deliveries for `lease_seconds` and returns them, oldest
    /// first, at most `per_endpoint` per endpoint counting the attempts this instance has
    /// `in_flight` (so an endpoint at its bound gets none and leaves the places to others).
    /// A row is leased by a conditional `UPDATE`: when several instances read the same due
    /// rows, each row goes to one of them, and an instance that died mid-attempt holds it no
    /// longer than the lease.
    pub fn claim_due_deliveries(
        &self,
        now: i64,
        lease_seconds: i64,
        limit: usize,
        per_endpoint: usize,
        in_flight: &std::collections::HashMap<String, usize>,
    ) -> StoreResult<Vec<PendingDelivery>> {
        // The first `per_endpoint` due rows of each endpoint; a busy endpoint's rows may be
        // skipped below, so as many more are read as they could take.
        let busy = in_flight.values().filter(|count| **count > 0).count();
        let read = limit.saturating_add(per_endpoint.saturating_mul(busy));
        self.write(async |connection| {
            let rows = sqlx::query(
                "SELECT o.id, o.event_id, o.event_type, o.payload, e.url, e.secret, o.endpoint_id, o.attempts, o.created_at \
                 FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY id) AS place FROM outbox \
                       WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1 AND locked_until <= $1) d \
                 JOIN outbox o ON o.id = d.id JOIN webhook_endpoints e ON e.id = o.endpoint_id \
                 WHERE d.place <= $2 ORDER BY o.id LIMIT $3",
            )
            .bind(now)
            .bind(per_endpoint as i64)
            .bind(read as i64)
            .fetch_all(&mut *connection)
            .await?;
            let candidates = rows.iter().map(pending_delivery_from_row).collect::<Result<Vec<_>, _>>()?;
            let mut taken: std::collections::HashMap<String, usize> = in_flight.clone();
            let mut due = Vec::new();
            for delivery in candidates {
                if due.len() == limit {
                    break;
                }
                let count = taken.entry(delivery.endpoint_id.clone()).or_default();
                if *count >= per_endpoint {
                    continue;
                }
                let leased = sqlx::query("UPDATE outbox SET locked_until = $2 WHERE id = $1 AND locked_until <= $3 AND delivered_at IS NULL")
                    .bind(delivery.outbox_id)
                    .bind(now + lease_seconds)
                    .bind(now)
                    .execute(&mut *connection)
                    .await?
                    .rows_affected();
                if leased == 1 {
                    *count += 1;
                    due.push(delivery);
                }
            }
            Ok(due)
        })
    }

    /// Records one delivery attempt; `next_attempt_at` None means delivered (or given up when
    /// not `delivered`).
    #[allow(clippy::too_many_arguments)]
    pub fn record_delivery_attempt(
        &self,
        delivery: &PendingDelivery,
        attempted_at: i64,
        status_code: Option<u16>,
        error: Option<&str>,
        duration_ms: i64,
        delivered: bool,
        next_attempt_at: Option<i64>,
    ) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query(
                "INSERT INTO deliveries (outbox_id, endpoint_id, event_id, event_type, attempted_at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(delivery.outbox_id)
            .bind(&delivery.endpoint_id)
            .bind(&delivery.event_id)
            .bind(&delivery.event_type)
            .bind(attempted_at)
            .bind(status_code.map(i64::from))
            .bind(error)
            .bind(duration_ms)
            .execute(&mut *connection)
            .await?;
            let update = if delivered {
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, delivered_at = $2, locked_until = 0, last_error = NULL WHERE id = $1")
                    .bind(delivery.outbox_id)
                    .bind(attempted_at)
            } else if let Some(next) = next_attempt_at {
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, locked_until = 0, last_error = $3 WHERE id = $1")
                    .bind(delivery.outbox_id)
                    .bind(next)
                    .bind(error)
            } else {
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, gave_up_at = $2, locked_until = 0, last_error = $3 WHERE id = $1")
                    .bind(delivery.outbox_id)
                    .bind(attempted_at)
                    .bind(error)
            };
            update.execute(connection).await?;
            Ok(())
        })
    }

    // --- measurement ---------------------------------------------------------------------

    /// Stores a batch of events in one transaction; an id seen before is skipped. Returns
    /// (stored, duplicates).
    pub fn record_events(
        &self,
        events: &[StoredEvent],
        received_at: i64,
    ) -> StoreResult<(usize, usize)> {
        self.write(async |connection| {
            let mut stored = 0;
            for event in events {
                stored += sqlx::query(
                    "INSERT INTO events (id, type, listing_id, creator, variant, visitor_id, at, received_at, offer_variant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&event.id)
                .bind(&event.event_type)
                .bind(&event.listing_id)
                .bind(event.creator.as_deref())
                .bind(event.variant.as_deref())
                .bind(&event.visitor_id)
                .bind(event.at)
                .bind(received_at)
                .bind(event.offer_variant.as_deref())
                .execute(&mut *connection)
                .await?
                .rows_affected() as usize;
            }
            Ok((stored, events.len() - stored))
        })
    }

    /// View counts of a listing per (creator, variant) in `[from, to)`.
    pub fn view_counts(&self, listing_id: &str, from: i64, to: i64) -> StoreResult<Vec<ViewCount>> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT creator, variant, COUNT(*) FROM events WHERE listing_id = $1 AND type = 'view' AND at >= $2 AND at < $3 \
                 GROUP BY creator, variant ORDER BY creator, variant",
            )
            .bind(listing_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .iter()
                .map(|row| {
                    Ok(ViewCount {
                        creator: row.try_get(0)?,
                        variant: row.try_get(1)?,
                        views: u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }

    /// How many events of each type a listing has in `[from, to)` (the dashboard's funnel).
    pub fn event_type_counts(
        &self,
        listing_id: &str,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<(String, u64)>> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT type, COUNT(*) FROM events WHERE listing_id = $1 AND at >= $2 AND at < $3 \
                 GROUP BY type ORDER BY type",
            )
            .bind(listing_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .iter()
                .map(|row| {
                    Ok((
                        row.try_get(0)?,
                        u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }

    pub fn set_creator_fees(&self, listing_id: &str, fees: &[(String, i64)]) -> StoreResult<()> {
        self.write(async |connection| {
            for (handle, fee) in fees {
                sqlx::query(
                    "INSERT INTO creator_fees (listing_id, handle, fee) VALUES ($1, $2, $3) ON CONFLICT (listing_id, handle) DO UPDATE SET fee = excluded.fee",
                )
                .bind(listing_id)
                .bind(handle)
                .bind(*fee)
                .execute(&mut *connection)
                .await?;
            }
            Ok(())
        })
    }

    pub fn creator_fees(&self, listing_id: &str) -> StoreResult<Vec<(String, i64)>> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT handle, fee FROM creator_fees WHERE listing_id = $1 ORDER BY handle",
            )
            .bind(listing_id)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }

    // --- sandbox faults and creator links ------------------------------------------------

    pub fn set_fault(&self, listing_id: &str, mode: FaultMode, count: i64) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query(
                "INSERT INTO faults (listing_id, mode, remaining) VALUES ($1, $2, $3) \
                 ON CONFLICT (listing_id) DO UPDATE SET mode = excluded.mode, remaining = excluded.remaining",
            )
            .bind(listing_id)
            .bind(mode.as_str())
            .bind(count)
            .execute(connection)
            .await?;
            Ok(())
        })
    }

    /// Takes one armed fault of the listing, if any.
    pub fn take_fault(&self, listing_id: &str) -> StoreResult<Option<FaultMode>> {
        self.write(async |connection| {
            let mode: Option<String> = sqlx::query(
                "UPDATE faults SET remaining = remaining - 1 WHERE listing_id = $1 AND remaining > 0 RETURNING mode",
            )
            .bind(listing_id)
            .fetch_optional(connection)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
            Ok(mode.as_deref().and_then(FaultMode::parse))
        })
    }

    pub fn revoke_creator_links(
        &self,
        listing_id: &str,
        handle: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query(
                "INSERT INTO creator_link_revocations (listing_id, handle, revoked_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (listing_id, handle) DO UPDATE SET revoked_at = excluded.revoked_at",
            )
            .bind(listing_id)
            .bind(handle)
            .bind(now)
            .execute(connection)
            .await?;
            Ok(())
        })
    }

    /// When the creator's links for this listing were last revoked (tokens issued before are
    /// void).
    pub fn creator_links_revoked_at(
        &self,
        listing_id: &str,
        handle: &str,
    ) -> StoreResult<Option<i64>> {
        self.run(async {
            Ok(sqlx::query(
                "SELECT revoked_at FROM creator_link_revocations WHERE listing_id = $1 AND handle = $2",
            )
            .bind(listing_id)
            .bind(handle)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?)
        })
    }
}

/// Creates the database file readable and writable by its owner only (0600), or narrows an
/// existing one to that: it holds shoppers' emails and addresses. SQLite creates the `-wal`
/// and `-shm` files with the database file's permissions.
fn private_file(path: &std::path::Path) -> StoreResult<()> {
    let failed =
        |error: std::io::Error| StoreError::Backend(format!("{}: {error}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
    }
    Ok(())
}

/// Migration 4 renamed `subscriptions.customer_token` to `customer_token_hash`: the tokens
/// written before it become their SHA-256, as tokens are stored since (their holders keep
/// working: a token is looked up by its hash).
async fn hash_legacy_customer_tokens(connection: &mut AnyConnection) -> StoreResult<()> {
    let rows = sqlx::query("SELECT id, customer_token_hash FROM subscriptions")
        .fetch_all(&mut *connection)
        .await?;
    for row in rows {
        let (id, token): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        sqlx::query("UPDATE subscriptions SET customer_token_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(hash_secret(&token))
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// What an idempotency key was used for before.
enum Earlier {
    /// The same request: its stored answer.
    Same(StoredResponse),
    /// Another request.
    Different,
}

/// Claims `key` in `scope` for this request before anything else is done, so that a second
/// request with it waits for this transaction (PostgreSQL blocks on the uncommitted unique
/// key; SQLite has one writer) and then finds the answer stored. `None`: the key is ours.
/// The idempotency scope of every change asked of a subscription (upgrade, pause, resume,
/// downgrade): one per subscription, so a key used for one change is refused for another
/// (SPEC section 8) rather than making a second change; the request hashes name the change.
pub fn subscription_change_scope(subscription_id: &str) -> String {
    format!("subscription:{subscription_id}")
}

/// The start of every change to a subscription (upgrade, pause, resume, downgrade), in its
/// transaction: the key claimed in the subscription's one scope, then the subscription read
/// and its row locked. `Err` holds the stored answer of the same request made before; a
/// different request under the key is a conflict.
async fn claim_subscription_change(
    connection: &mut AnyConnection,
    lock: &str,
    subscription_id: &str,
    idempotency_key: &str,
    request_hash: &str,
    now: i64,
) -> StoreResult<Result<Subscription, StoredResponse>> {
    let scope = subscription_change_scope(subscription_id);
    if let Some(earlier) =
        claim_idempotency_key(connection, &scope, idempotency_key, request_hash, now).await?
    {
        return match earlier {
            Earlier::Same(response) => Ok(Err(response)),
            Earlier::Different => Err(StoreError::Conflict("idempotency_conflict".into())),
        };
    }
    let subscription = sqlx::query(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1{lock}"
    ))
    .bind(subscription_id)
    .fetch_optional(&mut *connection)
    .await?
    .as_ref()
    .map(subscription_from_row)
    .transpose()?
    .ok_or_else(|| StoreError::NotFound(format!("no subscription {subscription_id}")))?;
    Ok(Ok(subscription))
}

async fn claim_idempotency_key(
    connection: &mut AnyConnection,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> StoreResult<Option<Earlier>> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, 0, '', $4) \
         ON CONFLICT (scope, key) DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    if claimed == 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT request_hash, status, body FROM idempotency WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_one(&mut *connection)
    .await?;
    let (hash, response) = stored_answer(&row)?;
    Ok(Some(if hash == request_hash {
        Earlier::Same(response)
    } else {
        Earlier::Different
    }))
}

/// Stores the answer under a key this transaction claimed.
async fn store_idempotent_answer(
    connection: &mut AnyConnection,
    scope: &str,
    key: &str,
    response: &StoredResponse,
) -> StoreResult<()> {
    sqlx::query("UPDATE idempotency SET status = $3, body = $4 WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .bind(i64::from(response.status))
        .bind(&response.body)
        .execute(connection)
        .await?;
    Ok(())
}

async fn session_in(connection: &mut AnyConnection, id: &str) -> StoreResult<Session> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(connection)
    .await?;
    Ok(session_from_row(&row)?)
}

async fn session_of_subscription(
    connection: &mut AnyConnection,
    subscription_id: &str,
) -> StoreResult<Session> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE subscription_id = $1"
    ))
    .bind(subscription_id)
    .fetch_one(connection)
    .await?;
    Ok(session_from_row(&row)?)
}

async fn order_in(connection: &mut AnyConnection, id: &str) -> StoreResult<Order> {
    let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
        .bind(id)
        .fetch_one(connection)
        .await?;
    Ok(order_from_row(&row)?)
}

async fn subscription_in(connection: &mut AnyConnection, id: &str) -> StoreResult<Subscription> {
    let row = sqlx::query(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(connection)
    .await?;
    Ok(subscription_from_row(&row)?)
}

/// SQL for the sandbox clock offset of the seller of a row of `table` (0 when it never
/// moved).
fn seller_offset_sql(table: &str) -> String {
    format!(
        "COALESCE((SELECT offset_seconds FROM seller_clocks WHERE seller_clocks.seller_id = {table}.seller_id), 0)"
    )
}

async fn seller_offset(connection: &mut AnyConnection, seller_id: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query("SELECT offset_seconds FROM seller_clocks WHERE seller_id = $1")
            .bind(seller_id)
            .fetch_optional(connection)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(0),
    )
}

/// Returns a session's reserved drop stock.
async fn release_stock(connection: &mut AnyConnection, session_id: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE drops SET reserved = drops.reserved - s.held FROM (SELECT listing_id, reserved AS held FROM sessions WHERE id = $1) AS s \
         WHERE drops.listing_id = s.listing_id AND s.held > 0",
    )
    .bind(session_id)
    .execute(&mut *connection)
    .await?;
    sqlx::query("UPDATE sessions SET reserved = 0 WHERE id = $1")
        .bind(session_id)
        .execute(connection)
        .await?;
    Ok(())
}

/// Expires `session` if it is still open: its stock goes back and the seller is told
/// (`checkout.session.expired`). Returns whether it expired here.
async fn expire_open_session(
    connection: &mut AnyConnection,
    session: &Session,
    real_now: i64,
) -> StoreResult<bool> {
    let expired =
        sqlx::query("UPDATE sessions SET status = 'expired' WHERE id = $1 AND status = 'open'")
            .bind(&session.id)
            .execute(&mut *connection)
            .await?
            .rows_affected();
    if expired == 0 {
        return Ok(false);
    }
    let now = real_now + seller_offset(connection, &session.seller_id).await?;
    release_stock(connection, &session.id).await?;
    let mut expired = session.clone();
    expired.status = "expired".into();
    let event = Event {
        seller_id: session.seller_id.clone(),
        event_type: "checkout.session.expired",
        data: json!({ "session": session_data(&expired) }),
    };
    record_event(connection, &event, now).await?;
    Ok(true)
}

/// One renewal of `subscription` (its period already moved on): the `renewal` order at
/// `amount` and `subscription.renewed`. Returns the order's id.
async fn record_renewal(
    connection: &mut AnyConnection,
    subscription: &Subscription,
    session: &Session,
    start: i64,
    amount: i64,
) -> StoreResult<String> {
    let mut charged = session.clone();
    charged.tier_id = Some(subscription.tier_id.clone());
    charged.quantity = 1;
    let order_id = new_id("ord");
    insert_order(
        connection,
        &order_id,
        "renewal",
        &charged,
        Some(&subscription.id),
        amount,
        None,
        start,
    )
    .await?;
    let renewed = subscription_in(connection, &subscription.id).await?;
    let event = Event {
        seller_id: renewed.seller_id.clone(),
        event_type: "subscription.renewed",
        data: json!({ "subscription": subscription_data(&renewed) }),
    };
    record_event(connection, &event, start).await?;
    Ok(order_id)
}

/// What a live order was paid with (Stripe ids).
async fn set_order_stripe_refs(
    connection: &mut AnyConnection,
    order_id: &str,
    payment_intent: Option<&str>,
    invoice: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE orders SET stripe_payment_intent = $2, stripe_invoice = $3 WHERE id = $1")
        .bind(order_id)
        .bind(payment_intent)
        .bind(invoice)
        .execute(connection)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_order(
    connection: &mut AnyConnection,
    order_id: &str,
    kind: &str,
    session: &Session,
    subscription_id: Option<&str>,
    amount: i64,
    shipping: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    // The customer is known by email: what repeat-rate metrics group by.
    let customer = session
        .email
        .as_deref()
        .map(|email| email.trim().to_ascii_lowercase());
    sqlx::query(&format!(
        "INSERT INTO orders ({ORDER_COLUMNS}, seller_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'paid', $17, NULL, $19, $20, NULL, $18)"
    ))
    .bind(order_id)
    .bind(kind)
    .bind(&session.id)
    .bind(subscription_id)
    .bind(&session.listing_id)
    .bind(&session.offer_id)
    .bind(session.tier_id.as_deref())
    .bind(session.quantity)
    .bind(amount)
    .bind(&session.currency)
    .bind(session.email.as_deref())
    .bind(shipping)
    .bind(to_json_text(&session.attribution.raw))
    .bind(session.attribution.creator.as_deref())
    .bind(flag(session.attribution.creator_verified))
    .bind(customer)
    .bind(now)
    .bind(&session.seller_id)
    // Only a purchase is of the variant shown; renewals and upgrades are the membership's.
    .bind(session.offer_variant.as_deref().filter(|_| kind == "purchase"))
    // Likewise the way a purchase reaches the shopper; its pick-up code comes once paid.
    .bind(session.fulfilment.as_deref().filter(|_| kind == "purchase"))
    .execute(connection)
    .await?;
    Ok(())
}

/// Gives a paid pick-up order its code (core's `pickup`): drawn at random, drawn again while
/// another order of the seller has it. The unique index on (seller, code) is the last word
/// should two instances draw the same code at the same moment (one payment then fails and
/// is retried: nothing is charged twice, the session being settled once).
async fn assign_pickup_code(
    connection: &mut AnyConnection,
    order_id: &str,
    seller_id: &str,
) -> StoreResult<String> {
    // 32⁶ codes: even a seller with a million pick-up orders finds a free one within a few
    // draws; 20 misses in a row means something else is wrong.
    for _ in 0..20 {
        let mut random = [0u8; mighty_core::pickup::PICKUP_CODE_LENGTH];
        getrandom::fill(&mut random).expect("the operating system provides randomness");
        let code = mighty_core::pickup::pickup_code_from_random(random);
        let taken = sqlx::query("SELECT 1 FROM orders WHERE seller_id = $1 AND pickup_code = $2")
            .bind(seller_id)
            .bind(&code)
            .fetch_optional(&mut *connection)
            .await?
            .is_some();
        if !taken {
            sqlx::query("UPDATE orders SET pickup_code = $2 WHERE id = $1")
                .bind(order_id)
                .bind(&code)
                .execute(&mut *connection)
                .await?;
            return Ok(code);
        }
    }
    Err(StoreError::Backend(format!(
        "no free pick-up code for seller {seller_id} after 20 draws"
    )))
}

/// Queues `event` for every webhook endpoint of its seller, in the caller's transaction.
async fn record_event(connection: &mut AnyConnection, event: &Event, now: i64) -> StoreResult<()> {
    let endpoints: Vec<String> =
        sqlx::query("SELECT id FROM webhook_endpoints WHERE seller_id = $1")
            .bind(&event.seller_id)
            .fetch_all(&mut *connection)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let event_id = new_id("evt");
    let payload = json!({ "id": event_id, "type": event.event_type, "created": rfc3339(now), "data": event.data }).to_string();
    let real_now = crate::clock::real_now();
    for endpoint_id in endpoints {
        sqlx::query(
            "INSERT INTO outbox (event_id, endpoint_id, event_type, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&event_id)
        .bind(endpoint_id)
        .bind(event.event_type)
        .bind(&payload)
        .bind(real_now)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Makes a fresh, empty database `name` on the PostgreSQL server `admin_url` points at, and
/// returns its URL (throwaway databases for tests and benchmarks).
pub fn create_postgres_database(admin_url: &str, name: &str) -> StoreResult<String> {
    if !name
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    {
        return Err(StoreError::Backend(format!(
            "{name:?} is not a plain database name"
        )));
    }
    storage_runtime().block_on(async {
        use sqlx::Connection;
        let mut connection = AnyConnection::connect(admin_url).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await?;
        connection.close().await?;
        Ok::<_, StoreError>(())
    })?;
    let mut url = url::Url::parse(admin_url)
        .map_err(|error| StoreError::Backend(format!("{admin_url}: {error}")))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

#[cfg(test)]
mod migration_files {
    use super::Dialect;

    /// The schema version is a position in the list, so the files must be numbered 1, 2, 3…
    /// without a gap, the same in both dialects, and all listed: a gap later filled would make
    /// a database that ran the higher number run another migration under its number.
    #[test]
    fn are_numbered_without_gaps_the_same_in_both_dialects_and_all_listed() {
        let names = |dialect: &str| {
            let dir = format!(
                "{}/src/store/migrations/{dialect}",
                env!("CARGO_MANIFEST_DIR")
            );
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        let sqlite = names("sqlite");
        assert_eq!(sqlite, names("postgres"));
        for (index, name) in sqlite.iter().enumerate() {
            assert!(
                name.starts_with(&format!("{:04}_", index + 1)),
                "migration {name} is not number {}",
                index + 1
            );
        }
        assert_eq!(sqlite.len(), Dialect::Sqlite.migrations().len());
        assert_eq!(sqlite.len(), Dialect::Postgres.migrations().len());
    }
}
