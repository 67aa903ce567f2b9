//! Numerical safety at L = 8192: confidences, branch scores and likelihoods stay finite
//! over a near-deterministic chain (products of probabilities near 1 over thousands of
//! steps) and a long HMM (forward-backward over the whole sequence, normalised per step).

use std::sync::Arc;

use lopa_sim::decoder::{AnchorDecoder, SemiAr, SemiArRule};
use lopa_sim::engine::{Prompts, Setup, Workspace};
use lopa_sim::model::chain_gen::{self, ChainParams};
use lopa_sim::model::field::{ConfidenceField, FieldParams};
use lopa_sim::model::hmm::{self, HmmOracle, HmmParams};
use lopa_sim::model::{ConfidenceModel, MarkovOracle};
use lopa_sim::search::Search;
use lopa_sim::state::{Attention, ConfidenceKind};

const L: usize = 8192;

fn long_setup(model: Arc<dyn ConfidenceModel>, kind: ConfidenceKind, per_round: usize) -> Setup {
    let decoder: Arc<dyn AnchorDecoder> = Arc::new(SemiAr {
        block_size: 512,
        blocks: L / 512,
        rule: SemiArRule::TopK(per_round),
    });
    Setup {
        model,
        decoder,
        search: Search::Lopa { branches: 2 },
        confidence: kind,
        gen_length: L,
        prompts: Prompts::Sampled(4),
        seed: 11,
        sequences: 1,
        knobs: Default::default(),
        other_worlds: Vec::new(),
        system: None,
    }
}

/// Decodes with a trace and checks every number it produced.
fn assert_finite(s: &Setup) {
    let (r, trace) = s.trace(0, 0, &mut Workspace::default()).unwrap();
    assert!(r.tokens >= r.rounds && r.tokens as usize <= L, "{r:?}");
    for round in &trace.rounds {
        assert!(
            round.scores.iter().all(|x| x.is_finite()),
            "round {}: {:?}",
            round.round,
            round.scores
        );
        for t in round.filled.iter().chain(&round.lookahead) {
            assert!(
                t.prob.is_finite() && (0.0..=1.0 + 1e-9).contains(&t.prob),
                "{t:?}"
            );
            assert!(t.confidence.is_finite(), "{t:?}");
        }
    }
    let ll = r
        .quality
        .log_likelihood
        .expect("exact models judge likelihood");
    assert!(ll.is_finite() && ll <= 0.0, "log-likelihood {ll}");
}

#[test]
fn a_near_deterministic_chain_stays_finite_at_l_8192() {
    let chain = ChainParams {
        vocab_size: 4,
        peakedness: 1.0,
        deterministic_share: 1.0,
        deterministic_mass: 0.9999,
        support: 4,
        eos_token: None,
        eos_hazard: 0.0,
    };
    let t = chain_gen::generate(&chain, 5);
    for kind in [
        ConfidenceKind::Prob,
        ConfidenceKind::NegEntropy,
        ConfidenceKind::Margin,
    ] {
        let model = Arc::new(MarkovOracle::new(t.clone(), None, Attention::Full, L));
        assert_finite(&long_setup(model, kind, 64));
    }
}

#[test]
fn a_long_hmm_stays_finite_at_l_8192() {
    let (a, e, pi) = hmm::generate(
        &HmmParams {
            state_flow: 0.0,
            states: 3,
            vocab_size: 6,
            stickiness: 0.9,
            emission_sharpness: 8.0,
            eos_token: None,
            eos_hazard: 0.0,
        },
        3,
    );
    let model = Arc::new(HmmOracle::new(a, e, pi, None, Attention::BlockCausal));
    assert_finite(&long_setup(model, ConfidenceKind::NegEntropy, 128));
}

#[test]
fn the_field_stays_finite_at_l_8192() {
    let model = Arc::new(ConfidenceField::new(
        FieldParams {
            vocab_size: 1000,
            base_logit: 3.0,
            difficulty_sd: 2.0,
            left_strength: 5.0,
            right_strength: 5.0,
            kernel_scale: 50.0,
            noise_sd: 1.0,
            persistence: 0.99,
            gamma: 2.0,
        },
        Attention::Full,
    ));
    let s = long_setup(model, ConfidenceKind::Margin, 64);
    let (r, trace) = s.trace(0, 0, &mut Workspace::default()).unwrap();
    assert_eq!(r.tokens as usize, L);
    assert!(trace
        .rounds
        .iter()
        .all(|t| t.scores.iter().all(|x| x.is_finite())));
}
