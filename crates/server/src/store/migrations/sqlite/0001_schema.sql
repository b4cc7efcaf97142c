-- Mighty's storage schema, migration 1. Portable SQL (SQLite 3.35+ and PostgreSQL): TEXT ids,
-- INTEGER Unix seconds and minor units, JSON kept as TEXT. Applied at start, idempotently.

CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS sellers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS listings (
    id              TEXT PRIMARY KEY,
    seller_id       TEXT NOT NULL REFERENCES sellers(id),
    document        TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Drop stock: `reserved` is held by open sessions, `sold` by paid ones.
CREATE TABLE IF NOT EXISTS drops (
    listing_id TEXT PRIMARY KEY REFERENCES listings(id),
    inventory  INTEGER NOT NULL,
    sold       INTEGER NOT NULL DEFAULT 0,
    reserved   INTEGER NOT NULL DEFAULT 0,
    CHECK (sold >= 0 AND reserved >= 0 AND sold + reserved <= inventory)
);

CREATE TABLE IF NOT EXISTS sessions (
    id               TEXT PRIMARY KEY,
    listing_id       TEXT NOT NULL,
    seller_id        TEXT NOT NULL,
    offer_id         TEXT NOT NULL,
    tier_id          TEXT,
    quantity         INTEGER NOT NULL,
    amount           INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    interval         TEXT,
    ships            INTEGER NOT NULL,
    reserved         INTEGER NOT NULL,
    attribution      TEXT NOT NULL,
    creator          TEXT,
    creator_verified INTEGER NOT NULL,
    return_url       TEXT NOT NULL,
    redirect_url     TEXT NOT NULL,
    status           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    paid_at          INTEGER,
    email            TEXT,
    card_last4       TEXT,
    shipping         TEXT,
    failure_reason   TEXT,
    subscription_id  TEXT,
    customer_token   TEXT
);
CREATE INDEX IF NOT EXISTS sessions_open_by_expiry ON sessions (status, expires_at);

CREATE TABLE IF NOT EXISTS idempotency (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE IF NOT EXISTS subscriptions (
    id                   TEXT PRIMARY KEY,
    seller_id            TEXT NOT NULL,
    listing_id           TEXT NOT NULL,
    offer_id             TEXT NOT NULL,
    tier_id              TEXT NOT NULL,
    price                INTEGER NOT NULL,
    currency             TEXT NOT NULL,
    interval             TEXT NOT NULL,
    status               TEXT NOT NULL,
    customer_token       TEXT NOT NULL UNIQUE,
    email                TEXT,
    session_id           TEXT NOT NULL,
    attribution          TEXT NOT NULL,
    creator              TEXT,
    creator_verified     INTEGER NOT NULL,
    current_period_start INTEGER NOT NULL,
    current_period_end   INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    canceled_at          INTEGER
);

-- Every payment: a purchase, a renewal or an upgrade's prorated charge.
CREATE TABLE IF NOT EXISTS orders (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    session_id       TEXT,
    subscription_id  TEXT,
    seller_id        TEXT NOT NULL,
    listing_id       TEXT NOT NULL,
    offer_id         TEXT NOT NULL,
    tier_id          TEXT,
    quantity         INTEGER NOT NULL,
    amount           INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    email            TEXT,
    shipping         TEXT,
    attribution      TEXT NOT NULL,
    creator          TEXT,
    creator_verified INTEGER NOT NULL,
    customer         TEXT,
    status           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    refunded_at      INTEGER
);
CREATE INDEX IF NOT EXISTS orders_by_seller ON orders (seller_id, created_at);

CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id         TEXT PRIMARY KEY,
    seller_id  TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- The durable outbox: one row per event and endpoint, written in the same transaction as
-- the change it reports.
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL DEFAULT 0,
    delivered_at    INTEGER,
    gave_up_at      INTEGER,
    last_error      TEXT,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (delivered_at, gave_up_at, next_attempt_at);

CREATE TABLE IF NOT EXISTS deliveries (
    id           INTEGER PRIMARY KEY,
    outbox_id    INTEGER NOT NULL,
    endpoint_id  TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS faults (
    listing_id TEXT PRIMARY KEY,
    mode       TEXT NOT NULL,
    remaining  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS creator_link_revocations (
    listing_id TEXT NOT NULL,
    handle     TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    PRIMARY KEY (listing_id, handle)
);
