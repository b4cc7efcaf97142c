//! Retention's storage (issue 15): pausing and resuming a membership, a downgrade waiting for
//! the period's end, and the saves a cancellation turned into. Each change claims its
//! idempotency key, checks the subscription under its row lock, writes the webhook event to
//! the outbox and, for a save, its row, in one transaction. The rules (how long a pause lasts,
//! which tier is lower, what a save kept) are core's `retention`; what is here only stores.

use super::*;
use mighty_core::retention::SaveKind;

/// A change asked of a membership.
#[derive(Debug, Clone)]
pub enum RetentionChange {
    /// Pause renewals from `starts_at` (the end of the period paid for) to `resumes_at`.
    Pause {
        starts_at: i64,
        resumes_at: i64,
        save: Option<NewSave>,
    },
    /// End a pause now: the next period is charged as usual.
    Resume,
    /// Move to `tier_id` at `price` from the next period.
    Downgrade {
        tier_id: String,
        price: i64,
        save: Option<NewSave>,
    },
}

impl RetentionChange {
    /// The change's kind and subscription: the prefix of its Stripe idempotency key (Mighty's
    /// own keys are scoped per subscription, `subscription_change_scope`).
    pub fn scope(&self, subscription_id: &str) -> String {
        let kind = match self {
            RetentionChange::Pause { .. } => "pause",
            RetentionChange::Resume => "resume",
            RetentionChange::Downgrade { .. } => "downgrade",
        };
        format!("{kind}:{subscription_id}")
    }
}

/// A save to record with the change that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSave {
    pub kind: SaveKind,
    /// Monthly recurring revenue kept, in minor units.
    pub mrr_kept: i64,
    /// Monthly recurring revenue given up against staying as it was.
    pub mrr_given_up: i64,
}

/// The saves of a listing, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveTotals {
    pub pauses: i64,
    pub downgrades: i64,
    /// Per currency: (currency, monthly recurring revenue kept, given up).
    pub by_currency: Vec<(String, i64, i64)>,
}

/// Adds a subscription's pause and waiting downgrade to its JSON `object` (the API's and the
/// webhooks'): `paused_from`/`paused_until` (the pause skips renewals from the one and charges
/// again at the other) and `pending_tier_id`/`pending_price`/`pending_effective_at` (the
/// lower tier from the end of the current period); each `null` when there is none.
pub fn add_retention_fields(subscription: &Subscription, object: &mut Value) {
    let Some(object) = object.as_object_mut() else {
        return;
    };
    // A pause set on Stripe's side without `resumes_at` (live mode) has no end: its
    // `paused_until` is null while `paused_from` is not.
    let paused = subscription
        .pause_starts_at
        .map(|from| (from, subscription.paused_until));
    let pending = subscription
        .pending_tier_id
        .clone()
        .zip(subscription.pending_price);
    object.insert(
        "paused_from".into(),
        json!(paused.map(|(from, _)| rfc3339(from))),
    );
    object.insert(
        "paused_until".into(),
        json!(paused.and_then(|(_, until)| until.map(rfc3339))),
    );
    object.insert(
        "pending_tier_id".into(),
        json!(pending.as_ref().map(|(tier, _)| tier)),
    );
    object.insert(
        "pending_price".into(),
        json!(pending.as_ref().map(|(_, price)| price)),
    );
    object.insert(
        "pending_effective_at".into(),
        json!(pending.map(|_| rfc3339(subscription.current_period_end))),
    );
}

