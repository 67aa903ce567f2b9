//! The exhaustive oracle against a brute force written apart from it, and against LoPA.

use std::sync::Arc;

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::decoder::{D2f, SemiAr, SemiArRule};
use crate::engine::{Prompts, Setup, Workspace};
use crate::model::{MarkovOracle, Scratch};
use crate::state::Attention;

/// A random chain over 5 tokens with some forbidden transitions and peaked rows.
fn chain(seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v = 5;
    let mut t = Array2::<f64>::zeros((v, v));
    for r in 0..v {
        for c in 0..v {
            if rng.random_range(0..4) > 0 {
                t[[r, c]] = rng.random_range(0.0..1.0f64).powi(3);
            }
        }
        t[[r, (r + 1) % v]] += 0.5;
        let sum: f64 = t.row(r).sum();
        t.row_mut(r).mapv_inplace(|x| x / sum);
    }
    // Token 0 is an absorbing EOS.
    t.row_mut(0).fill(0.0);
    t[[0, 0]] = 1.0;
    t
}

/// The fewest rounds by depth-first search over every move sequence, no state merging:
/// each round predicts, anchor-fills, then takes no extra token or one at a window position.
fn brute_force(
    model: &dyn ConfidenceModel,
    decoder: &dyn AnchorDecoder,
    mut b: Branch,
    round: u64,
    bound: u64,
    scratch: &mut Scratch,
) -> u64 {
    b.settle_full_blocks();
    if decoder.begin_round(&mut b) {
        return round - 1;
    }
    if round > bound {
        return u64::MAX;
    }
    let mut positions = Vec::new();
    decoder.prediction_positions(&b, &mut positions);
    let mut preds = vec![Prediction::default(); b.tokens.len()];
    model.predict(
        &b,
        &positions,
        ConfidenceKind::Prob,
        round,
        &mut preds,
        scratch,
    );
    decoder.end_round(&mut b);
    let ctx = RoundContext {
        seed: 0,
        seq: 0,
        round,
    };
    let mut fill = Vec::new();
    decoder.fill(&b, &preds, &ctx, &mut fill);
    for &i in &fill {
        b.commit(i, preds[i].token, model.eos_token());
    }
    let mut window = Vec::new();
    decoder.window(&b, &mut window);
    let mut best = brute_force(model, decoder, b.clone(), round + 1, bound, scratch);
    for &p in &window {
        let mut c = b.clone();
        c.commit(p, preds[p].token, model.eos_token());
        let bound = bound.min(best);
        best = best.min(brute_force(model, decoder, c, round + 1, bound, scratch));
    }
    best
}

fn setup(seed: u64, decoder: Arc<dyn AnchorDecoder>, search: Search, len: usize) -> Setup {
    Setup {
        model: Arc::new(MarkovOracle::new(
            chain(seed),
            Some(0),
            Attention::Full,
            len,
        )),
        decoder,
        search,
        knobs: Knobs::default(),
        confidence: ConfidenceKind::Prob,
        gen_length: len,
        prompts: Prompts::Explicit(vec![vec![1 + (seed % 4) as u32]]),
        seed,
        sequences: 1,
        other_worlds: Vec::new(),
        system: None,
    }
}

#[test]
fn exhaustive_oracle_equals_brute_force_and_never_loses_to_lopa() {
    let oracle = Search::Oracle {
        depth: 0,
        width: 1,
        branches: 0,
    };
    let (mut cases, mut gains) = (0, 0);
    for seed in 0..12u64 {
        let (block, blocks) = [(2, 3), (3, 2), (4, 2), (2, 5), (4, 3)][seed as usize % 5];
        let len = block * blocks;
        let tau = [0.6, 0.8, 0.95][seed as usize % 3];
        let decoders: [Arc<dyn AnchorDecoder>; 3] = [
            Arc::new(D2f {
                block_size: block,
                max_blocks: blocks,
                add_threshold: 0.1,
                activate_threshold: 0.9,
                fill_threshold: tau,
                fill_rule: None,
            }),
            Arc::new(SemiAr {
                block_size: block,
                blocks,
                rule: SemiArRule::Threshold(tau),
            }),
            Arc::new(SemiAr {
                block_size: block,
                blocks,
                rule: SemiArRule::Factor(1.0),
            }),
        ];
        for dec in decoders {
            let s = setup(seed, dec.clone(), oracle, len);
            let mut ws = Workspace::default();
            let got = s.decode(0, &mut ws).unwrap();
            let root = dec.initial_branch(&s.prompt(0));
            let want = brute_force(
                s.model.as_ref(),
                dec.as_ref(),
                root,
                1,
                4 * len as u64,
                &mut Scratch::default(),
            );
            assert_eq!(got.rounds, want, "seed {seed}, L = {len}");
            for k in 0..=4 {
                let lopa = setup(seed, dec.clone(), Search::Lopa { branches: k }, len);
                let r = lopa.decode(0, &mut ws).unwrap();
                assert!(got.rounds <= r.rounds, "seed {seed} k {k}");
                cases += 1;
                gains += usize::from(got.rounds < r.rounds);
                let beam = Search::Oracle {
                    depth: 1,
                    width: 1,
                    branches: k,
                };
                let b = setup(seed, dec.clone(), beam, len)
                    .decode(0, &mut ws)
                    .unwrap();
                assert!(b.rounds <= r.rounds, "beam vs LoPA: seed {seed} k {k}");
                assert!(b.rounds >= got.rounds, "beam vs optimum: seed {seed} k {k}");
            }
        }
    }
    // The cases are not trivial: the optimum often beats LoPA.
    assert!(gains * 4 > cases, "{gains} of {cases}");
}

#[test]
fn the_state_estimate_saturates() {
    assert_eq!(state_estimate(16, 4, true), 1 << 16);
    assert_eq!(state_estimate(512, 32, true), u64::MAX);
    assert_eq!(state_estimate(512, 32, false), u64::MAX);
    assert_eq!(state_estimate(12, 4, false), (1 << 8) * 3);
}
