//! `tpf_vs_branches`: tokens per forward pass against the number of lookahead branches k,
//! one line per series with the 95% interval of its TPF as a band, and its speed-up over
//! the k = 0 baseline. Cases that each hold one k are drawn as k = 0 / LoPA pairs on a
//! categorical axis; more than eight series are split into panels with shared axes.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::common::{self as c, Axes, Chart};
use super::data::{ConfigPoint, PlotData};
use super::facet::{self, Facet};
use super::k_axis::{self, KScale};

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

/// One panel of lines over k.
fn lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    f: &Facet,
    scale: &KScale,
    ks: &[usize],
    y: Range<f64>,
    worlds: bool,
) -> Result<(), String> {
    let xs: Vec<f64> = ks.iter().map(|&k| scale.x(k)).collect();
    let (lo, hi) = c::finite_span(xs.iter().copied()).unwrap_or((0.0, 1.0));
    let x = (lo - 0.5)..(hi + 0.5);
    let fmt = |v: &f64| scale.tick(*v);
    let mut chart = c::frame(area, &axes(x.clone(), y, scale.desc(), Some(&fmt)))?;
    let mut labels = Vec::new();
    let mut avoid = c::Obstacles::default();

    // Bands first, so that every line is drawn over every band.
    for (i, s) in f.series.iter().enumerate() {
        let (color, _) = c::style(s.style);
        let ok = |p: &&&ConfigPoint| p.tpf_lo.is_finite() && p.tpf_hi.is_finite();
        let band: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(ok)
            .map(|p| (scale.x(p.branches), p.tpf_hi))
            .chain(
                s.points
                    .iter()
                    .rev()
                    .filter(ok)
                    .map(|p| (scale.x(p.branches), p.tpf_lo)),
            )
            .collect();
        let anno = if band.len() >= 4 {
            chart
                .draw_series([Polygon::new(band, color.mix(0.18).filled())])
                .map_err(c::err)?
        } else if band.len() == 2 {
            // A single k: the band is an error bar.
            chart
                .draw_series([PathElement::new(band, color.mix(0.5).stroke_width(8))])
                .map_err(c::err)?
        } else {
            continue;
        };
        if i == 0 {
            anno.label(BAND).legend(|(x, y)| {
                Rectangle::new([(x, y - 8), (x + 34, y + 8)], GREY.mix(0.25).filled())
            });
            labels.push(BAND.to_string());
        }
    }
    if worlds {
        let mut first = true;
        for s in &f.series {
            let (color, _) = c::style(s.style);
            for p in &s.points {
                if let Some(w) = p.tpf_world {
                    let x = scale.x(p.branches);
                    whisker(&mut chart, x, w, color.stroke_width(2), 6)?;
                    avoid.line(&chart, &[(x, w.0), (x, w.1)]);
                }
            }
            if first {
                first = false;
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                    .map_err(c::err)?
                    .label(WORLD)
                    .legend(|(x, y)| {
                        EmptyElement::at((x + 17, y))
                            + PathElement::new(vec![(0, -9), (0, 9)], GREY.stroke_width(2))
                            + PathElement::new(vec![(-6, -9), (6, -9)], GREY.stroke_width(2))
                            + PathElement::new(vec![(-6, 9), (6, 9)], GREY.stroke_width(2))
                    });
                labels.push(WORLD.to_string());
            }
        }
    }
    // Baselines: thin dotted lines in the series' colour.
    let baselines: Vec<Option<f64>> = f
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .find(|p| p.branches == 0 && p.tpf.is_finite())
                .map(|p| p.tpf)
        })
        .collect();
    let mut baseline_labelled = false;
    for (s, base) in f.series.iter().zip(&baselines) {
        let Some(base) = *base else { continue };
        let (color, _) = c::style(s.style);
        avoid.line(&chart, &[(x.start, base), (x.end, base)]);
        let anno = chart
            .draw_series(DashedLineSeries::new(
                vec![(x.start, base), (x.end, base)],
                4,
                7,
                color.mix(0.7).stroke_width(2),
            ))
            .map_err(c::err)?;
        if !baseline_labelled {
            baseline_labelled = true;
            anno.label("k = 0 baseline")
                .legend(move |p| c::line_glyph(GREY, Some((4, 7)), p));
            labels.push("k = 0 baseline".to_string());
        }
    }
    // Lines and points.
    for s in &f.series {
        let (color, pattern) = c::style(s.style);
        let line: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.tpf.is_finite())
            .map(|p| (scale.x(p.branches), p.tpf))
            .collect();
        c::draw_line(&mut chart, &line, color, pattern, &s.label)?;
        labels.push(s.label.clone());
        avoid.line(&chart, &line);
        chart
            .draw_series(
                line.iter()
                    .map(|&p| Circle::new(p, c::POINT_PX, color.filled())),
            )
            .map_err(c::err)?;
    }
    // The legend's spot first, then the speed-ups, which keep clear of it and of each other.
    let spot = c::place_legend(&chart, &labels, &mut avoid)?;
    // With many series, only each line's last point (its largest k) is labelled.
    let crowded = f.series.len() > 4;
    for (s, base) in f.series.iter().zip(&baselines) {
        let last = s.points.len().saturating_sub(1);
        for (j, p) in s.points.iter().enumerate() {
            if crowded && j != last {
                continue;
            }
            let (color, _) = c::style(s.style);
            avoid.label(
                &chart,
                (scale.x(p.branches), p.tpf),
                speedup(p, *base),
                color,
            )?;
        }
    }
    c::draw_legend(&mut chart, spot)
}

