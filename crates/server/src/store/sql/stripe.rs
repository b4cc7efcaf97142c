//! Live mode's storage (issue 13): Stripe's ids beside Mighty's own, and the changes Stripe's
//! events make. Each change goes through the same paths as the sandbox's (`settle_payment`,
//! `expire_open_session`, `record_renewal`, `refund_order`, `cancel_subscription`), so the
//! seller's webhooks are the sandbox's; what is here only links and looks up.

use super::*;

/// A live order's Stripe references (refunds go through them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPayment {
    pub order_id: String,
    pub seller_id: String,
    pub status: String,
    pub payment_intent: Option<String>,
    pub invoice: Option<String>,
}

/// A live subscription's Stripe side: its id and when its upgrade price was last shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionLink {
    pub stripe_subscription_id: Option<String>,
    pub upgrade_quoted_at: Option<i64>,
}

impl Store {
    /// The Stripe Checkout Session made for `session_id` is known: its id and hosted page
    /// become the session's, and the idempotent answer (`response`, the `201`) is stored
    /// under the widget's key, in one transaction.
    pub fn attach_stripe_session(
        &self,
        session_id: &str,
        stripe_session_id: &str,
        redirect_url: &str,
        idempotency_key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query(
                "UPDATE sessions SET stripe_session_id = $2, redirect_url = $3 WHERE id = $1",
            )
            .bind(session_id)
            .bind(stripe_session_id)
            .bind(redirect_url)
            .execute(&mut *connection)
            .await?;
            store_idempotent_answer(connection, "checkout", idempotency_key, response).await
        })
    }

    /// Stripe refused to make the Checkout Session: the session fails, its stock goes
    /// back, and the refusal is the answer stored under the widget's key.
    pub fn fail_pending_session(
        &self,
        session_id: &str,
        reason: &str,
        idempotency_key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        self.write(async |connection| {
            release_stock(connection, session_id).await?;
            sqlx::query("UPDATE sessions SET status = 'failed', failure_reason = $2 WHERE id = $1 AND status = 'open'")
                .bind(session_id)
                .bind(reason)
                .execute(&mut *connection)
                .await?;
            store_idempotent_answer(connection, "checkout", idempotency_key, response).await
        })
    }

    /// Forgets an idempotency key (its request runs again from the start).
    pub fn forget_idempotency_key(&self, scope: &str, key: &str) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query("DELETE FROM idempotency WHERE scope = $1 AND key = $2")
                .bind(scope)
                .bind(key)
                .execute(connection)
                .await?;
            Ok(())
        })
    }

    /// The Stripe Checkout Session of a session, once made.
    pub fn stripe_session_id(&self, session_id: &str) -> StoreResult<Option<String>> {
        self.run(async {
            Ok(
                sqlx::query("SELECT stripe_session_id FROM sessions WHERE id = $1")
                    .bind(session_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|row| row.try_get::<Option<String>, _>(0))
                    .transpose()?
                    .flatten(),
            )
        })
    }

    /// A subscription's Stripe side.
    pub fn subscription_link(
        &self,
        subscription_id: &str,
    ) -> StoreResult<Option<SubscriptionLink>> {
        self.run(async {
            let row = sqlx::query(
                "SELECT stripe_subscription_id, upgrade_quoted_at FROM subscriptions WHERE id = $1",
            )
            .bind(subscription_id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row
                .map(|row| {
                    Ok::<_, sqlx::Error>(SubscriptionLink {
                        stripe_subscription_id: row.try_get(0)?,
                        upgrade_quoted_at: row.try_get(1)?,
                    })
                })
                .transpose()?)
        })
    }

    /// The Mighty subscription of a Stripe subscription.
    pub fn subscription_by_stripe_id(
        &self,
        stripe_subscription_id: &str,
    ) -> StoreResult<Option<Subscription>> {
        self.run(async {
            let row = sqlx::query(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE stripe_subscription_id = $1"
            ))
            .bind(stripe_subscription_id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(subscription_from_row).transpose()?)
        })
    }

    /// The upgrade price was shown at `at` (the card read the subscription, or the manage
    /// page was drawn): the next upgrade is prorated at that instant.
    pub fn record_upgrade_quote(&self, subscription_id: &str, at: i64) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query("UPDATE subscriptions SET upgrade_quoted_at = $2 WHERE id = $1")
                .bind(subscription_id)
                .bind(at)
                .execute(connection)
                .await?;
            Ok(())
        })
    }

    /// A renewal Stripe charged (`invoice.paid`, `subscription_cycle`): the period moves to
    /// `period` and a renewal order of `amount` is written with `subscription.renewed`, as
    /// the sandbox's renewals do. An invoice makes one order however often it is reported.
    /// Returns whether it was recorded here.
    #[allow(clippy::too_many_arguments)]
    pub fn record_stripe_renewal(
        &self,
        stripe_subscription_id: &str,
        invoice: &str,
        payment_intent: Option<&str>,
        period: (i64, i64),
        amount: i64,
    ) -> StoreResult<bool> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let Some(subscription) = sqlx::query(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE stripe_subscription_id = $1{lock}"
            ))
            .bind(stripe_subscription_id)
            .fetch_optional(&mut *connection)
            .await?
            .as_ref()
            .map(subscription_from_row)
            .transpose()?
            else {
                return Ok(false);
            };
            let seen = sqlx::query("SELECT 1 FROM orders WHERE stripe_invoice = $1")
                .bind(invoice)
                .fetch_optional(&mut *connection)
                .await?;
            if seen.is_some() {
                return Ok(false);
            }
            sqlx::query("UPDATE subscriptions SET current_period_start = $2, current_period_end = $3 WHERE id = $1")
                .bind(&subscription.id)
                .bind(period.0)
                .bind(period.1)
                .execute(&mut *connection)
                .await?;
            // Stripe charged again: a waiting downgrade is now the tier, and a pause whose
            // voided periods are over has ended (as the sandbox's renewals do).
            let mut subscription = retention::apply_pending_downgrade(connection, &subscription.id, period.0).await?;
            if subscription.status == "paused" {
                subscription = retention::end_pause(connection, &subscription.id, period.0).await?;
            }
            let session = session_of_subscription(connection, &subscription.id).await?;
            let order_id = record_renewal(connection, &subscription, &session, period.0, amount).await?;
            set_order_stripe_refs(connection, &order_id, payment_intent, Some(invoice)).await?;
            Ok(true)
        })
    }

    /// The pause Stripe has now (`pause_collection`, read from Stripe after a
    /// `customer.subscription.updated`: set, changed or cleared in Stripe's dashboard, or
    /// Mighty's own change told back) mirrored onto the membership: `Some(resumes_at)` is a
    /// pause (`None` inside: until someone resumes it), `None` no pause. A pause set there
    /// pauses an active membership from the end of its period (`subscription.paused`); a new
    /// `resumes_at` moves `paused_until` (`subscription.paused` again, with the new date); a
    /// pause cleared there resumes it (`subscription.resumed`). What Mighty already has is
    /// left alone, so Mighty's own changes told back change nothing. Returns whether it changed.
    pub fn mirror_stripe_pause(
        &self,
        subscription_id: &str,
        pause: Option<Option<i64>>,
        now: i64,
    ) -> StoreResult<bool> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let subscription = sqlx::query(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1{lock}"
            ))
            .bind(subscription_id)
            .fetch_optional(&mut *connection)
            .await?
            .as_ref()
            .map(subscription_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("no subscription {subscription_id}")))?;
            let event_type = match (subscription.status.as_str(), pause) {
                ("active", Some(resumes_at)) => {
                    sqlx::query("UPDATE subscriptions SET status = 'paused', pause_starts_at = current_period_end, paused_until = $2 WHERE id = $1")
                        .bind(subscription_id)
                        .bind(resumes_at)
                        .execute(&mut *connection)
                        .await?;
                    "subscription.paused"
                }
                ("paused", Some(resumes_at)) if subscription.paused_until != resumes_at => {
                    sqlx::query("UPDATE subscriptions SET paused_until = $2 WHERE id = $1")
                        .bind(subscription_id)
                        .bind(resumes_at)
                        .execute(&mut *connection)
                        .await?;
                    "subscription.paused"
                }
                ("paused", None) => {
                    retention::end_pause(connection, subscription_id, now).await?;
                    return Ok(true);
                }
                _ => return Ok(false),
            };
            let updated = subscription_in(connection, subscription_id).await?;
            let event = Event {
                seller_id: updated.seller_id.clone(),
                event_type,
                data: json!({ "subscription": subscription_data(&updated) }),
            };
            record_event(connection, &event, now).await?;
            Ok(true)
        })
    }

    /// The first invoice after a pause failed (`invoice.payment_failed` for the period
    /// starting at `period.0`): the pause is over all the same (Stripe collects again and
    /// retries that invoice), so a membership still paused here resumes, with
    /// `subscription.resumed`, and its period moves on; nothing was paid, so no renewal
    /// order. An invoice of a period still inside the pause changes nothing. Returns whether
    /// the pause ended.
    pub fn end_pause_at_failed_invoice(
        &self,
        stripe_subscription_id: &str,
        period: (i64, i64),
    ) -> StoreResult<bool> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let Some(subscription) = sqlx::query(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE stripe_subscription_id = $1{lock}"
            ))
            .bind(stripe_subscription_id)
            .fetch_optional(&mut *connection)
            .await?
            .as_ref()
            .map(subscription_from_row)
            .transpose()?
            else {
                return Ok(false);
            };
            let over = subscription.status == "paused"
                && subscription
                    .paused_until
                    .is_some_and(|resumes_at| period.0 >= resumes_at);
            if !over {
                return Ok(false);
            }
            sqlx::query("UPDATE subscriptions SET current_period_start = $2, current_period_end = $3 WHERE id = $1")
                .bind(&subscription.id)
                .bind(period.0)
                .bind(period.1)
                .execute(&mut *connection)
                .await?;
            retention::apply_pending_downgrade(connection, &subscription.id, period.0).await?;
            retention::end_pause(connection, &subscription.id, period.0).await?;
            Ok(true)
        })
    }

    /// What Stripe says of a subscription (`customer.subscription.updated`): its period, and
    /// its tier when it changed there (`tier`: the tier id and price); a tier change is told
    /// as the sandbox tells one (`subscription.updated`, nothing due now).
    pub fn sync_stripe_subscription(
        &self,
        subscription_id: &str,
        period: Option<(i64, i64)>,
        tier: Option<(&str, i64)>,
        now: i64,
    ) -> StoreResult<()> {
        self.write(async |connection| {
            if let Some((start, end)) = period {
                sqlx::query("UPDATE subscriptions SET current_period_start = $2, current_period_end = $3 WHERE id = $1")
                    .bind(subscription_id)
                    .bind(start)
                    .bind(end)
                    .execute(&mut *connection)
                    .await?;
            }
            if let Some((tier_id, price)) = tier {
                let changed = sqlx::query("UPDATE subscriptions SET tier_id = $2, price = $3 WHERE id = $1 AND (tier_id <> $2 OR price <> $3)")
                    .bind(subscription_id)
                    .bind(tier_id)
                    .bind(price)
                    .execute(&mut *connection)
                    .await?
                    .rows_affected();
                if changed == 1 {
                    let updated = subscription_in(connection, subscription_id).await?;
                    let event = Event {
                        seller_id: updated.seller_id.clone(),
                        event_type: "subscription.updated",
                        data: json!({ "subscription": subscription_data(&updated), "amount_due": 0 }),
                    };
                    record_event(connection, &event, now).await?;
                }
            }
            Ok(())
        })
    }

    /// The payment intent of an order paid by `invoice` (the first invoice of a membership
    /// is reported after the checkout).
    pub fn attach_invoice_payment(&self, invoice: &str, payment_intent: &str) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query("UPDATE orders SET stripe_payment_intent = $2 WHERE stripe_invoice = $1 AND stripe_payment_intent IS NULL")
                .bind(invoice)
                .bind(payment_intent)
                .execute(connection)
                .await?;
            Ok(())
        })
    }

    /// An order's Stripe references, for a refund.
    pub fn order_payment(&self, order_id: &str) -> StoreResult<Option<OrderPayment>> {
        self.run(async {
            let row = sqlx::query("SELECT id, seller_id, status, stripe_payment_intent, stripe_invoice FROM orders WHERE id = $1")
                .bind(order_id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.as_ref().map(order_payment_from_row).transpose()?)
        })
    }

    /// The order a Stripe payment paid: by its payment intent, else by its invoice.
    pub fn order_by_stripe_payment(
        &self,
        payment_intent: Option<&str>,
        invoice: Option<&str>,
    ) -> StoreResult<Option<OrderPayment>> {
        self.run(async {
            let row = sqlx::query(
                "SELECT id, seller_id, status, stripe_payment_intent, stripe_invoice FROM orders \
                 WHERE ($1 IS NOT NULL AND stripe_payment_intent = $1) OR ($2 IS NOT NULL AND stripe_invoice = $2) LIMIT 1",
            )
            .bind(payment_intent)
            .bind(invoice)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(order_payment_from_row).transpose()?)
        })
    }

    /// The open live sessions past their stock hold whose next look at Stripe is due
    /// (`real_now` plus each seller's clock offset, as [`Store::due_open_sessions`]).
    pub fn due_live_sessions(&self, real_now: i64) -> StoreResult<Vec<Session>> {
        self.run(async {
            let offset = seller_offset_sql("sessions");
            let rows = sqlx::query(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE status = 'open' AND expires_at <= $1 + {offset} \
                 AND (next_expiry_check_at IS NULL OR next_expiry_check_at <= $1 + {offset})"
            ))
            .bind(real_now)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .iter()
                .map(session_from_row)
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// When Stripe is next to be asked about expiring `session_id` (`None`: whenever due).
    pub fn next_expiry_check(&self, session_id: &str) -> StoreResult<Option<i64>> {
        self.run(async {
            Ok(
                sqlx::query("SELECT next_expiry_check_at FROM sessions WHERE id = $1")
                    .bind(session_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|row| row.try_get::<Option<i64>, _>(0))
                    .transpose()?
                    .flatten(),
            )
        })
    }

    /// Stripe did not let `session_id` expire (or could not be asked): the next look is
    /// `delay(checks so far)` seconds after `now`. Returns when that is.
    pub fn postpone_expiry_check(
        &self,
        session_id: &str,
        now: i64,
        delay: &(dyn Fn(u32) -> i64 + Sync),
    ) -> StoreResult<i64> {
        self.write(async |connection| {
            let checks: i64 = sqlx::query("SELECT expiry_checks FROM sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(&mut *connection)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?
                .unwrap_or(0);
            let next = now + delay(u32::try_from(checks).unwrap_or(u32::MAX));
            sqlx::query("UPDATE sessions SET expiry_checks = expiry_checks + 1, next_expiry_check_at = $2 WHERE id = $1")
                .bind(session_id)
                .bind(next)
                .execute(&mut *connection)
                .await?;
            Ok(next)
        })
    }

    /// Whether Stripe event `id` was handled already.
    pub fn stripe_event_handled(&self, id: &str) -> StoreResult<bool> {
        self.run(async {
            Ok(sqlx::query("SELECT 1 FROM stripe_events WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .is_some())
        })
    }

    /// Records Stripe event `id` as handled (after its changes committed; every change an
    /// event makes is conditional, so one handled twice before this changes nothing twice).
    pub fn mark_stripe_event(&self, id: &str, event_type: &str, now: i64) -> StoreResult<()> {
        self.write(async |connection| {
            sqlx::query("INSERT INTO stripe_events (id, type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(id)
                .bind(event_type)
                .bind(now)
                .execute(connection)
                .await?;
            Ok(())
        })
    }
}

fn order_payment_from_row(row: &AnyRow) -> Result<OrderPayment, sqlx::Error> {
    Ok(OrderPayment {
        order_id: row.try_get(0)?,
        seller_id: row.try_get(1)?,
        status: row.try_get(2)?,
        payment_intent: row.try_get(3)?,
        invoice: row.try_get(4)?,
    })
}
