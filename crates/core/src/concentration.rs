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

/// The same revenue with keys that differ only in case made one: UTM sources are typed by
/// hand in links, so "Instagram", "instagram" and "INSTAGRAM" are one source, and splitting
/// them would hide the one source a seller relies on. Each group is named by the spelling
/// that brought it the most revenue (equal revenue: the first in byte order), so the seller
/// sees a spelling they used. Feed the result to [`concentration`].
pub fn case_folded(
    revenue: impl IntoIterator<Item = (Option<String>, i64)>,
) -> Vec<(Option<String>, i64)> {
    let revenue: Vec<(Option<String>, i64)> = revenue.into_iter().collect();
    // Per folded key, per spelling: the revenue it brought.
    let mut spellings: std::collections::BTreeMap<String, std::collections::BTreeMap<&str, i64>> =
        Default::default();
    for (key, amount) in &revenue {
        if let Some(key) = key {
            let sum = spellings
                .entry(key.to_lowercase())
                .or_default()
                .entry(key.as_str())
                .or_default();
            *sum = sum.saturating_add((*amount).max(0));
        }
    }
    let names: std::collections::BTreeMap<String, String> = spellings
        .iter()
        .map(|(folded, by_spelling)| {
            // BTreeMap order is byte order: `max_by_key` keeps the last maximum, so compare
            // in reverse to keep the first.
            let name = by_spelling
                .iter()
                .rev()
                .max_by_key(|(_, revenue)| **revenue)
                .map(|(spelling, _)| spelling.to_string())
                .unwrap_or_else(|| folded.clone());
            (folded.clone(), name)
        })
        .collect();
    revenue
        .into_iter()
        .map(|(key, amount)| {
            let key = key.map(|key| names[&key.to_lowercase()].clone());
            (key, amount)
        })
        .collect()
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

    #[test]
    fn sources_that_differ_only_in_case_are_one() {
        // (revenue per source as typed, the parts expected: name and revenue)
        type Revenue = Vec<(Option<String>, i64)>;
        type Parts = Vec<(Option<&'static str>, i64)>;
        let cases: Vec<(Revenue, Parts)> = vec![
            (vec![], vec![]),
            (
                vec![
                    named("Instagram", 3000),
                    named("instagram", 1000),
                    named("news", 2000),
                ],
                vec![(Some("Instagram"), 4000), (Some("news"), 2000)],
            ),
            // The spelling that brought the most names the group.
            (
                vec![
                    named("Instagram", 1000),
                    named("instagram", 3000),
                    named("INSTAGRAM", 500),
                ],
                vec![(Some("instagram"), 4500)],
            ),
            // Equal revenue: the first in byte order (capitals first).
            (
                vec![named("instagram", 2000), named("Instagram", 2000)],
                vec![(Some("Instagram"), 4000)],
            ),
            // Beyond ASCII too; uncredited revenue stays uncredited.
            (
                vec![named("Éditions", 1000), named("éditions", 500), (None, 700)],
                vec![(Some("Éditions"), 1500), (None, 700)],
            ),
        ];
        for (revenue, expected) in cases {
            let result = concentration(case_folded(revenue.clone()));
            let parts: Vec<(Option<&str>, i64)> = result
                .parts
                .iter()
                .map(|part| (part.key.as_deref(), part.revenue))
                .collect();
            assert_eq!(parts, expected, "{revenue:?}");
        }
        // Split by case, no source is over 60 %; folded, one is.
        let revenue = vec![
            named("Instagram", 2000),
            named("instagram", 2000),
            named("news", 2000),
        ];
        assert_eq!(concentration(revenue.clone()).dominant, None);
        assert_eq!(
            concentration(case_folded(revenue))
                .dominant
                .and_then(|part| part.key),
            Some("Instagram".to_string())
        );
    }

    proptest::proptest! {
        #[test]
        fn folding_case_keeps_the_total_and_leaves_no_two_parts_equal_but_for_case(
            amounts in proptest::collection::vec((0usize..5, 0i64..1_000_000), 0..12),
        ) {
            let keys = ["ig", "IG", "Ig", "news", "NEWS"];
            let revenue: Vec<(Option<String>, i64)> = amounts
                .iter()
                .map(|(key, amount)| (Some(keys[*key].to_string()), *amount))
                .collect();
            let folded = concentration(case_folded(revenue.clone()));
            proptest::prop_assert_eq!(folded.total, concentration(revenue).total);
            let mut lowered: Vec<String> = folded
                .parts
                .iter()
                .filter_map(|part| part.key.as_deref().map(str::to_lowercase))
                .collect();
            let count = lowered.len();
            lowered.sort();
            lowered.dedup();
            proptest::prop_assert_eq!(lowered.len(), count);
        }

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
