//! Shared look and helpers of the figures: fonts, colours, axis ranges, chart frames and
//! legend placement.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::ConfigPoint;

pub(crate) use super::marks::{
    dash, draw_legend, draw_line, legend, line_glyph, place_legend, Obstacles,
};

/// A chart with two real axes.
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The registered font family.
pub(crate) const FONT: &str = "sans-serif";
/// Figure title size (px).
pub(crate) const TITLE_PX: u32 = 40;
/// Panel title size (px).
pub(crate) const PANEL_TITLE_PX: u32 = 30;
/// Axis description size (px).
pub(crate) const DESC_PX: u32 = 28;
/// Tick label size (px).
pub(crate) const TICK_PX: u32 = 24;
/// Legend text size (px), for a few entries.
pub(crate) const LEGEND_PX: u32 = 24;
/// Point label size (px).
pub(crate) const POINT_LABEL_PX: u32 = 22;
/// Width of data lines (px).
pub(crate) const LINE_PX: u32 = 3;
/// Radius of data points (px).
pub(crate) const POINT_PX: i32 = 7;
/// Background of the plotting area.
pub(crate) const PLOT_BG: RGBColor = RGBColor(240, 240, 245);

const MARGIN: u32 = 20;
const MARGIN_RIGHT: u32 = 40;
const X_LABEL_AREA: u32 = 90;
const Y_LABEL_AREA: u32 = 115;
/// Width of a legend glyph (px).
pub(crate) const LEGEND_GLYPH: u32 = 44;
/// Margin inside the legend box (px).
pub(crate) const LEGEND_MARGIN: u32 = 12;

