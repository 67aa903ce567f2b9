//! The binary on real scenarios: result files, errors, overrides, determinism.

use std::fs;
use std::path::Path;

use crate::util::{lopa, lopa_env, read_rows, root, run_in, run_ok, stderr};

const BASE: &str = r#"name = "b"
seed = 1
sequences = 3
gen_length = 32
[model]
kind = "markov"
transitions = "chain12.csv"
eos_token = 0
prompts = [[2, 5], [7]]
[decoder]
kind = "d2f"
block_size = 16
fill_threshold = 0.8
[search]
kind = "lopa"
branches = 2
"#;

/// A folder holding `chain12.csv` and `s.toml` = BASE with `edit` applied.
fn scenario(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        root().join("tests/golden/chain12.csv"),
        dir.path().join("chain12.csv"),
    )
    .unwrap();
    fs::write(dir.path().join("s.toml"), edit(BASE)).unwrap();
    dir
}

/// Runs and expects a clean failure whose message holds every piece of `needles`.
fn fails_with(dir: &Path, extra: &[&str], needles: &[&str]) {
    let o = run_in(dir, extra);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{extra:?}: `{n}` missing from: {err}");
    }
    assert!(
        !dir.join("out/runs.csv").exists(),
        "no results after an error"
    );
}

#[test]
fn quickstart_writes_its_three_result_files() {
    let out = tempfile::tempdir().unwrap();
    let o = lopa(&[
        "run",
        "scenarios/quickstart.toml",
        "--out",
        out.path().to_str().unwrap(),
        "--set",
        "sequences=3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("TPF") && table.contains("win rate"),
        "{table}"
    );
    assert_eq!(read_rows(&out.path().join("runs.csv")).len(), 15);
    let summary = read_rows(&out.path().join("summary.csv"));
    assert_eq!(summary.len(), 5);
    let tpf: Vec<f64> = summary.iter().map(|r| r["tpf"].parse().unwrap()).collect();
    assert!(tpf[4] > tpf[0], "TPF grows with k: {tpf:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 7);
    assert_eq!(json["lopa_sim_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["configurations"].as_array().unwrap().len(), 5);
    assert_eq!(
        json["configurations"][4]["resolved"]["search"]["branches"],
        8
    );
}

#[test]
fn a_world_with_repetitive_text_says_so() {
    let run = |extra: &[&str]| {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec![
            "run",
            "scenarios/quickstart.toml",
            "-q",
            "--out",
            out.path().to_str().unwrap(),
            "--set",
            "sequences=4",
            "--set",
            r#"sweep={"search.branches"=[0]}"#,
        ];
        args.extend_from_slice(extra);
        let o = lopa(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
    };
    // Sixteen tokens: the greedy text cycles through a few phrases.
    let warned = run(&["--set", "model.vocab_size=16"]);
    assert!(
        warned.contains("repetitive") && warned.contains("configuration 0 (search.branches=0)"),
        "{warned}"
    );
    assert!(
        !run(&[]).contains("repetitive"),
        "the quickstart's k = 0 text passes"
    );
}

#[test]
fn paper_gsm8k_baseline_is_calibrated_to_the_d2f_tpf() {
    let out = run_ok(
        "scenarios/paper-gsm8k.toml",
        &["--set", r#"sweep={"search.branches"=[0]}"#],
    );
    let tpf: f64 = read_rows(&out.path().join("summary.csv"))[0]["tpf"]
        .parse()
        .unwrap();
    assert!((tpf - 3.1).abs() <= 0.3, "baseline TPF {tpf}");
}

#[test]
fn bad_scenarios_fail_with_file_line_and_key() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "fill_threshold = 0.8",
            "fill_treshold = 0.8",
            &["s.toml:13", "fill_treshold"],
        ),
        (
            "sequences = 3",
            "sequences = \"three\"",
            &["s.toml:3", "`sequences`"],
        ),
        (
            "fill_threshold = 0.8",
            "fill_threshold = 1.5",
            &["s.toml:13", "decoder.fill_threshold", "[0, 1]"],
        ),
        (
            "fill_threshold = 0.8",
            "fill_threshold = -0.1",
            &["s.toml:13", "decoder.fill_threshold"],
        ),
        (
            "gen_length = 32",
            "gen_length = 40",
            &["s.toml:4", "gen_length", "multiple"],
        ),
        (
            "[[2, 5], [7]]",
            "[[2, 5], [12]]",
            &["s.toml:9", "model.prompts", "token 12"],
        ),
        (
            "eos_token = 0",
            "eos_token = 3",
            &["s.toml:8", "model.eos_token", "absorbing"],
        ),
        (
            "eos_token = 0",
            "eos_token = 99",
            &["s.toml:8", "model.eos_token"],
        ),
        (
            "chain12.csv",
            "nothere.csv",
            &["s.toml:7", "model.transitions", "nothere.csv"],
        ),
        (
            "kind = \"d2f\"",
            "kind = \"d3f\"",
            &["s.toml:11", "decoder.kind", "topk"],
        ),
        (
            "branches = 2",
            "branches = 2\nwidht = 3",
            &["s.toml:17", "search.widht"],
        ),
        ("name = \"b\"", "name = \"b\"\nseed = [", &["s.toml"]),
    ];
    for (from, to, needles) in cases {
        let dir = scenario(|s| s.replacen(from, to, 1));
        fails_with(dir.path(), &[], needles);
    }
}

#[test]
fn bad_matrices_fail_with_the_csv_line() {
    let good = fs::read_to_string(root().join("tests/golden/chain12.csv")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let edits: Vec<(String, &str)> = vec![
        (lines[..11].join("\n"), "not square"),
        (
            good.replacen(lines[2], &lines[2].replacen("0.01", "0.5", 1), 1),
            "chain12.csv:3: row sums to",
        ),
        (
            good.replacen(lines[1], &lines[1].replacen("0.01", "-0.01", 1), 1),
            "chain12.csv:2: entry 1 is -0.01",
        ),
        (
            good.replacen(lines[1], &lines[1].replacen("0.01", "abc", 1), 1),
            "chain12.csv:2: entry 1 `abc`",
        ),
    ];
    for (text, needle) in edits {
        let dir = scenario(|s| s.to_string());
        fs::write(dir.path().join("chain12.csv"), text).unwrap();
        fails_with(dir.path(), &[], &["model.transitions", needle]);
    }
}

#[test]
fn bad_overrides_fail_and_name_the_key() {
    let dir = scenario(|s| s.to_string());
    fails_with(
        dir.path(),
        &["--set", "search.branchez=3"],
        &["--set search.branchez=3", "search.branchez"],
    );
    fails_with(
        dir.path(),
        &["--set", "search.branches=-1"],
        &["search.branches"],
    );
    fails_with(
        dir.path(),
        &["--set", "decoder.fill_threshold=2"],
        &["decoder.fill_threshold", "[0, 1]"],
    );
    fails_with(
        dir.path(),
        &["--set", "decoder.confidence=sharp"],
        &["decoder.confidence", "margin"],
    );
    fails_with(dir.path(), &["--set", "nokey"], &["KEY=VALUE"]);
    let swept = scenario(|s| format!("{s}[sweep]\n\"search.branches\" = [0, 1]\n"));
    fails_with(
        swept.path(),
        &["--set", "search.branches=3"],
        &["search.branches", "also swept"],
    );
}

#[test]
fn overrides_apply_as_toml_or_bare_words() {
    let dir = scenario(|s| format!("{s}[sweep]\n\"search.branches\" = [0, 1]\n"));
    let o = run_in(
        dir.path(),
        &[
            "--set",
            "sweep={}",
            "--set",
            "search.kind=none",
            "--set",
            "sequences=2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_rows(&dir.path().join("out/runs.csv"));
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r["lookahead_wins"] == "0" && !r.contains_key("search.branches")));
}

#[test]
fn zero_branches_equal_no_search() {
    let dir = scenario(|s| s.replace("branches = 2", "branches = 0"));
    assert!(run_in(dir.path(), &[]).status.success());
    let lopa0 = fs::read(dir.path().join("out/runs.csv")).unwrap();
    assert!(run_in(dir.path(), &["--set", "search.kind=\"none\""])
        .status
        .success());
    let none = fs::read(dir.path().join("out/runs.csv")).unwrap();
    assert_eq!(lopa0, none);
}

#[test]
fn runs_are_byte_identical_across_repeats_and_thread_counts() {
    let mut outputs = Vec::new();
    for threads in ["1", "2", "2"] {
        let out = tempfile::tempdir().unwrap();
        let o = lopa_env(
            &[
                "run",
                "scenarios/quickstart.toml",
                "--out",
                out.path().to_str().unwrap(),
                "-q",
                "--set",
                "sequences=6",
            ],
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let read = |f: &str| fs::read(out.path().join(f)).unwrap();
        outputs.push((read("runs.csv"), read("summary.csv")));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn cases_expand_in_file_order_with_the_sweep_inside() {
    let dir = scenario(|s| {
        format!(
            "{s}[sweep]\n\"search.branches\" = [0, 1]\n[[case]]\nname = \"wide\"\ndecoder.fill_threshold = 0.7\n[[case]]\nname = \"causal\"\n\"model.attention\" = \"block_causal\"\n"
        )
    });
    let o = run_in(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_rows(&dir.path().join("out/summary.csv"));
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["config"].as_str(),
                r["case"].as_str(),
                r["search.branches"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("0", "wide", "0"),
            ("1", "wide", "1"),
            ("2", "causal", "0"),
            ("3", "causal", "1")
        ]
    );
    assert_eq!(
        read_rows(&dir.path().join("out/runs.csv"))[0]["case"],
        "wide"
    );
}

/// A folder with the golden HMM and plan files and `s.toml` holding `text`.
fn model_scenario(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "hmm_A.csv",
        "hmm_E.csv",
        "hmm_pi.csv",
        "plan0.csv",
        "plan1.csv",
        "chain12.csv",
    ] {
        fs::copy(root().join("tests/golden").join(f), dir.path().join(f)).unwrap();
    }
    fs::write(dir.path().join("s.toml"), text).unwrap();
    dir
}

const HMM: &str = "name = \"h\"\nsequences = 2\ngen_length = 16\n[model]\nkind = \"hmm\"\nhmm_transitions = \"hmm_A.csv\"\nemissions = \"hmm_E.csv\"\ninitial = \"hmm_pi.csv\"\nprompts = [[1]]\n[decoder]\nkind = \"d2f\"\nblock_size = 8\n";

const FIELD: &str = "name = \"f\"\nsequences = 2\ngen_length = 64\n[model]\nkind = \"field\"\nvocab_size = 50\nprompt_length = 4\n[decoder]\nkind = \"d2f\"\nblock_size = 16\n[search]\nkind = \"lopa\"\nbranches = 2\n";

/// Scenario text, an optional (file, content) to overwrite, and what the error must say.
type ModelCase = (
    String,
    Option<(&'static str, &'static str)>,
    &'static [&'static str],
);

#[test]
fn bad_model_parameters_are_clear_errors() {
    let cases: Vec<ModelCase> = vec![
        // A non-stochastic HMM transition matrix.
        (HMM.into(), Some(("hmm_A.csv", "0.5,0.4,0\n1,0,0\n0,0,1\n")), &["model.hmm_transitions", "hmm_A.csv:1", "row sums to"]),
        // K = 0: an empty transition file, and a generator with no states.
        (HMM.into(), Some(("hmm_A.csv", "")), &["model.hmm_transitions", "no rows"]),
        (HMM.replace("hmm_transitions = \"hmm_A.csv\"\nemissions = \"hmm_E.csv\"\ninitial = \"hmm_pi.csv\"\n", "vocab_size = 6\nstates = 0\n"), None, &["s.toml:", "model.states", "1..="]),
        // Emissions with the wrong number of rows, an initial vector of the wrong size.
        (HMM.into(), Some(("hmm_E.csv", "1,0,0,0,0,0,0,0\n")), &["model.emissions", "K = 3"]),
        (HMM.into(), Some(("hmm_pi.csv", "0.5,0.5\n")), &["model.initial", "needs 3"]),
        // A negative temperature for the miscalibration wrapper.
        (HMM.replace("prompts = [[1]]", "prompts = [[1]]\ntemperature = -0.5"), None, &["s.toml:10", "model.temperature"]),
        // Kernels that would make NaN.
        (FIELD.replace("vocab_size = 50", "vocab_size = 50\nkernel_scale = 0.0"), None, &["s.toml:7", "model.kernel_scale"]),
        (FIELD.replace("vocab_size = 50", "vocab_size = 50\nleft_strength = nan"), None, &["s.toml:7", "model.left_strength"]),
        (FIELD.replace("vocab_size = 50", "vocab_size = 50\nright_strength = inf"), None, &["s.toml:7", "model.right_strength"]),
        (FIELD.replace("vocab_size = 50", "vocab_size = 50\ngamma = 0"), None, &["s.toml:7", "model.gamma"]),
        // Plans that disagree, and a prior that does not sum to 1.
        ("name = \"p\"\nsequences = 1\ngen_length = 8\n[model]\nkind = \"plan\"\nplans = [\"plan0.csv\", \"chain12.csv\"]\nplan_prior = [0.5, 0.5]\n[decoder]\nkind = \"d2f\"\nblock_size = 8\n".into(), None, &["model.plans", "plan 1"]),
        ("name = \"p\"\nsequences = 1\ngen_length = 8\n[model]\nkind = \"plan\"\nplans = [\"plan0.csv\", \"plan1.csv\"]\nplan_prior = [0.5, 0.6]\n[decoder]\nkind = \"d2f\"\nblock_size = 8\n".into(), None, &["s.toml:7", "model.plan_prior", "sums to"]),
    ];
    for (text, file, needles) in cases {
        let dir = model_scenario(&text);
        if let Some((name, content)) = file {
            fs::write(dir.path().join(name), content).unwrap();
        }
        fails_with(dir.path(), &[], needles);
    }
}

#[test]
fn every_model_family_runs_and_reports_its_own_columns() {
    let dir = model_scenario(FIELD);
    let o = run_in(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_rows(&dir.path().join("out/runs.csv"));
    assert!(rows
        .iter()
        .all(|r| !r["token_errors"].is_empty() && r["invalid_transitions"].is_empty()));
    let dir = model_scenario(&HMM.replace(
        "prompts = [[1]]",
        "prompts = [[1]]\ntemperature = 0.5\nlogit_noise = 0.3",
    ));
    let o = run_in(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_rows(&dir.path().join("out/runs.csv"));
    assert!(rows
        .iter()
        .all(|r| !r["log_likelihood"].is_empty() && r["matches_greedy"].is_empty()));
    for kind in ["hmm", "plan"] {
        let text = format!("name = \"g\"\nsequences = 2\ngen_length = 32\n[model]\nkind = \"{kind}\"\nvocab_size = 12\neos_token = 0\neos_hazard = 0.01\nprompt_length = 3\n[decoder]\nkind = \"d2f\"\nblock_size = 8\n[search]\nkind = \"lopa\"\nbranches = 3\n");
        let dir = model_scenario(&text);
        let o = run_in(dir.path(), &[]);
        assert!(o.status.success(), "{kind}: {}", stderr(&o));
    }
}
