//! Generated worlds: `model.seed`, replicated worlds, and the text statistic.

use std::fs;
use std::path::Path;

use crate::util::{lopa, run_in, stderr};

/// A generated Markov world with explicit prompts, so the decode is the same function of
/// the world whatever the sequence streams are.
const GENERATED: &str = r#"name = "w"
seed = 3
sequences = 4
gen_length = 32
[model]
kind = "markov"
vocab_size = 16
peakedness = 2.0
eos_token = 0
eos_hazard = 0.01
prompts = [[2, 5], [7], [3]]
[decoder]
kind = "d2f"
block_size = 8
[search]
kind = "lopa"
branches = 2
"#;

/// Runs `text` (written to `s.toml` in a fresh folder) with `sets`; returns runs.csv.
fn runs_of(text: &str, sets: &[&str]) -> String {
    let (_dir, out) = results_of(text, sets);
    read(&out, "runs.csv")
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn model_seed_moves_the_world_and_nothing_else() {
    let plain = runs_of(GENERATED, &[]);
    assert_eq!(plain, runs_of(GENERATED, &["model.seed=3"]));
    // With explicit prompts and an exact model, the sequence streams do not matter, so
    // another `seed` with the same `model.seed` decodes the same world to the same rows.
    assert_eq!(plain, runs_of(GENERATED, &["seed=9", "model.seed=3"]));
    assert_ne!(plain, runs_of(GENERATED, &["model.seed=4"]));
}

/// Runs `text` with `sets` and returns the results folder (kept alive by the TempDir).
fn results_of(text: &str, sets: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("s.toml"), text).unwrap();
    let args: Vec<&str> = sets.iter().flat_map(|&set| ["--set", set]).collect();
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{sets:?}: {}", stderr(&o));
    let out = dir.path().join("out");
    (dir, out)
}

/// A sampled-prompt world with a sweep, so every stream and label column is exercised.
const SWEPT: &str = r#"name = "w"
seed = 5
sequences = 3
gen_length = 32
[model]
kind = "markov"
vocab_size = 16
peakedness = 2.0
deterministic_share = 0.5
eos_token = 0
eos_hazard = 0.01
prompt_length = 2
[decoder]
kind = "d2f"
block_size = 8
[search]
kind = "lopa"
[sweep]
"search.branches" = [0, 2]
"#;

#[test]
fn one_world_is_the_scenario_without_the_key() {
    let (_a, plain) = results_of(SWEPT, &[]);
    let (_b, one) = results_of(SWEPT, &["worlds=1"]);
    for f in ["runs.csv", "summary.csv"] {
        assert_eq!(read(&plain, f), read(&one, f), "{f}");
    }
    assert!(!read(&plain, "summary.csv").contains("tpf_world_lo"));
}

#[test]
fn worlds_replicate_every_sequence_and_bound_the_pooled_tpf() {
    let (_a, plain) = results_of(SWEPT, &[]);
    let (_b, three) = results_of(SWEPT, &["worlds=3"]);
    let rows = crate::util::read_rows(&three.join("runs.csv"));
    assert_eq!(rows.len(), 2 * 3 * 3, "configurations x worlds x sequences");
    // World 0 is exactly the world without the key: its rows match the plain run's.
    let plain_rows = crate::util::read_rows(&plain.join("runs.csv"));
    let world0: Vec<_> = rows.iter().filter(|r| r["world"] == "0").collect();
    assert_eq!(world0.len(), plain_rows.len());
    for (w, p) in world0.iter().zip(&plain_rows) {
        for key in ["config", "seq", "rounds", "tokens", "distinct2"] {
            assert_eq!(w[key], p[key], "{key}");
        }
    }
    // Other worlds decode the same sequence numbers in other chains.
    let seqs = |w: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["world"] == w)
            .map(|r| r["seq"].clone())
            .collect()
    };
    assert_eq!(seqs("1"), seqs("0"));
    assert_eq!(seqs("2"), seqs("0"));
    let summary = crate::util::read_rows(&three.join("summary.csv"));
    for s in &summary {
        let x = |k: &str| -> f64 { s[k].parse().unwrap_or_else(|_| panic!("{k}: {s:?}")) };
        assert!(
            x("tpf_world_lo") <= x("tpf") && x("tpf") <= x("tpf_world_hi"),
            "{s:?}"
        );
        assert!(x("tpf_world_sd") >= 0.0);
        assert_eq!(s["sequences"], "9", "the summary pools every world");
        // The pooled TPF is sum(tokens) / sum(rounds) over every world's rows.
        let mine: Vec<_> = rows.iter().filter(|r| r["config"] == s["config"]).collect();
        let sum = |k: &str| {
            mine.iter()
                .map(|r| r[k].parse::<f64>().unwrap())
                .sum::<f64>()
        };
        assert!((x("tpf") - sum("tokens") / sum("rounds")).abs() < 1e-12);
    }
    let json: serde_json::Value = serde_json::from_str(&read(&three, "summary.json")).unwrap();
    assert!(json["configurations"][0]["summary"]["tpf_world_hi"].is_f64());
}

