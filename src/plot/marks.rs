//! Marks placed around the data: point labels that avoid each other and the data, the
//! legend in the least crowded spot, and legend glyphs.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::common::{
    darker, err, legend_height, legend_px, style, Chart, FONT, LEGEND_GLYPH, LEGEND_MARGIN,
    LINE_PX, POINT_LABEL_PX, POINT_PX,
};
use super::data::ConfigPoint;
use super::facet::Series;

/// The cost of covering a label or the legend: more than any count of covered points a
/// label may accept.
const OVERLAP: usize = 1000;

/// What point labels and the legend should not cover, in backend pixels.
#[derive(Default)]
pub(crate) struct Obstacles {
    points: Vec<(i32, i32)>,
    boxes: Vec<[i32; 4]>,
}

impl Obstacles {
    /// Adds data points (data coordinates; non-finite ones are ignored).
    pub(crate) fn points<DB: DrawingBackend>(&mut self, chart: &Chart<DB>, pts: &[(f64, f64)]) {
        self.points.extend(
            pts.iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|p| chart.backend_coord(p)),
        );
    }

    /// Adds a polyline, sampled every few pixels.
    pub(crate) fn line<DB: DrawingBackend>(&mut self, chart: &Chart<DB>, pts: &[(f64, f64)]) {
        let px: Vec<(i32, i32)> = pts
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|p| chart.backend_coord(p))
            .collect();
        self.points.extend(px.iter().copied());
        for w in px.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            let len = (x1 - x0).abs().max((y1 - y0).abs());
            let steps = (len / 4).clamp(1, 2000);
            self.points.extend(
                (1..steps).map(|i| (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)),
            );
        }
    }

    /// How much a box `[x0, y0, x1, y1]` would cover: points inside, and (much worse)
    /// labels it overlaps.
    fn cost(&self, b: [i32; 4]) -> usize {
        let inside = |&(x, y): &(i32, i32)| x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
        let overlaps = |o: &&[i32; 4]| o[0] < b[2] && b[0] < o[2] && o[1] < b[3] && b[1] < o[3];
        self.points.iter().filter(|p| inside(p)).count()
            + OVERLAP * self.boxes.iter().filter(overlaps).count()
    }

    /// Writes `text` next to the data point `at`, on the side where it covers the least,
    /// and remembers where it went.
    /// Labels every configuration's point with its k, coloured by its series; `value` gives
    /// a configuration's y (none: no point, no label) and x is always its TPF.
    pub(crate) fn label_k<DB: DrawingBackend>(
        &mut self,
        chart: &Chart<DB>,
        series: &[Series],
        value: impl Fn(&ConfigPoint) -> Option<f64>,
    ) -> Result<(), String> {
        for s in series {
            for p in &s.points {
                if let Some(v) = value(p) {
                    let color = style(s.style).0;
                    self.label(chart, (p.tpf, v), format!("k={}", p.branches), color)?;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn label<DB: DrawingBackend>(
        &mut self,
        chart: &Chart<DB>,
        at: (f64, f64),
        text: String,
        color: RGBColor,
    ) -> Result<(), String> {
        if !(at.0.is_finite() && at.1.is_finite()) {
            return Ok(());
        }
        let (px, py) = chart.backend_coord(&at);
        let (w, h) = (FONT, POINT_LABEL_PX)
            .into_font()
            .box_size(&text)
            .map_err(err)?;
        let (w, h) = (w as i32, h as i32);
        let g = POINT_PX + 5;
        let candidates = [
            (-w / 2, -g - h),
            (-w / 2, g),
            (g + 2, -h / 2),
            (-g - 2 - w, -h / 2),
            (g - 3, -g - h + 3),
            (g - 3, g - 3),
            (-g + 3 - w, -g - h + 3),
            (-g + 3 - w, g - 3),
        ];
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let mut best = (usize::MAX, candidates[0], [0; 4]);
        for (dx, dy) in candidates {
            let b = [px + dx, py + dy, px + dx + w, py + dy + h];
            let outside = b[0] < xr.start || b[2] > xr.end || b[1] < yr.start || b[3] > yr.end;
            let cost = self.cost([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2])
                + if outside { 10_000 } else { 0 };
            if cost < best.0 {
                best = (cost, (dx, dy), b);
            }
        }
        let (cost, (dx, dy), b) = best;
        if cost >= OVERLAP {
            // Every spot would cover another label, the legend or leave the plot: drop it.
            return Ok(());
        }
        self.boxes.push(b);
        let mut style = TextStyle::from((FONT, POINT_LABEL_PX).into_font())
            .pos(Pos::new(HPos::Left, VPos::Top));
        style.color = darker(color).to_backend_color();
        chart
            .plotting_area()
            .draw(
                &(EmptyElement::at(at)
                    + Rectangle::new(
                        [(dx - 3, dy - 2), (dx + w + 3, dy + h + 3)],
                        WHITE.mix(0.75).filled(),
                    )
                    + Text::new(text, (dx, dy), style)),
            )
            .map_err(err)
    }
}

/// Draws the legend of `chart` (its `labels`, in series order) where it covers the least of
/// `avoid`: a corner if possible.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    labels: &[String],
    avoid: &Obstacles,
) -> Result<(), String> {
    let mut avoid = Obstacles {
        points: avoid.points.clone(),
        boxes: avoid.boxes.clone(),
    };
    let spot = place_legend(chart, labels, &mut avoid)?;
    draw_legend(chart, spot)
}

/// Where a legend goes, chosen before the point labels so that they can keep clear of it.
pub(crate) struct LegendSpot {
    pos: SeriesLabelPosition,
    px: u32,
}

/// Picks the legend's spot (the least covered of eight) and adds its box to `avoid`.
pub(crate) fn place_legend<DB: DrawingBackend>(
    chart: &Chart<DB>,
    labels: &[String],
    avoid: &mut Obstacles,
) -> Result<Option<LegendSpot>, String> {
    if labels.is_empty() {
        return Ok(None);
    }
    let px = legend_px(labels.len());
    let font = (FONT, px).into_font();
    let mut w = 0;
    for l in labels {
        w = w.max(font.box_size(l).map_err(err)?.0);
    }
    let w = (w + LEGEND_GLYPH + 2 * LEGEND_MARGIN + 10) as i32;
    let h = legend_height(labels.len()) as i32 - 10;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (aw, ah) = (xr.end - xr.start, yr.end - yr.start);
    use SeriesLabelPosition::*;
    let spots = [
        (UpperLeft, 5, 5),
        (UpperRight, aw - w - 5, 5),
        (LowerRight, aw - w - 5, ah - h - 5),
        (LowerLeft, 5, ah - h - 5),
        (UpperMiddle, (aw - w) / 2, 5),
        (LowerMiddle, (aw - w) / 2, ah - h - 5),
        (MiddleRight, aw - w - 5, (ah - h) / 2),
        (MiddleLeft, 5, (ah - h) / 2),
    ];
    let mut best = (usize::MAX, UpperLeft, [0; 4]);
    for (pos, x0, y0) in spots {
        let (x0, y0) = (xr.start + x0, yr.start + y0);
        let b = [x0 - 10, y0 - 10, x0 + w + 10, y0 + h + 10];
        let n = avoid.cost(b);
        if n < best.0 {
            best = (n, pos, b);
        }
    }
    avoid.boxes.push(best.2);
    Ok(Some(LegendSpot { pos: best.1, px }))
}

/// Draws the legend of `chart` at `spot` (nothing without one).
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    spot: Option<LegendSpot>,
) -> Result<(), String> {
    let Some(LegendSpot { pos, px }) = spot else {
        return Ok(());
    };
    chart
        .configure_series_labels()
        .position(pos)
        .margin(LEGEND_MARGIN)
        .legend_area_size(LEGEND_GLYPH)
        .background_style(WHITE.mix(0.92))
        .border_style(RGBColor(150, 150, 150))
        .label_font((FONT, px))
        .draw()
        .map_err(err)
}

/// Dash pattern number `i` as (dash, gap) in pixels; `None` (the first) is solid.
pub(crate) fn dash(i: usize) -> Option<(i32, i32)> {
    const D: [Option<(i32, i32)>; 4] = [None, Some((16, 9)), Some((5, 6)), Some((26, 7))];
    D[i % D.len()]
}

/// A legend glyph: a short thick line in `c`, dashed as `pattern`.
pub(crate) fn line_glyph(
    c: RGBColor,
    pattern: Option<(i32, i32)>,
    (x, y): (i32, i32),
) -> DashedPathElement<std::vec::IntoIter<(i32, i32)>, i32> {
    let (d, g) = pattern.unwrap_or((100, 1));
    DashedPathElement::new(vec![(x, y), (x + 34, y)], d, g, c.stroke_width(LINE_PX + 1))
}

/// Draws a line through `pts` in `c`, dashed as `pattern`, with a legend entry `label`.
pub(crate) fn draw_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    pts: &[(f64, f64)],
    c: RGBColor,
    pattern: Option<(i32, i32)>,
    label: &str,
) -> Result<(), String> {
    let style = c.stroke_width(LINE_PX);
    let anno = match pattern {
        None => chart.draw_series(LineSeries::new(pts.to_vec(), style)),
        Some((d, g)) => chart.draw_series(DashedLineSeries::new(pts.to_vec(), d, g, style)),
    }
    .map_err(err)?;
    anno.label(label).legend(move |p| line_glyph(c, pattern, p));
    Ok(())
}
