//! Not relying on one source (issue 15): revenue split by who or what brought it (a creator,
//! a UTM source) and the rule that warns a seller when one of them brings more than 60 % of
//! it. Pure: the server feeds it the last 30 days of non-refunded revenue of a listing.

/// The share above which one creator or one source is too much to rely on: strictly more
/// than 60 % warns, exactly 60 % does not.
pub const LIMIT_PERCENT: i64 = 60;

/// One creator's or source's part of the revenue.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The creator's handle or the UTM source; `None` for revenue nobody is credited with
    /// (no creator, no UTM source), which is never "one source" to warn about.
    pub key: Option<String>,
    /// Revenue in minor units.
    pub revenue: i64,
    /// `revenue` ÷ the total, from 0 to 1.
    pub share: f64,
}

/// Revenue split by key, largest first, and the part over the limit if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Concentration {
    pub total: i64,
    pub parts: Vec<Part>,
    /// The named part that brings more than [`LIMIT_PERCENT`] of the total, if one does.
    pub dominant: Option<Part>,
}

/// Sums `revenue` per key (amounts ≤ 0 count for nothing: refunds are left out before) and
/// finds a dominant part. The comparison is exact, in integers: `revenue × 100 > total × 60`.
/// No revenue, no warning.
pub fn concentration(revenue: impl IntoIterator<Item = (Option<String>, i64)>) -> Concentration {
    let mut sums: std::collections::BTreeMap<Option<String>, i64> = Default::default();
    for (key, amount) in revenue {
        if amount > 0 {
            let sum = sums.entry(key).or_default();
            *sum = sum.saturating_add(amount);
        }
    }
    let total = sums
        .values()
        .fold(0i64, |sum, amount| sum.saturating_add(*amount));
    let mut parts: Vec<Part> = sums
        .into_iter()
        .map(|(key, revenue)| Part {
            share: if total > 0 {
                revenue as f64 / total as f64
            } else {
                0.0
            },
            key,
            revenue,
        })
        .collect();
    // Largest first; equal revenue in key order (named before unnamed), so the order is stable.
    parts.sort_by(|a, b| {
        b.revenue
            .cmp(&a.revenue)
            .then_with(|| a.key.is_none().cmp(&b.key.is_none()))
            .then_with(|| a.key.cmp(&b.key))
    });
    let dominant = parts
        .iter()
        .find(|part| {
            part.key.is_some()
                && i128::from(part.revenue) * 100 > i128::from(total) * i128::from(LIMIT_PERCENT)
        })
        .cloned();
    Concentration {
        total,
        parts,
        dominant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(key: &str, amount: i64) -> (Option<String>, i64) {
        (Some(key.to_string()), amount)
    }

    #[test]
    fn the_sixty_percent_rule() {
        // (revenue per key, the dominant key expected)
        type Revenue = Vec<(Option<String>, i64)>;
        let cases: Vec<(Revenue, Option<&str>)> = vec![
            (vec![], None),                                               // no revenue: no warning
            (vec![named("ana", 0), named("theo", 0)], None),              // zeros only
            (vec![named("ana", 6000), named("theo", 4000)], None), // exactly 60 %: no warning
            (vec![named("ana", 6001), named("theo", 3999)], Some("ana")), // just over
            (vec![named("ana", 100)], Some("ana")),                // one creator is everything
            (
                vec![named("ana", 3000), named("ana", 3001), named("theo", 3999)],
                Some("ana"),
            ), // summed per key
            (vec![(None, 9000), named("ana", 1000)], None),        // uncredited revenue never warns
            (vec![(None, 3000), named("ana", 7000)], Some("ana")), // but counts in the total
            (vec![named("ig", 5000), named("news", 5000)], None),  // an even split
            (vec![named("ig", 7000), named("news", -7000)], Some("ig")), // a negative amount is nothing
        ];
        for (revenue, expected) in cases {
            let result = concentration(revenue.clone());
            assert_eq!(
                result
                    .dominant
                    .as_ref()
                    .and_then(|part| part.key.as_deref()),
                expected,
                "{revenue:?}: {result:?}"
            );
        }
    }

    #[test]
    fn parts_sum_to_the_total_largest_first() {
        let result = concentration([
            named("theo", 2500),
            (None, 2500),
            named("ana", 5000),
            named("theo", 0),
        ]);
        assert_eq!(result.total, 10_000);
        let keys: Vec<Option<&str>> = result
            .parts
            .iter()
            .map(|part| part.key.as_deref())
            .collect();
        assert_eq!(keys, [Some("ana"), Some("theo"), None]);
        let shares: Vec<f64> = result.parts.iter().map(|part| part.share).collect();
        assert_eq!(shares, [0.5, 0.25, 0.25]);
        assert_eq!(result.dominant, None);
    }

    proptest::proptest! {
        #[test]
        fn a_dominant_part_is_always_over_sixty_percent(
            amounts in proptest::collection::vec((0usize..4, 0i64..1_000_000), 0..12),
        ) {
            let keys = ["ana", "theo", "sam"];
            let revenue = amounts.iter().map(|(key, amount)| {
                (keys.get(*key).map(|key| key.to_string()), *amount)
            });
            let result = concentration(revenue);
            let sum: i64 = result.parts.iter().map(|part| part.revenue).sum();
            proptest::prop_assert_eq!(sum, result.total);
            match &result.dominant {
                Some(part) => {
                    proptest::prop_assert!(part.key.is_some());
                    proptest::prop_assert!(part.revenue * 100 > result.total * 60);
                }
                None => {
                    let under = result.parts.iter().all(|part| {
                        part.key.is_none() || part.revenue * 100 <= result.total * 60
                    });
                    proptest::prop_assert!(under);
                }
            }
        }
    }
}
