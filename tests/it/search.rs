//! The decoders of SPEC 3.4 and the search options of SPEC 4.3 to 4.5, run through the CLI
//! on the worked-example scenarios.

use crate::util::{lopa, read_rows, run_ok, stderr};

/// Runs `scenario` with `sets` and returns `runs.csv`'s bytes and rows.
fn run(scenario: &str, sets: &[&str]) -> (Vec<u8>, Vec<std::collections::HashMap<String, String>>) {
    let extra: Vec<&str> = sets.iter().flat_map(|s| ["--set", s]).collect();
    let out = run_ok(scenario, &extra);
    let path = out.path().join("runs.csv");
    (std::fs::read(&path).unwrap(), read_rows(&path))
}

/// Runs `scenario` with each of `sets` into a fresh folder, expects exit 2, and returns
/// stderr.
fn refused(scenario: &str, sets: &[&str]) -> (String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["run", scenario, "--out", out.path().to_str().unwrap(), "-q"];
    args.extend(sets.iter().flat_map(|s| ["--set", s]));
    let o = lopa(&args);
    assert_eq!(o.status.code(), Some(2), "{scenario} --set {sets:?}");
    (stderr(&o), out)
}

/// Runs `scenario` with `key` set to each of `rules`, at k = 0 and k = 3 with its sweep
/// dropped, and hands `check` every row's (rule, k, rounds, tokens, rows in the run).
fn each_rule(
    scenario: &str,
    key: &str,
    rules: &[&str],
    check: impl Fn(&str, &str, u64, u64, usize),
) {
    for rule in rules {
        for k in ["0", "3"] {
            let (_, rows) = run(
                scenario,
                &[
                    &format!("{key}={rule}"),
                    &format!("search.branches={k}"),
                    "sweep={}",
                ],
            );
            assert!(!rows.is_empty(), "{rule} k={k}");
            for r in &rows {
                let (rounds, tokens): (u64, u64) =
                    (r["rounds"].parse().unwrap(), r["tokens"].parse().unwrap());
                check(rule, k, rounds, tokens, rows.len());
            }
        }
    }
}

#[test]
fn every_new_decoder_runs_with_its_defaults_with_and_without_lopa() {
    let kinds = [
        "factor",
        "eb",
        "entropy_threshold",
        "left_to_right",
        "random",
        "per_run",
    ];
    each_rule(
        "tests/golden/threshold-causal.toml",
        "decoder.kind",
        &kinds,
        |kind, k, rounds, tokens, rows| {
            assert_eq!(rows, 4, "{kind} k={k}");
            assert_eq!(
                tokens, 48,
                "{kind} k={k}: every block exists from the start"
            );
            assert!(rounds >= 1 && rounds <= tokens, "{kind} k={k}: {rounds}");
            if kind == "left_to_right" && k == "0" {
                assert_eq!(rounds, tokens, "one token per round");
            }
        },
    );
}

#[test]
fn every_rule_runs_as_the_fill_of_d2f_blocks() {
    let (plain, _) = run("tests/golden/d2f-lopa.toml", &[]);
    let (own, _) = run("tests/golden/d2f-lopa.toml", &["decoder.fill_rule=d2f"]);
    assert_eq!(plain, own, "fill_rule = d2f is D2F's own fill");
    let (_, l2r) = run(
        "tests/golden/d2f-lopa.toml",
        &[
            "decoder.fill_rule=left_to_right",
            "search.branches=0",
            "sweep={}",
        ],
    );
    for r in &l2r {
        // One block is fully active at a time in a slow left-to-right decode, so most rounds
        // fill one token: never more tokens than rounds times the blocks in flight.
        let (rounds, tokens): (u64, u64) =
            (r["rounds"].parse().unwrap(), r["tokens"].parse().unwrap());
        assert!(
            rounds >= tokens / 2,
            "left_to_right in d2f: {rounds} rounds"
        );
    }
    let rules = [
        "threshold",
        "topk",
        "factor",
        "eb",
        "entropy_threshold",
        "random",
        "per_run",
    ];
    each_rule(
        "tests/golden/d2f-lopa.toml",
        "decoder.fill_rule",
        &rules,
        |rule, k, rounds, tokens, _| assert!(rounds >= 1 && tokens >= 1, "{rule} k={k}"),
    );
    let (err, _) = refused(
        "tests/golden/threshold-causal.toml",
        &["decoder.fill_rule=eb"],
    );
    assert!(
        err.contains("decoder.fill_rule") && err.contains("d2f"),
        "{err}"
    );
}

