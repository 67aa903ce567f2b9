//! `compute_vs_tpf`: what the speed costs in computation: positions processed per generated
//! token against TPF, one point per configuration, joined along k within a series.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::PlotData;
use super::facet;

/// X axis description.
pub(crate) const X_DESC: &str = "TPF (tokens / forward pass)";
/// Y axis description.
pub(crate) const Y_DESC: &str = "branch tokens per token";

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Compute cost vs tokens per forward pass", &data.name),
        c::TITLE_PX,
    )?;
    let facets = facet::facets(c::series(&data.configs));
    let ok = |x: f64, y: f64| x.is_finite() && y.is_finite();
    let points: Vec<(f64, f64)> = data
        .configs
        .iter()
        .map(|p| (p.tpf, p.branch_tokens_per_token))
        .filter(|&(x, y)| ok(x, y))
        .collect();
    let (x_lo, x_hi) = c::finite_span(points.iter().map(|p| p.0)).unwrap_or((0.0, 1.0));
    let x = c::pad(x_lo, x_hi, 0.08, 0.16);
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let panels = facet::grid(&area, facets.len());
    let panel_h = panels.first().map_or(0, |p| p.dim_in_pixel().1);
    let most = facets.iter().map(|f| f.series.len()).max().unwrap_or(0);
    let y = c::y_range_from_zero(&ys, c::plot_height(panel_h), c::legend_height(most));
    if points.is_empty() {
        let chart = c::frame(&area, &axes(x, y))?;
        return c::note(&chart, "no configurations");
    }
    for (panel, f) in panels.iter().zip(&facets) {
        let panel = if f.title.is_empty() {
            panel.clone()
        } else {
            c::titled(panel, &f.title, c::PANEL_TITLE_PX)?
        };
        let mut chart = c::frame(&panel, &axes(x.clone(), y.clone()))?;
        let mut labels = Vec::new();
        let mut avoid = c::Obstacles::default();
        for s in &f.series {
            let (color, pattern) = c::style(s.style);
            let line: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|p| (p.tpf, p.branch_tokens_per_token))
                .filter(|&(x, y)| ok(x, y))
                .collect();
            if line.is_empty() {
                continue;
            }
            c::draw_line(&mut chart, &line, color, pattern, &s.label)?;
            labels.push(s.label.clone());
            chart
                .draw_series(
                    line.iter()
                        .map(|&p| Circle::new(p, c::POINT_PX, color.filled())),
                )
                .map_err(c::err)?;
            avoid.line(&chart, &line);
        }
        let spot = c::place_legend(&chart, &labels, &mut avoid)?;
        avoid.label_k(&chart, &f.series, |p| Some(p.branch_tokens_per_token))?;
        c::draw_legend(&mut chart, spot)?;
    }
    Ok(())
}

fn axes(x: std::ops::Range<f64>, y: std::ops::Range<f64>) -> Axes<'static> {
    Axes {
        x,
        y,
        x_desc: X_DESC,
        y_desc: Y_DESC,
        x_int: false,
        y_int: false,
        x_fmt: None,
    }
}