/// One panel of k = 0 / LoPA pairs, one category per series.
fn pairs<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    f: &Facet,
    y: Range<f64>,
) -> Result<(), String> {
    let n = f.series.len().max(1);
    let x = -0.5..(n as f64 - 0.5);
    let blank = |_: &f64| String::new();
    let mut chart = c::frame(area, &axes(x, y.clone(), CASES_DESC, Some(&blank)))?;
    let zero_color = c::palette(7);
    let lopa_color = c::palette(0);
    let offset = 0.17;
    let mut avoid = c::Obstacles::default();
    let mut labels = Vec::new();
    let mut drawn = (false, false, false);
    for (i, s) in f.series.iter().enumerate() {
        for p in &s.points {
            let lopa = p.branches > 0;
            let xi = i as f64 + if lopa { offset } else { -offset };
            let color = if lopa { lopa_color } else { zero_color };
            if let Some(w) = p.tpf_world {
                whisker(&mut chart, xi, w, color.mix(0.6).stroke_width(2), 12)?;
                if !drawn.2 {
                    drawn.2 = true;
                    chart
                        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                        .map_err(c::err)?
                        .label(WORLD)
                        .legend(|(x, y)| {
                            EmptyElement::at((x + 17, y))
                                + PathElement::new(vec![(0, -9), (0, 9)], GREY.stroke_width(2))
                                + PathElement::new(vec![(-9, -9), (9, -9)], GREY.stroke_width(2))
                                + PathElement::new(vec![(-9, 9), (9, 9)], GREY.stroke_width(2))
                        });
                }
            }
            whisker(
                &mut chart,
                xi,
                (p.tpf_lo, p.tpf_hi),
                color.stroke_width(4),
                7,
            )?;
            if !p.tpf.is_finite() {
                continue;
            }
            avoid.points(&chart, &[(xi, p.tpf), (xi, p.tpf_lo), (xi, p.tpf_hi)]);
            let anno = if lopa {
                chart
                    .draw_series([TriangleMarker::new((xi, p.tpf), 11, color.filled())])
                    .map_err(c::err)?
            } else {
                chart
                    .draw_series([Circle::new((xi, p.tpf), c::POINT_PX + 1, color.filled())])
                    .map_err(c::err)?
            };
            if lopa && !drawn.1 {
                drawn.1 = true;
                anno.label("LoPA (its k under the case)")
                    .legend(move |(x, y)| {
                        TriangleMarker::new((x + 17, y), 11, lopa_color.filled())
                    });
            } else if !lopa && !drawn.0 {
                drawn.0 = true;
                anno.label("k = 0 (anchor decoder alone)")
                    .legend(move |(x, y)| {
                        Circle::new((x + 17, y), c::POINT_PX, zero_color.filled())
                    });
            }
        }
    }
    if drawn.0 {
        labels.push("k = 0 (anchor decoder alone)".to_string());
    }
    if drawn.1 {
        labels.push("LoPA (its k under the case)".to_string());
    }
    labels.push(format!("bars: {BAND}"));
    if drawn.2 {
        labels.push(WORLD.to_string());
    }
    // A legend-only entry that names the bars.
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
        .map_err(c::err)?
        .label(format!("bars: {BAND}"))
        .legend(|(x, y)| {
            EmptyElement::at((x + 17, y))
                + PathElement::new(vec![(0, -9), (0, 9)], GREY.stroke_width(4))
        });
    let spot = c::place_legend(&chart, &labels, &mut avoid)?;
    for (i, s) in f.series.iter().enumerate() {
        let base = s.points.iter().find(|p| p.branches == 0).map(|p| p.tpf);
        for p in &s.points {
            let lopa = p.branches > 0;
            let xi = i as f64 + if lopa { offset } else { -offset };
            let text = if lopa {
                speedup(p, base)
            } else {
                format!("{:.2}", p.tpf)
            };
            let color = if lopa { lopa_color } else { zero_color };
            avoid.label(&chart, (xi, p.tpf), text, color)?;
        }
    }
    // Category names under the axis: the series, then its k. Long names shrink, then break
    // in two at a separator, so that neighbours never overlap.
    let (x_px, y_px) = chart.plotting_area().get_pixel_range();
    let base = area.get_base_pixel();
    let room = (x_px.end - x_px.start) as f64 / n as f64 - 8.0;
    let names: Vec<&str> = f.series.iter().map(|s| s.label.as_str()).collect();
    let (px, lines) = k_axis::category_names(&names, room)?;
    let style = TextStyle::from((c::FONT, px).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, s) in f.series.iter().enumerate() {
        let (cx, _) = chart.backend_coord(&(i as f64, y.start));
        let k = s.points.iter().map(|p| p.branches).max().unwrap_or(0);
        let mut dy = 8;
        for line in lines[i]
            .iter()
            .map(String::as_str)
            .chain([format!("k = {k}").as_str()])
        {
            area.draw_text(line, &style, (cx - base.0, y_px.end - base.1 + dy))
                .map_err(c::err)?;
            dy += px as i32 + 2;
        }
    }
    c::draw_legend(&mut chart, spot)
}