#[test]
fn bad_decoder_values_name_the_key() {
    for (set, key) in [
        ("decoder.factor=0.0", "decoder.factor"),
        ("decoder.gamma=-1.0", "decoder.gamma"),
        ("decoder.eta=-0.5", "decoder.eta"),
    ] {
        let kind = key.trim_start_matches("decoder.");
        let kind = match kind {
            "gamma" => "eb",
            "eta" => "entropy_threshold",
            other => other,
        };
        let kind = format!("decoder.kind={kind}");
        let (err, _) = refused("tests/golden/threshold-causal.toml", &[&kind, set]);
        assert!(err.contains(key) && err.contains("got"), "{set}: {err}");
    }
}

#[test]
fn lopa_variants_at_their_defaults_give_plain_lopa_byte_for_byte() {
    let defaults = [
        "search.branch_topp=1.0",
        "search.alpha=0.0",
        "search.extra_tokens=1",
        "search.force_base=false",
        "search.spawn_completion=\"ends\"",
    ];
    for scenario in [
        "tests/golden/d2f-lopa.toml",
        "tests/golden/threshold-causal.toml",
        "tests/golden/hmm.toml",
        "tests/golden/plan.toml",
    ] {
        let (plain, rows) = run(scenario, &[]);
        let (explicit, _) = run(scenario, &defaults);
        assert!(!rows.is_empty());
        assert_eq!(plain, explicit, "{scenario}");
    }
}

#[test]
fn bad_search_values_name_the_key() {
    for (set, key) in [
        ("search.branch_topp=0.0", "search.branch_topp"),
        ("search.branch_topp=1.5", "search.branch_topp"),
        ("search.alpha=-0.1", "search.alpha"),
        ("search.extra_tokens=0", "search.extra_tokens"),
    ] {
        let (err, _) = refused("tests/golden/d2f-lopa.toml", &[set]);
        assert!(err.contains(key) && err.contains("got"), "{set}: {err}");
    }
}

#[test]
fn a_decode_past_its_round_limit_names_scenario_configuration_and_sequence() {
    for sets in [
        vec!["search.max_rounds=2"],
        vec!["search.max_rounds=2", "decoder.kind=\"factor\""],
        vec![
            "search.max_rounds=1",
            "search.kind=\"oracle\"",
            "gen_length=16",
            "sweep={}",
        ],
        vec![
            "search.max_rounds=1",
            "search.kind=\"oracle\"",
            "search.depth=1",
            "sweep={}",
        ],
    ] {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec![
            "run",
            "tests/golden/d2f-lopa.toml",
            "--out",
            out.path().to_str().unwrap(),
            "-q",
        ];
        for s in &sets {
            args.extend(["--set", s]);
        }
        let o = lopa(&args);
        assert_eq!(o.status.code(), Some(2), "{sets:?}");
        let err = stderr(&o);
        for part in [
            "d2f-lopa.toml",
            "configuration 0",
            "sequence 0",
            "round limit",
        ] {
            assert!(err.contains(part), "{sets:?}: {err}");
        }
        assert_eq!(err.matches("round limit").count(), 1, "said once: {err}");
    }
}

#[test]
fn the_oracle_refuses_before_searching_when_its_states_would_not_fit() {
    let (err, out) = refused("tests/golden/d2f-lopa.toml", &["search.kind=oracle"]);
    assert!(
        err.contains("search.kind") && err.contains("search.state_budget_mb"),
        "{err}"
    );
    assert!(!out.path().join("runs.csv").exists(), "nothing decoded");
}

#[test]
fn oracle_rows_never_need_more_rounds_than_lopa() {
    let sets = ["gen_length=16", "sweep={}"];
    let (_, oracle) = run(
        "tests/golden/d2f-lopa.toml",
        &[sets[0], sets[1], "search.kind=oracle"],
    );
    let (_, beam) = run(
        "tests/golden/d2f-lopa.toml",
        &[
            sets[0],
            sets[1],
            "search.kind=oracle",
            "search.depth=2",
            "search.width=2",
            "search.branches=4",
        ],
    );
    for k in ["0", "1", "4"] {
        let (_, lopa_rows) = run(
            "tests/golden/d2f-lopa.toml",
            &[sets[0], sets[1], &format!("search.branches={k}")],
        );
        for ((o, l), b) in oracle.iter().zip(&lopa_rows).zip(&beam) {
            let r = |row: &std::collections::HashMap<String, String>| -> u64 {
                row["rounds"].parse().unwrap()
            };
            assert!(r(o) <= r(l), "k = {k}");
            assert!(r(o) <= r(b));
            if k == "4" {
                assert!(r(b) <= r(l), "the beam keeps LoPA's path");
            }
        }
    }
}
