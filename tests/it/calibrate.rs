//! `lopa-sim calibrate`: reaches its target, writes a scenario that reproduces it, and
//! fails clearly when it cannot.

use std::fs;

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
        .find_map(|l| l.split("(TPF ").nth(1))
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
            &["--param", "search.branches", "--target", "tpf=5"],
            "--range",
        ),
        (&["--param", "name", "--target", "tpf=5"], "not a numeric"),
        (
            &["--param", "decoder.fill_threshold", "--target", "5"],
            "tpf=X",
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
