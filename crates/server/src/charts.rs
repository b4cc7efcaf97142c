//! The dashboard's charts, drawn on the server as SVG with maud: no script, and readable
//! without the picture. Each chart is an `<svg role="img">` named by its `<title>` and
//! `<desc>`, with labelled axes, followed by the table of the numbers it draws (in a
//! `<details>`), so a screen reader, a keyboard or a text browser gets the same data. Colours
//! are presentation attributes (`fill`, `stroke`) or classes of the served stylesheet: the
//! strict CSP forbids `style` attributes, in SVG too. Geometry and colours are core's
//! (`mighty_core::chart`, tested there); marks carry `data-value` so tests read what was drawn.

use maud::{Markup, html};
use mighty_core::chart::{
    LinearScale, Rgb, band_path, coordinate, heat_colour, line_path, nice_ticks, series_colour,
    stack_shares, text_on,
};

/// Every chart's width in SVG user units (it scales to its box).
const WIDTH: f64 = 640.0;
/// Grid lines and axis rules: light, decorative (the tick labels carry the information).
const GRID: &str = "#e4e1ea";
const AXIS: &str = "#8d8898";
/// A part over the concentration limit: a dark amber, 5:1 on white (core's series colour 1).
const WARNING: Rgb = mighty_core::chart::SERIES[1];

/// The numbers behind a chart: caption, column headers, rows of formatted cells, and where
/// the same table downloads as CSV.
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub csv: Option<String>,
}

