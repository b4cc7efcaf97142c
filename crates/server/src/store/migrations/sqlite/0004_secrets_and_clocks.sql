-- Migration 4: no token in clear, and one sandbox clock per seller.
--
-- Customer tokens are derived from the subscription id with the server key and served
-- again from it; only their SHA-256 is stored (the Rust step after this file hashes the
-- tokens written before). Sessions no longer keep a copy.
ALTER TABLE subscriptions RENAME COLUMN customer_token TO customer_token_hash;
UPDATE sessions SET customer_token = NULL;

-- The creator-link key lived here in clear; it is now derived from the server key (or
-- MIGHTY_LINK_SECRET), kept outside the database. Links signed with the old key stop
-- verifying: issue them again.
DELETE FROM settings WHERE key = 'link_key';

-- Each seller's sandbox clock: how far it is ahead of real time. A seller's advance moves
-- only their sessions, subscriptions and drops. The old shared offset becomes every
-- existing seller's own.
CREATE TABLE IF NOT EXISTS seller_clocks (
    seller_id      TEXT PRIMARY KEY REFERENCES sellers (id),
    offset_seconds INTEGER NOT NULL
);
INSERT INTO seller_clocks (seller_id, offset_seconds)
    SELECT sellers.id, CAST(settings.value AS INTEGER) FROM sellers, settings
    WHERE settings.key = 'clock_offset' AND CAST(settings.value AS INTEGER) <> 0;
DELETE FROM settings WHERE key = 'clock_offset';
