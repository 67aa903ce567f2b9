//! `lopa-sim calibrate`: reaches its target, writes a scenario that reproduces it, and
//! fails clearly when it cannot.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{lopa, read_rows, stderr};

#[test]
fn calibration_hits_the_target_and_the_written_scenario_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("nested/calibrated.toml");
    let o = lopa(&[
        "calibrate",
        "tests/golden/d2f-lopa.toml",
        "--param",
        "decoder.fill_threshold",
        "--target",
        "tpf=4.0",
        "--set",
        "sweep={}",
        "--set",
        "search.branches=1",
        "--write",
        written.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("decoder.fill_threshold = "), "{text}");
    // The written file runs from its own folder: its CSV path was rewritten.
    let scenario = fs::read_to_string(&written).unwrap();
    assert!(scenario.contains("../"), "{scenario}");
    let out = dir.path().join("out");
    let o = lopa(&[
        "run",
        written.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tpf: f64 = read_rows(&out.join("summary.csv"))[0]["tpf"]
        .parse()
        .unwrap();
    assert!((tpf - 4.0).abs() <= 0.02 * 4.0, "rerun TPF {tpf}");
    let reported: f64 = text
        .lines()
        .find_map(|l| l.split("(tpf ").nth(1))
        .and_then(|r| r.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (reported - tpf).abs() < 1e-3,
        "reported {reported}, rerun {tpf}"
    );
}

#[test]
fn calibration_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let write = dir.path().join("x.toml");
    let w = write.to_str().unwrap();
    let base = [
        "calibrate",
        "tests/golden/d2f-lopa.toml",
        "--write",
        w,
        "--set",
        "sweep={}",
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &["--param", "decoder.fill_threshold", "--target", "tpf=500"],
            "outside what the range reaches",
        ),
        (
            &["--param", "decoder.fill_threshold", "--target", "speed=5"],
            "unknown statistic `speed`; a target names a numeric column of summary.csv: tpf,",
        ),
        (
            &[
                "--param",
                "decoder.fill_threshold",
                "--target-table",
                "0.7:3,0.9:2",
            ],
            "would be overwritten in every evaluation",
        ),
        (
            &["--param", "search.branches", "--target", "tpf=5"],
            "--range",
        ),
        (&["--param", "name", "--target", "tpf=5"], "not a numeric"),
        (
            &["--param", "decoder.fill_threshold", "--target", "5"],
            "STAT=X",
        ),
        (
            &[
                "--param",
                "decoder.fill_threshold",
                "--target",
                "tpf=5",
                "--range",
                "1,0",
            ],
            "LO < HI",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let o = lopa(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(needle),
            "{extra:?}: `{needle}` missing from {err}"
        );
        assert!(!err.contains("panicked"));
    }
    let o = lopa(&[
        "calibrate",
        "tests/golden/d2f-lopa.toml",
        "--param",
        "decoder.fill_threshold",
        "--target",
        "tpf=5",
        "--write",
        w,
    ]);
    assert!(
        stderr(&o).contains("exactly one configuration"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_table_fit_recovers_a_threshold_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("fit.toml");
    let o = lopa(&[
        "calibrate",
        "scenarios/quickstart.toml",
        "--param",
        "model.deterministic_mass",
        "--range",
        "0.9,1.0",
        "--target-table",
        "0.7:3.0,0.8:2.6,0.9:2.2",
        "--set",
        "sweep={}",
        "--set",
        "sequences=4",
        "--set",
        "gen_length=64",
        "--write",
        written.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("RMS TPF error"), "{text}");
    let scenario = fs::read_to_string(&written).unwrap();
    let value: f64 = scenario
        .lines()
        .find_map(|l| l.strip_prefix("deterministic_mass = "))
        .unwrap_or_else(|| panic!("{scenario}"))
        .parse()
        .unwrap();
    assert!((0.9..=1.0).contains(&value), "{value}");
}

/// A field world at two thresholds, cases `std` and `low`: small enough to calibrate in a
/// second, and each knob moves both cases, differently.
const TWO_CASES: &str = r#"
name = "two"
seed = 3
sequences = 8
gen_length = 64

[model]
kind = "field"
vocab_size = 100
base_logit = -1.0
left_strength = 1.0
prompt_length = 4

[decoder]
kind = "d2f"
block_size = 16
fill_threshold = 0.9

[[case]]
name = "std"

[[case]]
name = "low"
"decoder.fill_threshold" = 0.7
"decoder.add_threshold" = 0.05
"#;

fn two_cases(dir: &Path) -> PathBuf {
    let path = dir.join("two.toml");
    fs::write(&path, TWO_CASES).unwrap();
    path
}

fn summary_tpf(dir: &Path, case: &str) -> f64 {
    read_rows(&dir.join("summary.csv"))
        .iter()
        .find(|r| r["case"] == case)
        .unwrap_or_else(|| panic!("no case {case}"))["tpf"]
        .parse()
        .unwrap()
}

/// `calibrate SCENARIO` fitting the field's base_logit and left_strength to `targets`
/// (and whatever else they hold), writing `written`.
fn fit_two_knobs<'a>(
    scenario: &'a std::path::Path,
    written: &'a std::path::Path,
    targets: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "calibrate",
        scenario.to_str().unwrap(),
        "--param",
        "model.base_logit",
        "--range=-3,2",
        "--param",
        "model.left_strength",
        "--range",
        "0.2,3",
        "--write",
        written.to_str().unwrap(),
    ];
    args.extend_from_slice(targets);
    args
}

#[test]
fn two_knobs_fit_two_cases_and_the_written_scenario_reproduces_them() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = two_cases(dir.path());
    let written = dir.path().join("fit/two.toml");
    let o = lopa(&fit_two_knobs(
        &scenario,
        &written,
        &["--target", "std:tpf=2.4", "--target", "low:tpf=6.5"],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("std:tpf: reached"), "{text}");
    assert!(text.contains("residual (RMS log error)"), "{text}");
    assert!(text.contains("tolerance 2%: within"), "{text}");
    let body = fs::read_to_string(&written).unwrap();
    assert!(body.contains("name = \"two-calibrated\""), "{body}");
    let out = dir.path().join("out");
    let o = lopa(&[
        "run",
        written.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (case, want) in [("std", 2.4), ("low", 6.5)] {
        let got = summary_tpf(&out, case);
        assert!(
            (got / want - 1.0).abs() <= 0.02,
            "{case}: rerun TPF {got}, target {want}"
        );
        // The rerun gives exactly what the fit reported.
        let reported: f64 = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{case}:tpf: reached ")))
            .and_then(|r| r.split(',').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (reported - got).abs() < 1e-3,
            "{case}: reported {reported}, rerun {got}"
        );
    }
}

#[test]
fn a_missed_tolerance_fails_and_writes_nothing_unless_the_closest_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = two_cases(dir.path());
    let written = dir.path().join("w.toml");
    // TPF is 512 tokens over a whole number of rounds here, so 2.4001 is never within 0.01%.
    let args = [
        "calibrate",
        scenario.to_str().unwrap(),
        "--param",
        "model.base_logit",
        "--range=-3,2",
        "--case",
        "std",
        "--target",
        "tpf=2.4001",
        "--tolerance",
        "0.01%",
        "--write",
        written.to_str().unwrap(),
    ];
    let o = lopa(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for needle in [
        "no fit within the 0.01% tolerance",
        "model.base_logit = ",
        "  tpf: reached 2.4",
        "Nothing was written",
        "--accept-closest",
    ] {
        assert!(err.contains(needle), "`{needle}` missing from {err}");
    }
    assert!(!written.exists());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the scenario is left"
    );
    let mut accept = args.to_vec();
    accept.push("--accept-closest");
    let o = lopa(&accept);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("misses its tolerance"),
        "{}",
        stderr(&o)
    );
    assert!(written.exists());
    // Several knobs: a target no setting reaches.
    let o = lopa(&[
        "calibrate",
        scenario.to_str().unwrap(),
        "--param",
        "model.base_logit",
        "--range=-3,2",
        "--param",
        "model.left_strength",
        "--range",
        "0.2,3",
        "--target",
        "std:tpf=2.4",
        "--target",
        "low:tpf=1000",
        "--write",
        dir.path().join("never.toml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("low:tpf: reached"), "{}", stderr(&o));
    assert!(!dir.path().join("never.toml").exists());
}

#[test]
fn cases_are_selected_by_name_and_unknown_ones_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = two_cases(dir.path());
    let s = scenario.to_str().unwrap();
    let w = dir.path().join("w.toml");
    let w = w.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "calibrate",
            s,
            "--param",
            "model.base_logit",
            "--range=-3,2",
            "--write",
            w,
        ];
        args.extend_from_slice(extra);
        lopa(&args)
    };
    let o = run(&["--case", "l*", "--target", "tpf_steps=5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("(tpf_steps "), "{text}");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--target", "nope:tpf=2"],
            "no case `nope` among the selected configurations; valid cases are: std, low",
        ),
        (
            &["--case", "nope", "--target", "tpf=2"],
            "--case nope: no such case; valid cases are: std, low",
        ),
        (
            &["--target", "tpf=2"],
            "needs exactly one configuration, but the selection has 2",
        ),
        (
            &["--config", "7", "--target", "tpf=2"],
            "--config 7: no such configuration",
        ),
        (
            &["--param", "decoder.fill_threshold", "--target", "low:tpf=2"],
            "case `low` sets it itself",
        ),
        (
            &["--case", "low", "--target-table", "0.7:3,0.9:2"],
            "decoder.fill_threshold: the value calibrate sets never reaches configuration 1: case `low` sets it itself",
        ),
        // The user's own --set, not a knob, is held to the same rule as run's.
        (
            &["--set", "decoder.fill_threshold=0.8", "--target", "low:tpf=2"],
            "decoder.fill_threshold: --set decoder.fill_threshold=0.8 never reaches configuration 1: case `low` sets it itself",
        ),
    ];
    for (extra, needle) in cases {
        let o = run(extra);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(needle),
            "{extra:?}: `{needle}` missing from {err}"
        );
    }
}

#[test]
fn an_unwritable_destination_fails_before_any_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = two_cases(dir.path());
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, "").unwrap();
    let o = lopa(&[
        "calibrate",
        scenario.to_str().unwrap(),
        "--param",
        "model.base_logit",
        "--range=-3,2",
        "--target",
        "std:tpf=2.4",
        "--write",
        blocker.join("w.toml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot create"), "{}", stderr(&o));
    assert!(
        o.stdout.iter().filter(|&&b| b == b'\n').count() <= 1,
        "decoded before failing"
    );
}

