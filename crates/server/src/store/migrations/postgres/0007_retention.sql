-- Migration 7: retention by value (issue 15). A membership may be paused for whole periods
-- and may have a move to a lower tier waiting for its next period; a cancellation turned
-- into a pause or a downgrade is a "save", counted with the recurring revenue it kept.

-- A pause: from the end of the period paid for (pause_starts_at) to the start of the first
-- period charged again (paused_until). Both NULL when not paused.
ALTER TABLE subscriptions ADD COLUMN pause_starts_at BIGINT;
ALTER TABLE subscriptions ADD COLUMN paused_until BIGINT;

-- A downgrade waiting for the period's end: the lower tier and its price per interval.
ALTER TABLE subscriptions ADD COLUMN pending_tier_id TEXT;
ALTER TABLE subscriptions ADD COLUMN pending_price BIGINT;

-- Saves: one row per cancellation turned into a pause or a downgrade. Amounts are monthly
-- recurring revenue in minor units of the subscription's currency.
CREATE TABLE IF NOT EXISTS saves (
    id              TEXT PRIMARY KEY,
    seller_id       TEXT NOT NULL,
    listing_id      TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    kind            TEXT NOT NULL,
    mrr_kept        BIGINT NOT NULL,
    mrr_given_up    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS saves_by_listing ON saves (listing_id, created_at);
