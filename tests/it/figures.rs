//! Figures, report.html, `plot DIR` and `trace`, checked by reading the outputs back.

use std::fs;
use std::path::Path;

use crate::util::{lopa, lopa_env, read_rows, run_ok, stderr};

const FIGURES: [&str; 5] = [
    "tpf_vs_branches",
    "quality_vs_tpf",
    "tokens_per_round",
    "tfo_map",
    "compute_vs_tpf",
];

fn quickstart(out: &Path, env: &[(&str, &str)]) {
    let o = lopa_env(
        &[
            "run",
            "scenarios/quickstart.toml",
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--set",
            "sequences=3",
        ],
        env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn every_figure_is_a_full_size_non_blank_png_and_a_labelled_svg() {
    let out = tempfile::tempdir().unwrap();
    quickstart(out.path(), &[]);
    for name in FIGURES {
        let png = image::open(out.path().join(format!("plots/{name}.png")))
            .unwrap_or_else(|e| panic!("{name}.png does not decode: {e}"))
            .to_rgb8();
        assert_eq!(png.dimensions(), (1600, 1000), "{name}");
        let background = *png.get_pixel(0, 0);
        let inked = png.pixels().filter(|p| **p != background).count();
        let share = inked as f64 / (1600.0 * 1000.0);
        assert!(
            share > 0.03,
            "{name}: only {:.1}% non-background pixels",
            share * 100.0
        );
        let svg = fs::read_to_string(out.path().join(format!("plots/{name}.svg"))).unwrap();
        assert!(svg.contains("quickstart"), "{name}: title");
        for label in [
            "TPF (tokens / forward pass)",
            "lookahead branches k (count)",
        ] {
            if name == "tpf_vs_branches" {
                assert!(svg.contains(label), "{name}: axis label {label}");
            }
        }
    }
    let tfo = fs::read_to_string(out.path().join("plots/tfo_map.svg")).unwrap();
    assert!(tfo.contains("position (generated index)") && tfo.contains("round (forward pass)"));
}

#[test]
fn report_html_inlines_every_figure_and_the_summary_and_links_nothing() {
    let out = tempfile::tempdir().unwrap();
    quickstart(out.path(), &[]);
    let html = fs::read_to_string(out.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), FIGURES.len());
    assert!(html.contains("<table>") && html.contains("<th>tpf</th>"));
    assert!(html.contains("search.branches"));
    for external in [
        "http:", "https:", "src=", "href=", "url(", "@import", "<script", "<link",
    ] {
        assert!(!html.contains(external), "report.html holds `{external}`");
    }
}

#[test]
fn plot_redraws_a_deleted_plots_folder_byte_for_byte() {
    let out = tempfile::tempdir().unwrap();
    quickstart(out.path(), &[]);
    let plots = out.path().join("plots");
    let before: Vec<(String, Vec<u8>)> = FIGURES
        .iter()
        .flat_map(|n| [format!("{n}.png"), format!("{n}.svg")])
        .map(|f| (f.clone(), fs::read(plots.join(&f)).unwrap()))
        .collect();
    let html = fs::read(out.path().join("report.html")).unwrap();
    fs::remove_dir_all(&plots).unwrap();
    fs::remove_file(out.path().join("report.html")).unwrap();
    let o = lopa(&["plot", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (f, bytes) in before {
        assert_eq!(fs::read(plots.join(&f)).unwrap(), bytes, "{f} differs");
    }
    assert_eq!(fs::read(out.path().join("report.html")).unwrap(), html);
}

#[test]
fn bitmaps_do_not_depend_on_system_fonts() {
    let (with, without) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let conf = without.path().join("fonts.conf");
    fs::write(
        &conf,
        "<?xml version=\"1.0\"?><fontconfig><dir>/nonexistent</dir></fontconfig>",
    )
    .unwrap();
    quickstart(with.path(), &[]);
    quickstart(
        &without.path().join("out"),
        &[
            ("FONTCONFIG_FILE", conf.to_str().unwrap()),
            ("XDG_DATA_HOME", "/nonexistent"),
        ],
    );
    for name in FIGURES {
        let f = format!("plots/{name}.png");
        assert_eq!(
            fs::read(with.path().join(&f)).unwrap(),
            fs::read(without.path().join("out").join(&f)).unwrap()
        );
    }
}

#[test]
fn trace_lines_agree_with_runs_csv() {
    let cases: &[(&str, &[&str])] = &[
        (
            "scenarios/quickstart.toml",
            &[
                "--set",
                "sweep={}",
                "--set",
                "search.branches=4",
                "--set",
                "sequences=3",
            ],
        ),
        (
            "tests/golden/d2f-lopa.toml",
            &["--set", "sweep={}", "--set", "search.branches=4"],
        ),
        (
            "tests/golden/d2f-lopa.toml",
            &["--set", "sweep={}", "--set", "search.branches=0"],
        ),
        (
            "tests/golden/threshold-causal.toml",
            &["--set", "sweep={}", "--set", "search.branches=5"],
        ),
        (
            "tests/golden/threshold-causal.toml",
            &[
                "--set",
                "sweep={}",
                "--set",
                "decoder.kind=topk",
                "--set",
                "decoder.k=2",
                "--set",
                "search.branches=3",
            ],
        ),
    ];
    for (scenario, sets) in cases {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec!["run", scenario, "--out", out.path().to_str().unwrap(), "-q"];
        args.extend_from_slice(sets);
        assert!(lopa(&args).status.success());
        for row in read_rows(&out.path().join("runs.csv")) {
            let seq = row["seq"].as_str();
            let mut args = vec!["trace", scenario, "--seq", seq];
            args.extend_from_slice(sets);
            let o = lopa(&args);
            assert!(o.status.success(), "{}", stderr(&o));
            let text = String::from_utf8(o.stdout).unwrap();
            let rounds: Vec<&str> = text.lines().filter(|l| l.starts_with("round ")).collect();
            let ctx = format!("{scenario} {sets:?} seq {seq}");
            assert_eq!(
                rounds.len().to_string(),
                row["rounds"],
                "{ctx}: round lines"
            );
            let committed: usize = rounds
                .iter()
                .map(|l| l.matches(['#', 'L', '+']).count())
                .sum();
            assert_eq!(
                committed.to_string(),
                row["tokens"],
                "{ctx}: committed glyphs"
            );
            let wins = rounds.iter().filter(|l| l.contains('L')).count();
            assert_eq!(
                wins.to_string(),
                row["lookahead_wins"],
                "{ctx}: lookahead rounds"
            );
            assert_eq!(
                rounds
                    .iter()
                    .filter(|l| l.contains("winner: lookahead"))
                    .count(),
                wins
            );
        }
    }
}

#[test]
fn trace_writes_json_lines_and_refuses_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("t.jsonl");
    let o = lopa(&[
        "trace",
        "tests/golden/d2f-lopa.toml",
        "--seq",
        "2",
        "--set",
        "sweep={}",
        "--set",
        "search.branches=4",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = fs::read_to_string(&json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(lines[0]["round"], 1);
    assert!(lines[1]["scores"].as_array().unwrap().len() == 5);
    assert!(lines[1]["filled"][0]["confidence"].as_f64().unwrap() > 0.0);
    let o = lopa(&["trace", "tests/golden/d2f-lopa.toml", "--seq", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("needs one configuration") && err.contains("--config N"),
        "{err}"
    );
}

#[test]
fn paper_table1_draws_small_multiples_and_two_trace_panels() {
    let out = run_ok("scenarios/paper-table1.toml", &["--set", "sequences=2"]);
    let svg =
        |name: &str| fs::read_to_string(out.path().join(format!("plots/{name}.svg"))).unwrap();
    let tpf = svg("tpf_vs_branches");
    // One panel per benchmark, cases as k = 0 / LoPA pairs on a categorical axis.
    for text in [
        "GSM8K",
        "MATH",
        "HumanEval",
        "MBPP",
        "case (k = 0 beside LoPA)",
        "k = 14",
    ] {
        assert!(tpf.contains(text), "tpf_vs_branches: no {text:?}");
    }
    assert_eq!(tpf.matches("k = 0 (anchor decoder alone)").count(), 4);
    // The tfo map shows the baseline and the LoPA decode of the first case.
    let tfo = svg("tfo_map");
    assert!(
        tfo.contains("k = 0 (config 0") && tfo.contains("k = 14 (config 1"),
        "{tfo}"
    );
    // Every model family's own quality measure has a panel; none says "not defined".
    let q = svg("quality_vs_tpf");
    for text in [
        "Invalid transitions",
        "Greedy match",
        "Log-likelihood",
        "Plan consistency",
        "Token errors",
    ] {
        assert!(q.contains(text), "quality_vs_tpf: no {text:?}");
    }
    assert!(!q.contains("not defined"));
    let rows = read_rows(&out.path().join("summary.csv"));
    for r in &rows {
        let (lo, tpf, hi): (f64, f64, f64) = (
            r["tpf_lo"].parse().unwrap(),
            r["tpf"].parse().unwrap(),
            r["tpf_hi"].parse().unwrap(),
        );
        assert!(lo <= tpf && tpf <= hi, "{r:?}");
    }
}

/// A headless Chromium, if one is installed.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn report_html_renders_in_headless_chromium_without_horizontal_scrolling() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on PATH");
        return;
    };
    let out = run_ok(
        "scenarios/paper-table1.toml",
        &["--set", "sequences=2", "--case", "GSM8K/*"],
    );
    let html = fs::read_to_string(out.path().join("report.html")).unwrap();
    // No table cell holds a number with more than 4 significant figures.
    for cell in html.split("<td>").skip(1) {
        let cell = &cell[..cell.find("</td>").unwrap()];
        if let Ok(x) = cell.parse::<f64>() {
            let digits: String = cell
                .split('e')
                .next()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let significant = digits.trim_start_matches('0').len();
            assert!(significant <= 4 || x.fract() == 0.0, "cell {cell}");
        }
    }
    // A copy that reports its own width: the page itself holds no script.
    let probe = out.path().join("probe.html");
    fs::write(
        &probe,
        html.replace(
            "</body>",
            "<script>document.title = 'W=' + document.documentElement.scrollWidth + \
             ' V=' + window.innerWidth;</script></body>",
        ),
    )
    .unwrap();
    let run = |extra: &[&str], page: &Path| {
        let mut cmd = std::process::Command::new(browser);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1024,3000",
        ]);
        cmd.args(extra);
        cmd.arg(format!("file://{}", page.display()));
        cmd.output().unwrap()
    };
    let dom = run(&["--dump-dom"], &probe);
    let dom = String::from_utf8_lossy(&dom.stdout);
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .unwrap_or_default();
    let nums: Vec<u32> = title
        .split(' ')
        .filter_map(|p| p.split('=').nth(1)?.parse().ok())
        .collect();
    assert_eq!(nums.len(), 2, "chromium gave no width: {title:?}");
    assert!(nums[0] <= nums[1], "report.html scrolls sideways: {title}");
    let shot = out.path().join("report.png");
    let screenshot = format!("--screenshot={}", shot.display());
    run(&[&screenshot], &out.path().join("report.html"));
    if let Ok(dir) = std::env::var("LOPA_REPORT_SCREENSHOT") {
        let _ = fs::copy(&shot, dir);
    }
    let img = image::open(&shot).expect("a screenshot").to_rgb8();
    let inked = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(inked > 10_000, "the screenshot is blank");
}

#[test]
fn k_axis_key_and_world_intervals_reach_the_figure() {
    let out = tempfile::tempdir().unwrap();
    quickstart(out.path(), &[]);
    let tpf = || fs::read_to_string(out.path().join("plots/tpf_vs_branches.svg")).unwrap();
    // k in {0, 1, 2, 4, 8}: powers of two, so the automatic axis is log2.
    assert!(tpf().contains("log2 scale"));
    assert!(!tpf().contains("across worlds"));
    // Replicated worlds add two optional columns; the figure then draws them too.
    let path = out.path().join("summary.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let mut widened = format!("{},tpf_world_lo,tpf_world_hi\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let cells = if i == 0 {
            ",".to_string()
        } else {
            format!("{}.0,{}.5", i, i + 1)
        };
        widened.push_str(&format!("{line},{cells}\n"));
    }
    fs::write(&path, widened).unwrap();
    let o = lopa(&["plot", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(tpf().contains("95% interval across worlds"));

    let linear = tempfile::tempdir().unwrap();
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        linear.path().to_str().unwrap(),
        "-q",
        "--set",
        "sequences=2",
        "--set",
        "plot.k_axis=linear",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = fs::read_to_string(linear.path().join("plots/tpf_vs_branches.svg")).unwrap();
    assert!(svg.contains("lookahead branches k (count)") && !svg.contains("log2"));
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--list",
        "--set",
        "plot.k_axis=cubic",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("plot.k_axis"), "{}", stderr(&o));
}
