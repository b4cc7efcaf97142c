//! The SQLite backend of [`Store`]: one connection in WAL mode behind a mutex (SQLite has one
//! writer at a time anyway), `BEGIN IMMEDIATE` for every change so that concurrent checkouts
//! serialize on the database, never in memory.

use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::{Value, json};

use super::*;
use mighty_core::Timestamp;

/// Schema migrations, applied in order at start; `PRAGMA user_version` records how many ran.
/// Add a new file for each change; never edit an applied one.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("migration_2_events.sql"),
    include_str!("migration_3_sessions.sql"),
    include_str!("migration_4_secrets_and_clocks.sql"),
];

/// The reference server's storage.
pub struct Store {
    connection: Mutex<Connection>,
}

fn rfc3339(seconds: i64) -> String {
    Timestamp(seconds).to_rfc3339()
}

fn to_json_text(value: &Value) -> String {
    value.to_string()
}

fn from_json_text(text: Option<String>) -> Option<Value> {
    text.and_then(|text| serde_json::from_str(&text).ok())
}

const SESSION_COLUMNS: &str = "id, listing_id, seller_id, offer_id, tier_id, quantity, amount, currency, kind, interval, ships, \
    attribution, creator, creator_verified, return_url, redirect_url, status, created_at, expires_at, paid_at, email, card_last4, \
    failure_reason, subscription_id";

fn session_from_row(row: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: row.get(0)?,
        listing_id: row.get(1)?,
        seller_id: row.get(2)?,
        offer_id: row.get(3)?,
        tier_id: row.get(4)?,
        quantity: row.get(5)?,
        amount: row.get(6)?,
        currency: row.get(7)?,
        kind: row.get(8)?,
        interval: row.get(9)?,
        ships: row.get(10)?,
        attribution: StoredAttribution {
            raw: from_json_text(row.get(11)?).unwrap_or(Value::Null),
            creator: row.get(12)?,
            creator_verified: row.get(13)?,
        },
        return_url: row.get(14)?,
        redirect_url: row.get(15)?,
        status: row.get(16)?,
        created_at: row.get(17)?,
        expires_at: row.get(18)?,
        paid_at: row.get(19)?,
        email: row.get(20)?,
        card_last4: row.get(21)?,
        failure_reason: row.get(22)?,
        subscription_id: row.get(23)?,
    })
}

const ORDER_COLUMNS: &str = "id, kind, session_id, subscription_id, listing_id, offer_id, tier_id, quantity, amount, currency, email, \
    shipping, attribution, creator, creator_verified, customer, status, created_at, refunded_at";

fn order_from_row(row: &Row) -> rusqlite::Result<Order> {
    Ok(Order {
        id: row.get(0)?,
        kind: row.get(1)?,
        session_id: row.get(2)?,
        subscription_id: row.get(3)?,
        listing_id: row.get(4)?,
        offer_id: row.get(5)?,
        tier_id: row.get(6)?,
        quantity: row.get(7)?,
        amount: row.get(8)?,
        currency: row.get(9)?,
        email: row.get(10)?,
        shipping: from_json_text(row.get(11)?),
        attribution: from_json_text(row.get(12)?).unwrap_or(Value::Null),
        creator: row.get(13)?,
        creator_verified: row.get(14)?,
        customer: row.get(15)?,
        status: row.get(16)?,
        created_at: rfc3339(row.get(17)?),
        refunded_at: row.get::<_, Option<i64>>(18)?.map(rfc3339),
    })
}

const SUBSCRIPTION_COLUMNS: &str = "id, listing_id, offer_id, tier_id, price, currency, interval, status, customer_token_hash, seller_id, \
    email, creator, creator_verified, current_period_start, current_period_end, created_at, canceled_at, attribution";

fn subscription_from_row(row: &Row) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        id: row.get(0)?,
        listing_id: row.get(1)?,
        offer_id: row.get(2)?,
        tier_id: row.get(3)?,
        price: row.get(4)?,
        currency: row.get(5)?,
        interval: row.get(6)?,
        status: row.get(7)?,
        customer_token_hash: row.get(8)?,
        seller_id: row.get(9)?,
        email: row.get(10)?,
        creator: row.get(11)?,
        creator_verified: row.get(12)?,
        current_period_start: row.get(13)?,
        current_period_end: row.get(14)?,
        created_at: row.get(15)?,
        canceled_at: row.get(16)?,
        attribution: from_json_text(row.get(17)?).unwrap_or(Value::Null),
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
    })
}

/// The webhook `data` of a subscription.
pub fn subscription_data(subscription: &Subscription) -> Value {
    json!({
        "subscription_id": subscription.id, "status": subscription.status, "listing_id": subscription.listing_id,
        "offer_id": subscription.offer_id, "tier_id": subscription.tier_id, "price": subscription.price,
        "currency": subscription.currency, "interval": subscription.interval, "email": subscription.email,
        "creator": subscription.creator, "creator_verified": subscription.creator_verified,
        "current_period_start": rfc3339(subscription.current_period_start),
        "current_period_end": rfc3339(subscription.current_period_end),
        "attribution": subscription.attribution,
    })
}

impl Store {
    /// The schema version this server writes: the number of migrations it knows.
    pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

