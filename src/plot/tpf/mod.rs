//! `tpf_vs_branches`: tokens per forward pass against the number of lookahead branches k,
//! one line per series with the 95% interval of its TPF as a band, and its speed-up over
//! the k = 0 baseline. Cases that each hold one k are drawn as k = 0 / LoPA pairs on a
//! categorical axis; more than eight series are split into panels with shared axes.
//!
//! `lines` draws a panel of lines over k, `pairs` a panel of the categorical layout.

mod lines;
mod pairs;

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes, Chart};
use super::data::{ConfigPoint, PlotData};
use super::facet;
use super::k_axis::{self, KScale};
use lines::lines;
use pairs::pairs;

/// X axis description (linear k).
pub(crate) const X_DESC: &str = "lookahead branches k (count)";
/// Y axis description.
pub(crate) const Y_DESC: &str = "TPF (tokens / forward pass)";
/// Legend text of the band.
pub(crate) const BAND: &str = "95% interval of TPF (over sequences)";
/// Legend text of the whiskers across worlds.
pub(crate) const WORLD: &str = "95% interval across worlds";
/// X axis description of the categorical layout.
pub(crate) const CASES_DESC: &str = "case (k = 0 beside LoPA)";

const GREY: RGBColor = RGBColor(90, 90, 90);

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Tokens per forward pass vs lookahead branches", &data.name),
        c::TITLE_PX,
    )?;
    let all = c::series(&data.configs);
    let categorical = k_axis::categorical(&all);
    let ks: Vec<usize> = data.configs.iter().map(|p| p.branches).collect();
    let scale = KScale::new(&ks, data.k_axis);
    let facets = facet::facets(all);
    let worlds = data.configs.iter().any(|p| p.tpf_world.is_some());

    let mut ys: Vec<f64> = Vec::new();
    for p in &data.configs {
        ys.extend([p.tpf, p.tpf_lo, p.tpf_hi]);
        if let Some((lo, hi)) = p.tpf_world {
            ys.extend([lo, hi]);
        }
    }
    let panels = facet::grid(&area, facets.len());
    let panel_h = panels.first().map_or(0, |p| p.dim_in_pixel().1);
    let most = facets.iter().map(|f| f.series.len()).max().unwrap_or(0);
    let legend_rows = if categorical {
        2 + usize::from(worlds) + 1
    } else {
        most + 2 + usize::from(worlds)
    };
    let top = c::legend_height(legend_rows) + 2 * c::POINT_LABEL_PX;
    let y = c::y_range_from_zero(&ys, c::plot_height(panel_h), top);

    if data.configs.is_empty() {
        let chart = c::frame(&area, &axes(0.0..1.0, y, X_DESC, None))?;
        return c::note(&chart, "no configurations");
    }
    for (panel, f) in panels.iter().zip(&facets) {
        let panel = if f.title.is_empty() {
            panel.clone()
        } else {
            c::titled(panel, &f.title, c::PANEL_TITLE_PX)?
        };
        if categorical {
            pairs(&panel, f, y.clone())?;
        } else {
            lines(&panel, f, &scale, &ks, y.clone(), worlds)?;
        }
    }
    Ok(())
}

/// The axes of a panel: TPF over `x`.
fn axes<'s>(
    x: Range<f64>,
    y: Range<f64>,
    x_desc: &'s str,
    x_fmt: Option<&'s dyn Fn(&f64) -> String>,
) -> Axes<'s> {
    Axes {
        x,
        y,
        x_desc,
        y_desc: Y_DESC,
        x_int: true,
        y_int: false,
        x_fmt,
    }
}

/// The speed-up label of `p` over `base`, or its TPF without a baseline.
fn speedup(p: &ConfigPoint, base: Option<f64>) -> String {
    match base {
        Some(b) if b > 0.0 => format!("{:.2}x", p.tpf / b),
        _ => format!("{:.2}", p.tpf),
    }
}

/// The legend entry of the across-worlds whiskers: a grey bar with caps `cap` pixels wide,
/// as the panel draws them.
fn world_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    cap: i32,
) -> Result<(), String> {
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
        .map_err(c::err)?
        .label(WORLD)
        .legend(move |(x, y)| {
            EmptyElement::at((x + 17, y))
                + PathElement::new(vec![(0, -9), (0, 9)], GREY.stroke_width(2))
                + PathElement::new(vec![(-cap, -9), (cap, -9)], GREY.stroke_width(2))
                + PathElement::new(vec![(-cap, 9), (cap, 9)], GREY.stroke_width(2))
        });
    Ok(())
}

/// Vertical bars from `lo` to `hi` at `x`, with caps `cap` pixels wide.
fn whisker<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    x: f64,
    (lo, hi): (f64, f64),
    style: ShapeStyle,
    cap: i32,
) -> Result<(), String> {
    if !(lo.is_finite() && hi.is_finite()) {
        return Ok(());
    }
    let cap_at =
        |y: f64| EmptyElement::at((x, y)) + PathElement::new(vec![(-cap, 0), (cap, 0)], style);
    chart
        .draw_series([PathElement::new(vec![(x, lo), (x, hi)], style)])
        .map_err(c::err)?;
    chart
        .draw_series([cap_at(lo), cap_at(hi)])
        .map_err(c::err)?;
    Ok(())
}
