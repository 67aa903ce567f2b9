//! `tfo_map`: the token filling order of traced sequences: which round committed each
//! generated position, and which positions came from a lookahead branch.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::{PlotData, Trace, Via};

/// X axis description.
pub(crate) const X_DESC: &str = "position (generated index)";
/// Y axis description.
pub(crate) const Y_DESC: &str = "round (forward pass)";

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Token filling order", &data.name),
        c::TITLE_PX,
    )?;
    if data.traces.is_empty() {
        let chart = c::frame(
            &area,
            &Axes {
                x: 0.0..1.0,
                y: 1.5..0.5,
                x_desc: X_DESC,
                y_desc: Y_DESC,
                x_int: true,
                y_int: true,
                x_fmt: None,
            },
        )?;
        return c::note(&chart, "no trace recorded");
    }
    let panels = area.split_evenly((1, data.traces.len()));
    for (panel_area, trace) in panels.iter().zip(&data.traces) {
        panel(panel_area, trace)?;
    }
    Ok(())
}

fn panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, t: &Trace) -> Result<(), String> {
    let area = c::titled(
        area,
        &format!(
            "k = {} (config {}, seq {}, {} rounds)",
            t.branches, t.config, t.seq, t.rounds
        ),
        c::PANEL_TITLE_PX,
    )?;
    let rounds = t
        .cells
        .iter()
        .map(|cell| cell.round)
        .max()
        .unwrap_or(0)
        .max(t.rounds)
        .max(1);
    let positions = t
        .cells
        .iter()
        .map(|cell| cell.position + 1)
        .max()
        .unwrap_or(0)
        .max(t.positions)
        .max(1);
    let mut chart = c::frame(
        &area,
        &Axes {
            x: 0.0..positions as f64,
            y: (rounds as f64 + 0.5)..0.5,
            x_desc: X_DESC,
            y_desc: Y_DESC,
            x_int: true,
            y_int: true,
            x_fmt: None,
        },
    )?;
    let color = |round: u64| {
        if rounds <= 1 {
            c::viridis(0.5)
        } else {
            c::viridis((round.max(1) - 1) as f64 / (rounds - 1) as f64)
        }
    };
    chart
        .draw_series(t.cells.iter().map(|cell| {
            let (x, y) = (cell.position as f64, cell.round as f64);
            Rectangle::new(
                [(x, y - 0.5), (x + 1.0, y + 0.5)],
                color(cell.round).filled(),
            )
        }))
        .map_err(c::err)?
        .label("anchor fill")
        .legend(|(x, y)| {
            let swatch = |i: i32, t: f64| {
                Rectangle::new([(i * 7, -9), (i * 7 + 7, 9)], c::viridis(t).filled())
            };
            EmptyElement::at((x, y))
                + swatch(0, 0.0)
                + swatch(1, 0.25)
                + swatch(2, 0.5)
                + swatch(3, 0.75)
                + swatch(4, 1.0)
        });

    // Marker size: a fraction of a cell, but always visible.
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let cell_px = (f64::from(pw) / positions as f64).min(f64::from(ph) / rounds as f64);
    let r = (cell_px * 0.38).clamp(3.0, 9.0).round() as i32;
    chart
        .draw_series(
            t.cells
                .iter()
                .filter(|cell| matches!(cell.via, Via::Lookahead | Via::Completion))
                .map(|cell| {
                    Circle::new(
                        (cell.position as f64 + 0.5, cell.round as f64),
                        r,
                        BLACK.filled(),
                    )
                }),
        )
        .map_err(c::err)?
        .label("lookahead token")
        .legend(|(x, y)| Circle::new((x + 17, y), 6, BLACK.filled()));

    let mut avoid = c::Obstacles::default();
    let centres: Vec<(f64, f64)> = t
        .cells
        .iter()
        .map(|cell| (cell.position as f64 + 0.5, cell.round as f64))
        .collect();
    avoid.points(&chart, &centres);
    let labels = ["anchor fill".to_string(), "lookahead token".to_string()];
    c::legend(&mut chart, &labels, &avoid)
}
