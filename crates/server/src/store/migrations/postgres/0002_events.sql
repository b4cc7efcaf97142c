-- Migration 2: measurement. Events as the widget beacons them (de-duplicated by id) and the
-- fee each creator is paid per listing (for CAC payback).

CREATE TABLE IF NOT EXISTS events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    listing_id  TEXT NOT NULL,
    creator     TEXT,
    variant     TEXT,
    visitor_id  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_listing ON events (listing_id, type, at);

CREATE TABLE IF NOT EXISTS creator_fees (
    listing_id TEXT NOT NULL,
    handle     TEXT NOT NULL,
    fee        BIGINT NOT NULL,
    PRIMARY KEY (listing_id, handle)
);
