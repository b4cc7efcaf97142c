-- Migration 9: live mode's expiry backoff (issue 13). A live session past its stock hold is
-- expired on Stripe first; when Stripe will not (an asynchronous payment still pending) or
-- cannot be reached, it is asked again later, each time later (core's
-- `stripe::expiry_recheck_delay_seconds`), not at every scheduler tick.
ALTER TABLE sessions ADD COLUMN expiry_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN next_expiry_check_at INTEGER;