#[test]
fn worlds_need_a_generated_model() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        crate::util::root().join("tests/golden/chain12.csv"),
        dir.path().join("chain12.csv"),
    )
    .unwrap();
    let text = GENERATED.replace(
        "vocab_size = 16\npeakedness = 2.0",
        "transitions = \"chain12.csv\"",
    );
    let s = dir.path().join("s.toml");
    fs::write(&s, format!("worlds = 2\n{text}")).unwrap();
    let o = lopa(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "-q",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for needle in ["s.toml:1", "worlds", "CSV"] {
        assert!(err.contains(needle), "`{needle}` missing from: {err}");
    }
    assert!(!dir.path().join("o/runs.csv").exists());
}

const PHRASE: &str = r#"name = "p"
seed = 2
sequences = 4
gen_length = 64
[model]
kind = "phrase"
vocab_size = 128
phrase_length = 5.0
short_share = 0.3
successors = 3
peakedness = 1.0
eos_token = 0
eos_hazard = 0.002
prompt_length = 3
[decoder]
kind = "d2f"
block_size = 16
[search]
kind = "lopa"
[sweep]
"search.branches" = [0, 3]
"#;

#[test]
fn a_phrase_world_decodes_like_text_and_lookahead_helps() {
    let (_d, out) = results_of(PHRASE, &["worlds=2"]);
    let rows = crate::util::read_rows(&out.join("runs.csv"));
    assert!(rows.iter().all(|r| r["invalid_transitions"] == "0"));
    let summary = crate::util::read_rows(&out.join("summary.csv"));
    let tpf = |i: usize| summary[i]["tpf"].parse::<f64>().unwrap();
    assert!(
        tpf(1) > tpf(0),
        "k = 3 beats k = 0: {} vs {}",
        tpf(1),
        tpf(0)
    );
    let d2: f64 = summary[0]["distinct2"].parse().unwrap();
    assert!(d2 > 0.3, "phrase text is not one token repeated: {d2}");
}

#[test]
fn bad_phrase_knobs_are_clear_errors() {
    for (edit, needles) in [
        (
            "phrase_length = 5.0",
            &["s.toml:8", "model.phrase_length"][..],
        ),
        ("short_share = 0.3", &["s.toml:9", "model.short_share"][..]),
        ("successors = 3", &["s.toml:10", "model.successors"][..]),
    ] {
        let bad = match edit {
            "phrase_length = 5.0" => "phrase_length = 0.5",
            "short_share = 0.3" => "short_share = 1.5",
            _ => "successors = 0",
        };
        let (o, _) = refused(&PHRASE.replace(edit, bad));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        for n in needles {
            assert!(err.contains(n), "`{n}` missing from: {err}");
        }
    }
    let (o, _) = refused(&PHRASE.replace("phrase_length = 5.0", "phrase_determinism = 0.0"));
    assert!(
        stderr(&o).contains("model.phrase_determinism"),
        "{}",
        stderr(&o)
    );
}

/// The field at a small size: its worlds are other draws of every sequence's field.
const FIELD: &str = r#"name = "f"
seed = 4
sequences = 3
gen_length = 48
[model]
kind = "field"
vocab_size = 50
prompt_length = 2
[decoder]
kind = "d2f"
block_size = 16
[search]
kind = "lopa"
branches = 2
"#;

#[test]
fn the_field_has_worlds_and_world_zero_is_the_field_without_the_key() {
    let (_a, plain) = results_of(FIELD, &[]);
    let (_b, three) = results_of(FIELD, &["worlds=3"]);
    let plain_rows = crate::util::read_rows(&plain.join("runs.csv"));
    let rows = crate::util::read_rows(&three.join("runs.csv"));
    assert_eq!(rows.len(), 9);
    let of = |w: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["world"] == w)
            .map(|r| format!("{} {} {}", r["seq"], r["rounds"], r["tokens"]))
            .collect()
    };
    let plain: Vec<String> = plain_rows
        .iter()
        .map(|r| format!("{} {} {}", r["seq"], r["rounds"], r["tokens"]))
        .collect();
    assert_eq!(of("0"), plain);
    assert_ne!(of("1"), of("0"), "another world draws other fields");
    let s = &crate::util::read_rows(&three.join("summary.csv"))[0];
    let x = |k: &str| -> f64 { s[k].parse().unwrap() };
    assert!(
        x("tpf_world_lo") <= x("tpf") && x("tpf") <= x("tpf_world_hi"),
        "{s:?}"
    );
}

