//! Selecting work (`--case`, `--config`, `--seq`), safe outputs and the CLI conventions.

use std::fs;

use crate::util::{lopa, read_rows, run_ok, stderr};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn case_selects_one_case_in_run_and_unknown_names_list_the_valid_ones() {
    let out = run_ok(
        "scenarios/paper-table1.toml",
        &["--set", "sequences=2", "--case", "MATH/hmm"],
    );
    let rows = read_rows(&out.path().join("summary.csv"));
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["case"] == "MATH/hmm"), "{rows:?}");

    for cmd in ["run", "trace"] {
        let o = lopa(&[cmd, "scenarios/paper-table1.toml", "--case", "MATH/nope"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let e = stderr(&o);
        assert!(
            e.contains("MATH/nope") && e.contains("GSM8K/markov, GSM8K/hmm"),
            "{e}"
        );
    }
}

/// A case's own key wins over `--set`, so a `--set` that a selected case overrules would
/// change nothing: `run` and `trace` refuse it, naming the case and its line, and take it
/// when no selected case sets the key.
#[test]
fn a_set_that_a_selected_case_overrules_is_refused() {
    let t1 = "scenarios/paper-table1.toml";
    for cmd in ["run", "trace"] {
        let o = lopa(&[cmd, t1, "--case", "MATH/*", "--set", "model.stickiness=0.9"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let e = stderr(&o);
        assert!(
            e.contains("--set model.stickiness=0.9")
                && e.contains("case `MATH/hmm` sets this key itself")
                && e.contains("paper-table1.toml:"),
            "{cmd}: {e}"
        );
    }
    // lopa-dist's cases each set their platform, so a --set of one is refused too.
    let o = lopa(&["run", "scenarios/lopa-dist.toml", "--set", "system.bp=0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("sets this key itself"),
        "{}",
        stderr(&o)
    );
    // The markov case does not set the hmm's stickiness: the --set reaches the file's key.
    let out = run_ok(
        t1,
        &[
            "--set",
            "sequences=1",
            "--case",
            "MATH/markov",
            "--set",
            "model.stickiness=0.9",
        ],
    );
    assert_eq!(read_rows(&out.path().join("summary.csv")).len(), 2);
}

#[test]
fn trace_picks_a_configuration_and_checks_the_sequence() {
    let o = lopa(&[
        "trace",
        "scenarios/paper-table1.toml",
        "--case",
        "GSM8K/*",
        "--config",
        "1",
        "--set",
        "sequences=2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("winner: lookahead"),
        "config 1 is the LoPA one"
    );
    let o = lopa(&["trace", "scenarios/paper-table1.toml", "--config", "32"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--config 32"), "{}", stderr(&o));
    let o = lopa(&[
        "trace",
        "scenarios/quickstart.toml",
        "--config",
        "0",
        "--seq",
        "64",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--seq 64"), "{}", stderr(&o));
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--list",
        "--set",
        "output.trace_seq=999",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("output.trace_seq"), "{}", stderr(&o));
}

#[test]
fn a_folder_of_another_scenario_is_refused_before_decoding_unless_forced() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let quick = [
        "run",
        "scenarios/quickstart.toml",
        "--out",
        dir,
        "-q",
        "--set",
        "sequences=2",
    ];
    assert!(lopa(&quick).status.success());
    let before = fs::read(out.path().join("summary.csv")).unwrap();
    let field = [
        "run",
        "scenarios/field.toml",
        "--out",
        dir,
        "-q",
        "--set",
        "sequences=2",
    ];
    let o = lopa(&field);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("`quickstart`") && e.contains("`field`") && e.contains("--force"),
        "{e}"
    );
    assert_eq!(fs::read(out.path().join("summary.csv")).unwrap(), before);
    let forced: Vec<&str> = field.iter().copied().chain(["--force"]).collect();
    assert!(lopa(&forced).status.success());
    assert_ne!(fs::read(out.path().join("summary.csv")).unwrap(), before);
}

#[test]
fn an_unwritable_output_fails_before_decoding() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    fs::write(&file, b"x").unwrap();
    let inside = file.join("results");
    // 10^5 sequences would take minutes: failing at once shows nothing was decoded.
    let start = std::time::Instant::now();
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        inside.to_str().unwrap(),
        "--set",
        "sequences=100000",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot create results folder"),
        "{}",
        stderr(&o)
    );
    let md = tmp.path().join("missing/t.md");
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        tmp.path().join("r").to_str().unwrap(),
        "--export-markdown",
        md.to_str().unwrap(),
        "--set",
        "sequences=100000",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("t.md"), "{}", stderr(&o));
    assert!(!tmp.path().join("r").exists());
    assert!(start.elapsed().as_secs() < 60);
}

#[test]
fn list_completions_version_markdown_and_jobs() {
    let out = tempfile::tempdir().unwrap();
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--list",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("config 4  search.branches=8  (k = 8)"),
        "{text}"
    );
    assert!(text.contains("    search.branches = 8") && text.contains("5 configurations"));
    assert_eq!(
        fs::read_dir(out.path()).unwrap().count(),
        0,
        "--list decodes and writes nothing"
    );

    // A failed write is an error, not clap_complete's panic.
    if std::path::Path::new("/dev/full").exists() {
        let full = fs::File::create("/dev/full").unwrap();
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("lopa-sim"))
            .args(["completions", "bash"])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("cannot write to standard output"));
    }
    let o = lopa(&["completions", "bash"]);
    assert!(
        o.status.success() && stdout(&o).contains("complete -F"),
        "{}",
        stdout(&o)
    );
    let o = lopa(&["--version"]);
    assert!(stdout(&o).starts_with("lopa-sim 0."), "{}", stdout(&o));

    let md = out.path().join("t.md");
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        out.path().join("r").to_str().unwrap(),
        "--set",
        "sequences=2",
        "--jobs",
        "1",
        "--quiet",
        "--export-markdown",
        md.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "--quiet prints nothing");
    let md = fs::read_to_string(md).unwrap();
    assert_eq!(md.lines().count(), 7, "{md}");
    assert!(
        md.starts_with("| config | search.branches | TPF | TPF 95% CI |"),
        "{md}"
    );
    // No pool of zero threads, and none so large that spawning it takes the run's time
    // (100000 threads ran past a minute).
    for jobs in ["0", "1025", "100000"] {
        let o = lopa(&["run", "scenarios/quickstart.toml", "--list", "--jobs", jobs]);
        assert_eq!(o.status.code(), Some(2), "--jobs {jobs}");
        assert!(stderr(&o).contains("1..=1024"), "{}", stderr(&o));
    }
}

#[test]
fn trace_config_chooses_the_right_panel_of_tfo_map() {
    let out = run_ok(
        "scenarios/paper-table1.toml",
        &[
            "--set",
            "sequences=2",
            "--case",
            "MATH/*",
            "--set",
            "output.trace_config=3",
        ],
    );
    let rows = read_rows(&out.path().join("trace.csv"));
    let mut configs: Vec<&str> = rows.iter().map(|r| r["config"].as_str()).collect();
    configs.dedup();
    // Config 3 is MATH/hmm with LoPA; its own k = 0 decode, config 2, is the left panel.
    assert_eq!(configs, ["2", "3"]);
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        out.path().join("q").to_str().unwrap(),
        "--set",
        "output.trace_config=5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("output.trace_config"), "{}", stderr(&o));
}
