//! `compute_vs_tpf`: what the speed costs in computation: positions processed per generated
//! token against TPF, one point per configuration, joined along k within a series.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::PlotData;

/// X axis description.
pub(crate) const X_DESC: &str = "TPF (tokens / forward pass)";
/// Y axis description.
pub(crate) const Y_DESC: &str = "branch tokens per token (positions processed / token)";

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Compute cost vs tokens per forward pass", &data.name),
        c::TITLE_PX,
    )?;
    let series = c::series(&data.configs);
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
    let plot_h = c::plot_height(area.dim_in_pixel().1);
    let y = c::y_range_from_zero(&ys, plot_h, c::legend_height(series.len()));
    let mut chart = c::frame(
        &area,
        &Axes {
            x,
            y,
            x_desc: X_DESC,
            y_desc: Y_DESC,
            x_int: false,
            y_int: false,
        },
    )?;
    if points.is_empty() {
        return c::note(&chart, "no configurations");
    }

    let mut labels = Vec::new();
    let mut avoid = c::Obstacles::default();
    for (i, (key, pts)) in series.iter().enumerate() {
        let color = c::palette(i);
        let shown: Vec<(f64, f64, usize)> = pts
            .iter()
            .map(|p| (p.tpf, p.branch_tokens_per_token, p.branches))
            .filter(|&(x, y, _)| ok(x, y))
            .collect();
        if shown.is_empty() {
            continue;
        }
        let line: Vec<(f64, f64)> = shown.iter().map(|&(x, y, _)| (x, y)).collect();
        c::draw_line(&mut chart, &line, color, None, key)?;
        labels.push(key.clone());
        chart
            .draw_series(
                line.iter()
                    .map(|&p| Circle::new(p, c::POINT_PX, color.filled())),
            )
            .map_err(c::err)?;
        avoid.line(&chart, &line);
    }
    avoid.label_k(&chart, &series, |p| Some(p.branch_tokens_per_token))?;
    c::legend(&mut chart, &labels, &avoid)
}
