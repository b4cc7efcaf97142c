//! Dynamic value bundles (SPEC 3.1): which share of new visitors each offer variant of a
//! bundle gets, by Thompson sampling on measured revenue per view. Pure and deterministic:
//! the caller passes the counts and a seeded [`Rng`]; no clock, no I/O. The server recomputes
//! allocations from its stored counts and serves the shares; the dashboard shows the same
//! numbers, so both always agree.
//!
//! The model, per offer variant:
//! - conversion `p ~ Beta(1 + commits, 1 + views − commits)` (a uniform prior updated by the
//!   paid commits out of the views; commits beyond the views, possible when views are not
//!   beaconed without consent, count as views too);
//! - value per commit: the observed mean order value (revenue ÷ commits) once the variant has
//!   a paid commit, else its stored price;
//! - revenue per view `= p × value`.
//!
//! [`probability_best`] draws every variant's revenue per view [`MONTE_CARLO_DRAWS`] times
//! (Beta as two Gamma draws, Marsaglia–Tsang) and counts how often each one is the highest.
//! Shares are those probabilities (Thompson sampling in expectation), with a floor of
//! [`YOUNG_FLOOR_SHARE`] for every variant while the test is young (any variant under
//! [`YOUNG_UNTIL_VIEWS`] views). Once the test is no longer young and one variant is best with
//! probability ≥ [`STOP_PROBABILITY`], exploring stops: that variant is the winner and gets
//! all the traffic. The seller may stop it earlier ([`stop_by_seller`]).
//!
//! Why a PRNG written here rather than the `rand` crate: core compiles for wasm32, where
//! `rand`'s default entropy source (`getrandom`) needs its JavaScript backend chosen by
//! feature; the maths needs no entropy anyway (the server seeds each recompute), and
//! xoshiro256++ seeded through SplitMix64 (Blackman & Vigna's published reference algorithms,
//! about twenty lines) gives reproducible draws that no dependency upgrade can change.

use crate::kpi::{Rate, wilson};

/// Monte Carlo draws per allocation: the standard error of a probability estimate is at most
/// `0.5 / √10_000 = 0.005`.
pub const MONTE_CARLO_DRAWS: usize = 10_000;

/// The minimum share of traffic every variant gets while the test is young, so an unlucky
/// start cannot starve a variant before it has been measured.
pub const YOUNG_FLOOR_SHARE: f64 = 0.10;

/// A test is young while any of its variants has fewer views than this: the floor applies
/// and the test cannot stop on its own yet (a 95 % on a few dozen views is mostly noise).
pub const YOUNG_UNTIL_VIEWS: u64 = 300;

/// The probability of being best at which exploring stops and the winner takes all traffic.
pub const STOP_PROBABILITY: f64 = 0.95;

/// Offer variants in one bundle offer (SPEC 3.1).
pub const MIN_VARIANTS: usize = 2;
pub const MAX_VARIANTS: usize = 4;

