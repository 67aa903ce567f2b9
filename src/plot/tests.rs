//! Figures drawn from hand-built data: every file written, inked, deterministic.

use super::data::{ConfigPoint, ProgressBin, Trace, TraceCell, Via};
use super::*;
use std::path::Path;

fn config(config: usize, noise: &str, k: usize, tpf: f64) -> ConfigPoint {
    ConfigPoint {
        config,
        case: None,
        swept: vec![
            ("model.noise".to_string(), noise.to_string()),
            ("search.branches".to_string(), k.to_string()),
        ],
        branches: k,
        tpf,
        tpf_lo: tpf * 0.9,
        tpf_hi: tpf * 1.1,
        tpf_world: None,
        invalid_per_1k: Some(2.0 + tpf),
        greedy_match_rate: Some((1.1 - tpf / 8.0).clamp(0.0, 1.0)),
        log_likelihood_mean: Some(-10.0 - tpf),
        plan_consistent_rate: None,
        token_errors_per_1k: None,
        branch_tokens_per_token: 1.0 + k as f64 * 0.6 / tpf,
        decoder: None,
        search: None,
    }
}

fn trace(config: usize, k: usize, positions: usize, per_round: usize) -> Trace {
    // Mostly left to right, scrambled within blocks of 8.
    let mut order: Vec<usize> = (0..positions).collect();
    order.sort_by_key(|p| (p / 8, (p * 5) % 8));
    let mut cells = Vec::new();
    for (r, chunk) in order.chunks(per_round).enumerate() {
        for (j, &position) in chunk.iter().enumerate() {
            let via = if k > 0 && j + 1 == per_round {
                Via::Lookahead
            } else {
                Via::Anchor
            };
            cells.push(TraceCell {
                position,
                round: r as u64 + 1,
                via,
            });
        }
    }
    if let (Some(last), true) = (cells.last_mut(), k > 0) {
        last.via = Via::Completion;
    }
    let rounds = positions.div_ceil(per_round) as u64;
    Trace {
        config,
        seq: 3,
        branches: k,
        rounds,
        positions,
        cells,
    }
}

fn sample() -> PlotData {
    let mut configs = Vec::new();
    let mut bins = Vec::new();
    let mut id = 0;
    for (noise, scale) in [("0.1", 1.0), ("0.3", 0.8)] {
        for (k, tpf) in [(0, 1.4), (2, 2.9), (4, 4.1)] {
            configs.push(config(id, noise, k, tpf * scale));
            for bin in 0..10 {
                let lo = bin as f64 / 10.0;
                bins.push(ProgressBin {
                    config: id,
                    bin,
                    lo,
                    hi: lo + 0.1,
                    rounds: if bin == 9 && k == 4 { 0 } else { 40 },
                    tokens: (40.0 * tpf * scale * (0.6 + lo)) as u64,
                });
            }
            id += 1;
        }
    }
    PlotData {
        name: "unit-sample".to_string(),
        k_axis: Default::default(),
        configs,
        bins,
        traces: vec![trace(0, 0, 48, 1), trace(2, 4, 48, 4)],
    }
}

/// Three series with cases and long keys, six values of k, 256-position traces.
fn large() -> PlotData {
    let mut data = PlotData {
        name: "large-sweep".to_string(),
        ..PlotData::default()
    };
    let mut id = 0;
    for (case, scale) in [("easy", 1.0), ("medium", 0.85), ("hard", 0.7)] {
        for k in [0usize, 1, 2, 4, 8, 16] {
            let mut p = config(id, "0.25", k, scale * (1.3 + (k as f64 + 1.0).ln() * 1.1));
            p.case = Some(case.to_string());
            p.swept
                .push(("model.temperature".to_string(), "0.7".to_string()));
            data.configs.push(p);
            for bin in 0..20 {
                let lo = bin as f64 / 20.0;
                data.bins.push(ProgressBin {
                    config: id,
                    bin,
                    lo,
                    hi: lo + 0.05,
                    rounds: 100,
                    tokens: (100.0 * scale * (1.0 + k as f64 * 0.3) * (0.5 + lo)) as u64,
                });
            }
            id += 1;
        }
    }
    data.traces = vec![trace(0, 0, 256, 2), trace(5, 16, 256, 7)];
    data
}

fn expected_texts(name: &str) -> Vec<&'static str> {
    match name {
        "tpf_vs_branches" => vec![tpf::X_DESC, tpf::Y_DESC, "k = 0 baseline"],
        "quality_vs_tpf" => vec![quality::X_DESC, quality::Y_INVALID, quality::Y_GREEDY],
        "tokens_per_round" => vec![rounds::X_DESC, rounds::Y_DESC],
        "tfo_map" => vec![tfo::X_DESC, tfo::Y_DESC, "anchor fill", "lookahead token"],
        "compute_vs_tpf" => vec![compute::X_DESC, compute::Y_DESC],
        _ => unreachable!(),
    }
}

