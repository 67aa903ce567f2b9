//! A panel of `tpf_vs_branches` with k on a linear or log2 axis: each series' interval
//! band, its whiskers across worlds, its k = 0 baseline, its line and its speed-ups.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axes, speedup, whisker, world_legend, BAND, GREY, WORLD};
use crate::plot::common::{self as c, Chart};
use crate::plot::data::ConfigPoint;
use crate::plot::facet::Facet;
use crate::plot::k_axis::KScale;

/// One panel of lines over k: bands first, so that every line is drawn over every band,
/// then the whiskers across worlds, the baselines and the lines; the legend's spot is found
/// before the speed-ups, which keep clear of it and of each other.
pub(super) fn lines<DB: DrawingBackend>(
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

    bands(&mut chart, f, scale, &mut labels)?;
    if worlds {
        world_whiskers(&mut chart, f, scale, &mut labels, &mut avoid)?;
    }
    let baselines = baselines(&mut chart, f, x, &mut labels, &mut avoid)?;
    series_lines(&mut chart, f, scale, &mut labels, &mut avoid)?;
    let spot = c::place_legend(&chart, &labels, &mut avoid)?;
    speedups(&chart, f, scale, &baselines, &mut avoid)?;
    c::draw_legend(&mut chart, spot)
}

/// Each series' 95% interval of TPF as a band (an error bar at a single k).
fn bands<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    f: &Facet,
    scale: &KScale,
    labels: &mut Vec<String>,
) -> Result<(), String> {
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
    Ok(())
}

/// Each point's interval across worlds, as a whisker.
fn world_whiskers<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    f: &Facet,
    scale: &KScale,
    labels: &mut Vec<String>,
    avoid: &mut c::Obstacles,
) -> Result<(), String> {
    let mut first = true;
    for s in &f.series {
        let (color, _) = c::style(s.style);
        for p in &s.points {
            if let Some(w) = p.tpf_world {
                let x = scale.x(p.branches);
                whisker(chart, x, w, color.stroke_width(2), 6)?;
                avoid.line(chart, &[(x, w.0), (x, w.1)]);
            }
        }
        if first {
            first = false;
            world_legend(chart, 6)?;
            labels.push(WORLD.to_string());
        }
    }
    Ok(())
}

/// Each series' k = 0 TPF as a thin dotted line in its colour; returns the baselines.
fn baselines<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    f: &Facet,
    x: Range<f64>,
    labels: &mut Vec<String>,
    avoid: &mut c::Obstacles,
) -> Result<Vec<Option<f64>>, String> {
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
        avoid.line(chart, &[(x.start, base), (x.end, base)]);
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
    Ok(baselines)
}

/// Each series' line and points.
fn series_lines<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    f: &Facet,
    scale: &KScale,
    labels: &mut Vec<String>,
    avoid: &mut c::Obstacles,
) -> Result<(), String> {
    for s in &f.series {
        let (color, pattern) = c::style(s.style);
        let line: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.tpf.is_finite())
            .map(|p| (scale.x(p.branches), p.tpf))
            .collect();
        c::draw_line(chart, &line, color, pattern, &s.label)?;
        labels.push(s.label.clone());
        avoid.line(chart, &line);
        chart
            .draw_series(
                line.iter()
                    .map(|&p| Circle::new(p, c::POINT_PX, color.filled())),
            )
            .map_err(c::err)?;
    }
    Ok(())
}

/// The speed-up labels over each series' baseline; with many series, only each line's
/// last point (its largest k) is labelled.
fn speedups<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    f: &Facet,
    scale: &KScale,
    baselines: &[Option<f64>],
    avoid: &mut c::Obstacles,
) -> Result<(), String> {
    let crowded = f.series.len() > 4;
    for (s, base) in f.series.iter().zip(baselines) {
        let last = s.points.len().saturating_sub(1);
        for (j, p) in s.points.iter().enumerate() {
            if crowded && j != last {
                continue;
            }
            let (color, _) = c::style(s.style);
            avoid.label(
                chart,
                (scale.x(p.branches), p.tpf),
                speedup(p, *base),
                color,
            )?;
        }
    }
    Ok(())
}
