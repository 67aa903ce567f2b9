//! `throughput_vs_branches`: predicted tokens per second against k, one line per system
//! layout (case and other swept keys), the best k of each marked; beside it, where the time
//! of that best round goes (compute- or memory-bound roofline, collectives, overhead).
//!
//! Drawn only for results with `[system]` columns in `summary.csv`, from that file alone.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::common::{self as c, err};
use super::SIZE;

/// The figure's name.
pub const FIGURE: &str = "throughput_vs_branches";

const FONT: &str = "sans-serif";

/// The largest time (ms) or rate (tokens/s) read: any a run writes, and room for a margin.
const MAX_VALUE: f64 = 1e300;

/// One configuration's predicted times, from `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedPoint {
    /// Series: case and swept keys other than k.
    pub series: String,
    /// The layout, e.g. `h200 TP1 BP8 two_phase`.
    pub system: String,
    /// Effective k.
    pub branches: usize,
    /// Mean per-sequence tokens per second.
    pub tps_avg: f64,
    /// Round time parts, ms: compute-bound, memory-bound, collectives, overhead.
    pub parts: [f64; 4],
}

const PARTS: [&str; 4] = [
    "compute-bound",
    "memory-bound",
    "communication",
    "fixed overhead",
];
const PART_COLORS: [RGBColor; 4] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(150, 150, 150),
];

/// The timed configurations of `summary.csv`; empty when it has no `[system]` columns.
pub fn load(summary: &Path) -> Result<Vec<TimedPoint>> {
    let bytes = crate::input::read(summary, crate::input::RESULTS)
        .with_context(|| format!("cannot read {}", summary.display()))?;
    load_from(summary, &bytes)
}

/// Like [`load`], from `bytes`, the content of `summary` (named in errors).
pub fn load_from(summary: &Path, bytes: &[u8]) -> Result<Vec<TimedPoint>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read {}", summary.display()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(system), Some(end)) = (col("system"), col("sequences")) else {
        return Ok(Vec::new());
    };
    let keys: Vec<usize> = (1..end)
        .filter(|&i| &headers[i] != "search.branches")
        .collect();
    let need =
        |name: &str| col(name).ok_or_else(|| anyhow!("{}: no column `{name}`", summary.display()));
    let [k, tps, c, m, n, o] = [
        "branches",
        "tps_avg",
        "compute_ms",
        "memory_ms",
        "comm_ms",
        "overhead_ms",
    ]
    .map(need);
    let (k, tps, c, m, n, o) = (k?, tps?, c?, m?, n?, o?);
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("cannot read {}", summary.display()))?;
        if row[system].is_empty() {
            continue;
        }
        // Times and rates a run writes are finite and not negative; an infinite TPS made
        // the axis infinite, and drawing it never ended.
        let num = |j: usize| -> Result<f64> {
            row[j]
                .parse::<f64>()
                .ok()
                .filter(|x| (0.0..=MAX_VALUE).contains(x))
                .ok_or_else(|| {
                    anyhow!(
                        "{}:{}: column `{}`: `{}` is not valid; a run writes a finite \
                         number in [0, {MAX_VALUE:e}] here",
                        summary.display(),
                        i + 2,
                        &headers[j],
                        &row[j]
                    )
                })
        };
        let whole = |j: usize| -> Result<usize> {
            row[j]
                .parse::<u16>()
                .ok()
                .filter(|&b| b <= crate::state::MAX_BRANCHES)
                .map(usize::from)
                .ok_or_else(|| {
                    anyhow!(
                        "{}:{}: column `{}`: `{}` is not valid; a run writes a whole number \
                         in [0, {}] here",
                        summary.display(),
                        i + 2,
                        &headers[j],
                        &row[j],
                        crate::state::MAX_BRANCHES
                    )
                })
        };
        let series: Vec<String> = keys
            .iter()
            .filter(|&&j| !row[j].is_empty())
            .map(|&j| {
                if &headers[j] == "case" {
                    row[j].to_string()
                } else {
                    format!("{}={}", &headers[j], &row[j])
                }
            })
            .collect();
        out.push(TimedPoint {
            series: if series.is_empty() {
                row[system].to_string()
            } else {
                series.join(", ")
            },
            system: row[system].to_string(),
            branches: whole(k)?,
            tps_avg: num(tps)?,
            parts: [num(c)?, num(m)?, num(n)?, num(o)?],
        });
    }
    Ok(out)
}

