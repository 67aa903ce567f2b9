//! Draws docs/performance.png from the criterion results of `cargo bench --bench decode`
//! and prints the per-round costs as Markdown tables (docs/performance.md): per round, per
//! branch (k sweep) and per position processed (every sweep; the positions come from the
//! `lopa.json` the benchmark writes beside each point).
//!
//! Run after the benchmark: `cargo run --release --example perf_plot`.

use std::fs;
use std::path::Path;

use plotters::prelude::*;

const FAMILIES: [&str; 4] = ["markov", "hmm", "plan", "field"];
const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// One benchmark point: microseconds per round and positions processed per round.
struct Point {
    us: f64,
    positions: Option<f64>,
}

fn json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// Mean time per iteration / rounds per iteration, for one benchmark id.
fn point(dir: &Path) -> Option<Point> {
    let ns = json(&dir.join("new/estimates.json"))?["mean"]["point_estimate"].as_f64()?;
    let rounds = json(&dir.join("new/benchmark.json"))?["throughput"]["Elements"].as_f64()?;
    let positions = json(&dir.join("lopa.json")).and_then(|v| v["positions_per_round"].as_f64());
    Some(Point {
        us: ns / rounds / 1e3,
        positions,
    })
}

/// Where point `x` of `group` sits on the (log) x axis: k + 1 branches for the k sweep.
fn xpos(group: &str, x: usize) -> f64 {
    if group == "round_vs_k" {
        x as f64 + 1.0
    } else {
        x as f64
    }
}

/// Prints one Markdown table of `cell` over the points of every family.
fn table(
    title: &str,
    xlabel: &str,
    xs: &[usize],
    pts: &[Vec<Option<Point>>],
    cell: impl Fn(usize, &Point) -> Option<String>,
) {
    println!("\n{title}\n");
    println!("| {} | {} |", xlabel, FAMILIES.join(" | "));
    println!("|---|{}", "---|".repeat(FAMILIES.len()));
    for (i, &x) in xs.iter().enumerate() {
        let cells: Vec<String> = pts
            .iter()
            .map(|fam| {
                fam[i]
                    .as_ref()
                    .and_then(|p| cell(x, p))
                    .unwrap_or_else(|| "-".into())
            })
            .collect();
        println!("| {x} | {} |", cells.join(" | "));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    lopa_sim::plot::register_font()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crit = root.join("target/criterion");
    let groups = [
        (
            "round_vs_k",
            "k (lookahead branches)",
            vec![0usize, 1, 2, 4, 8, 16, 32],
        ),
        (
            "round_vs_window",
            "B (d2f block size)",
            vec![8, 16, 32, 64, 128],
        ),
        (
            "round_vs_L",
            "L (generated positions)",
            vec![256, 1024, 4096, 8192],
        ),
        ("round_vs_V", "V (vocabulary)", vec![16, 64, 256, 1024]),
    ];
    let out = root.join("docs/performance.png");
    let area = BitMapBackend::new(&out, (1600, 1100)).into_drawing_area();
    area.fill(&WHITE)?;
    let panels = area.split_evenly((2, 2));
    for ((group, xlabel, xs), panel) in groups.iter().zip(&panels) {
        let pts: Vec<Vec<Option<Point>>> = FAMILIES
            .iter()
            .map(|fam| {
                xs.iter()
                    .map(|&x| point(&crit.join(group).join(format!("{fam}_{x}"))))
                    .collect()
            })
            .collect();
        let short = &xlabel[..xlabel.find(' ').unwrap_or(1)];
        println!("\n### {group}");
        table("microseconds per round", short, xs, &pts, |_, p| {
            Some(format!("{:.1}", p.us))
        });
        if *group == "round_vs_k" {
            table(
                "microseconds per round and branch (per round / (k + 1))",
                short,
                xs,
                &pts,
                |x, p| Some(format!("{:.1}", p.us / (x as f64 + 1.0))),
            );
        }
        if *group == "round_vs_window" || *group == "round_vs_k" {
            table(
                "window: positions processed per round and branch",
                short,
                xs,
                &pts,
                |x, p| {
                    let k = if *group == "round_vs_k" { x } else { 4 };
                    p.positions.map(|n| format!("{:.0}", n / (k as f64 + 1.0)))
                },
            );
        }
        table(
            "nanoseconds per position processed (per round / positions of all branches)",
            short,
            xs,
            &pts,
            |_, p| p.positions.map(|n| format!("{:.0}", p.us * 1e3 / n)),
        );

        let series: Vec<Vec<(f64, f64)>> = pts
            .iter()
            .map(|fam| {
                xs.iter()
                    .zip(fam)
                    .filter_map(|(&x, p)| p.as_ref().map(|p| (xpos(group, x), p.us)))
                    .collect()
            })
            .collect();
        let ymax = series.iter().flatten().fold(1f64, |m, p| m.max(p.1));
        let ymin = series.iter().flatten().fold(ymax, |m, p| m.min(p.1));
        let x0 = xpos(group, xs[0]);
        let x1 = xpos(group, *xs.last().unwrap());
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("per-round cost against {short}"),
                ("sans-serif", 26),
            )
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (x0 * 0.8..x1 * 1.25).log_scale(),
                (ymin * 0.5..ymax * 2.0).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc(match *group {
                "round_vs_k" => "k + 1 (branches per round)",
                "round_vs_window" => "B (d2f block size; the window grows with it)",
                _ => xlabel,
            })
            .light_line_style(TRANSPARENT)
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc("microseconds per round")
            .label_style(("sans-serif", 18))
            .draw()?;
        // A line of slope 1 through the lowest first point: a family that grows linearly
        // runs parallel to it, a faster one steeper.
        let first = series.iter().filter_map(|s| s.first()).map(|p| p.1);
        let start = first.fold(f64::INFINITY, f64::min);
        if start.is_finite() {
            let guide = vec![(x0, start * 0.7), (x1, start * 0.7 * x1 / x0)];
            chart
                .draw_series(DashedLineSeries::new(
                    guide,
                    8,
                    6,
                    RGBColor(120, 120, 120).stroke_width(2),
                ))?
                .label("slope 1 (linear)")
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], RGBColor(120, 120, 120))
                });
        }
        for (i, pts) in series.iter().enumerate() {
            let c = COLOURS[i];
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))?
                .label(FAMILIES[i])
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                });
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 18))
            .draw()?;
    }
    area.present()?;
    println!("\nwrote {}", out.display());
    Ok(())
}
