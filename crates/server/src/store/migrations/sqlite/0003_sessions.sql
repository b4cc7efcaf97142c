-- Migration 3: browser sessions of sellers (builder, dashboard). The cookie holds a random
-- id; only its hash is stored.

CREATE TABLE IF NOT EXISTS seller_sessions (
    token_hash TEXT PRIMARY KEY,
    seller_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
