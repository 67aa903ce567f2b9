//! `lopa-sim plot` on a real results folder (a small quickstart run with a `[system]`, so
//! that every figure is drawn) damaged one way at a time: each ends within a time limit,
//! in an error naming the file and line (or, for values the figures do not draw, in
//! figures), never in a hang or a panic.

use std::fs;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use crate::util::{lopa_within, run_ok, stderr};

/// The folder, made once per test process.
fn folder() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let small = [
            "--set",
            "sequences=2",
            "--set",
            "gen_length=64",
            "--set",
            "system.hardware=h200",
            "--set",
            "system.model=dream-7b",
        ];
        run_ok("scenarios/quickstart.toml", &small)
    })
    .path()
}

/// `plot DIR` with a time limit: a hang is a failure, not a stuck test.
fn plot(dir: &Path) -> (Option<i32>, String) {
    let o = lopa_within(
        &["plot", dir.to_str().unwrap(), "-q"],
        Duration::from_secs(60),
    );
    (o.status.code(), stderr(&o))
}

/// `text` with the cell of column `column` in data row `row` (0 = the first after the
/// header) replaced by `value`.
fn set_cell(text: &str, row: usize, column: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let i = lines[0].split(',').position(|h| h == column).unwrap();
    let mut cells: Vec<&str> = lines[row + 1].split(',').collect();
    cells[i] = value;
    lines[row + 1] = cells.join(",");
    lines.join("\n") + "\n"
}

/// A copy of the folder with `file` replaced by `damage(its bytes)`, plotted.
fn plot_damaged(file: &str, damage: impl Fn(Vec<u8>) -> Vec<u8>) -> (Option<i32>, String) {
    let copy = tempfile::tempdir().unwrap();
    for f in ["summary.json", "summary.csv", "rounds.csv", "trace.csv"] {
        let bytes = fs::read(folder().join(f)).unwrap();
        let bytes = if f == file { damage(bytes) } else { bytes };
        fs::write(copy.path().join(f), bytes).unwrap();
    }
    plot(copy.path())
}

fn cell(file: &'static str, row: usize, column: &'static str, value: &'static str) -> Damage {
    (
        file,
        Box::new(move |b| set_cell(&String::from_utf8(b).unwrap(), row, column, value).into()),
    )
}

/// Cut at a fraction of the bytes, inside a line.
fn cut(file: &'static str, fraction: f64) -> Damage {
    (
        file,
        Box::new(move |mut b| {
            let mut at = (b.len() as f64 * fraction) as usize;
            while at > 0 && matches!(b[at - 1], b'\n' | b',') {
                at -= 1;
            }
            b.truncate(at);
            b
        }),
    )
}

type Damage = (&'static str, Box<dyn Fn(Vec<u8>) -> Vec<u8>>);

#[test]
fn the_undamaged_folder_plots() {
    let (code, err) = plot(folder());
    assert_eq!(code, Some(0), "{err}");
    assert!(folder().join("plots/throughput_vs_branches.png").exists());
}

#[test]
fn damaged_numbers_in_summary_csv_are_refused_or_drawn_without_hanging() {
    // round_ms is shown as written in report.html and drawn in no figure.
    for v in ["inf", "NaN", "1e308", "-1"] {
        let (f, d) = cell("summary.csv", 1, "round_ms", v);
        let (code, err) = plot_damaged(f, d);
        assert_eq!(code, Some(0), "round_ms={v}: {err}");
    }
    let cases: Vec<(Damage, &[&str])> = vec![
        // An infinite throughput made the figure's axis infinite: it never finished.
        (
            cell("summary.csv", 0, "tps_avg", "inf"),
            &["summary.csv:2: column `tps_avg`: `inf`", "[0, 1e300]"],
        ),
        (
            cell("summary.csv", 2, "tps_avg", "NaN"),
            &["summary.csv:4: column `tps_avg`"],
        ),
        (
            cell("summary.csv", 1, "memory_ms", "1e308"),
            &["summary.csv:3: column `memory_ms`: `1e308`"],
        ),
        (
            cell("summary.csv", 0, "tpf", "inf"),
            &["summary.csv:2: column `tpf`"],
        ),
        (
            cell("summary.csv", 0, "branches", "1e308"),
            &["summary.csv:2: column `branches`", "a whole number"],
        ),
        (
            cut("summary.csv", 0.5),
            &["summary.csv:", "cells but the header"],
        ),
        (cut("summary.csv", 0.0), &["summary.csv is empty"]),
    ];
    check(cases);
}

#[test]
fn truncated_or_garbled_rounds_and_trace_csv_are_refused_with_their_line() {
    let invalid = |mut b: Vec<u8>| {
        let at = b.len() / 2;
        b.insert(at, 0xff);
        b
    };
    let cases: Vec<(Damage, &[&str])> = vec![
        (
            cut("rounds.csv", 0.5),
            &["rounds.csv:", "cells but the header"],
        ),
        // Cut inside the header: no rows, so only the header shows the damage.
        (cut("rounds.csv", 0.01), &["rounds.csv: no column"]),
        (
            cell("rounds.csv", 3, "bin", "1.5"),
            &["rounds.csv:5: column `bin`: `1.5`", "a whole number"],
        ),
        (
            cell("rounds.csv", 0, "rounds", "1e308"),
            &["rounds.csv:2: column `rounds`"],
        ),
        (
            cut("trace.csv", 0.3),
            &["trace.csv:", "cells but the header"],
        ),
        (cut("trace.csv", 0.01), &["trace.csv: no column"]),
        (cut("trace.csv", 0.0), &["trace.csv is empty"]),
        (
            ("trace.csv", Box::new(invalid)),
            &["trace.csv:", "not UTF-8"],
        ),
        (
            cell("trace.csv", 2, "round", "99999999999999999999"),
            &["trace.csv:4: column `round`"],
        ),
        (
            cell("trace.csv", 0, "position", "-1"),
            &["trace.csv:2: column `position`"],
        ),
        (
            ("summary.json", Box::new(invalid)),
            &["summary.json is not valid JSON", "line"],
        ),
        (
            cut("summary.json", 0.5),
            &["summary.json is not valid JSON", "column"],
        ),
    ];
    check(cases);
}

fn check(cases: Vec<(Damage, &[&str])>) {
    for ((file, damage), needles) in cases {
        let (code, err) = plot_damaged(file, damage);
        assert_eq!(code, Some(2), "{needles:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.lines().count() <= 4, "a long error: {err}");
        for n in needles {
            assert!(err.contains(n), "`{n}` missing from: {err}");
        }
    }
}

/// A damaged throughput column is refused before any figure is drawn, so the folder's
/// figures are not left half redrawn (some new, the throughput figure old).
#[test]
fn a_damaged_throughput_column_redraws_no_figure() {
    let copy = tempfile::tempdir().unwrap();
    for f in ["summary.json", "summary.csv", "rounds.csv", "trace.csv"] {
        fs::copy(folder().join(f), copy.path().join(f)).unwrap();
    }
    let csv = fs::read_to_string(copy.path().join("summary.csv")).unwrap();
    fs::write(
        copy.path().join("summary.csv"),
        set_cell(&csv, 0, "tps_avg", "inf"),
    )
    .unwrap();
    let (code, err) = plot(copy.path());
    assert_eq!(code, Some(2), "{err}");
    let drawn: Vec<_> = fs::read_dir(copy.path().join("plots"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(drawn.is_empty(), "drawn before the refusal: {drawn:?}");
}