#[test]
fn a_variant_fits_one_world_at_two_settings_and_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let one = TWO_CASES.split("[[case]]").next().unwrap();
    let scenario = dir.path().join("one.toml");
    fs::write(&scenario, one).unwrap();
    let written = dir.path().join("fit/one.toml");
    let o = lopa(&fit_two_knobs(
        &scenario,
        &written,
        &[
            "--target",
            "tpf=2.4",
            "--target",
            "low:tpf=6.5",
            "--variant",
            "low:decoder.fill_threshold=0.7,decoder.add_threshold=0.05",
        ],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("low:tpf: reached"), "{text}");
    assert!(text.contains("tolerance 2%: within"), "{text}");
    let body = fs::read_to_string(&written).unwrap();
    assert!(
        !body.contains("0.05") && body.contains("fill_threshold = 0.9"),
        "{body}"
    );
    // The written world, rerun as it is and at the variant's setting, gives both targets.
    for (sets, want) in [
        (vec![], 2.4),
        (
            vec!["decoder.fill_threshold=0.7", "decoder.add_threshold=0.05"],
            6.5,
        ),
    ] {
        let out = dir.path().join(format!("out{want}"));
        let mut args = vec![
            "run",
            written.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        for s in &sets {
            args.extend(["--set", s]);
        }
        let o = lopa(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows = read_rows(&out.join("summary.csv"));
        let got: f64 = rows[0]["tpf"].parse().unwrap();
        assert!(
            (got / want - 1.0).abs() <= 0.02,
            "{sets:?}: TPF {got}, target {want}"
        );
    }
    // A variant no target names is a mistake worth saying.
    let o = lopa(&[
        "calibrate",
        scenario.to_str().unwrap(),
        "--param",
        "model.base_logit",
        "--range=-3,2",
        "--target",
        "tpf=2.4",
        "--variant",
        "lo:decoder.fill_threshold=0.7",
        "--write",
        dir.path().join("x.toml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--variant lo: no --target names it"),
        "{}",
        stderr(&o)
    );
}
