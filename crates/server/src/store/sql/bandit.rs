//! Dynamic value bundles' storage (issue 15): what was measured per offer variant (views
//! from the events' `offer_variant`, paid commits and revenue from the orders that carry
//! one), each bundle test's state and served allocation, and the history of its shares.
//! The decisions (shares, stopping, the winner) are core's `bandit`; `crate::bandit` calls
//! it and this module only stores.
//!
//! Several instances may recompute the same test at the same moment: saving an allocation
//! is an `UPDATE` conditional on the `computed_at` that was read (or an `INSERT` that does
//! nothing when a row exists), so one of them writes and the others read its result.

use super::*;

/// Measured so far for one offer variant id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariantCounts {
    pub variant_id: String,
    /// `view` events naming the variant (events are de-duplicated by id when stored).
    pub views: u64,
    /// Paid purchases of the offer at this variant, refunds excluded.
    pub commits: u64,
    /// What those purchases paid, in minor units.
    pub revenue: i64,
}

/// A bundle offer's test as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVariantTest {
    pub listing_id: String,
    pub offer_id: String,
    pub seller_id: String,
    /// The offer's variant ids when it was last computed, in the listing's order.
    pub variant_ids: Vec<String>,
    /// `exploring` or `stopped`.
    pub status: String,
    pub winner: Option<String>,
    /// `confident` or `seller`.
    pub stop_reason: Option<String>,
    pub stopped_at: Option<i64>,
    /// When this set of variants started being tested (seller's clock).
    pub started_at: i64,
    /// When the allocation was last computed (seller's clock).
    pub computed_at: i64,
    /// The allocation served: `[{"id", "share", "probability_best", "views", "commits",
    /// "revenue", "price"}]`.
    pub allocation: Value,
}

/// One variant's share at one recompute.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareSnapshot {
    pub at: i64,
    pub variant_id: String,
    pub share: f64,
    pub probability_best: f64,
    pub views: u64,
    pub commits: u64,
    pub revenue: i64,
}

/// How a save claims its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocationClaim {
    /// No row was read: insert one unless another instance did first.
    New,
    /// Update the row only if its `computed_at` is still this one.
    After(i64),
    /// The seller's word: update whatever was computed meanwhile.
    Force,
}

const TEST_COLUMNS: &str = "listing_id, offer_id, seller_id, variant_ids, status, winner, stop_reason, stopped_at, started_at, computed_at, allocation";

fn test_from_row(row: &AnyRow) -> Result<StoredVariantTest, sqlx::Error> {
    let ids: String = row.try_get(3)?;
    Ok(StoredVariantTest {
        listing_id: row.try_get(0)?,
        offer_id: row.try_get(1)?,
        seller_id: row.try_get(2)?,
        variant_ids: ids
            .split(',')
            .filter(|id| !id.is_empty())
            .map(String::from)
            .collect(),
        status: row.try_get(4)?,
        winner: row.try_get(5)?,
        stop_reason: row.try_get(6)?,
        stopped_at: row.try_get(7)?,
        started_at: row.try_get(8)?,
        computed_at: row.try_get(9)?,
        allocation: from_json_text(row.try_get(10)?).unwrap_or(Value::Null),
    })
}