/// Series in order of first appearance, each sorted by k.
fn series(points: &[TimedPoint]) -> Vec<(String, Vec<&TimedPoint>)> {
    let mut out: Vec<(String, Vec<&TimedPoint>)> = Vec::new();
    for p in points {
        match out.iter_mut().find(|(s, _)| *s == p.series) {
            Some((_, v)) => v.push(p),
            None => out.push((p.series.clone(), vec![p])),
        }
    }
    for (_, v) in &mut out {
        v.sort_by_key(|p| p.branches);
    }
    out
}

/// The highest-throughput point of a series (the smaller k on ties).
fn best<'a>(pts: &[&'a TimedPoint]) -> &'a TimedPoint {
    pts.iter()
        .copied()
        .fold(pts[0], |b, p| if p.tps_avg > b.tps_avg { p } else { b })
}

/// Draws the figure into `dir` as PNG and SVG when `summary.csv` in `results` is timed;
/// returns the files written.
pub fn render(results: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let summary = results.join("summary.csv");
    let bytes = crate::input::read(&summary, crate::input::RESULTS)
        .with_context(|| format!("cannot read {}", summary.display()))?;
    write(&load_from(&summary, &bytes)?, dir)
}

/// Draws the figure of `points` (from [`load_from`]) into `dir`; nothing when there are none.
/// Reading and drawing are apart so that a damaged `summary.csv` is refused before
/// any other figure is redrawn.
pub fn write(points: &[TimedPoint], dir: &Path) -> Result<Vec<PathBuf>> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    super::register_font()?;
    let mut written = Vec::new();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("{FIGURE}.{ext}"));
        let tmp = dir.join(format!(".{FIGURE}.partial.{ext}"));
        let _tracked = crate::partial::track(&tmp);
        let drawn = if ext == "png" {
            finish(BitMapBackend::new(&tmp, SIZE).into_drawing_area(), points)
        } else {
            finish(SVGBackend::new(&tmp, SIZE).into_drawing_area(), points)
        };
        if let Err(message) = drawn {
            let _ = std::fs::remove_file(&tmp);
            return Err(anyhow!(
                "cannot render {FIGURE} to {}: {message}",
                path.display()
            ));
        }
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

fn finish<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    points: &[TimedPoint],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    draw(&root, points)?;
    root.present().map_err(err)
}

