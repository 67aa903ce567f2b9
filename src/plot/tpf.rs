//! `tpf_vs_branches`: tokens per forward pass against the number of lookahead branches k,
//! one line per series, with its 95% band and its speed-up over the k = 0 baseline.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::common::{self as c, Axes};
use super::data::PlotData;

/// X axis description.
pub(crate) const X_DESC: &str = "lookahead branches k (count)";
/// Y axis description.
pub(crate) const Y_DESC: &str = "TPF (tokens / forward pass)";

pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &PlotData,
) -> Result<(), String> {
    let area = c::titled(
        root,
        &c::title("Tokens per forward pass vs lookahead branches", &data.name),
        c::TITLE_PX,
    )?;
    let series = c::series(&data.configs);
    let baselines: Vec<Option<f64>> = series
        .iter()
        .map(|(_, pts)| {
            pts.iter()
                .find(|p| p.branches == 0 && p.tpf.is_finite())
                .map(|p| p.tpf)
        })
        .collect();
    let with_baseline = baselines.iter().filter(|b| b.is_some()).count();
    let n_legend = series.len() + usize::from(with_baseline > 0);

    let max_k = data.configs.iter().map(|p| p.branches).max().unwrap_or(0);
    let min_k = data.configs.iter().map(|p| p.branches).min().unwrap_or(0);
    let x = (min_k as f64 - 0.5)..(max_k as f64 + 0.5);
    let mut ys: Vec<f64> = Vec::new();
    for p in &data.configs {
        ys.push(p.tpf);
        if p.tpf_ci95.is_finite() {
            ys.push(p.tpf_mean + p.tpf_ci95);
            ys.push(p.tpf_mean - p.tpf_ci95);
        }
    }
    let plot_h = c::plot_height(area.dim_in_pixel().1);
    let top = c::legend_height(n_legend) + 2 * c::POINT_LABEL_PX;
    let y = c::y_range_from_zero(&ys, plot_h, top);
    let mut chart = c::frame(
        &area,
        &Axes {
            x: x.clone(),
            y,
            x_desc: X_DESC,
            y_desc: Y_DESC,
            x_int: true,
            y_int: false,
        },
    )?;

    let mut labels = Vec::new();
    let mut avoid = c::Obstacles::default();
    // Bands first, so that every line is drawn over every band.
    for (i, (_, pts)) in series.iter().enumerate() {
        let color = c::palette(i);
        let band: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| p.tpf_mean.is_finite() && p.tpf_ci95.is_finite())
            .map(|p| (p.branches as f64, p.tpf_mean + p.tpf_ci95))
            .chain(
                pts.iter()
                    .rev()
                    .filter(|p| p.tpf_mean.is_finite() && p.tpf_ci95.is_finite())
                    .map(|p| (p.branches as f64, p.tpf_mean - p.tpf_ci95)),
            )
            .collect();
        if band.len() >= 4 {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    color.mix(0.18).filled(),
                )))
                .map_err(c::err)?;
        } else if band.len() == 2 {
            // A single k: the band is an error bar.
            chart
                .draw_series(std::iter::once(PathElement::new(
                    band,
                    color.mix(0.5).stroke_width(8),
                )))
                .map_err(c::err)?;
        }
    }
    // Baselines.
    let mut baseline_labelled = false;
    for (i, base) in baselines.iter().enumerate() {
        let Some(base) = *base else { continue };
        let color = c::palette(i);
        avoid.line(&chart, &[(x.start, base), (x.end, base)]);
        let anno = chart
            .draw_series(DashedLineSeries::new(
                vec![(x.start, base), (x.end, base)],
                14,
                10,
                color.mix(0.8).stroke_width(3),
            ))
            .map_err(c::err)?;
        if !baseline_labelled {
            baseline_labelled = true;
            let grey = RGBColor(90, 90, 90);
            anno.label("k = 0 baseline")
                .legend(move |p| c::line_glyph(grey, Some((9, 5)), p));
            labels.push("k = 0 baseline".to_string());
        }
    }
    // Lines and points.
    for (i, (key, pts)) in series.iter().enumerate() {
        let color = c::palette(i);
        let line: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| p.tpf.is_finite())
            .map(|p| (p.branches as f64, p.tpf))
            .collect();
        c::draw_line(&mut chart, &line, color, None, key)?;
        labels.push(key.clone());
        avoid.line(&chart, &line);
        chart
            .draw_series(
                line.iter()
                    .map(|&p| Circle::new(p, c::POINT_PX, color.filled())),
            )
            .map_err(c::err)?;
    }
    // Speed-ups, once every line is known, so that they avoid all of them.
    for (i, (_, pts)) in series.iter().enumerate() {
        for p in pts {
            let text = match baselines[i] {
                Some(b) if b > 0.0 => format!("{:.2}x", p.tpf / b),
                _ => format!("{:.2}", p.tpf),
            };
            avoid.label(&chart, (p.branches as f64, p.tpf), text, c::palette(i))?;
        }
    }
    if data.configs.is_empty() {
        c::note(&chart, "no configurations")?;
    }
    c::legend(&mut chart, &labels, &avoid)
}