/// Parts per million, as the history stores a probability (integers in both databases).
fn ppm(value: f64) -> i64 {
    (value.clamp(0.0, 1.0) * 1_000_000.0).round() as i64
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// What was measured for each offer variant id of a listing's bundle offer `offer_id`:
    /// views of the listing naming the id (a card shows one bundle with variants, so a view
    /// counts for each bundle offer of the listing that has this variant id) and the offer's
    /// paid, unrefunded purchases at it. Ids with neither are absent.
    pub fn offer_variant_counts(
        &self,
        listing_id: &str,
        offer_id: &str,
    ) -> StoreResult<Vec<VariantCounts>> {
        self.run(async {
            let mut counts: std::collections::BTreeMap<String, VariantCounts> =
                std::collections::BTreeMap::new();
            let views = sqlx::query(
                "SELECT offer_variant, COUNT(*) FROM events WHERE listing_id = $1 AND type = 'view' \
                 AND offer_variant IS NOT NULL GROUP BY offer_variant",
            )
            .bind(listing_id)
            .fetch_all(&self.pool)
            .await?;
            for row in &views {
                let id: String = row.try_get(0)?;
                let entry = counts.entry(id.clone()).or_insert_with(|| VariantCounts {
                    variant_id: id,
                    ..VariantCounts::default()
                });
                entry.views = count(row.try_get(1)?);
            }
            let commits = sqlx::query(
                "SELECT offer_variant, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM orders WHERE listing_id = $1 AND offer_id = $2 \
                 AND kind = 'purchase' AND status <> 'refunded' AND offer_variant IS NOT NULL GROUP BY offer_variant",
            )
            .bind(listing_id)
            .bind(offer_id)
            .fetch_all(&self.pool)
            .await?;
            for row in &commits {
                let id: String = row.try_get(0)?;
                let entry = counts.entry(id.clone()).or_insert_with(|| VariantCounts {
                    variant_id: id,
                    ..VariantCounts::default()
                });
                entry.commits = count(row.try_get(1)?);
                entry.revenue = row.try_get(2)?;
            }
            Ok(counts.into_values().collect())
        })
    }

    /// The bundle tests of a listing, by offer id.
    pub fn offer_variant_tests(&self, listing_id: &str) -> StoreResult<Vec<StoredVariantTest>> {
        self.run(async {
            let rows = sqlx::query(&format!(
                "SELECT {TEST_COLUMNS} FROM offer_variant_tests WHERE listing_id = $1 ORDER BY offer_id"
            ))
            .bind(listing_id)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.iter().map(test_from_row).collect::<Result<_, _>>()?)
        })
    }

    /// The listings whose tests are due for a recompute: last computed `interval` seconds or
    /// more ago on their seller's clock (real time `real_now` plus that seller's offset).
    pub fn due_offer_variant_listings(
        &self,
        real_now: i64,
        interval: i64,
    ) -> StoreResult<Vec<String>> {
        self.run(async {
            let rows = sqlx::query(&format!(
                "SELECT DISTINCT listing_id FROM offer_variant_tests WHERE computed_at + $2 <= $1 + {} ORDER BY listing_id",
                seller_offset_sql("offer_variant_tests")
            ))
            .bind(real_now)
            .bind(interval)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?)
        })
    }

    /// Saves a test's new state and allocation as `claim` allows, with `history` (this
    /// recompute's shares) in the same transaction. Returns whether it was written here
    /// (`false`: another instance computed it first; read theirs).
    pub fn save_offer_variant_test(
        &self,
        test: &StoredVariantTest,
        claim: AllocationClaim,
        history: &[ShareSnapshot],
    ) -> StoreResult<bool> {
        self.write(async |connection| {
            let ids = test.variant_ids.join(",");
            let allocation = to_json_text(&test.allocation);
            let written = match claim {
                AllocationClaim::New => sqlx::query(&format!(
                    "INSERT INTO offer_variant_tests ({TEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (listing_id, offer_id) DO NOTHING"
                ))
                .bind(&test.listing_id)
                .bind(&test.offer_id)
                .bind(&test.seller_id)
                .bind(&ids)
                .bind(&test.status)
                .bind(test.winner.as_deref())
                .bind(test.stop_reason.as_deref())
                .bind(test.stopped_at)
                .bind(test.started_at)
                .bind(test.computed_at)
                .bind(&allocation)
                .execute(&mut *connection)
                .await?
                .rows_affected(),
                AllocationClaim::After(_) | AllocationClaim::Force => {
                    let condition = match claim {
                        AllocationClaim::After(_) => " AND computed_at = $11",
                        _ => "",
                    };
                    let sql = format!(
                        "UPDATE offer_variant_tests SET variant_ids = $3, status = $4, winner = $5, stop_reason = $6, stopped_at = $7, \
                         started_at = $8, computed_at = $9, allocation = $10 WHERE listing_id = $1 AND offer_id = $2{condition}"
                    );
                    let mut update = sqlx::query(&sql)
                        .bind(&test.listing_id)
                        .bind(&test.offer_id)
                        .bind(&ids)
                        .bind(&test.status)
                        .bind(test.winner.as_deref())
                        .bind(test.stop_reason.as_deref())
                        .bind(test.stopped_at)
                        .bind(test.started_at)
                        .bind(test.computed_at)
                        .bind(&allocation);
                    if let AllocationClaim::After(previous) = claim {
                        update = update.bind(previous);
                    }
                    update.execute(&mut *connection).await?.rows_affected()
                }
            };
            if written == 0 {
                return Ok(false);
            }
            for snapshot in history {
                sqlx::query(
                    "INSERT INTO offer_variant_shares (listing_id, offer_id, at, variant_id, share_ppm, probability_best_ppm, views, commits, revenue) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (listing_id, offer_id, at, variant_id) DO UPDATE SET \
                     share_ppm = excluded.share_ppm, probability_best_ppm = excluded.probability_best_ppm, views = excluded.views, \
                     commits = excluded.commits, revenue = excluded.revenue",
                )
                .bind(&test.listing_id)
                .bind(&test.offer_id)
                .bind(snapshot.at)
                .bind(&snapshot.variant_id)
                .bind(ppm(snapshot.share))
                .bind(ppm(snapshot.probability_best))
                .bind(i64::try_from(snapshot.views).unwrap_or(i64::MAX))
                .bind(i64::try_from(snapshot.commits).unwrap_or(i64::MAX))
                .bind(snapshot.revenue)
                .execute(&mut *connection)
                .await?;
            }
            Ok(true)
        })
    }

    /// Forgets the tests (and their history) of `listing_id`'s offers other than `keep`: offers
    /// whose variants the seller removed, or which are gone. Their counts stay in the events
    /// and orders, so variants put back later start a new test with them. Returns how many.
    pub fn remove_offer_variant_tests(
        &self,
        listing_id: &str,
        keep: &[String],
    ) -> StoreResult<usize> {
        self.write(async |connection| {
            let offers: Vec<String> =
                sqlx::query("SELECT offer_id FROM offer_variant_tests WHERE listing_id = $1")
                    .bind(listing_id)
                    .fetch_all(&mut *connection)
                    .await?
                    .iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?;
            let mut removed = 0;
            for offer_id in offers.iter().filter(|offer_id| !keep.contains(offer_id)) {
                for table in ["offer_variant_tests", "offer_variant_shares"] {
                    sqlx::query(&format!(
                        "DELETE FROM {table} WHERE listing_id = $1 AND offer_id = $2"
                    ))
                    .bind(listing_id)
                    .bind(offer_id)
                    .execute(&mut *connection)
                    .await?;
                }
                removed += 1;
            }
            Ok(removed)
        })
    }

    /// The shares a bundle test served over time, oldest first.
    pub fn offer_variant_share_history(
        &self,
        listing_id: &str,
        offer_id: &str,
    ) -> StoreResult<Vec<ShareSnapshot>> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT at, variant_id, share_ppm, probability_best_ppm, views, commits, revenue FROM offer_variant_shares \
                 WHERE listing_id = $1 AND offer_id = $2 ORDER BY at, variant_id",
            )
            .bind(listing_id)
            .bind(offer_id)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .iter()
                .map(|row| {
                    Ok(ShareSnapshot {
                        at: row.try_get(0)?,
                        variant_id: row.try_get(1)?,
                        share: row.try_get::<i64, _>(2)? as f64 / 1_000_000.0,
                        probability_best: row.try_get::<i64, _>(3)? as f64 / 1_000_000.0,
                        views: count(row.try_get(4)?),
                        commits: count(row.try_get(5)?),
                        revenue: row.try_get(6)?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }
}
