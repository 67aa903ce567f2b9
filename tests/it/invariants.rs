//! Engine invariants over every model family (phrase worlds too) x every decoder x both attentions x every
//! confidence kind, k in 0..=16 (`properties` covers random chains behind each decoder, and
//! each family behind d2f with k <= 5). The per-round trace must agree with the record, and
//! a sweep must not depend on the thread count. Sizes stay small: the whole file runs in a
//! few seconds in the debug profile.

use std::collections::HashSet;
use std::sync::Arc;

use lopa_sim::decoder::{AnchorDecoder, D2f, SemiAr, SemiArRule};
use lopa_sim::engine::{Prompts, Setup, Workspace};
use lopa_sim::model::chain_gen::{self, ChainParams};
use lopa_sim::model::field::{ConfidenceField, FieldParams};
use lopa_sim::model::hmm::{self, HmmOracle, HmmParams};
use lopa_sim::model::miscalibrated::Miscalibrated;
use lopa_sim::model::phrase_gen::{self, PhraseParams};
use lopa_sim::model::plan::{self, PlanMixture, PlanParams};
use lopa_sim::model::{ConfidenceModel, MarkovOracle};
use lopa_sim::record::ConfigLabel;
use lopa_sim::search::{Knobs, Search};
use lopa_sim::state::{Attention, ConfidenceKind};
use proptest::prelude::*;

#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) family: u8,
    pub(crate) decoder: u8,
    pub(crate) causal: bool,
    pub(crate) confidence: u8,
    pub(crate) k: usize,
    pub(crate) block: usize,
    pub(crate) blocks: usize,
    pub(crate) seed: u64,
    pub(crate) tau: f64,
}

pub(crate) fn world() -> impl Strategy<Value = World> {
    (
        0u8..6,
        0u8..12,
        any::<bool>(),
        0u8..3,
        0usize..=16,
        prop::sample::select(vec![1usize, 2, 4]),
        1usize..=3,
        0u64..500,
        0.3f64..0.99,
    )
        .prop_map(
            |(family, decoder, causal, confidence, k, block, blocks, seed, tau)| World {
                family,
                decoder,
                causal,
                confidence,
                k,
                block,
                blocks,
                seed,
                tau,
            },
        )
}

fn model(w: &World, attention: Attention, gen_length: usize) -> Arc<dyn ConfidenceModel> {
    let chain = ChainParams {
        vocab_size: 5,
        peakedness: 2.0,
        deterministic_share: 0.5,
        deterministic_mass: 0.95,
        support: 4,
        eos_token: Some(0),
        eos_hazard: 0.05,
    };
    match w.family {
        0 => {
            let t = chain_gen::generate(&chain, w.seed);
            Arc::new(MarkovOracle::new(t, Some(0), attention, gen_length))
        }
        1 => {
            let (a, e, pi) = hmm::generate(
                &HmmParams {
                    state_flow: 0.0,
                    states: 3,
                    vocab_size: 5,
                    stickiness: 0.7,
                    emission_sharpness: 4.0,
                    eos_token: Some(0),
                    eos_hazard: 0.05,
                },
                w.seed,
            );
            Arc::new(HmmOracle::new(a, e, pi, Some(0), attention))
        }
        2 => {
            let (plans, prior) = plan::generate(
                &PlanParams {
                    plans: 3,
                    prior_entropy: 0.7,
                    overlap: 0.4,
                    chain,
                },
                w.seed,
            );
            Arc::new(PlanMixture::new(
                plans,
                prior,
                Some(0),
                attention,
                gen_length,
            ))
        }
        3 => Arc::new(ConfidenceField::new(
            FieldParams {
                vocab_size: 5,
                base_logit: 0.0,
                difficulty_sd: 1.0,
                left_strength: 1.0,
                right_strength: 0.5,
                kernel_scale: 2.0,
                noise_sd: 0.5,
                persistence: 0.5,
                gamma: 1.0,
            },
            attention,
        )),
        4 => {
            let t = chain_gen::generate(&chain, w.seed);
            let exact = Arc::new(MarkovOracle::new(t, Some(0), attention, gen_length));
            Arc::new(Miscalibrated::new(exact, 0.7, 0.3))
        }
        _ => {
            let t = phrase_gen::generate(
                &PhraseParams {
                    vocab_size: 9,
                    phrase_length: 3.0,
                    short_share: 0.3,
                    short_length: 1,
                    successors: 2,
                    peakedness: 1.0,
                    determinism: 0.95,
                    eos_token: Some(0),
                    eos_hazard: 0.05,
                    topics: 1,
                    topic_spread: 0.0,
                    exact_share: 0.5,
                    stages: 1,
                    output_length: 0.0,
                    // Both kinds of loose phrase, leaking and forking.
                    fork: w.seed % 2 == 1,
                },
                w.seed,
            );
            Arc::new(MarkovOracle::new(t, Some(0), attention, gen_length))
        }
    }
}