/// Draws both panels on `root`.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[TimedPoint],
) -> Result<(), String> {
    let groups = series(points);
    let (w, _) = root.dim_in_pixel();
    let (left, right) = root.split_horizontally((w as f64 * 0.58) as i32);

    // Left: TPS against k.
    let k_max = points.iter().map(|p| p.branches).max().unwrap_or(0) as f64;
    let tps_max = points
        .iter()
        .map(|p| p.tps_avg)
        .fold(0.0, f64::max)
        .max(1.0);
    let mut chart = ChartBuilder::on(&left)
        .caption("Predicted throughput vs lookahead branches", (FONT, 30))
        .margin(20)
        .x_label_area_size(70)
        .y_label_area_size(100)
        .build_cartesian_2d(-0.5..k_max + 0.5, 0.0..tps_max * 1.25)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("lookahead branches k")
        .y_desc("tokens / s (mean over sequences)")
        .label_style((FONT, 20))
        .axis_desc_style((FONT, 24))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(err)?;
    let mut labels = Vec::new();
    let mut avoid = c::Obstacles::default();
    for (i, (name, pts)) in groups.iter().enumerate() {
        // Colour and dash together, so that more than ten layouts stay apart.
        let (color, pattern) = c::style(i);
        let line: Vec<(f64, f64)> = pts.iter().map(|p| (p.branches as f64, p.tps_avg)).collect();
        c::draw_line(&mut chart, &line, color, pattern, name)?;
        labels.push(name.clone());
        avoid.line(&chart, &line);
        chart
            .draw_series(line.iter().map(|&p| Circle::new(p, 5, color.filled())))
            .map_err(err)?;
        let b = best(pts);
        let at = (b.branches as f64, b.tps_avg);
        chart
            .draw_series([Circle::new(at, 12, color.stroke_width(3))])
            .map_err(err)?;
        avoid.points(&chart, &[at]);
        if pts.len() > 1 {
            // Labels near the right edge hang to the left of their point.
            let h = if at.0 > 0.75 * k_max {
                HPos::Right
            } else {
                HPos::Left
            };
            let style = TextStyle::from((FONT, 20).into_font())
                .color(&color)
                .pos(Pos::new(h, VPos::Bottom));
            chart
                .draw_series([Text::new(
                    format!("best k = {}", b.branches),
                    (at.0, at.1 + tps_max * 0.02),
                    style,
                )])
                .map_err(err)?;
        }
    }
    let spot = c::place_legend(&chart, &labels, &mut avoid)?;
    c::draw_legend(&mut chart, spot)?;

    // Right: the best round of each series, stacked by part.
    let bests: Vec<(&str, &TimedPoint)> = groups
        .iter()
        .map(|(name, pts)| (name.as_str(), best(pts)))
        .collect();
    let ms_max = bests
        .iter()
        .map(|(_, p)| p.parts.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1e-3);
    let n = bests.len() as f64;
    let mut bars = ChartBuilder::on(&right)
        .caption("Where a round goes, at the best k", (FONT, 30))
        .margin(20)
        .x_label_area_size(70)
        .y_label_area_size(10)
        // Empty rows on top (about a fifth of the panel) keep the legend clear of the bars
        // and their labels.
        .build_cartesian_2d(0.0..ms_max * 2.4, -0.5..n - 0.5 + (0.25 * n).max(0.75))
        .map_err(err)?;
    bars.configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("ms per round (total predicted latency / rounds)")
        .label_style((FONT, 20))
        .axis_desc_style((FONT, 24))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(err)?;
    for (row, (name, p)) in bests.iter().enumerate() {
        let y = n - 1.0 - row as f64;
        let mut x0 = 0.0;
        for (part, &ms) in p.parts.iter().enumerate() {
            bars.draw_series([Rectangle::new(
                [(x0, y - 0.35), (x0 + ms, y + 0.35)],
                PART_COLORS[part].filled(),
            )])
            .map_err(err)?;
            x0 += ms;
        }
        bars.draw_series([Text::new(
            format!("{name} (k={}) {x0:.1} ms", p.branches),
            (x0 + ms_max * 0.02, y),
            TextStyle::from((FONT, 17).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
        )])
        .map_err(err)?;
    }
    for (part, label) in PARTS.iter().enumerate() {
        let color = PART_COLORS[part];
        bars.draw_series([Rectangle::new([(0.0, -0.5), (0.0, -0.5)], color.filled())])
            .map_err(err)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 8), (x + 24, y + 8)], color.filled()));
    }
    bars.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 18))
        .draw()
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(series: &str, k: usize, tps: f64) -> TimedPoint {
        TimedPoint {
            series: series.into(),
            system: "h200 TP1 BP1 two_phase".into(),
            branches: k,
            tps_avg: tps,
            parts: [0.0, 3.2, 0.0, 1.0],
        }
    }

    #[test]
    fn best_k_is_the_highest_throughput_and_the_smaller_k_on_ties() {
        let pts = [
            point("a", 0, 200.0),
            point("a", 3, 450.0),
            point("a", 7, 450.0),
            point("a", 15, 300.0),
        ];
        let refs: Vec<&TimedPoint> = pts.iter().collect();
        assert_eq!(best(&refs).branches, 3);
        let pts = [point("b", 2, 1.0), point("a", 1, 1.0), point("b", 0, 1.0)];
        let groups = series(&pts);
        assert_eq!(groups[0].0, "b");
        assert_eq!(groups[0].1[0].branches, 0);
    }

    #[test]
    fn untimed_results_draw_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.csv"),
            "config,sequences,tpf,branches\n0,1,2.0,0\n",
        )
        .unwrap();
        assert!(render(dir.path(), dir.path()).unwrap().is_empty());
        assert!(load(&dir.path().join("summary.csv")).unwrap().is_empty());
    }
}