/// xoshiro256++ (Blackman & Vigna, 2019), seeded by SplitMix64: small, fast, good enough for
/// Monte Carlo, and the same sequence on every platform for a given seed.
#[derive(Debug, Clone)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// A generator whose whole sequence follows from `seed`.
    pub fn seeded(seed: u64) -> Rng {
        let mut splitmix = seed;
        let mut next = || {
            splitmix = splitmix.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = splitmix;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            state: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.state;
        let result = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
        let t = s1 << 17;
        let mut state = [s0, s1, s2 ^ s0, s3 ^ s1];
        state[1] ^= state[2];
        state[0] ^= state[3];
        state[2] ^= t;
        state[3] = state[3].rotate_left(45);
        self.state = state;
        result
    }

    /// Uniform in the open interval (0, 1): never 0, so logarithms are finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Marsaglia's polar method).
    pub fn normal(&mut self) -> f64 {
        loop {
            let x = 2.0 * self.uniform() - 1.0;
            let y = 2.0 * self.uniform() - 1.0;
            let s = x * x + y * y;
            if s > 0.0 && s < 1.0 {
                return x * (-2.0 * s.ln() / s).sqrt();
            }
        }
    }

    /// Gamma(shape, 1) by Marsaglia & Tsang (2000); shapes below 1 through the boost
    /// `Gamma(a) = Gamma(a + 1) × U^(1/a)`.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        debug_assert!(shape > 0.0, "a Gamma shape is positive");
        if shape < 1.0 {
            let boosted = self.gamma(shape + 1.0);
            return boosted * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u < 1.0 - 0.0331 * x * x * x * x || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// Beta(alpha, beta) as `X / (X + Y)` with `X ~ Gamma(alpha)`, `Y ~ Gamma(beta)`.
    pub fn beta(&mut self, alpha: f64, beta: f64) -> f64 {
        let x = self.gamma(alpha);
        let y = self.gamma(beta);
        x / (x + y)
    }
}

/// A stable 64-bit seed from text (FNV-1a), for callers that seed a recompute from what it is
/// about (listing, offer, time) so the same inputs give the same allocation.
pub fn seed_from(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// What has been measured of one offer variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantData {
    pub id: String,
    /// The variant's stored price (minor units), the value of a commit before any is paid.
    pub price: i64,
    /// Views of the variant (deduplicated as the KPIs count them).
    pub views: u64,
    /// Paid commits (first purchases, not refunded).
    pub commits: u64,
    /// What those commits paid (minor units).
    pub revenue: i64,
}

impl VariantData {
    /// Value of one commit: the observed mean order value, else the price.
    pub fn value_per_commit(&self) -> f64 {
        if self.commits > 0 {
            self.revenue.max(0) as f64 / self.commits as f64
        } else {
            self.price.max(0) as f64
        }
    }

    /// The Beta posterior of the conversion.
    fn posterior(&self) -> (f64, f64) {
        let views = self.views.max(self.commits);
        (
            1.0 + self.commits as f64,
            1.0 + (views - self.commits) as f64,
        )
    }

    /// Conversion (views → paid commits) with its 95 % Wilson interval.
    pub fn conversion(&self) -> Rate {
        wilson(self.commits.min(self.views), self.views)
    }

    /// Revenue per view (minor units) with a 95 % interval: the Wilson interval of the
    /// conversion times the value of a commit. `None`s without views.
    pub fn revenue_per_view(&self) -> Interval {
        let conversion = self.conversion();
        let value = self.value_per_commit();
        Interval {
            value: conversion.value.map(|rate| rate * value),
            low: conversion.low.map(|rate| rate * value),
            high: conversion.high.map(|rate| rate * value),
        }
    }
}

/// An estimate with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Each variant's probability of having the highest revenue per view, in the order given,
/// from `draws` joint draws of the posteriors. Ties (only possible between variants whose
/// value is 0, e.g. free ones) go to one of them at random, so equal variants are equally
/// likely best and a test of free variants never stops on its own. Sums to 1.
pub fn probability_best(variants: &[VariantData], draws: usize, rng: &mut Rng) -> Vec<f64> {
    if variants.is_empty() {
        return Vec::new();
    }
    let draws = draws.max(1);
    let models: Vec<(f64, f64, f64)> = variants
        .iter()
        .map(|variant| {
            let (alpha, beta) = variant.posterior();
            (alpha, beta, variant.value_per_commit())
        })
        .collect();
    let mut wins = vec![0u64; variants.len()];
    for _ in 0..draws {
        let mut best = (0, f64::NEG_INFINITY);
        let mut tied = 0u32;
        for (index, (alpha, beta, value)) in models.iter().enumerate() {
            let revenue_per_view = rng.beta(*alpha, *beta) * value;
            if revenue_per_view > best.1 {
                best = (index, revenue_per_view);
                tied = 1;
            } else if revenue_per_view == best.1 {
                // Each of the `tied` equals wins with the same chance (reservoir sampling):
                // free variants all draw 0 and must not hand the first one every win.
                tied += 1;
                if rng.uniform() * f64::from(tied) < 1.0 {
                    best = (index, revenue_per_view);
                }
            }
        }
        wins[best.0] += 1;
    }
    wins.into_iter()
        .map(|count| count as f64 / draws as f64)
        .collect()
}

/// Whether any variant has fewer than [`YOUNG_UNTIL_VIEWS`] views.
pub fn is_young(variants: &[VariantData]) -> bool {
    variants
        .iter()
        .any(|variant| variant.views < YOUNG_UNTIL_VIEWS)
}

/// Traffic shares from the probabilities of being best: those probabilities themselves, or,
/// while `young`, `floor + (1 − n × floor) × P(best)` for each of the `n` variants (every
/// variant gets at least [`YOUNG_FLOOR_SHARE`], the rest goes as Thompson sampling would, and
/// the shares still sum to 1).
pub fn shares(probability_best: &[f64], young: bool) -> Vec<f64> {
    let count = probability_best.len();
    if count == 0 {
        return Vec::new();
    }
    let total: f64 = probability_best.iter().sum();
    let normalised: Vec<f64> = if total > 0.0 {
        probability_best.iter().map(|p| p / total).collect()
    } else {
        vec![1.0 / count as f64; count]
    };
    // With more variants than 1 / floor the floor cannot hold: equal shares then.
    let floor = if young {
        YOUNG_FLOOR_SHARE.min(1.0 / count as f64)
    } else {
        0.0
    };
    let rest = 1.0 - floor * count as f64;
    normalised.iter().map(|p| floor + rest * p).collect()
}

/// Steps a served share is written in: ten-thousandths (`"share": 0.3334`).
pub const SERVED_SHARE_STEPS: u32 = 10_000;

/// The shares as a listing document serves them (SPEC 3.1): whole ten-thousandths that add
/// up to exactly [`SERVED_SHARE_STEPS`], so the served shares sum to 1 (rounding each one on
/// its own gives three fresh variants `0.3333` each, 0.9999 in all). Largest remainder: each
/// share's floor, then the steps left over to the largest fractions (the earlier variant on
/// a tie). A share that is 0 (a stopped test's losers) stays 0; shares that are not finite or
/// not positive count as 0; if none is positive, all are equal.
pub fn served_shares(shares: &[f64]) -> Vec<f64> {
    let weights: Vec<f64> = shares
        .iter()
        .map(|share| {
            if share.is_finite() && *share > 0.0 {
                *share
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let weights = if total > 0.0 {
        weights
    } else {
        vec![1.0; shares.len()]
    };
    let total: f64 = weights.iter().sum();
    if weights.is_empty() {
        return Vec::new();
    }
    let steps = f64::from(SERVED_SHARE_STEPS);
    let exact: Vec<f64> = weights
        .iter()
        .map(|weight| weight / total * steps)
        .collect();
    let mut given: Vec<u32> = exact.iter().map(|value| value.floor() as u32).collect();
    let mut left = SERVED_SHARE_STEPS.saturating_sub(given.iter().sum());
    let mut by_fraction: Vec<usize> = (0..exact.len())
        .filter(|index| weights[*index] > 0.0)
        .collect();
    by_fraction.sort_by(|a, b| {
        let fraction = |index: usize| exact[index] - exact[index].floor();
        fraction(*b).total_cmp(&fraction(*a)).then(a.cmp(b))
    });
    for index in by_fraction.iter().cycle() {
        if left == 0 {
            break;
        }
        given[*index] += 1;
        left -= 1;
    }
    given
        .into_iter()
        .map(|step| f64::from(step) / steps)
        .collect()
}

/// Why a test stopped exploring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// One variant was best with probability ≥ [`STOP_PROBABILITY`].
    Confident,
    /// The seller stopped it.
    Seller,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Confident => "confident",
            StopReason::Seller => "seller",
        }
    }

    pub fn parse(text: &str) -> Option<StopReason> {
        match text {
            "confident" => Some(StopReason::Confident),
            "seller" => Some(StopReason::Seller),
            _ => None,
        }
    }
}

/// Where a bundle's test stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestStatus {
    Exploring,
    Stopped { winner: String, reason: StopReason },
}