impl Table {
    pub fn new(caption: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Table {
        Table {
            caption: caption.to_string(),
            headers: headers.iter().map(|header| header.to_string()).collect(),
            rows,
            csv: None,
        }
    }

    pub fn with_csv(mut self, href: String) -> Table {
        self.csv = Some(href);
        self
    }
}

/// A table as HTML, first column as row headers.
pub fn table(table: &Table) -> Markup {
    html! {
        table {
            caption {
                (table.caption)
                @if let Some(href) = &table.csv { " " a href=(href) { "CSV" } }
            }
            thead { tr { @for header in &table.headers { th scope="col" { (header) } } } }
            tbody {
                @for row in &table.rows {
                    tr {
                        @for (index, cell) in row.iter().enumerate() {
                            @if index == 0 { th scope="row" { (cell) } } @else { td { (cell) } }
                        }
                    }
                }
            }
        }
    }
}

/// A chart and, under it, the table of its numbers (closed by default: the chart says it at
/// a glance, the table to the letter).
pub fn figure(chart: Markup, numbers: &Table) -> Markup {
    html! {
        figure class="figure" {
            (chart)
            details {
                summary { "Show the numbers" }
                (table(numbers))
            }
        }
    }
}

/// The `<svg>` element every chart shares: `role="img"` named by its title and description.
fn svg(id: &str, title: &str, description: &str, height: f64, content: Markup) -> Markup {
    html! {
        svg class="chart" id=(id) viewBox={ "0 0 " (coordinate(WIDTH)) " " (coordinate(height)) }
            role="img" aria-labelledby={ (id) "-title " (id) "-desc" } {
            title id={ (id) "-title" } { (title) }
            desc id={ (id) "-desc" } { (description) }
            (content)
        }
    }
}

fn colour(rgb: Rgb) -> String {
    rgb.hex()
}

/// Horizontal grid lines with the value axis's labels, for a vertical scale.
fn value_axis(
    ticks: &[f64],
    scale: &LinearScale,
    left: f64,
    right: f64,
    label: &dyn Fn(f64) -> String,
) -> Markup {
    html! {
        g class="axis value-axis" {
            @for tick in ticks {
                @let y = coordinate(scale.map(*tick));
                g class="tick" data-value=(tick) {
                    line x1=(coordinate(left)) x2=(coordinate(right)) y1=(y) y2=(y) stroke=(GRID) {}
                    text class="tick-label" x=(coordinate(left - 8.0)) y=(coordinate(scale.map(*tick) + 4.0)) text-anchor="end" { (label(*tick)) }
                }
            }
        }
    }
}

/// A line over evenly spaced periods with a value axis: revenue per week.
/// `values[i]` is drawn at `labels[i]`; `format` writes a value for ticks and tooltips.
pub fn line_chart(
    id: &str,
    title: &str,
    description: &str,
    labels: &[String],
    values: &[f64],
    format: &dyn Fn(f64) -> String,
) -> Markup {
    let (height, left, right, top, bottom) = (260.0, 76.0, 20.0, 16.0, 44.0);
    let max = values.iter().copied().fold(0.0, f64::max);
    let ticks = nice_ticks(0.0, max, 4);
    let y = LinearScale::new(
        (ticks[0], *ticks.last().unwrap_or(&1.0)),
        (height - bottom, top),
    );
    let steps = values.len().max(1);
    let x = LinearScale::new(
        (0.0, (steps - 1).max(1) as f64),
        (left + 12.0, WIDTH - right - 12.0),
    );
    let x_of = |index: usize| {
        if steps == 1 {
            (left + WIDTH - right) / 2.0
        } else {
            x.map(index as f64)
        }
    };
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(index, value)| (x_of(index), y.map(*value)))
        .collect();
    let mut area = points.clone();
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        area.push((last.0, y.map(ticks[0])));
        area.push((first.0, y.map(ticks[0])));
    }
    let stroke = colour(series_colour(0));
    let content = html! {
        (value_axis(&ticks, &y, left, WIDTH - right, format))
        g class="axis period-axis" {
            line x1=(coordinate(left)) x2=(coordinate(WIDTH - right)) y1=(coordinate(height - bottom)) y2=(coordinate(height - bottom)) stroke=(AXIS) {}
            @for (index, label) in labels.iter().enumerate() {
                text class="tick-label" x=(coordinate(x_of(index))) y=(coordinate(height - bottom + 20.0)) text-anchor="middle" { (label) }
            }
        }
        @if !points.is_empty() {
            path class="area" d={ (line_path(&area)) " Z" } fill=(stroke) fill-opacity="0.08" {}
            path class="line" d=(line_path(&points)) fill="none" stroke=(stroke) stroke-width="2.5" stroke-linejoin="round" {}
        }
        @for (index, (px, py)) in points.iter().enumerate() {
            circle class="point" cx=(coordinate(*px)) cy=(coordinate(*py)) r="4" fill=(stroke) data-value=(values[index]) {
                title { (labels.get(index).map_or("", String::as_str)) ": " (format(values[index])) }
            }
        }
    };
    svg(id, title, description, height, content)
}

/// One bar of a bar chart.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// What the bar says beside it (the value formatted, a share).
    pub text: String,
    /// Drawn in the warning colour (a part over the concentration limit).
    pub highlighted: bool,
}

