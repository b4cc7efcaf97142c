-- Migration 5: live payments through Stripe Checkout (issue 13). Stripe's ids beside
-- Mighty's own (never a key or a secret), the upgrade quote time, and the Stripe events
-- already handled.

-- The Stripe Checkout Session of a live checkout session.
ALTER TABLE sessions ADD COLUMN stripe_session_id TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS sessions_by_stripe_session ON sessions (stripe_session_id);

-- The Stripe subscription of a live membership, and when its upgrade price was last shown
-- (the `proration_date` of the upgrade that follows).
ALTER TABLE subscriptions ADD COLUMN stripe_subscription_id TEXT;
ALTER TABLE subscriptions ADD COLUMN upgrade_quoted_at BIGINT;
CREATE UNIQUE INDEX IF NOT EXISTS subscriptions_by_stripe_subscription ON subscriptions (stripe_subscription_id);

-- What a live order was paid with: refunds go through it, and `charge.refunded` finds the
-- order by it. One order per Stripe invoice: a renewal's `invoice.paid` sent twice makes one.
ALTER TABLE orders ADD COLUMN stripe_payment_intent TEXT;
ALTER TABLE orders ADD COLUMN stripe_invoice TEXT;
CREATE INDEX IF NOT EXISTS orders_by_stripe_payment_intent ON orders (stripe_payment_intent);
CREATE UNIQUE INDEX IF NOT EXISTS orders_by_stripe_invoice ON orders (stripe_invoice);

-- Stripe events handled: each event id once, whatever the number of deliveries.
CREATE TABLE IF NOT EXISTS stripe_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
