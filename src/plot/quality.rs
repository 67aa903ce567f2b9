//! `quality_vs_tpf`: the speed/quality trade-off, one point per configuration, joined along
//! k within a series. Every quality measure the models define gets its own panel: invalid
//! transitions and greedy match (markov), log-likelihood (hmm), plan consistency (plan),
//! token errors (field). More than eight series in a measure are split into panels.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::{ConfigPoint, PlotData};
use super::facet;

/// X axis description of every panel.
pub(crate) const X_DESC: &str = "TPF (tokens / forward pass)";
/// Y axis description of the invalid-transition panel.
pub(crate) const Y_INVALID: &str = "invalid transitions / 1000 tokens";
/// Y axis description of the greedy-match panel.
pub(crate) const Y_GREEDY: &str = "share of sequences greedy";

/// How a measure's y axis is ranged.
#[derive(Clone, Copy, PartialEq)]
enum Range01 {
    /// A share: always 0 to 1.
    Share,
    /// A count: from 0.
    Count,
    /// Anything (log-likelihoods are negative): the data's span.
    Free,
}

struct Measure {
    title: &'static str,
    y_desc: &'static str,
    value: fn(&ConfigPoint) -> Option<f64>,
    range: Range01,
}

const MEASURES: [Measure; 5] = [
    Measure {
        title: "Invalid transitions (lower is better)",
        y_desc: Y_INVALID,
        value: |p| p.invalid_per_1k,
        range: Range01::Count,
    },
    Measure {
        title: "Greedy match rate (higher is better)",
        y_desc: Y_GREEDY,
        value: |p| p.greedy_match_rate,
        range: Range01::Share,
    },
    Measure {
        title: "Log-likelihood (higher is better)",
        y_desc: "nats per sequence (mean)",
        value: |p| p.log_likelihood_mean,
        range: Range01::Free,
    },
    Measure {
        title: "Plan consistency (higher is better)",
        y_desc: "share of sequences in one plan",
        value: |p| p.plan_consistent_rate,
        range: Range01::Share,
    },
    Measure {
        title: "Token errors (lower is better)",
        y_desc: "token errors / 1000 tokens",
        value: |p| p.token_errors_per_1k,
        range: Range01::Count,
    },
];

/// The measures (indices into [`MEASURES`]) a configuration is judged by: what its model
/// family defines as its own quality, recognised by the columns only that family fills.
fn judged_by(p: &ConfigPoint) -> &'static [usize] {
    if p.token_errors_per_1k.is_some() {
        &[4] // field
    } else if p.plan_consistent_rate.is_some() {
        &[3] // plan
    } else if p.greedy_match_rate.is_some() {
        &[0, 1] // markov
    } else if p.log_likelihood_mean.is_some() {
        &[2] // hmm
    } else if p.invalid_per_1k.is_some() {
        &[0]
    } else {
        &[]
    }
}

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Quality vs speed trade-off", &data.name),
        c::TITLE_PX,
    )?;
    let (x_lo, x_hi) = c::finite_span(data.configs.iter().map(|p| p.tpf)).unwrap_or((0.0, 1.0));
    // Room on the right for the "k=" labels.
    let x = c::pad(x_lo, x_hi, 0.08, 0.16);
    let point =
        |m: &Measure, p: &ConfigPoint| (m.value)(p).filter(|v| v.is_finite() && p.tpf.is_finite());
    // (measure, facet) per panel.
    let mut panels = Vec::new();
    for (mi, m) in MEASURES.iter().enumerate() {
        let judged: Vec<ConfigPoint> = data
            .configs
            .iter()
            .filter(|p| judged_by(p).contains(&mi) && point(m, p).is_some())
            .cloned()
            .collect();
        if !judged.is_empty() {
            panels.push((mi, judged));
        }
    }
    if panels.is_empty() {
        let chart = c::frame(&area, &axes(x, 0.0..1.0, Y_INVALID))?;
        return c::note(&chart, "quality is not defined by this model");
    }
    let series_of: Vec<_> = panels
        .iter()
        .map(|(mi, judged)| (*mi, facet::facets(c::series(judged))))
        .collect();
    let n: usize = series_of.iter().map(|(_, f)| f.len()).sum();
    let areas = facet::grid(&area, n);
    let panel_h = areas.first().map_or(0, |a| a.dim_in_pixel().1);
    let mut areas = areas.into_iter();
    for (mi, facets) in &series_of {
        let m = &MEASURES[*mi];
        let ys: Vec<f64> = facets
            .iter()
            .flat_map(|f| f.series.iter().flat_map(|s| s.points.iter()))
            .filter_map(|p| point(m, p))
            .collect();
        let most = facets.iter().map(|f| f.series.len()).max().unwrap_or(0);
        let plot_h = c::plot_height(panel_h.saturating_sub(2 * c::PANEL_TITLE_PX));
        let y = match m.range {
            // A share never leaves [0, 1]: the legend finds the emptier half instead.
            Range01::Share => -0.03..1.05,
            Range01::Count => c::y_range_from_zero(&ys, plot_h, c::legend_height(most)),
            Range01::Free => {
                let (lo, hi) = c::finite_span(ys.iter().copied()).unwrap_or((0.0, 1.0));
                c::headroom(c::pad(lo, hi, 0.08, 0.08), plot_h, c::legend_height(most))
            }
        };
        for f in facets {
            let Some(panel) = areas.next() else { break };
            let title = if f.title.is_empty() {
                m.title.to_string()
            } else {
                format!("{}: {}", f.title, m.title)
            };
            let panel = c::titled(&panel, &title, c::PANEL_TITLE_PX)?;
            let mut chart = c::frame(&panel, &axes(x.clone(), y.clone(), m.y_desc))?;
            let mut labels = Vec::new();
            let mut avoid = c::Obstacles::default();
            for s in &f.series {
                let (color, pattern) = c::style(s.style);
                let xy: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .filter_map(|p| point(m, p).map(|v| (p.tpf, v)))
                    .collect();
                if xy.is_empty() {
                    continue;
                }
                c::draw_line(&mut chart, &xy, color, pattern, &s.label)?;
                chart
                    .draw_series(
                        xy.iter()
                            .map(|&p| Circle::new(p, c::POINT_PX + 1, color.filled())),
                    )
                    .map_err(c::err)?;
                labels.push(s.label.clone());
                avoid.line(&chart, &xy);
            }
            let spot = c::place_legend(&chart, &labels, &mut avoid)?;
            avoid.label_k(&chart, &f.series, |p| point(m, p))?;
            c::draw_legend(&mut chart, spot)?;
        }
    }
    Ok(())
}

fn axes(x: Range<f64>, y: Range<f64>, y_desc: &'static str) -> Axes<'static> {
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