/// Maps any plotters error to a message.
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Tableau 10: distinct, colour-blind-friendly enough, readable on light grey.
pub(crate) fn palette(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

/// A darker shade of `c`, for text drawn in a series' colour.
pub(crate) fn darker(c: RGBColor) -> RGBColor {
    let f = |v: u8| (f64::from(v) * 0.7).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// Viridis-like colour map, `t` in [0, 1] (clamped; NaN gives the first colour).
pub(crate) fn viridis(t: f64) -> RGBColor {
    const A: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (A.len() - 1) as f64;
    let i = (x.floor() as usize).min(A.len() - 2);
    let f = x - i as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round().clamp(0.0, 255.0) as u8;
    let (a, b) = (A[i], A[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A figure title: what it shows, and the scenario name.
pub(crate) fn title(what: &str, name: &str) -> String {
    if name.trim().is_empty() {
        what.to_string()
    } else {
        format!("{what}: {name}")
    }
}

/// Draws `text` centred at the top of `area` and returns the area below it.
pub(crate) fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: u32,
) -> Result<DrawingArea<DB, Shift>, String> {
    let style = TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    let (w, _) = area.dim_in_pixel();
    let (_, h) = area.estimate_text_size(text, &style).map_err(err)?;
    let top = 14;
    area.draw_text(text, &style, ((w / 2) as i32, top))
        .map_err(err)?;
    let (_, below) = area.split_vertically(h as i32 + 2 * top);
    Ok(below)
}

/// The smallest and largest finite values, if any.
pub(crate) fn finite_span(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// `lo..hi` widened by `below` and `above` (shares of the span); a zero-width or
/// non-finite range is widened to a usable one.
pub(crate) fn pad(lo: f64, hi: f64, below: f64, above: f64) -> Range<f64> {
    let (lo, hi) = match (lo.is_finite(), hi.is_finite()) {
        (true, true) => (lo.min(hi), lo.max(hi)),
        (true, false) => (lo, lo),
        (false, true) => (hi, hi),
        (false, false) => (0.0, 1.0),
    };
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        let half = if lo.abs() > 1e-9 { lo.abs() * 0.1 } else { 0.5 };
        return (lo - half)..(hi + half);
    }
    (lo - span * below)..(hi + span * above)
}

/// The span of the data (from 0 when all values are non-negative) padded by 8%, with
/// `top_px` pixels left free at the top of a plotting area `plot_px` high.
pub(crate) fn y_range_from_zero(values: &[f64], plot_px: u32, top_px: u32) -> Range<f64> {
    let (lo, hi) = finite_span(values.iter().copied()).unwrap_or((0.0, 1.0));
    let lo = lo.min(0.0);
    if lo == 0.0 && hi <= 0.0 {
        // All zero (a count that never happened): an axis from 0, not around it.
        return headroom(0.0..1.0, plot_px, top_px);
    }
    let r = pad(lo, hi, 0.0, 0.08);
    let r = if lo < 0.0 { pad(lo, hi, 0.08, 0.08) } else { r };
    headroom(r, plot_px, top_px)
}

/// Extends the top of `r` so that its old top lands `top_px` pixels below the top of a
/// plotting area `plot_px` high (at most half of it).
pub(crate) fn headroom(r: Range<f64>, plot_px: u32, top_px: u32) -> Range<f64> {
    let plot = f64::from(plot_px.max(1));
    let need = f64::from(top_px).min(plot * 0.5);
    let span = r.end - r.start;
    r.start..(r.start + span * plot / (plot - need))
}

/// Height (px) of the plotting area that [`frame`] builds on an area `area_h` high.
pub(crate) fn plot_height(area_h: u32) -> u32 {
    area_h.saturating_sub(2 * MARGIN + X_LABEL_AREA)
}

/// Font size for a legend with `n` entries.
pub(crate) fn legend_px(n: usize) -> u32 {
    match n {
        0..=8 => LEGEND_PX,
        9..=14 => 20,
        15..=20 => 18,
        _ => 16,
    }
}

/// Pixel height of a legend with `n` entries (plus a gap below it).
pub(crate) fn legend_height(n: usize) -> u32 {
    let line = f64::from(legend_px(n)) / 1.24 * 1.25;
    (line * n as f64).ceil() as u32 + 2 * LEGEND_MARGIN + 20
}

/// What the axes of a chart show.
pub(crate) struct Axes<'s> {
    pub x: Range<f64>,
    pub y: Range<f64>,
    pub x_desc: &'s str,
    pub y_desc: &'s str,
    /// Label only whole-number ticks on x.
    pub x_int: bool,
    /// Label only whole-number ticks on y.
    pub y_int: bool,
    /// A tick formatter for x that replaces the default one (k scales, categories).
    pub x_fmt: Option<&'s dyn Fn(&f64) -> String>,
}

/// A tick label: up to 4 decimals, trailing zeros trimmed.
pub(crate) fn tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.abs() < 1e-9 {
        return "0".to_string();
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn int_tick(v: f64) -> String {
    if v.is_finite() && (v - v.round()).abs() < 1e-6 {
        tick(v.round())
    } else {
        String::new()
    }
}

fn label_count(r: &Range<f64>, int: bool, most: usize) -> usize {
    if int {
        ((r.end - r.start).abs().floor() as usize + 1).clamp(2, most)
    } else {
        most
    }
}

/// Builds a chart on `area`: light grey plotting area, white mesh, labelled axes.
pub(crate) fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    axes: &Axes,
) -> Result<Chart<'a, DB>, String> {
    // Small multiples get smaller axis text, so that descriptions fit beside their panel.
    let small = area.dim_in_pixel().1 < 600;
    let (tick_px, desc_px, y_area) = if small {
        (20, 22, Y_LABEL_AREA - 15)
    } else {
        (TICK_PX, DESC_PX, Y_LABEL_AREA)
    };
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(y_area)
        .build_cartesian_2d(axes.x.clone(), axes.y.clone())
        .map_err(err)?;
    chart.plotting_area().fill(&PLOT_BG).map_err(err)?;
    // About one tick label per 120 px across and 80 px up.
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    // Custom ticks (k values, categories) are short: they may sit closer.
    let x_px = if axes.x_fmt.is_some() { 60 } else { 120 };
    let x_most = (pw as usize / x_px).clamp(3, 16);
    let y_most = (ph as usize / 60).clamp(4, 10);
    let fx = |v: &f64| match axes.x_fmt {
        Some(f) => f(v),
        None if axes.x_int => int_tick(*v),
        None => tick(*v),
    };
    let fy = |v: &f64| if axes.y_int { int_tick(*v) } else { tick(*v) };
    chart
        .configure_mesh()
        .bold_line_style(WHITE.stroke_width(2))
        .light_line_style(RGBColor(248, 248, 251))
        .axis_style(RGBColor(90, 90, 90).stroke_width(2))
        .x_labels(label_count(&axes.x, axes.x_int, x_most))
        .y_labels(label_count(&axes.y, axes.y_int, y_most))
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style((FONT, tick_px))
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .axis_desc_style((FONT, desc_px))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Writes `text` in the middle of the plotting area.
pub(crate) fn note<DB: DrawingBackend>(chart: &Chart<DB>, text: &str) -> Result<(), String> {
    let (x, y) = (chart.x_range(), chart.y_range());
    let style = TextStyle::from((FONT, DESC_PX).into_font())
        .pos(Pos::new(HPos::Center, VPos::Center))
        .color(&RGBColor(80, 80, 80));
    chart
        .plotting_area()
        .draw(&Text::new(
            text.to_string(),
            ((x.start + x.end) / 2.0, (y.start + y.end) / 2.0),
            style,
        ))
        .map_err(err)
}

/// Colour and dash of style number `i`: ten colours, then the ten again with the next dash,
/// so that no two of the first forty series look alike.
pub(crate) fn style(i: usize) -> (RGBColor, Option<(i32, i32)>) {
    (palette(i % 10), dash(i / 10))
}

/// The configurations grouped by [`ConfigPoint::series_key`] ("all" when empty), in order of
/// first appearance, each sorted by k.
pub(crate) fn series(configs: &[ConfigPoint]) -> Vec<(String, Vec<&ConfigPoint>)> {
    let mut out: Vec<(String, Vec<&ConfigPoint>)> = Vec::new();
    for c in configs {
        let key = c.series_key();
        let key = if key.is_empty() {
            "all".to_string()
        } else {
            key
        };
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(c),
            None => out.push((key, vec![c])),
        }
    }
    for (_, v) in &mut out {
        v.sort_by_key(|c| (c.branches, c.config));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_widens_degenerate_ranges() {
        assert_eq!(pad(2.0, 2.0, 0.1, 0.1), 1.8..2.2);
        assert_eq!(pad(0.0, 0.0, 0.1, 0.1), -0.5..0.5);
        assert_eq!(pad(f64::NAN, f64::NAN, 0.0, 0.0), 0.0..1.0);
        assert_eq!(pad(0.0, 10.0, 0.1, 0.2), -1.0..12.0);
    }

    #[test]
    fn headroom_frees_the_top() {
        let r = headroom(0.0..10.0, 800, 200);
        assert!((r.end - 10.0 * 800.0 / 600.0).abs() < 1e-9);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(2.0), "2");
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(tick(-0.0), "0");
        assert_eq!(int_tick(2.5), "");
        assert_eq!(int_tick(3.0000000001), "3");
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
    }
}
