//! A panel of `tpf_vs_branches` in the categorical layout: one category per series, its
//! k = 0 point beside its LoPA point, each with its interval, and the names under the axis.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{axes, speedup, whisker, BAND, CASES_DESC, GREY, WORLD};
use crate::plot::common as c;
use crate::plot::facet::Facet;
use crate::plot::k_axis;

/// One panel of k = 0 / LoPA pairs, one category per series.
pub(super) fn pairs<DB: DrawingBackend>(
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
