//! Draws docs/performance.png from the criterion results of `cargo bench --bench decode`
//! and prints the per-round costs as Markdown tables (docs/performance.md).
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

/// Mean time per iteration (ns) / rounds per iteration, for one benchmark id.
fn per_round(dir: &Path) -> Option<f64> {
    let est: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("new/estimates.json")).ok()?).ok()?;
    let bench: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("new/benchmark.json")).ok()?).ok()?;
    let ns = est["mean"]["point_estimate"].as_f64()?;
    let rounds = bench["throughput"]["Elements"].as_f64()?;
    Some(ns / rounds)
}

/// Where point `x` of `group` sits on the (log) x axis: k + 1 branches for the k sweep.
fn xpos(group: &str, x: usize) -> f64 {
    if group == "round_vs_k" {
        x as f64 + 1.0
    } else {
        x as f64
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
            "round_vs_L",
            "L (generated positions)",
            vec![256, 1024, 4096, 8192],
        ),
        ("round_vs_V", "V (vocabulary)", vec![16, 64, 256, 1024]),
    ];
    let out = root.join("docs/performance.png");
    let area = BitMapBackend::new(&out, (1800, 600)).into_drawing_area();
    area.fill(&WHITE)?;
    let panels = area.split_evenly((1, 3));
    for ((group, xlabel, xs), panel) in groups.iter().zip(&panels) {
        println!("\n{group}: microseconds per round\n");
        println!("| {} | {} |", xlabel, FAMILIES.join(" | "));
        println!("|---|{}", "---|".repeat(FAMILIES.len()));
        let mut series = Vec::new();
        let mut ymax: f64 = 1.0;
        for fam in FAMILIES {
            let pts: Vec<(f64, f64)> = xs
                .iter()
                .filter_map(|&x| {
                    let us = per_round(&crit.join(group).join(format!("{fam}_{x}")))? / 1e3;
                    Some((xpos(group, x), us))
                })
                .collect();
            ymax = pts.iter().fold(ymax, |m, p| m.max(p.1));
            series.push(pts);
        }
        for &x in xs {
            let cells: Vec<String> = series
                .iter()
                .map(|s| {
                    s.iter()
                        .find(|p| p.0 == xpos(group, x))
                        .map_or("-".into(), |p| format!("{:.1}", p.1))
                })
                .collect();
            println!("| {x} | {} |", cells.join(" | "));
        }
        let x0 = xpos(group, xs[0]) * 0.8;
        let x1 = xpos(group, *xs.last().unwrap());
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("per-round cost against {}", &xlabel[..1]),
                ("sans-serif", 26),
            )
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1 * 1.2).log_scale(), (1f64..ymax * 2.0).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(if *group == "round_vs_k" {
                "k + 1 (branches per round)"
            } else {
                *xlabel
            })
            .light_line_style(TRANSPARENT)
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc("microseconds per round")
            .label_style(("sans-serif", 18))
            .draw()?;
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