/// Horizontal bars scaled to `max` (default: the largest bar), labelled on the left, each
/// with its text on the right.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar], max: Option<f64>) -> Markup {
    // Room on the right for the text beside the longest bar ("2111.00 EUR · 68 % ⚠ over 60 %").
    let (left, right, row) = (130.0, 230.0, 32.0);
    let height = 12.0 + bars.len().max(1) as f64 * row;
    let max = max
        .unwrap_or_else(|| bars.iter().map(|bar| bar.value).fold(0.0, f64::max))
        .max(f64::MIN_POSITIVE);
    let width =
        |value: f64| (value / max * (WIDTH - left - right)).clamp(2.0, WIDTH - left - right);
    let description = if bars.is_empty() {
        "Nothing yet.".to_string()
    } else {
        bars.iter()
            .map(|bar| {
                format!(
                    "{}: {}{}",
                    bar.label,
                    bar.text,
                    if bar.highlighted { " (over 60 %)" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let content = html! {
        @for (index, bar) in bars.iter().enumerate() {
            @let y = 8.0 + index as f64 * row;
            @let fill = if bar.highlighted { WARNING } else { series_colour(0) };
            text class="label" x="0" y=(coordinate(y + 15.0)) { (bar.label) }
            rect class={ "bar" @if bar.highlighted { " highlighted" } } x=(coordinate(left)) y=(coordinate(y)) width=(coordinate(width(bar.value))) height="20" rx="3" fill=(colour(fill)) data-value=(bar.value) {
                title { (bar.label) ": " (bar.text) }
            }
            text class="value" x=(coordinate(left + width(bar.value) + 8.0)) y=(coordinate(y + 15.0)) {
                (bar.text)
                @if bar.highlighted { " ⚠ over 60 %" }
            }
        }
        @if bars.is_empty() {
            text class="label" x="0" y="26" { "Nothing yet." }
        }
    };
    svg(id, title, &description, height, content)
}

/// One step of a funnel.
pub struct FunnelStep {
    pub label: String,
    pub count: u64,
}

/// A funnel as horizontal bars scaled to its first step, each with its count and the share
/// it keeps of the step before.
pub fn funnel_chart(id: &str, title: &str, steps: &[FunnelStep]) -> Markup {
    let (left, right, row) = (150.0, 170.0, 44.0);
    let height = 16.0 + steps.len() as f64 * row;
    let first = steps.first().map_or(0, |step| step.count).max(1) as f64;
    let width = |count: u64| (count as f64 / first * (WIDTH - left - right)).max(2.0);
    let fill = colour(series_colour(0));
    let description = steps
        .iter()
        .enumerate()
        .map(|(index, step)| format!("{}: {}{}", step.label, step.count, kept(steps, index)))
        .collect::<Vec<_>>()
        .join("; ");
    let content = html! {
        @for (index, step) in steps.iter().enumerate() {
            @let y = 12.0 + index as f64 * row;
            text class="label" x="0" y=(coordinate(y + 17.0)) { (step.label) }
            rect class="bar" x=(coordinate(left)) y=(coordinate(y)) width=(coordinate(width(step.count))) height="24" rx="3" fill=(fill) data-value=(step.count) {
                title { (step.label) ": " (step.count) }
            }
            text class="value" x=(coordinate(left + width(step.count) + 8.0)) y=(coordinate(y + 17.0)) { (step.count) (kept(steps, index)) }
        }
    };
    svg(id, title, &description, height, content)
}

/// ", 12.5 % of the step before" (nothing for the first step or after an empty one).
fn kept(steps: &[FunnelStep], index: usize) -> String {
    match index.checked_sub(1).map(|before| steps[before].count) {
        Some(before) if before > 0 => format!(
            " · {:.1} % of {}",
            steps[index].count as f64 / before as f64 * 100.0,
            steps[index - 1].label.to_lowercase()
        ),
        _ => String::new(),
    }
}

/// One row of an interval chart: a rate with its 95 % interval.
pub struct IntervalRow {
    pub label: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// How an interval chart writes its values: rates as percents, or amounts per view.
pub enum IntervalUnit<'a> {
    Percent,
    /// Minor units, written by the function (ticks and descriptions).
    Amount(&'a dyn Fn(f64) -> String),
}

/// Rates (or amounts) as dots with their 95 % intervals as whiskers, on a shared axis.
pub fn interval_chart(id: &str, title: &str, rows: &[IntervalRow], unit: IntervalUnit) -> Markup {
    let (left, right, top, row) = (190.0, 24.0, 8.0, 32.0);
    let axis_y = top + rows.len() as f64 * row + 4.0;
    let height = axis_y + 28.0;
    let max = rows.iter().map(|row| row.high).fold(0.0, f64::max);
    let ticks = nice_ticks(0.0, max, 4);
    let x = LinearScale::new(
        (ticks[0], *ticks.last().unwrap_or(&1.0)),
        (left, WIDTH - right),
    );
    let fine = ticks.len() > 1 && ticks[1] - ticks[0] < 0.01;
    let tick_text = |value: f64| match &unit {
        IntervalUnit::Percent => format!("{:.*} %", usize::from(fine), value * 100.0),
        IntervalUnit::Amount(format) => format(value),
    };
    let value_text = |value: f64| match &unit {
        IntervalUnit::Percent => format!("{:.1} %", value * 100.0),
        IntervalUnit::Amount(format) => format(value),
    };
    let description = rows
        .iter()
        .map(|row| {
            format!(
                "{}: {} (95 % interval {} to {})",
                row.label,
                value_text(row.value),
                value_text(row.low),
                value_text(row.high)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let dot = colour(series_colour(0));
    let content = html! {
        g class="axis value-axis" {
            @for tick in &ticks {
                @let tx = coordinate(x.map(*tick));
                g class="tick" data-value=(tick) {
                    line x1=(tx) x2=(tx) y1=(coordinate(top)) y2=(coordinate(axis_y)) stroke=(GRID) {}
                    text class="tick-label" x=(tx) y=(coordinate(axis_y + 18.0)) text-anchor="middle" { (tick_text(*tick)) }
                }
            }
        }
        @for (index, row_data) in rows.iter().enumerate() {
            @let cy = top + index as f64 * row + row / 2.0;
            @let (x1, x2) = (coordinate(x.map(row_data.low)), coordinate(x.map(row_data.high)));
            text class="label" x="0" y=(coordinate(cy + 4.0)) { (row_data.label) }
            g class="interval" {
                line class="whisker" x1=(x1) x2=(x2) y1=(coordinate(cy)) y2=(coordinate(cy)) stroke=(AXIS) stroke-width="2" data-low=(row_data.low) data-high=(row_data.high) {}
                line x1=(x1) x2=(x1) y1=(coordinate(cy - 6.0)) y2=(coordinate(cy + 6.0)) stroke=(AXIS) stroke-width="2" {}
                line x1=(x2) x2=(x2) y1=(coordinate(cy - 6.0)) y2=(coordinate(cy + 6.0)) stroke=(AXIS) stroke-width="2" {}
                circle class="point" cx=(coordinate(x.map(row_data.value))) cy=(coordinate(cy)) r="5" fill=(dot) data-value=(row_data.value) {
                    title { (row_data.label) ": " (value_text(row_data.value)) }
                }
            }
        }
    };
    svg(id, title, &description, height, content)
}

/// A heat map cell: the share it colours and the text it shows (`None`: not yet observable).
pub struct HeatCell {
    pub share: Option<f64>,
    pub text: String,
}

/// Rows × columns of shares coloured on core's heat scale, each cell labelled in the colour
/// that contrasts with it; cells not observable yet are left blank.
pub fn heat_map(
    id: &str,
    title: &str,
    description: &str,
    columns: &[String],
    rows: &[(String, Vec<HeatCell>)],
) -> Markup {
    let (left, top, row_height) = (110.0, 26.0, 30.0);
    let cell_width = (WIDTH - left) / columns.len().max(1) as f64;
    let height = top + rows.len() as f64 * row_height + 40.0;
    let legend_y = top + rows.len() as f64 * row_height + 14.0;
    let content = html! {
        @for (index, column) in columns.iter().enumerate() {
            text class="tick-label" x=(coordinate(left + (index as f64 + 0.5) * cell_width)) y="16" text-anchor="middle" { (column) }
        }
        @for (row_index, (label, cells)) in rows.iter().enumerate() {
            @let y = top + row_index as f64 * row_height;
            text class="label" x="0" y=(coordinate(y + 19.0)) { (label) }
            @for (column, cell) in cells.iter().enumerate() {
                @if let Some(share) = cell.share {
                    @let fill = heat_colour(share);
                    @let cx = left + column as f64 * cell_width;
                    rect class="cell" x=(coordinate(cx + 1.0)) y=(coordinate(y + 1.0)) width=(coordinate(cell_width - 2.0)) height=(coordinate(row_height - 2.0)) rx="2" fill=(colour(fill)) data-value=(share) {
                        title { (label) ", " (columns.get(column).map_or("", String::as_str)) ": " (cell.text) }
                    }
                    text class="cell-label" x=(coordinate(cx + cell_width / 2.0)) y=(coordinate(y + 19.0)) text-anchor="middle" fill=(colour(text_on(fill))) { (cell.text) }
                }
            }
        }
        g class="legend" {
            text class="tick-label" x="0" y=(coordinate(legend_y + 12.0)) { "Scale" }
            @for step in 0..=4 {
                @let share = f64::from(step) / 4.0;
                @let lx = left + f64::from(step) * 64.0;
                rect x=(coordinate(lx)) y=(coordinate(legend_y)) width="60" height="16" fill=(colour(heat_colour(share))) {}
                text class="cell-label" x=(coordinate(lx + 30.0)) y=(coordinate(legend_y + 12.0)) text-anchor="middle" fill=(colour(text_on(heat_colour(share)))) { (step * 25) " %" }
            }
        }
    };
    svg(id, title, description, height, content)
}

/// Shares of traffic over time as stacked bands (each step's shares sum to 100 %), with a
/// legend naming each series in its colour.
pub fn share_chart(
    id: &str,
    title: &str,
    description: &str,
    labels: &[String],
    series: &[(String, Vec<f64>)],
) -> Markup {
    let (height, left, right, top, bottom) = (260.0, 56.0, 20.0, 16.0, 64.0);
    let ticks = [0.0, 0.25, 0.5, 0.75, 1.0];
    let y = LinearScale::new((0.0, 1.0), (height - bottom, top));
    let steps = labels.len().max(1);
    let x = LinearScale::new((0.0, (steps - 1).max(1) as f64), (left, WIDTH - right));
    let xs: Vec<f64> = (0..steps).map(|index| x.map(index as f64)).collect();
    let values: Vec<Vec<f64>> = series.iter().map(|(_, values)| values.clone()).collect();
    let bands = stack_shares(&values);
    // A few period labels only: the first, the last and evenly between (they are dates).
    let every = labels.len().div_ceil(6).max(1);
    let content = html! {
        (value_axis(&ticks, &y, left, WIDTH - right, &|tick| format!("{:.0} %", tick * 100.0)))
        @for (index, (name, _)) in series.iter().enumerate() {
            @let lower: Vec<f64> = bands[index].iter().map(|(low, _)| y.map(*low)).collect();
            @let upper: Vec<f64> = bands[index].iter().map(|(_, high)| y.map(*high)).collect();
            path class="band" d=(band_path(&xs, &lower, &upper)) fill=(colour(series_colour(index))) fill-opacity="0.85" stroke="#ffffff" stroke-width="1" data-series=(name) {
                title { (name) }
            }
        }
        g class="axis period-axis" {
            @for (index, label) in labels.iter().enumerate() {
                @if index % every == 0 || index + 1 == labels.len() {
                    text class="tick-label" x=(coordinate(x.map(index as f64))) y=(coordinate(height - bottom + 18.0)) text-anchor="middle" { (label) }
                }
            }
        }
        g class="legend" {
            @for (index, (name, _)) in series.iter().enumerate() {
                @let lx = left + index as f64 * 140.0;
                rect x=(coordinate(lx)) y=(coordinate(height - 22.0)) width="14" height="14" fill=(colour(series_colour(index))) {}
                text class="label" x=(coordinate(lx + 20.0)) y=(coordinate(height - 10.0)) { (name) }
            }
        }
    };
    svg(id, title, description, height, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_chart_puts_its_points_on_its_axis() {
        let markup = line_chart(
            "revenue",
            "Revenue per week",
            "two weeks",
            &["a".into(), "b".into()],
            &[0.0, 3000.0],
            &|value| format!("{value:.0}"),
        )
        .into_string();
        // Ticks 0..3000 by 500 map to y 216 (bottom) .. 16 (top): 3000 is at the top.
        assert!(markup.contains("cy=\"216\" r=\"4\""), "{markup}");
        assert!(markup.contains("cy=\"16\" r=\"4\""), "{markup}");
        assert!(!markup.contains("style="));
    }

    #[test]
    fn shares_stack_into_bands_from_zero_to_one_hundred_percent() {
        let markup = share_chart(
            "shares",
            "Shares",
            "two variants, three recomputes",
            &["a".into(), "b".into(), "c".into()],
            &[
                ("variant a".into(), vec![0.5, 0.25, 0.0]),
                ("variant b".into(), vec![0.5, 0.75, 1.0]),
            ],
        )
        .into_string();
        // y: 100 % at 16, 0 % at 196 (height 260 − bottom 64); x: 56 .. 620.
        // Variant a from 0 to its share; variant b on top of it, up to 100 %.
        assert!(
            markup.contains("d=\"M56 106 L338 151 L620 196 L620 196 L338 196 L56 196 Z\""),
            "{markup}"
        );
        assert!(
            markup.contains("d=\"M56 16 L338 16 L620 16 L620 196 L338 151 L56 106 Z\""),
            "{markup}"
        );
        assert_eq!(markup.matches("class=\"band\"").count(), 2);
    }

    #[test]
    fn a_bar_over_the_limit_is_drawn_in_the_warning_colour_and_says_so() {
        let bars = [
            Bar {
                label: "instagram".into(),
                value: 7.0,
                text: "70 %".into(),
                highlighted: true,
            },
            Bar {
                label: "newsletter".into(),
                value: 3.0,
                text: "30 %".into(),
                highlighted: false,
            },
        ];
        let markup = bar_chart("by-source", "By source", &bars, None).into_string();
        assert!(
            markup.contains(&format!("fill=\"{}\" data-value=\"7\"", WARNING.hex())),
            "{markup}"
        );
        assert!(markup.contains("⚠ over 60 %"));
        assert!(
            markup.contains("instagram: 70 % (over 60 %); newsletter: 30 %"),
            "the description says it too"
        );
        // Scaled to the largest: 7 → the full 280, 3 → 120.
        assert!(
            markup.contains("width=\"280\"") && markup.contains("width=\"120\""),
            "{markup}"
        );
    }

    #[test]
    fn heat_cells_not_observable_yet_are_left_blank() {
        let markup = heat_map(
            "cohorts",
            "Cohorts",
            "one cohort",
            &["week 1".into(), "week 2".into()],
            &[(
                "1 Dec (4)".into(),
                vec![
                    HeatCell {
                        share: Some(0.5),
                        text: "50 %".into(),
                    },
                    HeatCell {
                        share: None,
                        text: String::new(),
                    },
                ],
            )],
        )
        .into_string();
        assert_eq!(markup.matches("class=\"cell\"").count(), 1);
        assert!(markup.contains(&format!(
            "fill=\"{}\" data-value=\"0.5\"",
            heat_colour(0.5).hex()
        )));
    }

    #[test]
    fn funnel_bars_are_proportional_to_the_first_step() {
        let markup = funnel_chart(
            "funnel",
            "Funnel",
            &[
                FunnelStep {
                    label: "Views".into(),
                    count: 200,
                },
                FunnelStep {
                    label: "Paid".into(),
                    count: 50,
                },
            ],
        )
        .into_string();
        // The plot is 640 − 150 − 170 = 320 wide: 200 → 320, 50 → 80.
        assert!(markup.contains("width=\"320\""), "{markup}");
        assert!(markup.contains("width=\"80\""), "{markup}");
        assert!(markup.contains("25.0 % of views"), "{markup}");
    }
}