/// One variant in an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantAllocation {
    pub data: VariantData,
    pub probability_best: f64,
    /// The share of new visitors it gets now (all shares sum to 1).
    pub share: f64,
}

/// Everything decided in one recompute.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub variants: Vec<VariantAllocation>,
    pub status: TestStatus,
    pub young: bool,
}

/// Recomputes a test: the probabilities of being best, the shares, and whether exploring
/// stops now. A stopped test stays stopped (its winner keeps all traffic) unless its winner is
/// no longer among `variants`, in which case it explores again. Probabilities are computed in
/// every case, for the dashboard.
pub fn allocate(
    variants: &[VariantData],
    previous: &TestStatus,
    draws: usize,
    rng: &mut Rng,
) -> Allocation {
    let probabilities = probability_best(variants, draws, rng);
    let young = is_young(variants);
    let index_of = |id: &str| variants.iter().position(|variant| variant.id == id);
    let status = match previous {
        TestStatus::Stopped { winner, .. } if index_of(winner).is_some() => previous.clone(),
        _ => match best_index(&probabilities) {
            Some(best) if !young && probabilities[best] >= STOP_PROBABILITY => {
                TestStatus::Stopped {
                    winner: variants[best].id.clone(),
                    reason: StopReason::Confident,
                }
            }
            _ => TestStatus::Exploring,
        },
    };
    let served = match &status {
        TestStatus::Stopped { winner, .. } => variants
            .iter()
            .map(|variant| if &variant.id == winner { 1.0 } else { 0.0 })
            .collect(),
        TestStatus::Exploring => shares(&probabilities, young),
    };
    Allocation {
        variants: variants
            .iter()
            .zip(probabilities)
            .zip(served)
            .map(|((data, probability_best), share)| VariantAllocation {
                data: data.clone(),
                probability_best,
                share,
            })
            .collect(),
        status,
        young,
    }
}