pub(crate) fn setup(w: &World, search: Search) -> Setup {
    let attention = if w.causal {
        Attention::BlockCausal
    } else {
        Attention::Full
    };
    let gen_length = w.block * w.blocks;
    // 2..=8 name a semi-AR rule; 10 and 11 put one of them into d2f's fill.
    let rule = |d: u8| match d {
        2 => SemiArRule::TopK(1 + w.k % 3),
        3 => SemiArRule::Factor(2.0 * w.tau),
        4 => SemiArRule::Eb(w.tau),
        5 => SemiArRule::EntropyThreshold(w.tau),
        6 => SemiArRule::LeftToRight,
        7 => SemiArRule::Random(1 + w.k % 3),
        _ => SemiArRule::PerRun(w.tau),
    };
    let d2f = |fill_rule| D2f {
        block_size: w.block,
        max_blocks: w.blocks,
        add_threshold: 0.1,
        activate_threshold: 0.9,
        fill_threshold: w.tau,
        fill_rule,
    };
    let decoder: Arc<dyn AnchorDecoder> = match w.decoder {
        0 => Arc::new(d2f(None)),
        1 => Arc::new(SemiAr {
            block_size: w.block,
            blocks: w.blocks,
            rule: SemiArRule::Threshold(w.tau),
        }),
        10 | 11 => Arc::new(d2f(Some(rule(2 + (w.k % 7) as u8)))),
        d => Arc::new(SemiAr {
            block_size: w.block,
            blocks: w.blocks,
            rule: rule(d),
        }),
    };
    Setup {
        model: model(w, attention, gen_length),
        decoder,
        search,
        confidence: [
            ConfidenceKind::Prob,
            ConfidenceKind::NegEntropy,
            ConfidenceKind::Margin,
        ][w.confidence as usize],
        gen_length,
        prompts: Prompts::Sampled(2),
        seed: w.seed,
        sequences: 3,
        knobs: Default::default(),
        other_worlds: Vec::new(),
        system: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn the_round_record_agrees_with_the_decode(w in world()) {
        let s = setup(&w, Search::Lopa { branches: w.k });
        let (r, trace) = s.trace(1, 0, &mut Workspace::default()).unwrap();
        prop_assert_eq!(&r, &s.decode(1, &mut Workspace::default()).unwrap());
        prop_assert_eq!(trace.rounds.len() as u64, r.rounds);
        prop_assert!(r.rounds >= 1 && r.tokens >= r.rounds, "TPF {} < 1", r.tpf());
        // d2f stops once a block ends in EOS, so fewer than L positions may be generated.
        prop_assert!(r.tokens as usize <= s.gen_length);
        // The base branch scores last, so a lookahead win is any other winner.
        // Every generated position is filled exactly once: anchor fills, winning lookahead
        // tokens, and at most one lookahead token that completed the decode.
        let mut seen = HashSet::new();
        for round in &trace.rounds {
            prop_assert!(round.winner <= w.k);
            prop_assert!(round.scores.iter().all(|x| x.is_finite()), "{:?}", round.scores);
            for t in round.filled.iter().chain(&round.lookahead) {
                prop_assert!(seen.insert(t.position), "position {} filled twice", t.position);
                prop_assert!(t.prob.is_finite() && t.confidence.is_finite());
            }
        }
        if let Some(t) = &trace.completion {
            prop_assert!(seen.insert(t.position), "completion refilled {}", t.position);
        }
        prop_assert_eq!(seen.len() as u64, r.tokens);
        prop_assert!(seen.iter().all(|&p| p < r.tokens as usize));
        prop_assert_eq!(r.lookahead_wins, trace.rounds.iter().filter(|t| t.winner + 1 != t.scores.len()).count() as u64);
        if let Some(ll) = r.quality.log_likelihood {
            prop_assert!(!ll.is_nan() && ll <= 1e-9, "log-likelihood {}", ll);
        }
    }

    #[test]
    fn a_forced_base_equals_the_anchor_decoder_alone(w in world()) {
        // Every family, the field too: its noise is a function of (sequence, position,
        // round) alone, however often the branches ask for a position.
        let mut ws = Workspace::default();
        let none = setup(&w, Search::None).decode(0, &mut ws).unwrap();
        let mut forced = setup(&w, Search::Lopa { branches: w.k });
        forced.knobs = Knobs { force_base: true, ..Knobs::default() };
        let r = forced.decode(0, &mut ws).unwrap();
        prop_assert_eq!((r.rounds, r.tokens, r.lookahead_wins), (none.rounds, none.tokens, 0));
        prop_assert_eq!(r.quality, none.quality);
    }

    #[test]
    fn zero_branches_equal_none_for_every_world(w in world()) {
        let mut ws = Workspace::default();
        for seq in 0..2 {
            let none = setup(&w, Search::None).decode(seq, &mut ws).unwrap();
            let lopa0 = setup(&w, Search::Lopa { branches: 0 }).decode(seq, &mut ws).unwrap();
            prop_assert_eq!(none, lopa0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_sweep_is_independent_of_the_thread_count(w in world()) {
        let setups: Vec<Setup> = [0, w.k.min(4), w.k]
            .iter()
            .map(|&k| setup(&w, Search::Lopa { branches: k }))
            .collect();
        let labels: Vec<ConfigLabel> = (0..setups.len())
            .map(|index| ConfigLabel { index, ..Default::default() })
            .collect();
        let sweep = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| lopa_sim::sweep::run(&setups, &labels, &|| {}).unwrap())
        };
        let (one, two) = (sweep(1), sweep(2));
        for (a, b) in one.iter().zip(&two) {
            prop_assert_eq!(&a.records, &b.records);
            prop_assert_eq!(&a.bins, &b.bins);
        }
    }
}
