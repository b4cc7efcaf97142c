-- Migration 8: dynamic value bundles (issue 15). Which offer variant of a bundle a view,
-- a checkout session and its order were about, and each bundle test's state and the
-- history of the traffic shares it served.

ALTER TABLE events ADD COLUMN offer_variant TEXT;
ALTER TABLE sessions ADD COLUMN offer_variant TEXT;
ALTER TABLE orders ADD COLUMN offer_variant TEXT;
CREATE INDEX IF NOT EXISTS events_by_offer_variant ON events (listing_id, type, offer_variant);

-- One row per bundle offer with variants: where its test stands and the allocation now
-- served (`allocation`: JSON, one entry per variant with its share, probability of being
-- best and the counts it was computed from). `variant_ids` are the offer's variant ids
-- at that recompute, comma-joined: another set reopens the test. `computed_at` is on the
-- seller's clock; a recompute is claimed by a conditional UPDATE of it.
CREATE TABLE IF NOT EXISTS offer_variant_tests (
    listing_id  TEXT NOT NULL,
    offer_id    TEXT NOT NULL,
    seller_id   TEXT NOT NULL,
    variant_ids TEXT NOT NULL,
    status      TEXT NOT NULL,
    winner      TEXT,
    stop_reason TEXT,
    stopped_at  BIGINT,
    started_at  BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    allocation  TEXT NOT NULL,
    PRIMARY KEY (listing_id, offer_id)
);

-- Each recompute's shares, for the dashboard's "traffic shares over time": parts per
-- million (integers in both databases), with the counts they came from.
CREATE TABLE IF NOT EXISTS offer_variant_shares (
    listing_id           TEXT NOT NULL,
    offer_id             TEXT NOT NULL,
    at                   BIGINT NOT NULL,
    variant_id           TEXT NOT NULL,
    share_ppm            BIGINT NOT NULL,
    probability_best_ppm BIGINT NOT NULL,
    views                BIGINT NOT NULL,
    commits              BIGINT NOT NULL,
    revenue              BIGINT NOT NULL,
    PRIMARY KEY (listing_id, offer_id, at, variant_id)
);
