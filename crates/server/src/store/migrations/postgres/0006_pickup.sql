-- Migration 6: pop-ups and pick-up (issue 15). How a checkout session's bundle reaches the
-- shopper (`ship`, `pickup`, or NULL for what is neither shipped nor picked up), the same
-- on its order, and a paid pick-up order's code: unique per seller (NULLs do not collide),
-- so the conditional insert decides a collision whatever instance drew the code.

ALTER TABLE sessions ADD COLUMN fulfilment TEXT;
ALTER TABLE orders ADD COLUMN fulfilment TEXT;
ALTER TABLE orders ADD COLUMN pickup_code TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS orders_by_pickup_code ON orders (seller_id, pickup_code);
