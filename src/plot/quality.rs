//! `quality_vs_tpf`: the speed/quality trade-off, one point per configuration, with the
//! invalid-transition rate (left) and the greedy match rate (right) against TPF.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::{ConfigPoint, PlotData};

/// X axis description of both panels.
pub(crate) const X_DESC: &str = "TPF (tokens / forward pass)";
/// Y axis description of the left panel.
pub(crate) const Y_INVALID: &str = "invalid transitions (per 1000 tokens)";
/// Y axis description of the right panel.
pub(crate) const Y_GREEDY: &str = "greedy match rate (share of sequences)";

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Quality vs speed trade-off", &data.name),
        c::TITLE_PX,
    )?;
    let (w, _) = area.dim_in_pixel();
    let (left, right) = area.split_horizontally(w / 2);
    panel(
        &left,
        data,
        "Invalid transitions",
        Y_INVALID,
        |p| p.invalid_per_1k,
        false,
    )?;
    panel(
        &right,
        data,
        "Greedy match rate",
        Y_GREEDY,
        |p| p.greedy_match_rate,
        true,
    )
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &PlotData,
    title: &str,
    y_desc: &str,
    value: impl Fn(&ConfigPoint) -> Option<f64>,
    share: bool,
) -> Result<(), String> {
    let area = c::titled(area, title, c::PANEL_TITLE_PX)?;
    let series = c::series(&data.configs);
    let point = |p: &ConfigPoint| value(p).filter(|v| v.is_finite() && p.tpf.is_finite());
    let defined: Vec<(f64, f64)> = data
        .configs
        .iter()
        .filter_map(|p| point(p).map(|v| (p.tpf, v)))
        .collect();

    let (x_lo, x_hi) = c::finite_span(data.configs.iter().map(|p| p.tpf)).unwrap_or((0.0, 1.0));
    // Room on the right for the "k=" labels.
    let x = c::pad(x_lo, x_hi, 0.08, 0.16);
    let y = if share {
        -0.04..1.04
    } else {
        let ys: Vec<f64> = defined.iter().map(|p| p.1).collect();
        let plot_h = c::plot_height(area.dim_in_pixel().1);
        c::y_range_from_zero(&ys, plot_h, c::legend_height(series.len()))
    };
    let mut chart = c::frame(
        &area,
        &Axes {
            x,
            y,
            x_desc: X_DESC,
            y_desc,
            x_int: false,
            y_int: false,
        },
    )?;
    if defined.is_empty() {
        return c::note(&chart, "not defined by this model");
    }

    let mut labels = Vec::new();
    let mut avoid = c::Obstacles::default();
    for (i, (key, pts)) in series.iter().enumerate() {
        let color = c::palette(i);
        let shown: Vec<(f64, f64, usize)> = pts
            .iter()
            .filter_map(|p| point(p).map(|v| (p.tpf, v, p.branches)))
            .collect();
        if shown.is_empty() {
            continue;
        }
        chart
            .draw_series(
                shown
                    .iter()
                    .map(|&(x, y, _)| Circle::new((x, y), c::POINT_PX + 1, color.filled())),
            )
            .map_err(c::err)?
            .label(key.clone())
            .legend(move |p| c::dot_glyph(color, p));
        labels.push(key.clone());
        let xy: Vec<(f64, f64)> = shown.iter().map(|&(x, y, _)| (x, y)).collect();
        avoid.points(&chart, &xy);
    }
    avoid.label_k(&chart, &series, point)?;
    c::legend(&mut chart, &labels, &avoid)
}
