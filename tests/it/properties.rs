//! Invariants over random small chains, decoders and searches (proptest).

use std::collections::HashSet;
use std::sync::Arc;

use lopa_sim::decoder::{AnchorDecoder, D2f, SemiAr, SemiArRule};
use lopa_sim::engine::{Prompts, Setup, Workspace};
use lopa_sim::model::MarkovOracle;
use lopa_sim::search::{RoundEvent, RoundObserver, Search};
use lopa_sim::state::{Attention, ConfidenceKind};
use ndarray::Array2;
use proptest::prelude::*;

/// Every position a round commits: the anchor fill, and the winner's lookahead token.
#[derive(Default)]
struct Commits {
    positions: Vec<usize>,
    rounds: u64,
}

impl RoundObserver for Commits {
    fn on_round(&mut self, e: &RoundEvent<'_>) {
        self.rounds += 1;
        self.positions.extend(e.filled.iter().copied());
        self.positions.extend(e.lookahead_position);
    }
}

#[derive(Debug, Clone)]
struct Case {
    weights: Vec<Vec<u8>>,
    eos: bool,
    prompt: Vec<u32>,
    block: usize,
    blocks: usize,
    decoder: u8,
    taus: (f64, f64, f64),
    topk: usize,
    confidence: u8,
    causal: bool,
    k: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..=5).prop_flat_map(|v| {
        (
            prop::collection::vec(prop::collection::vec(0u8..4, v), v),
            any::<bool>(),
            prop::collection::vec(0..v as u32, 1..=3),
            prop::sample::select(vec![1usize, 2, 4]),
            1usize..=4,
            0u8..3,
            (0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..=1.0),
            1usize..=3,
            0u8..3,
            any::<bool>(),
            0usize..=4,
        )
            .prop_map(
                |(
                    weights,
                    eos,
                    prompt,
                    block,
                    blocks,
                    decoder,
                    taus,
                    topk,
                    confidence,
                    causal,
                    k,
                )| Case {
                    weights,
                    eos,
                    prompt,
                    block,
                    blocks,
                    decoder,
                    taus,
                    topk,
                    confidence,
                    causal,
                    k,
                },
            )
    })
}