fn check_png(path: &Path) {
    let img = image::open(path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), SIZE, "{}", path.display());
    let bg = *img.get_pixel(0, 0);
    let differ = img.pixels().filter(|p| **p != bg).count();
    let share = differ as f64 / (SIZE.0 * SIZE.1) as f64;
    assert!(
        share > 0.03,
        "{}: only {share} of pixels drawn",
        path.display()
    );
}

#[test]
fn renders_every_figure_with_text() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample();
    let paths = render_all(&data, dir.path()).unwrap();
    assert_eq!(paths.len(), 2 * FIGURES.len());
    for name in FIGURES {
        check_png(&dir.path().join(format!("{name}.png")));
        let svg = std::fs::read_to_string(dir.path().join(format!("{name}.svg"))).unwrap();
        assert!(svg.contains("unit-sample"), "{name}: no title");
        for text in expected_texts(name) {
            assert!(svg.contains(text), "{name}: missing {text:?}");
        }
    }
    let svg = std::fs::read_to_string(dir.path().join("tpf_vs_branches.svg")).unwrap();
    assert!(svg.contains("1.00x") && svg.contains("model.noise=0.3"));
    let svg = std::fs::read_to_string(dir.path().join("tfo_map.svg")).unwrap();
    assert!(svg.contains("k = 4 (config 2, seq 3, 12 rounds)"), "{svg}");
    // Nothing but the figures is left in the folder.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2 * FIGURES.len(), "{names:?}");
}

#[test]
fn rendering_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = sample();
    let pa = render_all(&data, a.path()).unwrap();
    let pb = render_all(&data, b.path()).unwrap();
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!(x.file_name(), y.file_name());
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
}

#[test]
fn degenerate_data_renders() {
    let mut one = config(0, "0.1", 3, 2.0);
    one.swept.clear();
    one.invalid_per_1k = None;
    one.greedy_match_rate = None;
    one.log_likelihood_mean = None;
    let data = PlotData {
        name: String::new(),
        k_axis: Default::default(),
        configs: vec![one.clone()],
        bins: vec![],
        traces: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    render_all(&data, dir.path()).unwrap();
    for name in FIGURES {
        check_png(&dir.path().join(format!("{name}.png")));
    }
    let svg = std::fs::read_to_string(dir.path().join("quality_vs_tpf.svg")).unwrap();
    assert!(svg.contains("not defined by this model"));
    let svg = std::fs::read_to_string(dir.path().join("tfo_map.svg")).unwrap();
    assert!(svg.contains("no trace recorded"));

    // Non-finite values (never produced, but guarded against).
    let mut nan = config(1, "0.2", 0, f64::NAN);
    nan.tpf_hi = f64::INFINITY;
    nan.invalid_per_1k = Some(f64::NAN);
    nan.branch_tokens_per_token = f64::NAN;
    let data = PlotData {
        name: "nan".into(),
        configs: vec![nan, config(2, "0.2", 2, 2.5)],
        ..PlotData::default()
    };
    render_all(&data, &dir.path().join("nan")).unwrap();

    // Equal values, a single trace with a single round, an empty configuration list.
    let mut two = one.clone();
    two.config = 1;
    let single = Trace {
        config: 0,
        seq: 0,
        branches: 0,
        rounds: 1,
        positions: 1,
        cells: vec![TraceCell {
            position: 0,
            round: 1,
            via: Via::Completion,
        }],
    };
    for data in [
        PlotData {
            name: "flat".into(),
            k_axis: Default::default(),
            configs: vec![one, two],
            bins: vec![],
            traces: vec![single],
        },
        PlotData::default(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        render_all(&data, dir.path()).unwrap();
    }
}

#[test]
fn unusable_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        render_all(&PlotData::default(), &file),
        Err(PlotError::Io { .. })
    ));
}

/// A crowded sweep (18 configurations, long traces) still renders full, inked figures.
/// Set `LOPA_PLOT_SAMPLE_DIR` to keep them somewhere for looking at.
#[test]
fn a_large_sweep_renders_full_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("LOPA_PLOT_SAMPLE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let paths = render_all(&large(), &dir.join("large")).unwrap();
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
    {
        check_png(p);
    }
}

/// Twelve cases of a k sweep: line panels of at most eight series.
#[test]
fn twelve_series_split_into_panels() {
    let mut data = PlotData {
        name: "twelve".to_string(),
        ..PlotData::default()
    };
    for c in 0..12 {
        for k in [0usize, 1, 2, 4, 8, 16] {
            let id = data.configs.len();
            let mut p = config(
                id,
                "0.1",
                k,
                (1.5 + c as f64 * 0.1) * (1.0 + k as f64).sqrt(),
            );
            p.case = Some(format!("case-{c}"));
            data.configs.push(p);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("LOPA_PLOT_SAMPLE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    render_all(&data, &dir.join("twelve")).unwrap();
    let svg = std::fs::read_to_string(dir.join("twelve/tpf_vs_branches.svg")).unwrap();
    assert!(svg.contains("series 1/2") && svg.contains("series 2/2"));
    assert!(svg.contains("log2 scale"));
}

#[test]
fn font_registration_is_idempotent() {
    register_font().unwrap();
    register_font().unwrap();
}
