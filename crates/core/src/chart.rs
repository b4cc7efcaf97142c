//! The geometry of the seller dashboard's charts, pure: linear scales, "nice" axis ticks
//! (steps of 1, 2 or 5 × 10ⁿ), SVG path data, stacked shares, the heat map's colour scale and
//! the WCAG contrast it is held to. The server draws with these (maud, `charts.rs`); nothing
//! here knows HTML, and nothing here is called by the widget.

/// Maps a value of `domain` linearly onto `range` (SVG user units). A degenerate domain
/// (start = end) maps everything to the middle of the range, never to NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl LinearScale {
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> LinearScale {
        LinearScale { domain, range }
    }

    /// Where `value` falls in the range.
    pub fn map(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if (d1 - d0).abs() < f64::EPSILON {
            return (r0 + r1) / 2.0;
        }
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// The step of about `target` intervals over `span`: 1, 2 or 5 × 10ⁿ, whichever is nearest
/// the raw step on a log scale (the thresholds √2, √10 and √50 between them, as d3 does).
pub fn nice_step(span: f64, target: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let error = raw / magnitude;
    let factor = if error >= 50f64.sqrt() {
        10.0
    } else if error >= 10f64.sqrt() {
        5.0
    } else if error >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    factor * magnitude
}

/// Axis ticks covering `[min, max]`: from the nice step's multiple at or below `min` to the
/// one at or above `max`, about `target` intervals. An empty span (all values equal, e.g. no
/// revenue at all) still gets an axis from `min` to `min + 1` step, so a chart of zeros has a
/// readable scale.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    let (min, mut max) = if min <= max { (min, max) } else { (max, min) };
    if max - min <= 0.0 {
        max = min + min.abs().max(1.0);
    }
    let span = max - min;
    let step = nice_step(span, target);
    let first = (min / step).floor();
    let mut last = (max / step).ceil();
    if last <= first {
        last = first + 1.0;
    }
    // Whole multiples of the step, computed from their index so no rounding error piles up.
    (0..=(last - first) as i64)
        .map(|index| {
            let tick = (first + index as f64) * step;
            // Trim the float noise of e.g. 3 × 0.1 to what the step's decimals can say.
            let decimals = (-step.log10().floor()).max(0.0) as i32;
            let factor = 10f64.powi(decimals);
            (tick * factor).round() / factor
        })
        .collect()
}

