//! `tokens_per_round`: how many tokens a round commits as generation progresses, one line per
//! configuration.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::PlotData;
use super::facet;

/// X axis description.
pub(crate) const X_DESC: &str = "generation progress (share of positions filled)";
/// Y axis description.
pub(crate) const Y_DESC: &str = "tokens per round";

/// One line of the figure.
struct Curve {
    color: RGBColor,
    pattern: Option<(i32, i32)>,
    label: String,
    pts: Vec<(f64, f64)>,
}

/// The (bin centre, tokens per round) points of configuration `config`, ordered by bin.
fn curve(data: &PlotData, config: usize) -> Vec<(f64, f64)> {
    let mut bins: Vec<_> = data
        .bins
        .iter()
        .filter(|b| b.config == config && b.rounds > 0)
        .collect();
    bins.sort_by_key(|b| b.bin);
    bins.iter()
        .map(|b| ((b.lo + b.hi) / 2.0, b.tokens as f64 / b.rounds as f64))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Tokens committed per round over the generation", &data.name),
        c::TITLE_PX,
    )?;
    let mut ks: Vec<usize> = data.configs.iter().map(|p| p.branches).collect();
    ks.sort_unstable();
    ks.dedup();
    // Panels: the facets of the series, each cut into groups of at most eight lines.
    let facets = facet::facets(c::series(&data.configs));
    let mut panels: Vec<(String, Vec<Curve>)> = Vec::new();
    for f in &facets {
        let mut curves = Vec::new();
        for (si, s) in f.series.iter().enumerate() {
            for p in &s.points {
                let r = ks.iter().position(|&k| k == p.branches).unwrap_or(0);
                // Colour by k and dash by series when both vary, so that lines stay apart;
                // with more series than dashes, one style per line.
                let (color, pattern) = if ks.len() > 1 && f.series.len() <= 4 {
                    (c::palette(r), c::dash(si))
                } else if ks.len() > 1 {
                    c::style(si * ks.len() + r)
                } else {
                    c::style(s.style)
                };
                let label = if f.title.is_empty() {
                    p.label()
                } else {
                    let k = format!("k={}", p.branches);
                    format!("{}, {k}", s.label)
                };
                curves.push(Curve {
                    color,
                    pattern,
                    label,
                    pts: curve(data, p.config),
                });
            }
        }
        curves.retain(|c| !c.pts.is_empty());
        let parts = curves.len().div_ceil(facet::MAX_SERIES).max(1);
        let mut curves = curves.into_iter();
        for part in 0..parts {
            let title = match (f.title.is_empty(), parts) {
                (true, 1) => String::new(),
                (true, _) => format!("{}/{parts}", part + 1),
                (false, 1) => f.title.clone(),
                (false, _) => format!("{} ({}/{parts})", f.title, part + 1),
            };
            panels.push((title, curves.by_ref().take(facet::MAX_SERIES).collect()));
        }
    }
    // Bins of configurations missing from summary.csv are not drawn: they have no label.
    let ys: Vec<f64> = panels
        .iter()
        .flat_map(|(_, cs)| cs.iter().flat_map(|c| c.pts.iter().map(|p| p.1)))
        .collect();
    let areas = facet::grid(&area, panels.len());
    let panel_h = areas.first().map_or(0, |a| a.dim_in_pixel().1);
    let most = panels.iter().map(|(_, cs)| cs.len()).max().unwrap_or(0);
    let y = c::y_range_from_zero(&ys, c::plot_height(panel_h), c::legend_height(most));
    if ys.is_empty() {
        let chart = c::frame(&area, &axes(y))?;
        return c::note(&chart, "no progress bins recorded");
    }
    for (panel, (title, curves)) in areas.iter().zip(&panels) {
        let panel = if title.is_empty() {
            panel.clone()
        } else {
            c::titled(panel, title, c::PANEL_TITLE_PX)?
        };
        let mut chart = c::frame(&panel, &axes(y.clone()))?;
        let mut labels = Vec::new();
        let mut avoid = c::Obstacles::default();
        for Curve {
            color,
            pattern,
            label,
            pts,
        } in curves
        {
            c::draw_line(&mut chart, pts, *color, *pattern, label)?;
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))
                .map_err(c::err)?;
            labels.push(label.clone());
            avoid.line(&chart, pts);
        }
        c::legend(&mut chart, &labels, &avoid)?;
    }
    Ok(())
}

fn axes(y: std::ops::Range<f64>) -> Axes<'static> {
    Axes {
        x: 0.0..1.0,
        y,
        x_desc: X_DESC,
        y_desc: Y_DESC,
        x_int: false,
        y_int: false,
        x_fmt: None,
    }
}