fn setup(c: &Case, search: Search) -> Setup {
    let v = c.weights.len();
    let mut t = Array2::zeros((v, v));
    for (i, row) in c.weights.iter().enumerate() {
        let total: u32 = row.iter().map(|&w| u32::from(w)).sum();
        for (j, &w) in row.iter().enumerate() {
            t[[i, j]] = if total == 0 {
                f64::from(u8::from(i == j))
            } else {
                f64::from(w) / f64::from(total)
            };
        }
    }
    if c.eos {
        t.row_mut(0).fill(0.0);
        t[[0, 0]] = 1.0;
    }
    let gen_length = c.block * c.blocks;
    let attention = if c.causal {
        Attention::BlockCausal
    } else {
        Attention::Full
    };
    let decoder: Arc<dyn AnchorDecoder> = match c.decoder {
        0 => Arc::new(D2f {
            block_size: c.block,
            max_blocks: c.blocks,
            add_threshold: c.taus.0,
            activate_threshold: c.taus.1,
            fill_threshold: c.taus.2,
            fill_rule: None,
        }),
        1 => Arc::new(SemiAr {
            block_size: c.block,
            blocks: c.blocks,
            rule: SemiArRule::Threshold(c.taus.2),
        }),
        _ => Arc::new(SemiAr {
            block_size: c.block,
            blocks: c.blocks,
            rule: SemiArRule::TopK(c.topk),
        }),
    };
    Setup {
        model: Arc::new(MarkovOracle::new(
            t,
            c.eos.then_some(0),
            attention,
            gen_length,
        )),
        other_worlds: Vec::new(),
        decoder,
        search,
        knobs: Default::default(),
        confidence: [
            ConfidenceKind::Prob,
            ConfidenceKind::NegEntropy,
            ConfidenceKind::Margin,
        ][c.confidence as usize],
        gen_length,
        prompts: Prompts::Explicit(vec![c.prompt.clone()]),
        seed: 0,
        sequences: 1,
        system: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_position_is_filled_exactly_once(c in case()) {
        let s = setup(&c, Search::Lopa { branches: c.k });
        let mut commits = Commits::default();
        let r = s.decode_observed(0, &mut Workspace::default(), &mut commits).unwrap();
        let unique: HashSet<usize> = commits.positions.iter().copied().collect();
        prop_assert_eq!(unique.len(), commits.positions.len(), "a position was filled twice");
        // A lookahead token that completes the decode is committed without another round.
        let extra = r.tokens - commits.positions.len() as u64;
        prop_assert!(extra <= 1, "{} positions never committed", extra);
        prop_assert!(extra == 0 || c.k > 0);
        prop_assert_eq!(commits.rounds, r.rounds);
        prop_assert!(r.tokens >= r.rounds, "TPF {} < 1", r.tpf());
        prop_assert!(r.lookahead_wins <= r.rounds);
        prop_assert!(r.branch_evals <= r.rounds * (c.k as u64 + 1));
        prop_assert!(r.content_tokens <= r.tokens);
        prop_assert_eq!(r.tokens as usize % c.block, 0);
    }

    #[test]
    fn zero_lookahead_branches_is_no_search(c in case()) {
        let mut ws = Workspace::default();
        let none = setup(&c, Search::None).decode(0, &mut ws).unwrap();
        let lopa0 = setup(&c, Search::Lopa { branches: 0 }).decode(0, &mut ws).unwrap();
        prop_assert_eq!(none, lopa0);
    }

    #[test]
    fn a_decode_is_deterministic(c in case()) {
        let s = setup(&c, Search::Lopa { branches: c.k });
        let a = s.decode(0, &mut Workspace::default()).unwrap();
        let mut reused = Workspace::default();
        let _ = setup(&c, Search::Lopa { branches: 4 }).decode(0, &mut reused);
        let b = s.decode(0, &mut reused).unwrap();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn lookahead_cuts_rounds_on_a_predictable_chain() {
    let c = Case {
        weights: vec![vec![1, 1, 0], vec![0, 1, 3], vec![2, 0, 1]],
        eos: false,
        prompt: vec![1],
        block: 4,
        blocks: 3,
        decoder: 0,
        taus: (0.1, 0.95, 0.6),
        topk: 1,
        confidence: 0,
        causal: false,
        k: 2,
    };
    let mut ws = Workspace::default();
    let base = setup(&c, Search::None).decode(0, &mut ws).unwrap();
    let lopa = setup(&c, Search::Lopa { branches: 2 })
        .decode(0, &mut ws)
        .unwrap();
    assert_eq!((base.tokens, lopa.tokens), (12, 12));
    assert!(
        lopa.rounds < base.rounds,
        "{} vs {} rounds",
        lopa.rounds,
        base.rounds
    );
}

/// Every model family behind one decoder and search, from its generator.
fn family_setup(
    family: u8,
    seed: u64,
    k: usize,
    causal: bool,
    block: usize,
    blocks: usize,
) -> Setup {
    use lopa_sim::model::chain_gen::ChainParams;
    use lopa_sim::model::field::{ConfidenceField, FieldParams};
    use lopa_sim::model::hmm::{self, HmmOracle, HmmParams};
    use lopa_sim::model::miscalibrated::Miscalibrated;
    use lopa_sim::model::plan::{self, PlanMixture, PlanParams};
    use lopa_sim::model::ConfidenceModel;
    let attention = if causal {
        Attention::BlockCausal
    } else {
        Attention::Full
    };
    let gen_length = block * blocks;
    let chain = ChainParams {
        vocab_size: 6,
        peakedness: 2.0,
        deterministic_share: 0.6,
        deterministic_mass: 0.95,
        support: 4,
        eos_token: Some(0),
        eos_hazard: 0.05,
    };
    let model: Arc<dyn ConfidenceModel> = match family {
        0 => {
            let (a, e, pi) = hmm::generate(
                &HmmParams {
                    states: 3,
                    vocab_size: 6,
                    stickiness: 0.8,
                    emission_sharpness: 5.0,
                    state_flow: 0.0,
                    eos_token: Some(0),
                    eos_hazard: 0.05,
                },
                seed,
            );
            Arc::new(HmmOracle::new(a, e, pi, Some(0), attention))
        }
        1 => {
            let (plans, prior) = plan::generate(
                &PlanParams {
                    plans: 3,
                    prior_entropy: 0.8,
                    overlap: 0.3,
                    chain,
                },
                seed,
            );
            Arc::new(PlanMixture::new(
                plans,
                prior,
                Some(0),
                attention,
                gen_length,
            ))
        }
        2 => Arc::new(ConfidenceField::new(
            FieldParams {
                vocab_size: 6,
                base_logit: -0.5,
                difficulty_sd: 1.0,
                left_strength: 1.0,
                right_strength: 0.5,
                kernel_scale: 3.0,
                noise_sd: 0.7,
                persistence: 0.6,
                gamma: 1.5,
            },
            attention,
        )),
        _ => {
            let t = lopa_sim::model::chain_gen::generate(&chain, seed);
            let exact = Arc::new(MarkovOracle::new(t, Some(0), attention, gen_length));
            Arc::new(Miscalibrated::new(exact, 0.6, 0.4))
        }
    };
    Setup {
        model,
        other_worlds: Vec::new(),
        decoder: Arc::new(D2f {
            block_size: block,
            max_blocks: blocks,
            add_threshold: 0.1,
            activate_threshold: 0.95,
            fill_threshold: 0.8,
            fill_rule: None,
        }),
        search: Search::Lopa { branches: k },
        knobs: Default::default(),
        confidence: ConfidenceKind::Prob,
        gen_length,
        prompts: Prompts::Sampled(3),
        seed,
        sequences: 1,
        system: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_family_fills_each_position_once_and_is_deterministic(
        family in 0u8..4,
        seed in 0u64..1000,
        k in 0usize..6,
        causal in any::<bool>(),
        block in prop::sample::select(vec![1usize, 2, 4, 8]),
        blocks in 1usize..5,
    ) {
        let s = family_setup(family, seed, k, causal, block, blocks);
        let mut commits = Commits::default();
        let r = s.decode_observed(0, &mut Workspace::default(), &mut commits).unwrap();
        let unique: HashSet<usize> = commits.positions.iter().copied().collect();
        prop_assert_eq!(unique.len(), commits.positions.len());
        prop_assert!(r.tokens - commits.positions.len() as u64 <= 1);
        prop_assert!(r.tokens >= r.rounds);
        prop_assert_eq!(&r, &s.decode(0, &mut Workspace::default()).unwrap());
        let none = Setup { search: Search::None, ..family_setup(family, seed, k, causal, block, blocks) };
        let lopa0 = Setup { search: Search::Lopa { branches: 0 }, ..family_setup(family, seed, k, causal, block, blocks) };
        prop_assert_eq!(none.decode(0, &mut Workspace::default()).unwrap(), lopa0.decode(0, &mut Workspace::default()).unwrap());
    }
}
