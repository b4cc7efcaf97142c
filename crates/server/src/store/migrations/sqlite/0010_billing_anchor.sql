-- Migration 10: each membership's billing anchor (issue 15). Periods end a whole number of
-- intervals after the start of the first one, on its day of the month or that month's last
-- day (core's `billing`), as Stripe bills: Jan 30 → Feb 28 → Mar 30, where stepping from
-- each period's end stayed on the 28th.
ALTER TABLE subscriptions ADD COLUMN billing_anchor INTEGER;
-- Memberships made before: anchored on their current period's start, so none of them gets a
-- shorter period at its next renewal (one already moved to the 28th stays there).
UPDATE subscriptions SET billing_anchor = current_period_start WHERE billing_anchor IS NULL;
