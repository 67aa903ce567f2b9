//! `tokens_per_round`: how many tokens a round commits as generation progresses, one line per
//! configuration.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::PlotData;

/// X axis description.
pub(crate) const X_DESC: &str = "generation progress (share of positions filled)";
/// Y axis description.
pub(crate) const Y_DESC: &str = "tokens per round (tokens / forward pass)";

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
    // Configurations in order; those without bins are left out.
    let mut ids: Vec<usize> = data.configs.iter().map(|p| p.config).collect();
    for b in &data.bins {
        if !ids.contains(&b.config) {
            ids.push(b.config);
        }
    }
    // Colour by k and dash by series when both vary, so that many lines stay apart.
    let series = c::series(&data.configs);
    let mut ks: Vec<usize> = data.configs.iter().map(|p| p.branches).collect();
    ks.sort_unstable();
    ks.dedup();
    let look = |i: usize, id: usize| -> (RGBColor, Option<(i32, i32)>) {
        let Some(p) = data.configs.iter().find(|p| p.config == id) else {
            return (c::palette(i), None);
        };
        let s = series
            .iter()
            .position(|(_, v)| v.iter().any(|q| q.config == id))
            .unwrap_or(0);
        if ks.len() > 1 {
            let r = ks.iter().position(|&k| k == p.branches).unwrap_or(0);
            (c::palette(r), c::dash(s))
        } else {
            (c::palette(s), None)
        }
    };
    let curves: Vec<Curve> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let label = data
                .configs
                .iter()
                .find(|p| p.config == id)
                .map(|p| p.label())
                .unwrap_or_else(|| format!("config {id}"));
            let (color, pattern) = look(i, id);
            Curve {
                color,
                pattern,
                label,
                pts: curve(data, id),
            }
        })
        .filter(|c| !c.pts.is_empty())
        .collect();

    let ys: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.pts.iter().map(|p| p.1))
        .collect();
    let plot_h = c::plot_height(area.dim_in_pixel().1);
    let y = c::y_range_from_zero(&ys, plot_h, c::legend_height(curves.len()));
    let mut chart = c::frame(
        &area,
        &Axes {
            x: 0.0..1.0,
            y,
            x_desc: X_DESC,
            y_desc: Y_DESC,
            x_int: false,
            y_int: false,
        },
    )?;
    if curves.is_empty() {
        return c::note(&chart, "no progress bins recorded");
    }

    let mut labels = Vec::new();
    let mut avoid = c::Obstacles::default();
    for Curve {
        color,
        pattern,
        label,
        pts,
    } in &curves
    {
        c::draw_line(&mut chart, pts, *color, *pattern, label)?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))
            .map_err(c::err)?;
        labels.push(label.clone());
        avoid.line(&chart, pts);
    }
    c::legend(&mut chart, &labels, &avoid)
}