    /// Opens (creating on first use) the database and applies the schema.
    pub fn open(url: &DatabaseUrl) -> StoreResult<Store> {
        let mut connection = match url {
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
                Connection::open(path)?
            }
            DatabaseUrl::SqliteMemory => Connection::open_in_memory()?,
        };
        // WAL: readers never block the writer; NORMAL sync is durable across process crashes
        // (kill -9), which is what "nothing acknowledged is lost" needs; FULL would add
        // power-loss durability at a cost per commit.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&mut connection)?;
        Ok(Store {
            connection: Mutex::new(connection),
        })
    }

    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| StoreError::Backend("the connection mutex is poisoned".into()))?;
        work(&mut connection)
    }

    fn write<T>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let result = work(&transaction)?;
            transaction.commit()?;
            Ok(result)
        })
    }

    // --- settings ------------------------------------------------------------------------

    pub fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.with(|connection| {
            Ok(connection
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()?)
        })
    }

    pub fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        self.write(|transaction| {
            transaction.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    /// The value of `key`, created with `make` on first use (atomically).
    pub fn setting_or_insert(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> StoreResult<String> {
        self.write(|transaction| {
            transaction.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, make()],
            )?;
            Ok(transaction.query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [key],
                |row| row.get(0),
            )?)
        })
    }

    /// Adds `seconds` to `seller_id`'s sandbox clock; returns its new offset from real time.
    pub fn advance_clock(&self, seller_id: &str, seconds: i64) -> StoreResult<i64> {
        self.write(|transaction| {
            Ok(transaction.query_row(
                "INSERT INTO seller_clocks (seller_id, offset_seconds) VALUES (?1, ?2) \
                 ON CONFLICT (seller_id) DO UPDATE SET offset_seconds = seller_clocks.offset_seconds + excluded.offset_seconds \
                 RETURNING offset_seconds",
                params![seller_id, seconds],
                |row| row.get(0),
            )?)
        })
    }

    /// Every seller's sandbox clock offset (sellers whose clock never moved are left out).
    pub fn clock_offsets(&self) -> StoreResult<Vec<(String, i64)>> {
        self.with(|connection| {
            let mut statement =
                connection.prepare("SELECT seller_id, offset_seconds FROM seller_clocks")?;
            let offsets = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(offsets)
        })
    }

    // --- sellers -------------------------------------------------------------------------

    pub fn add_seller(&self, name: &str, token: &str, now: i64) -> StoreResult<Seller> {
        let seller = Seller {
            id: new_id("sel"),
            name: name.to_string(),
        };
        self.write(|transaction| {
            transaction.execute(
                "INSERT INTO sellers (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![seller.id, seller.name, hash_secret(token), now],
            )?;
            Ok(())
        })?;
        Ok(seller)
    }

    /// The seller with this token, created under `name` if none exists yet.
    pub fn ensure_seller(&self, name: &str, token: &str, now: i64) -> StoreResult<Seller> {
        match self.seller_by_token(token)? {
            Some(seller) => Ok(seller),
            None => self.add_seller(name, token, now),
        }
    }

    pub fn seller_by_token(&self, token: &str) -> StoreResult<Option<Seller>> {
        self.with(|connection| {
            Ok(connection
                .query_row(
                    "SELECT id, name FROM sellers WHERE token_hash = ?1",
                    [hash_secret(token)],
                    |row| {
                        Ok(Seller {
                            id: row.get(0)?,
                            name: row.get(1)?,
                        })
                    },
                )
                .optional()?)
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
        self.write(|transaction| {
            transaction.execute("DELETE FROM seller_sessions WHERE expires_at <= ?1", [now])?;
            transaction.execute(
                "INSERT INTO seller_sessions (token_hash, seller_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash_secret(token), seller_id, now, expires_at],
            )?;
            Ok(())
        })
    }

    pub fn seller_by_session(&self, token: &str, now: i64) -> StoreResult<Option<Seller>> {
        self.with(|connection| {
            Ok(connection
                .query_row(
                    "SELECT s.id, s.name FROM seller_sessions t JOIN sellers s ON s.id = t.seller_id WHERE t.token_hash = ?1 AND t.expires_at > ?2",
                    params![hash_secret(token), now],
                    |row| Ok(Seller { id: row.get(0)?, name: row.get(1)? }),
                )
                .optional()?)
        })
    }

    pub fn end_seller_session(&self, token: &str) -> StoreResult<()> {
        self.write(|transaction| {
            transaction.execute(
                "DELETE FROM seller_sessions WHERE token_hash = ?1",
                [hash_secret(token)],
            )?;
            Ok(())
        })
    }

    // --- listings ------------------------------------------------------------------------

    /// A seller's listings: `(id, document)`, by id.
    pub fn listings_of(&self, seller_id: &str) -> StoreResult<Vec<(String, Value)>> {
        self.with(|connection| {
            let rows = connection
                .prepare("SELECT id, document FROM listings WHERE seller_id = ?1 ORDER BY id")?
                .query_map([seller_id], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows
                .into_iter()
                .map(|(id, document)| (id, serde_json::from_str(&document).unwrap_or(Value::Null)))
                .collect())
        })
    }

    /// Creates or replaces a listing (a validated document); `inventory` is the drop's.
    /// Returns whether it was created. A listing of another seller is a conflict.
    pub fn put_listing(
        &self,
        seller_id: &str,
        id: &str,
        document: &Value,
        allowed_origins: &[String],
        inventory: Option<i64>,
        now: i64,
    ) -> StoreResult<bool> {
        self.write(|transaction| {
            let owner: Option<String> = transaction.query_row("SELECT seller_id FROM listings WHERE id = ?1", [id], |row| row.get(0)).optional()?;
            if let Some(owner) = &owner
                && owner != seller_id
            {
                return Err(StoreError::Conflict(format!("listing \"{id}\" belongs to another seller")));
            }
            let origins = serde_json::to_string(allowed_origins).unwrap_or_else(|_| "[]".into());
            transaction.execute(
                "INSERT INTO listings (id, seller_id, document, allowed_origins, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (id) DO UPDATE SET document = excluded.document, allowed_origins = excluded.allowed_origins, updated_at = excluded.updated_at",
                params![id, seller_id, to_json_text(document), origins, now],
            )?;
            match inventory {
                Some(inventory) => {
                    let held: Option<i64> = transaction
                        .query_row("SELECT sold + reserved FROM drops WHERE listing_id = ?1", [id], |row| row.get(0))
                        .optional()?;
                    if let Some(held) = held
                        && inventory < held
                    {
                        return Err(StoreError::Conflict(format!(
                            "drop.inventory {inventory} is below the {held} units already sold or reserved"
                        )));
                    }
                    transaction.execute(
                        "INSERT INTO drops (listing_id, inventory) VALUES (?1, ?2) ON CONFLICT (listing_id) DO UPDATE SET inventory = excluded.inventory",
                        params![id, inventory],
                    )?;
                }
                None => {
                    transaction.execute("DELETE FROM drops WHERE listing_id = ?1 AND sold = 0 AND reserved = 0", [id])?;
                }
            }
            Ok(owner.is_none())
        })
    }

    pub fn listing(&self, id: &str) -> StoreResult<Option<StoredListing>> {
        self.with(|connection| {
            let row = connection
                .query_row(
                    "SELECT l.seller_id, l.document, l.allowed_origins, d.inventory, d.sold, d.reserved \
                     FROM listings l LEFT JOIN drops d ON d.listing_id = l.id WHERE l.id = ?1",
                    [id],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, Option<i64>>(3)?,
                            row.get::<_, Option<i64>>(4)?,
                            row.get::<_, Option<i64>>(5)?,
                        ))
                    },
                )
                .optional()?;
            Ok(row.map(|(seller_id, document, origins, inventory, sold, reserved)| StoredListing {
                seller_id,
                document: serde_json::from_str(&document).unwrap_or(Value::Null),
                allowed_origins: serde_json::from_str(&origins).unwrap_or_default(),
                stock: inventory.map(|inventory| Stock { inventory, sold: sold.unwrap_or(0), reserved: reserved.unwrap_or(0) }),
            }))
        })
    }

    // --- checkout sessions ---------------------------------------------------------------

    /// Creates a checkout session under an idempotency key: a replay returns the stored
    /// answer, another body under the same key is a conflict; drop stock is reserved in the
    /// same transaction, so it never goes below zero whatever the concurrency. `render` makes
    /// the answer stored under the key.
    pub fn create_session(
        &self,
        idempotency_key: &str,
        request_hash: &str,
        new: &NewSession,
        render: &dyn Fn(&CreateSessionOutcome) -> StoredResponse,
    ) -> StoreResult<CreateSessionOutcome> {
        let now = new.created_at;
        self.write(|transaction| {
            let stored: Option<(String, u16, String)> = transaction
                .query_row(
                    "SELECT request_hash, status, body FROM idempotency WHERE scope = 'checkout' AND key = ?1",
                    [idempotency_key],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?;
            if let Some((hash, status, body)) = stored {
                return Ok(if hash == request_hash {
                    CreateSessionOutcome::Replayed(StoredResponse { status, body })
                } else {
                    CreateSessionOutcome::IdempotencyConflict
                });
            }
            let mut reserved = 0;
            let mut outcome = None;
            if let Some((starts_at, ends_at)) = new.drop_window {
                if now < starts_at || now >= ends_at {
                    outcome = Some(CreateSessionOutcome::DropClosed);
                } else {
                    let changed = transaction.execute(
                        "UPDATE drops SET reserved = reserved + ?2 WHERE listing_id = ?1 AND inventory - sold - reserved >= ?2",
                        params![new.listing_id, new.quantity],
                    )?;
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
                    transaction.execute(
                        &format!(
                            "INSERT INTO sessions ({SESSION_COLUMNS}, reserved) VALUES \
                             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 'open', ?17, ?18, NULL, NULL, NULL, NULL, NULL, ?19)"
                        ),
                        params![
                            new.id, new.listing_id, new.seller_id, new.offer_id, new.tier_id, new.quantity, new.amount, new.currency,
                            new.kind.as_str(), new.interval, new.ships, to_json_text(&new.attribution.raw), new.attribution.creator,
                            new.attribution.creator_verified, new.return_url, new.redirect_url, new.created_at, new.expires_at, reserved,
                        ],
                    )?;
                    let session = transaction.query_row(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"), [&new.id], session_from_row)?;
                    CreateSessionOutcome::Created(Box::new(session))
                }
            };
            let response = render(&outcome);
            transaction.execute(
                "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at) VALUES ('checkout', ?1, ?2, ?3, ?4, ?5)",
                params![idempotency_key, request_hash, response.status, response.body, now],
            )?;
            Ok(outcome)
        })
    }

    pub fn session(&self, id: &str) -> StoreResult<Option<Session>> {
        self.with(|connection| {
            Ok(connection
                .query_row(
                    &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"),
                    [id],
                    session_from_row,
                )
                .optional()?)
        })
    }

    /// Expires every open session past its `expires_at` on its seller's clock (real time
    /// `real_now` plus that seller's sandbox offset): stock goes back to the drop and the
    /// seller is told (`checkout.session.expired`). Returns how many expired.
    pub fn expire_due_sessions(&self, real_now: i64) -> StoreResult<usize> {
        self.write(|transaction| {
            let due: Vec<Session> = transaction
                .prepare(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE status = 'open' AND expires_at <= ?1 + {}", seller_offset_sql("sessions")))?
                .query_map([real_now], session_from_row)?
                .collect::<Result<_, _>>()?;
            for session in &due {
                let now = real_now + seller_offset(transaction, &session.seller_id)?;
                release_stock(transaction, &session.id)?;
                transaction.execute("UPDATE sessions SET status = 'expired' WHERE id = ?1", [&session.id])?;
                let mut expired = session.clone();
                expired.status = "expired".into();
                record_event(transaction, &Event { seller_id: session.seller_id.clone(), event_type: "checkout.session.expired", data: json!({ "session": session_data(&expired) }) }, now)?;
            }
            Ok(due.len())
        })
    }

    /// Settles a payment attempt on the pay page. Approved: the session is paid, drop stock
    /// moves from reserved to sold, an order (and for a retainer a subscription with its
    /// customer token) is written, and the webhook events are queued, all in one transaction.
    /// Declined: the session fails and its stock is released.
    pub fn settle_payment(
        &self,
        session_id: &str,
        payment: &Payment,
        decline: Option<&str>,
        now: i64,
        customer_token_for: &dyn Fn(&str) -> String,
    ) -> StoreResult<PaymentOutcome> {
        self.write(|transaction| {
            let session = transaction
                .query_row(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"), [session_id], session_from_row)
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("no checkout session {session_id}")))?;
            if session.status != "open" || session.expires_at <= now {
                return Ok(PaymentOutcome::NotOpen(session));
            }
            if let Some(reason) = decline {
                release_stock(transaction, session_id)?;
                transaction.execute("UPDATE sessions SET status = 'failed', failure_reason = ?2, email = ?3, card_last4 = ?4 WHERE id = ?1", params![session_id, reason, payment.email, payment.card_last4])?;
                let failed = transaction.query_row(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"), [session_id], session_from_row)?;
                return Ok(PaymentOutcome::Declined(failed));
            }
            transaction.execute("UPDATE drops SET reserved = drops.reserved - s.held, sold = drops.sold + s.held FROM (SELECT listing_id, reserved AS held FROM sessions WHERE id = ?1) AS s WHERE drops.listing_id = s.listing_id AND s.held > 0", [session_id])?;
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
            transaction.execute(
                "UPDATE sessions SET status = 'paid', paid_at = ?2, email = ?3, card_last4 = ?4, shipping = ?5, subscription_id = ?6 WHERE id = ?1",
                params![session_id, now, payment.email, payment.card_last4, shipping, subscription_id],
            )?;
            let paid = transaction.query_row(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"), [session_id], session_from_row)?;
            let order_id = new_id("ord");
            insert_order(transaction, &order_id, "purchase", &paid, subscription_id.as_deref(), paid.amount, shipping.as_deref(), now)?;
            let order = transaction.query_row(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"), [&order_id], order_from_row)?;
            record_event(transaction, &Event { seller_id: paid.seller_id.clone(), event_type: "checkout.session.completed", data: json!({ "session": session_data(&paid), "order": order }) }, now)?;
            if let (Some(subscription_id), Some(customer_token_hash)) = (&subscription_id, &customer_token_hash) {
                let interval = paid.interval.as_deref().and_then(mighty_core::listing::Interval::parse).unwrap_or(mighty_core::listing::Interval::Month);
                let period_end = interval.period_end(Timestamp(now)).0;
                transaction.execute(
                    &format!("INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}, session_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?13, NULL, ?16, ?15)"),
                    params![
                        subscription_id, paid.listing_id, paid.offer_id, paid.tier_id.clone().unwrap_or_default(), paid.amount, paid.currency,
                        interval.as_str(), customer_token_hash, paid.seller_id, payment.email, paid.attribution.creator, paid.attribution.creator_verified,
                        now, period_end, paid.id, to_json_text(&paid.attribution.raw),
                    ],
                )?;
                let subscription = transaction.query_row(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"), [subscription_id], subscription_from_row)?;
                record_event(transaction, &Event { seller_id: paid.seller_id.clone(), event_type: "subscription.created", data: json!({ "subscription": subscription_data(&subscription) }) }, now)?;
            }
            Ok(PaymentOutcome::Paid(paid))
        })
    }

    // --- orders --------------------------------------------------------------------------

    pub fn orders(&self, seller_id: &str, listing_id: Option<&str>) -> StoreResult<Vec<Order>> {
        self.with(|connection| {
            let mut statement = connection.prepare(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE seller_id = ?1 AND (?2 IS NULL OR listing_id = ?2) ORDER BY created_at, rowid"
            ))?;
            let orders = statement.query_map(params![seller_id, listing_id], order_from_row)?.collect::<Result<_, _>>()?;
            Ok(orders)
        })
    }

    /// Refunds a paid order of `seller_id` and queues `order.refunded`.
    pub fn refund_order(&self, seller_id: &str, order_id: &str, now: i64) -> StoreResult<Order> {
        self.write(|transaction| {
            let order = transaction
                .query_row(
                    &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1 AND seller_id = ?2"),
                    params![order_id, seller_id],
                    order_from_row,
                )
                .optional()?;
            let Some(order) = order else {
                let elsewhere = transaction
                    .query_row("SELECT 1 FROM orders WHERE id = ?1", [order_id], |_| Ok(()))
                    .optional()?;
                return Err(match elsewhere {
                    Some(()) => StoreError::Forbidden(format!("order {order_id} is not yours")),
                    None => StoreError::NotFound(format!("no order {order_id}")),
                });
            };
            if order.status == "refunded" {
                return Err(StoreError::Conflict(format!(
                    "order {order_id} is already refunded"
                )));
            }
            transaction.execute(
                "UPDATE orders SET status = 'refunded', refunded_at = ?2 WHERE id = ?1",
                params![order_id, now],
            )?;
            let refunded = transaction.query_row(
                &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
                [order_id],
                order_from_row,
            )?;
            record_event(
                transaction,
                &Event {
                    seller_id: seller_id.to_string(),
                    event_type: "order.refunded",
                    data: json!({ "order": refunded }),
                },
                now,
            )?;
            Ok(refunded)
        })
    }

    // --- subscriptions -------------------------------------------------------------------

    pub fn subscription(&self, id: &str) -> StoreResult<Option<Subscription>> {
        self.with(|connection| {
            Ok(connection
                .query_row(
                    &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"),
                    [id],
                    subscription_from_row,
                )
                .optional()?)
        })
    }

    /// The subscription whose customer token is `token` (looked up by its hash).
    pub fn subscription_by_customer_token(&self, token: &str) -> StoreResult<Option<Subscription>> {
        self.with(|connection| {
            Ok(connection
                .query_row(
                    &format!(
                        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE customer_token_hash = ?1"
                    ),
                    [hash_secret(token)],
                    subscription_from_row,
                )
                .optional()?)
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
    ) -> StoreResult<StoredResponse> {
        self.write(|transaction| {
            let scope = format!("upgrade:{subscription_id}");
            let stored: Option<(String, u16, String)> = transaction
                .query_row("SELECT request_hash, status, body FROM idempotency WHERE scope = ?1 AND key = ?2", params![scope, idempotency_key], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()?;
            if let Some((hash, status, body)) = stored {
                return if hash == request_hash {
                    Ok(StoredResponse { status, body })
                } else {
                    Err(StoreError::Conflict("idempotency_conflict".into()))
                };
            }
            let subscription = transaction
                .query_row(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"), [subscription_id], subscription_from_row)
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("no subscription {subscription_id}")))?;
            if subscription.status != "active" {
                return Err(StoreError::Conflict(format!("subscription {subscription_id} is {}", subscription.status)));
            }
            if subscription.tier_id == new_tier_id {
                return Err(StoreError::Conflict(format!("subscription {subscription_id} is already on tier {new_tier_id}")));
            }
            // `None`: a stored price past core's bounds; refused rather than wrapped.
            let due = amount_due(&subscription).ok_or_else(|| {
                StoreError::Backend(format!("subscription {subscription_id}: the prorated amount is out of range"))
            })?;
            transaction.execute("UPDATE subscriptions SET tier_id = ?2, price = ?3 WHERE id = ?1", params![subscription_id, new_tier_id, new_price])?;
            let updated = transaction.query_row(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"), [subscription_id], subscription_from_row)?;
            if due > 0 {
                let session = transaction.query_row(
                    &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE subscription_id = ?1"),
                    [subscription_id],
                    session_from_row,
                )?;
                let mut charged = session.clone();
                charged.tier_id = Some(new_tier_id.to_string());
                charged.quantity = 1;
                insert_order(transaction, &new_id("ord"), "upgrade", &charged, Some(subscription_id), due, None, now)?;
            }
            record_event(
                transaction,
                &Event { seller_id: updated.seller_id.clone(), event_type: "subscription.updated", data: json!({ "subscription": subscription_data(&updated), "amount_due": due }) },
                now,
            )?;
            let response = render(&updated, due);
            transaction.execute(
                "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![scope, idempotency_key, request_hash, response.status, response.body, now],
            )?;
            Ok(response)
        })
    }

    /// The answer stored under an idempotency key, with the hash of the request that made it.
    pub fn stored_response(
        &self,
        scope: &str,
        key: &str,
    ) -> StoreResult<Option<(String, StoredResponse)>> {
        self.with(|connection| {
            Ok(connection
                .query_row("SELECT request_hash, status, body FROM idempotency WHERE scope = ?1 AND key = ?2", params![scope, key], |row| {
                    Ok((row.get(0)?, StoredResponse { status: row.get(1)?, body: row.get(2)? }))
                })
                .optional()?)
        })
    }

    pub fn cancel_subscription(
        &self,
        subscription_id: &str,
        now: i64,
    ) -> StoreResult<Subscription> {
        self.write(|transaction| {
            let subscription = transaction
                .query_row(
                    &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"),
                    [subscription_id],
                    subscription_from_row,
                )
                .optional()?
                .ok_or_else(|| {
                    StoreError::NotFound(format!("no subscription {subscription_id}"))
                })?;
            if subscription.status == "canceled" {
                return Ok(subscription);
            }
            transaction.execute(
                "UPDATE subscriptions SET status = 'canceled', canceled_at = ?2 WHERE id = ?1",
                params![subscription_id, now],
            )?;
            let canceled = transaction.query_row(
                &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"),
                [subscription_id],
                subscription_from_row,
            )?;
            record_event(
                transaction,
                &Event {
                    seller_id: canceled.seller_id.clone(),
                    event_type: "subscription.canceled",
                    data: json!({ "subscription": subscription_data(&canceled) }),
                },
                now,
            )?;
            Ok(canceled)
        })
    }

    /// Renews every active subscription whose period ended on its seller's clock: one
    /// renewal order per period (the clock may have jumped several), `subscription.renewed`
    /// each time.
    pub fn renew_due_subscriptions(&self, real_now: i64) -> StoreResult<usize> {
        self.write(|transaction| {
            let due: Vec<Subscription> = transaction
                .prepare(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE status = 'active' AND current_period_end <= ?1 + {}", seller_offset_sql("subscriptions")))?
                .query_map([real_now], subscription_from_row)?
                .collect::<Result<_, _>>()?;
            let mut renewals = 0;
            for subscription in due {
                let now = real_now + seller_offset(transaction, &subscription.seller_id)?;
                let interval = mighty_core::listing::Interval::parse(&subscription.interval).unwrap_or(mighty_core::listing::Interval::Month);
                let mut end = subscription.current_period_end;
                let session = transaction.query_row(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE subscription_id = ?1"), [&subscription.id], session_from_row)?;
                while end <= now {
                    let start = end;
                    end = interval.period_end(Timestamp(start)).0;
                    transaction.execute("UPDATE subscriptions SET current_period_start = ?2, current_period_end = ?3 WHERE id = ?1", params![subscription.id, start, end])?;
                    let mut charged = session.clone();
                    charged.tier_id = Some(subscription.tier_id.clone());
                    charged.quantity = 1;
                    insert_order(transaction, &new_id("ord"), "renewal", &charged, Some(&subscription.id), subscription.price, None, start)?;
                    let renewed = transaction.query_row(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"), [&subscription.id], subscription_from_row)?;
                    record_event(transaction, &Event { seller_id: renewed.seller_id.clone(), event_type: "subscription.renewed", data: json!({ "subscription": subscription_data(&renewed) }) }, start)?;
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
        self.write(|transaction| {
            transaction.execute(
                "INSERT INTO webhook_endpoints (id, seller_id, url, secret, created_at) VALUES (?1, ?2, ?3, '', ?4)",
                params![endpoint.id, seller_id, url, now],
            )?;
            Ok(())
        })?;
        Ok(endpoint)
    }

    /// Removes an endpoint; its events not yet delivered are given up (the delivery log
    /// keeps what was attempted). Returns how many were given up.
    pub fn remove_webhook(&self, id: &str, now: i64) -> StoreResult<usize> {
        self.write(|transaction| {
            let given_up = transaction.execute(
                "UPDATE outbox SET gave_up_at = ?2, last_error = 'the endpoint was removed' \
                 WHERE endpoint_id = ?1 AND delivered_at IS NULL AND gave_up_at IS NULL",
                params![id, now],
            )?;
            transaction.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])?;
            Ok(given_up)
        })
    }

    pub fn webhook(&self, id: &str) -> StoreResult<Option<WebhookEndpoint>> {
        self.with(|connection| {
            Ok(connection
                .query_row(
                    "SELECT id, url, secret, seller_id FROM webhook_endpoints WHERE id = ?1",
                    [id],
                    |row| {
                        Ok(WebhookEndpoint {
                            id: row.get(0)?,
                            url: row.get(1)?,
                            secret: row.get(2)?,
                            seller_id: row.get(3)?,
                        })
                    },
                )
                .optional()?)
        })
    }

    /// The delivery log of an endpoint: every attempt, and every event's current state.
    pub fn deliveries(
        &self,
        endpoint_id: &str,
    ) -> StoreResult<(Vec<DeliveryAttempt>, Vec<OutboxEntry>)> {
        self.with(|connection| {
            let attempts = connection
                .prepare("SELECT event_id, event_type, attempted_at, status_code, error, duration_ms FROM deliveries WHERE endpoint_id = ?1 ORDER BY id")?
                .query_map([endpoint_id], |row| {
                    Ok(DeliveryAttempt { event_id: row.get(0)?, event_type: row.get(1)?, attempted_at: row.get(2)?, status_code: row.get(3)?, error: row.get(4)?, duration_ms: row.get(5)? })
                })?
                .collect::<Result<_, _>>()?;
            let events = connection
                .prepare("SELECT event_id, event_type, attempts, delivered_at, gave_up_at, next_attempt_at, last_error FROM outbox WHERE endpoint_id = ?1 ORDER BY id")?
                .query_map([endpoint_id], |row| {
                    Ok(OutboxEntry {
                        event_id: row.get(0)?,
                        event_type: row.get(1)?,
                        attempts: row.get(2)?,
                        delivered: row.get::<_, Option<i64>>(3)?.is_some(),
                        gave_up: row.get::<_, Option<i64>>(4)?.is_some(),
                        next_attempt_at: row.get(5)?,
                        last_error: row.get(6)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok((attempts, events))
        })
    }

    /// Claims up to `limit` due deliveries for `lease_seconds` (so that several instances
    /// never send the same event at once) and returns them, oldest first, at most
    /// `per_endpoint` per endpoint counting the attempts this instance has `in_flight` (so
    /// an endpoint at its bound gets none and leaves the places to others).
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
        self.write(|transaction| {
            let candidates: Vec<PendingDelivery> = transaction
                .prepare(
                    "SELECT o.id, o.event_id, o.event_type, o.payload, e.url, e.secret, o.endpoint_id, o.attempts, o.created_at \
                     FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY id) AS place FROM outbox \
                           WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?1 AND locked_until <= ?1) d \
                     JOIN outbox o ON o.id = d.id JOIN webhook_endpoints e ON e.id = o.endpoint_id \
                     WHERE d.place <= ?2 ORDER BY o.id LIMIT ?3",
                )?
                .query_map(params![now, per_endpoint as i64, read as i64], |row| {
                    Ok(PendingDelivery {
                        outbox_id: row.get(0)?,
                        event_id: row.get(1)?,
                        event_type: row.get(2)?,
                        payload: row.get(3)?,
                        url: row.get(4)?,
                        secret: row.get(5)?,
                        endpoint_id: row.get(6)?,
                        attempts: row.get(7)?,
                        created_at: row.get(8)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let mut taken: std::collections::HashMap<String, usize> = in_flight.clone();
            let mut due = Vec::new();
            for delivery in candidates {
                if due.len() == limit {
                    break;
                }
                let count = taken.entry(delivery.endpoint_id.clone()).or_default();
                if *count < per_endpoint {
                    *count += 1;
                    due.push(delivery);
                }
            }
            for delivery in &due {
                transaction.execute("UPDATE outbox SET locked_until = ?2 WHERE id = ?1", params![delivery.outbox_id, now + lease_seconds])?;
            }
            Ok(due)
        })
    }

    /// Records one delivery attempt; `next_attempt_at` None means delivered (or given up when
    /// `gave_up`).
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
        self.write(|transaction| {
            transaction.execute(
                "INSERT INTO deliveries (outbox_id, endpoint_id, event_id, event_type, attempted_at, status_code, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![delivery.outbox_id, delivery.endpoint_id, delivery.event_id, delivery.event_type, attempted_at, status_code, error, duration_ms],
            )?;
            if delivered {
                transaction.execute("UPDATE outbox SET attempts = attempts + 1, delivered_at = ?2, locked_until = 0, last_error = NULL WHERE id = ?1", params![delivery.outbox_id, attempted_at])?;
            } else if let Some(next) = next_attempt_at {
                transaction.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, locked_until = 0, last_error = ?3 WHERE id = ?1",
                    params![delivery.outbox_id, next, error],
                )?;
            } else {
                transaction.execute(
                    "UPDATE outbox SET attempts = attempts + 1, gave_up_at = ?2, locked_until = 0, last_error = ?3 WHERE id = ?1",
                    params![delivery.outbox_id, attempted_at, error],
                )?;
            }
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
        self.write(|transaction| {
            let mut stored = 0;
            for event in events {
                stored += transaction.execute(
                    "INSERT INTO events (id, type, listing_id, creator, variant, visitor_id, at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
                    params![event.id, event.event_type, event.listing_id, event.creator, event.variant, event.visitor_id, event.at, received_at],
                )?;
            }
            Ok((stored, events.len() - stored))
        })
    }

    /// View counts of a listing per (creator, variant) in `[from, to)`.
    pub fn view_counts(&self, listing_id: &str, from: i64, to: i64) -> StoreResult<Vec<ViewCount>> {
        self.with(|connection| {
            let rows = connection
                .prepare("SELECT creator, variant, COUNT(*) FROM events WHERE listing_id = ?1 AND type = 'view' AND at >= ?2 AND at < ?3 GROUP BY creator, variant ORDER BY creator, variant")?
                .query_map(params![listing_id, from, to], |row| Ok(ViewCount { creator: row.get(0)?, variant: row.get(1)?, views: row.get::<_, i64>(2)? as u64 }))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    pub fn set_creator_fees(&self, listing_id: &str, fees: &[(String, i64)]) -> StoreResult<()> {
        self.write(|transaction| {
            for (handle, fee) in fees {
                transaction.execute(
                    "INSERT INTO creator_fees (listing_id, handle, fee) VALUES (?1, ?2, ?3) ON CONFLICT (listing_id, handle) DO UPDATE SET fee = excluded.fee",
                    params![listing_id, handle, fee],
                )?;
            }
            Ok(())
        })
    }

    pub fn creator_fees(&self, listing_id: &str) -> StoreResult<Vec<(String, i64)>> {
        self.with(|connection| {
            let rows = connection
                .prepare(
                    "SELECT handle, fee FROM creator_fees WHERE listing_id = ?1 ORDER BY handle",
                )?
                .query_map([listing_id], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    // --- sandbox faults and creator links ------------------------------------------------

    pub fn set_fault(&self, listing_id: &str, mode: FaultMode, count: i64) -> StoreResult<()> {
        self.write(|transaction| {
            transaction.execute(
                "INSERT INTO faults (listing_id, mode, remaining) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (listing_id) DO UPDATE SET mode = excluded.mode, remaining = excluded.remaining",
                params![listing_id, mode.as_str(), count],
            )?;
            Ok(())
        })
    }

    /// Takes one armed fault of the listing, if any.
    pub fn take_fault(&self, listing_id: &str) -> StoreResult<Option<FaultMode>> {
        self.write(|transaction| {
            let mode: Option<String> = transaction
                .query_row("UPDATE faults SET remaining = remaining - 1 WHERE listing_id = ?1 AND remaining > 0 RETURNING mode", [listing_id], |row| row.get(0))
                .optional()?;
            Ok(mode.as_deref().and_then(FaultMode::parse))
        })
    }

    pub fn revoke_creator_links(
        &self,
        listing_id: &str,
        handle: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.write(|transaction| {
            transaction.execute(
                "INSERT INTO creator_link_revocations (listing_id, handle, revoked_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (listing_id, handle) DO UPDATE SET revoked_at = excluded.revoked_at",
                params![listing_id, handle, now],
            )?;
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
        self.with(|connection| {
            Ok(connection
                .query_row("SELECT revoked_at FROM creator_link_revocations WHERE listing_id = ?1 AND handle = ?2", params![listing_id, handle], |row| row.get(0))
                .optional()?)
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

/// Applies the migrations this database has not seen yet, each in its own transaction.
fn migrate(connection: &mut Connection) -> StoreResult<()> {
    let applied: usize =
        connection.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))? as usize;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database is at schema version {applied}, newer than this server knows ({}); upgrade mighty-server",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        if index + 1 == 4 {
            hash_legacy_customer_tokens(&transaction)?;
        }
        transaction.pragma_update(None, "user_version", (index + 1) as i64)?;
        transaction.commit()?;
    }
    Ok(())
}

/// Migration 4 renamed `subscriptions.customer_token` to `customer_token_hash`: the tokens
/// written before it become their SHA-256, as tokens are stored since (their holders keep
/// working: a token is looked up by its hash).
fn hash_legacy_customer_tokens(transaction: &rusqlite::Transaction) -> StoreResult<()> {
    let rows: Vec<(String, String)> = transaction
        .prepare("SELECT id, customer_token_hash FROM subscriptions")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, token) in rows {
        transaction.execute(
            "UPDATE subscriptions SET customer_token_hash = ?2 WHERE id = ?1",
            params![id, hash_secret(&token)],
        )?;
    }
    Ok(())
}

/// SQL for the sandbox clock offset of the seller of a row of `table` (0 when it never
/// moved).
fn seller_offset_sql(table: &str) -> String {
    format!(
        "COALESCE((SELECT offset_seconds FROM seller_clocks WHERE seller_clocks.seller_id = {table}.seller_id), 0)"
    )
}

fn seller_offset(transaction: &rusqlite::Transaction, seller_id: &str) -> StoreResult<i64> {
    Ok(transaction
        .query_row(
            "SELECT offset_seconds FROM seller_clocks WHERE seller_id = ?1",
            [seller_id],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Returns a session's reserved drop stock.
fn release_stock(transaction: &rusqlite::Transaction, session_id: &str) -> StoreResult<()> {
    transaction.execute(
        "UPDATE drops SET reserved = drops.reserved - s.held FROM (SELECT listing_id, reserved AS held FROM sessions WHERE id = ?1) AS s \
         WHERE drops.listing_id = s.listing_id AND s.held > 0",
        [session_id],
    )?;
    transaction.execute(
        "UPDATE sessions SET reserved = 0 WHERE id = ?1",
        [session_id],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_order(
    transaction: &rusqlite::Transaction,
    order_id: &str,
    kind: &str,
    session: &Session,
    subscription_id: Option<&str>,
    amount: i64,
    shipping: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    // The customer is known by email: what repeat-rate metrics group by.
    transaction.execute(
        &format!("INSERT INTO orders ({ORDER_COLUMNS}, seller_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 'paid', ?17, NULL, ?18)"),
        params![
            order_id, kind, session.id, subscription_id, session.listing_id, session.offer_id, session.tier_id, session.quantity, amount,
            session.currency, session.email, shipping, to_json_text(&session.attribution.raw), session.attribution.creator,
            session.attribution.creator_verified, session.email.as_deref().map(|email| email.trim().to_ascii_lowercase()), now, session.seller_id,
        ],
    )?;
    Ok(())
}

/// Queues `event` for every webhook endpoint of its seller, in the caller's transaction.
fn record_event(transaction: &rusqlite::Transaction, event: &Event, now: i64) -> StoreResult<()> {
    let endpoints: Vec<String> = transaction
        .prepare("SELECT id FROM webhook_endpoints WHERE seller_id = ?1")?
        .query_map([&event.seller_id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let event_id = new_id("evt");
    let payload = json!({ "id": event_id, "type": event.event_type, "created": rfc3339(now), "data": event.data }).to_string();
    let real_now = crate::clock::real_now();
    for endpoint_id in endpoints {
        transaction.execute(
            "INSERT INTO outbox (event_id, endpoint_id, event_type, payload, created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![event_id, endpoint_id, event.event_type, payload, real_now],
        )?;
    }
    Ok(())
}
