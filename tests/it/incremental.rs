//! Incremental evaluation (memoised chain predictions, resumed HMM forward and backward
//! passes and the HMM's per-position memo, cached and saturated plan posteriors) must give exactly what recomputing every prediction from the branch
//! gives: every record field and every round's scores, bit for bit. One workspace is
//! reused across sequences and configurations, as a sweep thread does, so state carried
//! between decodes is exercised too.

use std::path::Path;

use lopa_sim::engine::{Setup, Workspace};
use lopa_sim::search::{Knobs, Search, SpawnCompletion};
use proptest::prelude::*;

use super::invariants::{setup, world};

/// Every sequence of `setups`, decoded with one reused incremental workspace and with a
/// fresh full-recomputation workspace per decode; records and round traces must agree.
fn agree(setups: &[Setup], seqs: usize) -> Result<(), TestCaseError> {
    let mut ws = Workspace::default();
    for (c, s) in setups.iter().enumerate() {
        for seq in 0..seqs.min(s.sequences) {
            let fast = s.trace(seq, c, &mut ws).unwrap();
            let full = s.trace(seq, c, &mut Workspace::full_recompute()).unwrap();
            prop_assert_eq!(&fast.0, &full.0, "config {}, sequence {}", c, seq);
            prop_assert_eq!(&fast.1, &full.1, "config {}, sequence {}", c, seq);
            // The record path (no observer) too.
            prop_assert_eq!(&s.decode(seq, &mut ws).unwrap(), &full.0);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every family (markov, hmm, plan, field, miscalibrated, phrase) x every decoder x
    /// both attentions x every confidence kind, with LoPA k up to 16 and longer sequences
    /// than the invariants use, so masked runs split and merge.
    #[test]
    fn incremental_equals_full_on_generated_worlds(mut w in world(), extra in 0usize..4) {
        w.blocks += extra;
        let setups: Vec<Setup> = [0, w.k.min(3), w.k]
            .iter()
            .map(|&k| setup(&w, Search::Lopa { branches: k }))
            .collect();
        agree(&setups, 3)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The LoPA knobs change which tokens a branch holds beyond its base (several extra
    /// tokens, settling at the start, scoring by the lowest confs or with c_b, only the base
    /// winning), so the predictions the search copies between branches are checked under
    /// each of them.
    #[test]
    fn incremental_equals_full_under_the_lopa_knobs(
        mut w in world(),
        extra_tokens in 1usize..4,
        needs_forward: bool,
        topp in prop::sample::select(vec![1.0, 0.5]),
        alpha in prop::sample::select(vec![0.0, 0.5]),
        force_base: bool,
    ) {
        w.blocks += 2;
        let knobs = Knobs {
            extra_tokens,
            spawn_completion: if needs_forward {
                SpawnCompletion::NeedsForward
            } else {
                SpawnCompletion::Ends
            },
            branch_topp: topp,
            alpha,
            force_base,
            ..Knobs::default()
        };
        let mut s = setup(&w, Search::Lopa { branches: w.k.max(1) });
        s.knobs = knobs;
        agree(&[s], 2)?;
    }
}

/// The shipped scenarios, cut down: every family of the Table 1 study (markov, hmm, plan,
/// field, d2f with k = 7 and 14; once more at L = 192), a phrase world under every decoder and the oracle, and a
/// threshold decoder over a Markov CSV chain.
#[test]
fn incremental_equals_full_on_the_shipped_scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let cases: [(&str, &[&str]); 5] = [
        ("paper-table1.toml", &["sequences=2", "gen_length=64"]),
        // Long enough for the plan posterior to saturate and for HMM passes to be resumed
        // across appended blocks.
        ("paper-table1.toml", &["sequences=1", "gen_length=192"]),
        ("tfo-study.toml", &["sequences=2", "gen_length=32"]),
        (
            "fast-dllm-llada.toml",
            &[
                "sequences=2",
                "gen_length=64",
                "model.attention=\"block_causal\"",
            ],
        ),
        (
            "quickstart.toml",
            &[
                "sequences=2",
                "gen_length=64",
                "model.attention=\"block_causal\"",
            ],
        ),
    ];
    for (file, sets) in cases {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let (scenario, resolved) = lopa_sim::cli::prepare(&root.join(file), &sets)
            .unwrap_or_else(|e| panic!("{file}: {e:#}"));
        let setups = scenario.setups(&resolved).expect("setups build");
        agree(&setups, 2).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}
