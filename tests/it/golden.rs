//! The worked examples of `shared/golden`: the rows SPEC.md implies, compared by header.

use crate::util::{lopa, read_rows, root, stderr};

const INTEGER_FIELDS: &[&str] = &[
    "config",
    "seq",
    "rounds",
    "tokens",
    "content_tokens",
    "lookahead_wins",
    "invalid_transitions",
    "matches_greedy",
    "plan_consistent",
];

fn empty(cell: &str) -> bool {
    cell.is_empty() || cell == "''"
}

fn check(scenario: &str, expected: &str) {
    let out = tempfile::tempdir().unwrap();
    let o = lopa(&["run", scenario, "--out", out.path().to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{scenario}: {}", stderr(&o));
    let got = read_rows(&out.path().join("runs.csv"));
    let want = read_rows(&root().join(expected));
    assert_eq!(got.len(), want.len(), "{scenario}: row count");
    for (g, w) in got.iter().zip(&want) {
        for (key, wv) in w {
            let gv = g
                .get(key)
                .unwrap_or_else(|| panic!("{scenario}: no column {key}"));
            let ctx = format!(
                "{scenario} config {} seq {} column {key}",
                w["config"], w["seq"]
            );
            if empty(wv) {
                assert!(empty(gv), "{ctx}: want empty, got {gv}");
            } else if key == "log_likelihood" {
                let (a, b): (f64, f64) = (gv.parse().unwrap(), wv.parse().unwrap());
                assert!((a - b).abs() < 1e-6, "{ctx}: {a} vs {b}");
            } else if INTEGER_FIELDS.contains(&key.as_str()) {
                assert_eq!(gv, wv, "{ctx}");
            } else {
                // A swept key: compare as numbers so 0.8 matches 0.8.
                let (a, b): (f64, f64) = (gv.parse().unwrap(), wv.parse().unwrap());
                assert_eq!(a, b, "{ctx}");
            }
        }
    }
}

#[test]
fn d2f_with_lopa_matches_the_worked_example() {
    check(
        "tests/golden/d2f-lopa.toml",
        "tests/golden/expected-d2f-lopa.csv",
    );
}

#[test]
fn threshold_block_causal_neg_entropy_matches_the_worked_example() {
    check(
        "tests/golden/threshold-causal.toml",
        "tests/golden/expected-threshold-causal.csv",
    );
}

#[test]
fn hidden_markov_oracle_matches_the_worked_example() {
    check("tests/golden/hmm.toml", "tests/golden/expected-hmm.csv");
}

#[test]
fn plan_mixture_matches_the_worked_example() {
    check("tests/golden/plan.toml", "tests/golden/expected-plan.csv");
}
