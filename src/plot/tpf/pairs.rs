//! A panel of `tpf_vs_branches` in the categorical layout: one category per series, its
//! k = 0 point beside its LoPA point, each with its interval, and the names under the axis.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{axes, speedup, whisker, world_legend, BAND, CASES_DESC, GREY, WORLD};
use crate::plot::common::{self as c, Chart};
use crate::plot::facet::Facet;
use crate::plot::k_axis;

/// Legend text of the k = 0 points.
const ZERO: &str = "k = 0 (anchor decoder alone)";
/// Legend text of the LoPA points.
const LOPA: &str = "LoPA (its k under the case)";

/// Where a point of category `i` sits (k = 0 left of the category, LoPA right) and its
/// colour.
fn place(i: usize, lopa: bool) -> (f64, RGBColor) {
    let offset = 0.17;
    if lopa {
        (i as f64 + offset, c::palette(0))
    } else {
        (i as f64 - offset, c::palette(7))
    }
}

/// Which legend entries the points drew: k = 0, LoPA, the whiskers across worlds.
#[derive(Default)]
struct Drawn {
    zero: bool,
    lopa: bool,
    worlds: bool,
}

/// One panel of k = 0 / LoPA pairs, one category per series: the points, the legend's
/// spot, then the speed-ups, which keep clear of it, and the category names.
pub(super) fn pairs<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    f: &Facet,
    y: Range<f64>,
) -> Result<(), String> {
    let n = f.series.len().max(1);
    let x = -0.5..(n as f64 - 0.5);
    let blank = |_: &f64| String::new();
    let mut chart = c::frame(area, &axes(x, y.clone(), CASES_DESC, Some(&blank)))?;
    let mut avoid = c::Obstacles::default();
    let drawn = points(&mut chart, f, &mut avoid)?;
    let labels = legend_entries(&mut chart, &drawn)?;
    let spot = c::place_legend(&chart, &labels, &mut avoid)?;
    for (i, s) in f.series.iter().enumerate() {
        let base = s.points.iter().find(|p| p.branches == 0).map(|p| p.tpf);
        for p in &s.points {
            let lopa = p.branches > 0;
            let (xi, color) = place(i, lopa);
            let text = if lopa {
                speedup(p, base)
            } else {
                format!("{:.2}", p.tpf)
            };
            avoid.label(&chart, (xi, p.tpf), text, color)?;
        }
    }
    category_names(area, &chart, f, y.start)?;
    c::draw_legend(&mut chart, spot)
}

/// Each point with its interval over sequences, and its whisker across worlds.
fn points<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    f: &Facet,
    avoid: &mut c::Obstacles,
) -> Result<Drawn, String> {
    let mut drawn = Drawn::default();
    for (i, s) in f.series.iter().enumerate() {
        for p in &s.points {
            let lopa = p.branches > 0;
            let (xi, color) = place(i, lopa);
            if let Some(w) = p.tpf_world {
                whisker(chart, xi, w, color.mix(0.6).stroke_width(2), 12)?;
                if !drawn.worlds {
                    drawn.worlds = true;
                    world_legend(chart, 9)?;
                }
            }
            whisker(chart, xi, (p.tpf_lo, p.tpf_hi), color.stroke_width(4), 7)?;
            if !p.tpf.is_finite() {
                continue;
            }
            avoid.points(chart, &[(xi, p.tpf), (xi, p.tpf_lo), (xi, p.tpf_hi)]);
            let anno = if lopa {
                chart
                    .draw_series([TriangleMarker::new((xi, p.tpf), 11, color.filled())])
                    .map_err(c::err)?
            } else {
                chart
                    .draw_series([Circle::new((xi, p.tpf), c::POINT_PX + 1, color.filled())])
                    .map_err(c::err)?
            };
            if lopa && !drawn.lopa {
                drawn.lopa = true;
                anno.label(LOPA)
                    .legend(move |(x, y)| TriangleMarker::new((x + 17, y), 11, color.filled()));
            } else if !lopa && !drawn.zero {
                drawn.zero = true;
                anno.label(ZERO)
                    .legend(move |(x, y)| Circle::new((x + 17, y), c::POINT_PX, color.filled()));
            }
        }
    }
    Ok(drawn)
}

/// The legend's texts in its order, with a legend-only entry that names the bars.
fn legend_entries<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    drawn: &Drawn,
) -> Result<Vec<String>, String> {
    let mut labels = Vec::new();
    if drawn.zero {
        labels.push(ZERO.to_string());
    }
    if drawn.lopa {
        labels.push(LOPA.to_string());
    }
    labels.push(format!("bars: {BAND}"));
    if drawn.worlds {
        labels.push(WORLD.to_string());
    }
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
        .map_err(c::err)?
        .label(format!("bars: {BAND}"))
        .legend(|(x, y)| {
            EmptyElement::at((x + 17, y))
                + PathElement::new(vec![(0, -9), (0, 9)], GREY.stroke_width(4))
        });
    Ok(labels)
}

/// Category names under the axis: the series, then its k. Long names shrink, then break
/// in two at a separator, so that neighbours never overlap.
fn category_names<'a, DB: DrawingBackend + 'a>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart<'a, DB>,
    f: &Facet,
    y_start: f64,
) -> Result<(), String> {
    let n = f.series.len().max(1);
    let (x_px, y_px) = chart.plotting_area().get_pixel_range();
    let base = area.get_base_pixel();
    let room = (x_px.end - x_px.start) as f64 / n as f64 - 8.0;
    let names: Vec<&str> = f.series.iter().map(|s| s.label.as_str()).collect();
    let (px, lines) = k_axis::category_names(&names, room)?;
    let style = TextStyle::from((c::FONT, px).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, s) in f.series.iter().enumerate() {
        let (cx, _) = chart.backend_coord(&(i as f64, y_start));
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
    Ok(())
}
