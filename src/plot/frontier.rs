//! `tfo_frontier`: what each filling rule trades: TPF against the world's quality measure,
//! one point per configuration labelled by decoder (and LoPA k or the oracle), with the
//! Pareto front (the decoder configurations no other one beats on both axes) drawn as a
//! line; oracle configurations are drawn as reference triangles, outside the front.
//! Drawn only when the configurations use more than one decoder.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::{ConfigPoint, PlotData};

/// X axis description.
pub(crate) const X_DESC: &str = "TPF (tokens / forward pass)";

/// The legend entry of the front, which the tests look for in the SVG.
pub(crate) const FRONT_LABEL: &str = "Pareto front";
/// The legend's key to the markers.
const WITHOUT_LOPA: &str = "hollow: without lookahead (k = 0)";
const WITH_LOPA: &str = "filled: with LoPA";
const ORACLE: &str = "triangle: oracle (reference)";

/// A quality measure: its axis title, whether higher is better, and its value.
type Measure = (&'static str, bool, fn(&ConfigPoint) -> Option<f64>);

/// The measures in the order they are preferred: an error rate where the world defines one
/// (it counts what parallel filling breaks), then a plan share, then the likelihood.
const MEASURES: [Measure; 4] = [
    (
        "invalid transitions per 1k tokens (lower is better)",
        false,
        |p| p.invalid_per_1k,
    ),
    (
        "incorrect tokens per 1k tokens (lower is better)",
        false,
        |p| p.token_errors_per_1k,
    ),
    (
        "share of sequences inside one plan (higher is better)",
        true,
        |p| p.plan_consistent_rate,
    ),
    (
        "mean log-likelihood per sequence (higher is better)",
        true,
        |p| p.log_likelihood_mean,
    ),
];

/// Whether the figure is drawn: the configurations use at least two decoders.
pub(crate) fn applies(data: &PlotData) -> bool {
    let mut kinds = data.configs.iter().filter_map(|p| p.decoder.as_deref());
    let Some(first) = kinds.next() else {
        return false;
    };
    kinds.any(|k| k != first)
}

/// The first measure every configuration defines.
fn measure(configs: &[ConfigPoint]) -> Option<&'static Measure> {
    MEASURES
        .iter()
        .find(|(_, _, f)| configs.iter().all(|p| f(p).is_some_and(f64::is_finite)))
}

/// The point's name: decoder, then the search that drove it.
fn label(p: &ConfigPoint) -> String {
    let decoder = p.decoder.clone().unwrap_or_else(|| p.label());
    match p.search.as_deref() {
        Some("oracle") => format!("{decoder} + oracle"),
        _ if p.branches > 0 => format!("{decoder} + LoPA k={}", p.branches),
        _ => decoder,
    }
}