/// The seller stops a test: the winner is `chosen` when given (it must be one of the
/// variants), else the variant most likely to be best now.
pub fn stop_by_seller(
    variants: &[VariantData],
    probability_best: &[f64],
    chosen: Option<&str>,
) -> Result<TestStatus, UnknownVariant> {
    let winner = match chosen {
        Some(id) => variants
            .iter()
            .find(|variant| variant.id == id)
            .map(|variant| variant.id.clone())
            .ok_or_else(|| UnknownVariant(id.to_string()))?,
        None => best_index(probability_best)
            .and_then(|index| variants.get(index))
            .map(|variant| variant.id.clone())
            .ok_or_else(|| UnknownVariant(String::new()))?,
    };
    Ok(TestStatus::Stopped {
        winner,
        reason: StopReason::Seller,
    })
}

/// A variant id the offer does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not one of the offer's variants")]
pub struct UnknownVariant(pub String);

/// The index of the highest probability (the first one on a tie).
fn best_index(probabilities: &[f64]) -> Option<usize> {
    probabilities
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f64)>, (index, p)| match best {
            Some((_, top)) if *p <= top => best,
            _ => Some((index, *p)),
        })
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_xoshiro256_plus_plus() {
        // SplitMix64 from 0 gives the published first output 0xE220A8397B1DCDAF; xoshiro's
        // first output is s0 + s3 rotated, plus s0, from those states.
        let mut splitmix = Rng::seeded(0);
        let first = splitmix.next_u64();
        let again = Rng::seeded(0).next_u64();
        assert_eq!(first, again);
        let s = Rng::seeded(0).state;
        assert_eq!(s[0], 0xE220_A839_7B1D_CDAF);
        assert_eq!(
            first,
            s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0])
        );
        assert_ne!(Rng::seeded(1).next_u64(), first);
    }

    #[test]
    fn served_shares_are_ten_thousandths_that_sum_to_one() {
        let third = 1.0 / 3.0;
        for (shares, expected) in [
            (vec![third, third, third], vec![0.3334, 0.3333, 0.3333]),
            (vec![0.25; 4], vec![0.25; 4]),
            (vec![1.0, 0.0], vec![1.0, 0.0]),
            (vec![0.0, 1.0, 0.0], vec![0.0, 1.0, 0.0]),
            (vec![0.123_456, 0.876_544], vec![0.1235, 0.8765]),
            (
                vec![0.100_04, 0.100_04, 0.799_92],
                vec![0.1001, 0.1, 0.7999],
            ),
            (
                vec![0.166_66, 0.166_66, 0.666_68],
                vec![0.1667, 0.1666, 0.6667],
            ),
            // Not summing to 1 (e.g. read back rounded): normalised first.
            (vec![0.2, 0.2], vec![0.5, 0.5]),
            (vec![f64::NAN, 0.5, -1.0], vec![0.0, 1.0, 0.0]),
            (vec![0.0, 0.0], vec![0.5, 0.5]),
            (vec![], vec![]),
        ] {
            let served = served_shares(&shares);
            assert_eq!(served, expected, "{shares:?}");
            if !served.is_empty() {
                let steps: u32 = served
                    .iter()
                    .map(|share| (share * f64::from(SERVED_SHARE_STEPS)).round() as u32)
                    .sum();
                assert_eq!(steps, SERVED_SHARE_STEPS, "{shares:?}");
            }
        }
    }

    #[test]
    fn the_best_index_takes_the_first_on_a_tie() {
        assert_eq!(best_index(&[0.5, 0.5]), Some(0));
        assert_eq!(best_index(&[0.2, 0.5, 0.3]), Some(1));
        assert_eq!(best_index(&[]), None);
    }
}