impl Store {
    /// Pauses, resumes or downgrades `subscription_id` under an idempotency key (a replay
    /// answers as before; the same key with another body is a conflict). `render` makes the
    /// stored answer from the changed subscription.
    pub fn change_retention(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
        request_hash: &str,
        change: &RetentionChange,
        now: i64,
        render: &dyn Fn(&Subscription) -> StoredResponse,
    ) -> StoreResult<StoredResponse> {
        let lock = self.dialect.lock_rows();
        self.write(async |connection| {
            let subscription = match claim_subscription_change(
                connection,
                lock,
                subscription_id,
                idempotency_key,
                request_hash,
                now,
            )
            .await?
            {
                Ok(subscription) => subscription,
                Err(earlier) => return Ok(earlier),
            };
            let refuse = |what: &str| {
                Err(StoreError::Conflict(format!(
                    "subscription {subscription_id} is {}: {what}",
                    subscription.status
                )))
            };
            let live = billed_by_stripe(connection, subscription_id).await?;
            let (event_type, save) = match change {
                RetentionChange::Pause {
                    starts_at,
                    resumes_at,
                    save,
                } if subscription.status == "paused"
                    && subscription.pause_starts_at == Some(*starts_at)
                    && subscription.paused_until == Some(*resumes_at)
                    && live =>
                {
                    // Live mode: Stripe's `customer.subscription.updated` for this very pause
                    // was mirrored between telling Stripe and getting here; it said
                    // `subscription.paused` already. The request succeeds (with its save).
                    (None, *save)
                }
                RetentionChange::Pause {
                    starts_at,
                    resumes_at,
                    save,
                } => {
                    if subscription.status != "active" {
                        return refuse("only an active membership can be paused");
                    }
                    // The window was worked out from the period the request read; a renewal
                    // since (another instance, the seller's clock) would make it start in the
                    // past and skip nothing. Refused: asked again, it is worked out anew.
                    if subscription.current_period_end != *starts_at {
                        return Err(StoreError::Conflict(format!(
                            "subscription {subscription_id} renewed meanwhile: ask for the pause again"
                        )));
                    }
                    sqlx::query("UPDATE subscriptions SET status = 'paused', pause_starts_at = $2, paused_until = $3 WHERE id = $1")
                        .bind(subscription_id)
                        .bind(starts_at)
                        .bind(resumes_at)
                        .execute(&mut *connection)
                        .await?;
                    (Some("subscription.paused"), *save)
                }
                RetentionChange::Resume => {
                    if subscription.status != "paused" {
                        return refuse("only a paused membership can be resumed");
                    }
                    sqlx::query("UPDATE subscriptions SET status = 'active', pause_starts_at = NULL, paused_until = NULL WHERE id = $1")
                        .bind(subscription_id)
                        .execute(&mut *connection)
                        .await?;
                    (Some("subscription.resumed"), None)
                }
                RetentionChange::Downgrade {
                    tier_id,
                    price,
                    save,
                } => {
                    if subscription.status == "canceled" {
                        return refuse("a canceled membership cannot change tier");
                    }
                    if *price >= subscription.price {
                        return Err(StoreError::Conflict(format!(
                            "subscription {subscription_id} already costs {} per period; {tier_id} is not lower",
                            subscription.price
                        )));
                    }
                    sqlx::query("UPDATE subscriptions SET pending_tier_id = $2, pending_price = $3 WHERE id = $1")
                        .bind(subscription_id)
                        .bind(tier_id)
                        .bind(price)
                        .execute(&mut *connection)
                        .await?;
                    (Some("subscription.updated"), *save)
                }
            };
            let updated = subscription_in(connection, subscription_id).await?;
            if let Some(event_type) = event_type {
                let mut data = json!({ "subscription": subscription_data(&updated) });
                if event_type == "subscription.updated" {
                    // Nothing is charged now: the lower price applies from the next period.
                    data["amount_due"] = json!(0);
                }
                let event = Event {
                    seller_id: updated.seller_id.clone(),
                    event_type,
                    data,
                };
                record_event(connection, &event, now).await?;
            }
            if let Some(save) = save {
                // A membership's saves are ordered (the latest says what it keeps,
                // `save_totals`): by time, and within one second by their id, which starts
                // with how many saves the membership had before.
                let earlier: i64 =
                    sqlx::query("SELECT COUNT(*) FROM saves WHERE subscription_id = $1")
                        .bind(&updated.id)
                        .fetch_one(&mut *connection)
                        .await?
                        .try_get(0)?;
                sqlx::query(
                    "INSERT INTO saves (id, seller_id, listing_id, subscription_id, kind, mrr_kept, mrr_given_up, currency, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(new_id(&format!("save_{earlier:06}")))
                .bind(&updated.seller_id)
                .bind(&updated.listing_id)
                .bind(&updated.id)
                .bind(save.kind.as_str())
                .bind(save.mrr_kept)
                .bind(save.mrr_given_up)
                .bind(&updated.currency)
                .bind(now)
                .execute(&mut *connection)
                .await?;
            }
            let response = render(&updated);
            store_idempotent_answer(
                connection,
                &subscription_change_scope(subscription_id),
                idempotency_key,
                &response,
            ).await?;
            Ok(response)
        })
    }

    /// The saves of `listing_id` made in `[from, to)`: every save counted, but the recurring
    /// revenue of a membership saved more than once (a pause, then a lower tier) counted once,
    /// from its latest save in the range, which says what it keeps.
    pub fn save_totals(&self, listing_id: &str, from: i64, to: i64) -> StoreResult<SaveTotals> {
        self.run(async {
            let mut totals = SaveTotals::default();
            let counts = sqlx::query(
                "SELECT kind, COUNT(*) FROM saves WHERE listing_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY kind",
            )
            .bind(listing_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
            for row in counts {
                let (kind, count): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
                match SaveKind::parse(&kind) {
                    Some(SaveKind::Pause) => totals.pauses += count,
                    Some(SaveKind::Downgrade) => totals.downgrades += count,
                    None => {}
                }
            }
            // PostgreSQL sums BIGINTs as NUMERIC: cast back for the `Any` driver. The latest
            // save of each membership in the range (ties broken by id) carries its revenue.
            let revenue = sqlx::query(
                "SELECT currency, CAST(SUM(mrr_kept) AS BIGINT), CAST(SUM(mrr_given_up) AS BIGINT) FROM saves s \
                 WHERE s.listing_id = $1 AND s.created_at >= $2 AND s.created_at < $3 \
                 AND s.kind IN ('pause', 'downgrade') AND NOT EXISTS (SELECT 1 FROM saves later \
                   WHERE later.subscription_id = s.subscription_id AND later.created_at >= $2 AND later.created_at < $3 \
                   AND later.kind IN ('pause', 'downgrade') \
                   AND (later.created_at > s.created_at OR (later.created_at = s.created_at AND later.id > s.id))) \
                 GROUP BY currency ORDER BY currency",
            )
            .bind(listing_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
            for row in revenue {
                totals
                    .by_currency
                    .push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
            }
            Ok(totals)
        })
    }
}

/// Whether a membership is billed by Stripe (live mode).
async fn billed_by_stripe(
    connection: &mut AnyConnection,
    subscription_id: &str,
) -> StoreResult<bool> {
    let row = sqlx::query("SELECT stripe_subscription_id FROM subscriptions WHERE id = $1")
        .bind(subscription_id)
        .fetch_one(&mut *connection)
        .await?;
    Ok(row.try_get::<Option<String>, _>(0)?.is_some())
}

/// At the renewal starting at `start`: a downgrade waiting for it becomes the tier
/// (`subscription.updated`, nothing due now). Returns the subscription as it now is.
pub(super) async fn apply_pending_downgrade(
    connection: &mut AnyConnection,
    subscription_id: &str,
    start: i64,
) -> StoreResult<Subscription> {
    let applied = sqlx::query(
        "UPDATE subscriptions SET tier_id = pending_tier_id, price = pending_price, pending_tier_id = NULL, pending_price = NULL \
         WHERE id = $1 AND pending_tier_id IS NOT NULL AND pending_price IS NOT NULL",
    )
    .bind(subscription_id)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    let current = subscription_in(connection, subscription_id).await?;
    if applied == 1 {
        let event = Event {
            seller_id: current.seller_id.clone(),
            event_type: "subscription.updated",
            data: json!({ "subscription": subscription_data(&current), "amount_due": 0 }),
        };
        record_event(connection, &event, start).await?;
    }
    Ok(current)
}

/// A pause ends by itself at `at` (its last skipped period is over): the membership is
/// active again and `subscription.resumed` says so. Returns the subscription as it now is.
pub(super) async fn end_pause(
    connection: &mut AnyConnection,
    subscription_id: &str,
    at: i64,
) -> StoreResult<Subscription> {
    let ended = sqlx::query(
        "UPDATE subscriptions SET status = 'active', pause_starts_at = NULL, paused_until = NULL WHERE id = $1 AND status = 'paused'",
    )
    .bind(subscription_id)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    let current = subscription_in(connection, subscription_id).await?;
    if ended == 1 {
        let event = Event {
            seller_id: current.seller_id.clone(),
            event_type: "subscription.resumed",
            data: json!({ "subscription": subscription_data(&current) }),
        };
        record_event(connection, &event, at).await?;
    }
    Ok(current)
}