/// Indices of the non-dominated points (higher x is better; y as `higher`), by rising x.
/// A point is dominated when another is at least as good on both axes and better on one.
pub(crate) fn pareto(points: &[(f64, f64)], higher: bool) -> Vec<usize> {
    let better_y = |a: f64, b: f64| if higher { a > b } else { a < b };
    let mut front: Vec<usize> = (0..points.len())
        .filter(|&i| {
            let (x, y) = points[i];
            !points.iter().any(|&(qx, qy)| {
                qx >= x && (qy == y || better_y(qy, y)) && (qx > x || better_y(qy, y))
            })
        })
        .collect();
    front.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0));
    // Equal points are both non-dominated: draw one.
    front.dedup_by(|a, b| points[*a] == points[*b]);
    front
}

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Filling rules: speed against quality", &data.name),
        c::TITLE_PX,
    )?;
    let Some(&(y_desc, higher, value)) = measure(&data.configs) else {
        let axes = axes(0.0..1.0, 0.0..1.0, "quality");
        let chart = c::frame(&area, &axes)?;
        return c::note(&chart, "no quality measure defined for every configuration");
    };
    let points: Vec<(f64, f64)> = data
        .configs
        .iter()
        .map(|p| (p.tpf, value(p).unwrap_or(f64::NAN)))
        .collect();
    let (x_lo, x_hi) = c::finite_span(points.iter().map(|p| p.0)).unwrap_or((0.0, 1.0));
    let x = c::pad(x_lo, x_hi, 0.08, 0.12);
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let plot_h = c::plot_height(area.dim_in_pixel().1);
    let y = if ys.iter().all(|&v| v >= 0.0) {
        c::y_range_from_zero(&ys, plot_h, c::legend_height(1))
    } else {
        let (lo, hi) = c::finite_span(ys.iter().copied()).unwrap_or((0.0, 1.0));
        c::pad(lo, hi, 0.08, 0.12)
    };
    let mut chart = c::frame(&area, &axes(x, y, y_desc))?;
    // The oracle is a reference: it picks its order by search, whose forward passes its TPF
    // does not count, so the front is drawn over the decoders alone.
    let is_oracle = |p: &ConfigPoint| p.search.as_deref() == Some("oracle");
    let rules: Vec<usize> = (0..points.len())
        .filter(|&i| !is_oracle(&data.configs[i]))
        .collect();
    let rule_points: Vec<(f64, f64)> = rules.iter().map(|&i| points[i]).collect();
    let front: Vec<usize> = pareto(&rule_points, higher)
        .into_iter()
        .map(|j| rules[j])
        .collect();
    let line: Vec<(f64, f64)> = front.iter().map(|&i| points[i]).collect();
    let front_color = RGBColor(40, 40, 40);
    c::draw_line(&mut chart, &line, front_color, c::dash(1), FRONT_LABEL)?;
    let mut avoid = c::Obstacles::default();
    avoid.line(&chart, &line);
    avoid.points(&chart, &points);
    // One colour per decoder, in order of first appearance, with a legend entry each;
    // hollow without LoPA, filled with it, a triangle for the oracle.
    let mut kinds: Vec<String> = Vec::new();
    let mut colors = Vec::with_capacity(points.len());
    let mut legend = vec![FRONT_LABEL.to_string()];
    for (p, &at) in data.configs.iter().zip(&points) {
        let kind = p.decoder.clone().unwrap_or_default();
        let (i, first) = match kinds.iter().position(|k| *k == kind) {
            Some(i) => (i, false),
            None => {
                kinds.push(kind.clone());
                (kinds.len() - 1, true)
            }
        };
        let color = c::palette(i);
        colors.push(color);
        let r = c::POINT_PX;
        let anno = if is_oracle(p) {
            chart.draw_series(std::iter::once(TriangleMarker::new(
                at,
                r + 3,
                color.filled(),
            )))
        } else if p.branches > 0 {
            chart.draw_series(std::iter::once(Circle::new(at, r, color.filled())))
        } else {
            chart.draw_series(std::iter::once(Circle::new(at, r, color.stroke_width(3))))
        }
        .map_err(c::err)?;
        if first {
            anno.label(kind.clone())
                .legend(move |(x, y)| Circle::new((x + 17, y), r, color.filled()));
            legend.push(kind);
        }
    }
    // Colour names the decoder; the marker says how it searched, which needs a key too.
    let grey = RGBColor(110, 110, 110);
    let r = c::POINT_PX;
    let none = std::iter::empty::<Circle<(f64, f64), i32>>;
    chart
        .draw_series(none())
        .map_err(c::err)?
        .label(WITHOUT_LOPA)
        .legend(move |(x, y)| Circle::new((x + 17, y), r, grey.stroke_width(3)));
    chart
        .draw_series(none())
        .map_err(c::err)?
        .label(WITH_LOPA)
        .legend(move |(x, y)| Circle::new((x + 17, y), r, grey.filled()));
    legend.extend([WITHOUT_LOPA.to_string(), WITH_LOPA.to_string()]);
    if data.configs.iter().any(is_oracle) {
        chart
            .draw_series(none())
            .map_err(c::err)?
            .label(ORACLE)
            .legend(move |(x, y)| TriangleMarker::new((x + 17, y), r + 3, grey.filled()));
        legend.push(ORACLE.to_string());
    }
    for &i in &front {
        chart
            .draw_series(std::iter::once(Circle::new(
                points[i],
                c::POINT_PX + 6,
                front_color.stroke_width(2),
            )))
            .map_err(c::err)?;
    }
    let spot = c::place_legend(&chart, &legend, &mut avoid)?;
    // Name the points that matter most: the front and the oracle.
    for (i, (p, &at)) in data.configs.iter().zip(&points).enumerate() {
        if front.contains(&i) || is_oracle(p) {
            avoid.label(&chart, at, label(p), c::darker(colors[i]))?;
        }
    }
    c::draw_legend(&mut chart, spot)
}

fn axes(x: std::ops::Range<f64>, y: std::ops::Range<f64>, y_desc: &str) -> Axes<'_> {
    Axes {
        x,
        y,
        x_desc: X_DESC,
        y_desc,
        x_int: false,
        y_int: false,
        x_fmt: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_keeps_the_non_dominated_points_by_rising_tpf() {
        // Lower y is better: (3, 0) dominates (2, 1) and (3, 2); (8, 5) is faster.
        let pts = [(2.0, 1.0), (3.0, 0.0), (3.0, 2.0), (8.0, 5.0), (1.0, 0.0)];
        assert_eq!(pareto(&pts, false), vec![1, 3]);
        // Higher y is better: now (3, 2) beats (3, 0), and (8, 5) beats everything.
        assert_eq!(pareto(&pts, true), vec![3]);
        // Equal points appear once.
        assert_eq!(pareto(&[(1.0, 1.0), (1.0, 1.0)], false), vec![0]);
    }
}