/// A number as SVG writes it: one decimal, no `-0.0`.
pub fn coordinate(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == 0.0 {
        "0".to_string()
    } else if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// SVG path data through `points`: `M x y L x y ...` (empty without points).
pub fn line_path(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .enumerate()
        .map(|(index, (x, y))| {
            format!(
                "{}{} {}",
                if index == 0 { "M" } else { "L" },
                coordinate(*x),
                coordinate(*y)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A closed SVG path for a band between a lower and an upper line sharing the same x's
/// (a stacked area): along the upper line, back along the lower one.
pub fn band_path(xs: &[f64], lower: &[f64], upper: &[f64]) -> String {
    if xs.is_empty() || xs.len() != lower.len() || xs.len() != upper.len() {
        return String::new();
    }
    let mut points: Vec<(f64, f64)> = xs.iter().copied().zip(upper.iter().copied()).collect();
    points.extend(xs.iter().copied().zip(lower.iter().copied()).rev());
    format!("{} Z", line_path(&points))
}

/// Stacks shares per time step: for each series, its `(lower, upper)` bound at each step,
/// the series in the order given. Each step's shares are normalized to sum to 1 (a step
/// with no share at all stays empty: every band `(0, 0)`), so rounding in the input never
/// leaves a gap or an overflow at the top.
pub fn stack_shares(series: &[Vec<f64>]) -> Vec<Vec<(f64, f64)>> {
    let steps = series.iter().map(Vec::len).max().unwrap_or(0);
    let mut stacked = vec![Vec::with_capacity(steps); series.len()];
    for step in 0..steps {
        let values: Vec<f64> = series
            .iter()
            .map(|values| values.get(step).copied().unwrap_or(0.0).max(0.0))
            .collect();
        let sum: f64 = values.iter().sum();
        let mut lower = 0.0;
        for (index, value) in values.iter().enumerate() {
            let share = if sum > 0.0 { value / sum } else { 0.0 };
            let upper = if sum > 0.0 && index + 1 == values.len() {
                1.0
            } else {
                lower + share
            };
            stacked[index].push((lower, upper));
            lower = upper;
        }
    }
    stacked
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub const WHITE: Rgb = Rgb(255, 255, 255);
    pub const BLACK: Rgb = Rgb(0, 0, 0);

    /// `#rrggbb`, for SVG presentation attributes (`fill`, `stroke`).
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2 relative luminance.
    pub fn luminance(self) -> f64 {
        let channel = |value: u8| {
            let c = f64::from(value) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }
}

/// WCAG 2 contrast ratio of two colours, from 1 (same) to 21 (black on white).
pub fn contrast_ratio(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    let (light, dark) = if la >= lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

/// The series colours, in order: each at least 3:1 against the white chart background
/// (WCAG 1.4.11 for graphical objects) and told apart by more than hue (light and dark
/// alternate). Series beyond these reuse them; the table and the legend name every series.
pub const SERIES: [Rgb; 4] = [
    Rgb(0x4b, 0x2b, 0xd6), // violet
    Rgb(0xb4, 0x53, 0x09), // amber, dark
    Rgb(0x0f, 0x76, 0x6e), // teal
    Rgb(0xbe, 0x18, 0x5d), // raspberry
];

/// The colour of series `index`.
pub fn series_colour(index: usize) -> Rgb {
    SERIES[index % SERIES.len()]
}

/// The heat map's scale: from a pale lilac (0) to the dashboard's violet (1), interpolated
/// in sRGB; values outside `[0, 1]` are clamped, NaN is 0.
pub fn heat_colour(value: f64) -> Rgb {
    const LOW: Rgb = Rgb(0xf1, 0xee, 0xfc);
    const HIGH: Rgb = Rgb(0x3a, 0x1c, 0xb0);
    let t = if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    };
    let mix =
        |low: u8, high: u8| (f64::from(low) + (f64::from(high) - f64::from(low)) * t).round() as u8;
    Rgb(mix(LOW.0, HIGH.0), mix(LOW.1, HIGH.1), mix(LOW.2, HIGH.2))
}

/// The text colour for a label on `background`: black or white, whichever contrasts more.
/// Pure black, not the page's near-black ink: where the two choices cross (a luminance near
/// 0.18) black still gives 4.58:1, the dashboard's ink only 4.15 (below WCAG AA's 4.5).
pub fn text_on(background: Rgb) -> Rgb {
    if contrast_ratio(Rgb::BLACK, background) >= contrast_ratio(Rgb::WHITE, background) {
        Rgb::BLACK
    } else {
        Rgb::WHITE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_linearly_and_survive_an_empty_domain() {
        // (domain, range, value, expected)
        let cases = [
            ((0.0, 10.0), (0.0, 100.0), 5.0, 50.0),
            ((0.0, 10.0), (200.0, 20.0), 0.0, 200.0), // an SVG y axis points down
            ((0.0, 10.0), (200.0, 20.0), 10.0, 20.0),
            ((0.0, 4000.0), (200.0, 20.0), 1000.0, 155.0),
            ((5.0, 5.0), (0.0, 100.0), 5.0, 50.0),
        ];
        for (domain, range, value, expected) in cases {
            let mapped = LinearScale::new(domain, range).map(value);
            assert!(
                (mapped - expected).abs() < 1e-9,
                "{domain:?}→{range:?} at {value}: {mapped}"
            );
        }
    }

    #[test]
    fn nice_ticks_by_hand() {
        let cases: [(f64, f64, usize, &[f64]); 8] = [
            (0.0, 10.0, 5, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]),
            (
                0.0,
                9_300.0,
                4,
                &[0.0, 2_000.0, 4_000.0, 6_000.0, 8_000.0, 10_000.0],
            ),
            (0.0, 0.27, 5, &[0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]),
            (0.0, 0.034, 4, &[0.0, 0.01, 0.02, 0.03, 0.04]),
            (0.0, 1.0, 4, &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
            (0.0, 0.0, 4, &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]), // nothing yet: still an axis
            (12.0, 87.0, 4, &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0]),
            (0.0, 3.0, 3, &[0.0, 1.0, 2.0, 3.0]),
        ];
        for (min, max, target, expected) in cases {
            assert_eq!(
                nice_ticks(min, max, target),
                expected,
                "{min}..{max}/{target}"
            );
        }
    }

    #[test]
    fn coordinates_and_paths() {
        assert_eq!(coordinate(12.345), "12.3");
        assert_eq!(coordinate(-0.01), "0");
        assert_eq!(coordinate(40.0), "40");
        assert_eq!(line_path(&[]), "");
        assert_eq!(
            line_path(&[(0.0, 10.0), (50.5, 2.25), (100.0, 0.0)]),
            "M0 10 L50.5 2.3 L100 0"
        );
        assert_eq!(
            band_path(&[0.0, 10.0], &[5.0, 5.0], &[1.0, 2.0]),
            "M0 1 L10 2 L10 5 L0 5 Z"
        );
        assert_eq!(band_path(&[0.0], &[], &[1.0]), "");
    }

    #[test]
    fn shares_stack_to_one_at_every_step() {
        let stacked = stack_shares(&[vec![0.5, 0.2, 0.0], vec![0.5, 0.6, 0.0]]);
        assert_eq!(stacked[0], [(0.0, 0.5), (0.0, 0.25), (0.0, 0.0)]);
        assert_eq!(stacked[1], [(0.5, 1.0), (0.25, 1.0), (0.0, 0.0)]);
        assert!(stack_shares(&[]).is_empty());
    }

    #[test]
    fn contrast_ratios_by_hand() {
        // (a, b, ratio) from the WCAG 2 formula.
        let cases = [
            (Rgb(0, 0, 0), Rgb::WHITE, 21.0),
            (Rgb::WHITE, Rgb::WHITE, 1.0),
            (Rgb(0x77, 0x77, 0x77), Rgb::WHITE, 4.48),
            (Rgb(0x4b, 0x2b, 0xd6), Rgb::WHITE, 8.03),
        ];
        for (a, b, ratio) in cases {
            let measured = contrast_ratio(a, b);
            assert!(
                (measured - ratio).abs() < 0.02,
                "{a:?} on {b:?}: {measured}"
            );
        }
    }

    #[test]
    fn every_colour_meets_wcag_aa() {
        for colour in SERIES {
            assert!(
                contrast_ratio(colour, Rgb::WHITE) >= 3.0,
                "{} on white",
                colour.hex()
            );
        }
        for step in 0..=100 {
            let background = heat_colour(f64::from(step) / 100.0);
            let ratio = contrast_ratio(text_on(background), background);
            assert!(ratio >= 4.5, "text on {}: {ratio:.2}", background.hex());
        }
        assert_eq!(heat_colour(f64::NAN), heat_colour(0.0));
        assert_eq!(heat_colour(7.0), heat_colour(1.0));
        assert_eq!(heat_colour(0.0).hex(), "#f1eefc");
    }

    proptest::proptest! {
        #[test]
        fn ticks_cover_the_values_in_order(
            min in -1.0e6f64..1.0e6,
            span in 0.0f64..1.0e6,
            target in 2usize..10,
        ) {
            let max = min + span;
            let ticks = nice_ticks(min, max, target);
            proptest::prop_assert!(ticks.len() >= 2);
            proptest::prop_assert!(ticks.len() <= 3 * target + 2, "{:?}", ticks);
            proptest::prop_assert!(ticks[0] <= min + 1e-9 * min.abs().max(1.0));
            proptest::prop_assert!(*ticks.last().unwrap() >= max - 1e-9 * max.abs().max(1.0));
            proptest::prop_assert!(ticks.windows(2).all(|pair| pair[0] < pair[1]));
        }

        #[test]
        fn stacked_shares_never_leave_zero_to_one(
            series in proptest::collection::vec(proptest::collection::vec(0.0f64..5.0, 1..6), 1..5),
        ) {
            for bands in stack_shares(&series) {
                for (lower, upper) in bands {
                    proptest::prop_assert!((0.0..=1.0 + 1e-9).contains(&lower));
                    proptest::prop_assert!(lower <= upper + 1e-12 && upper <= 1.0 + 1e-9);
                }
            }
        }
    }
}