#[test]
fn the_predict_worlds_pool_eight_worlds_and_move_to_lopa_by_set() {
    let lowered = [
        "decoder.add_threshold=0.1",
        "decoder.activate_threshold=0.7",
        "decoder.fill_threshold=0.7",
    ];
    for bench in ["gsm8k", "mbpp", "math", "humaneval"] {
        let scenario = format!("scenarios/paper-predict/worlds/{bench}.toml");
        let mut sets = vec!["--set", "sequences=2", "--set", "search.kind=lopa"];
        sets.extend(["--set", "search.branches=3"]);
        for l in &lowered {
            sets.extend(["--set", l]);
        }
        let out = crate::util::run_ok(&scenario, &sets);
        let runs = crate::util::read_rows(&out.path().join("runs.csv"));
        let mut worlds: Vec<&str> = runs.iter().map(|r| r["world"].as_str()).collect();
        worlds.dedup();
        assert_eq!(worlds.len(), 8, "{bench}: {worlds:?}");
        let s = &crate::util::read_rows(&out.path().join("summary.csv"))[0];
        let f = |k: &str| s[k].parse::<f64>().unwrap();
        assert!(f("tpf_world_lo") <= f("tpf") && f("tpf") <= f("tpf_world_hi"));
        assert_eq!(s["branches"], "3", "{bench}");
    }
}

#[test]
fn an_exact_share_outside_zero_to_one_is_refused() {
    let (o, wrote) = refused(&PHRASE.replace(
        "phrase_length = 5.0",
        "phrase_length = 5.0\nphrase_determinism = 0.8\nexact_share = 1.5",
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("model.exact_share") && err.contains("s.toml"),
        "{err}"
    );
    assert!(!wrote, "a refused scenario writes nothing");
}

#[test]
fn bad_stage_knobs_are_clear_errors() {
    let staged = |keys: &str| PHRASE.replace("eos_hazard = 0.002", keys);
    for (keys, key, needle) in [
        (
            "stages = 0\noutput_length = 40.0",
            "model.stages",
            "s.toml:13",
        ),
        ("stages = 3", "model.stages", "output_length"),
        (
            "stages = 3\noutput_length = 2.0",
            "model.output_length",
            "at least",
        ),
        ("output_length = -5.0", "model.output_length", "s.toml:13"),
        (
            "eos_hazard = 0.01\noutput_length = 40.0",
            "model.output_length",
            "model.eos_hazard",
        ),
    ] {
        let (o, wrote) = refused(&staged(keys));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{keys}: {err}");
        assert!(err.contains(key) && err.contains(needle), "{keys}: {err}");
        assert!(!wrote, "a refused scenario writes nothing");
    }
    let (o, _) = refused(&staged("output_length = 40.0").replace("eos_token = 0\n", ""));
    assert!(stderr(&o).contains("model.eos_token"), "{}", stderr(&o));
}

#[test]
fn a_staged_world_decodes_valid_text() {
    let text = PHRASE
        .replace("eos_hazard = 0.002", "stages = 3\noutput_length = 30.0")
        .replace("gen_length = 64", "gen_length = 96");
    let (_d, out) = results_of(&text, &[]);
    let rows = crate::util::read_rows(&out.join("runs.csv"));
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r["invalid_transitions"] == "0"));
    // The keys are echoed as given, so the run can be rebuilt from its summary.
    let json = fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(json.contains("output_length") && json.contains("stages"));
}

/// Runs `text` (as `s.toml`) into a fresh folder; returns the output and whether the
/// results folder was created.
fn refused(text: &str) -> (std::process::Output, bool) {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.toml");
    fs::write(&s, text).unwrap();
    let out = dir.path().join("o");
    let o = lopa(&[
        "run",
        s.to_str().unwrap(),
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    (o, out.exists())
}

#[test]
fn a_fork_without_loose_phrases_is_refused() {
    let (o, wrote) = refused(&PHRASE.replace(
        "phrase_length = 5.0",
        "phrase_length = 5.0\nphrase_fork = true",
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("model.phrase_fork") && err.contains("phrase_determinism"),
        "{err}"
    );
    assert!(!wrote, "a refused scenario writes nothing");
}
