//! Hand-made rounds of the LoPA loop: a model whose predictions are fixed per position, so
//! every round can be worked out on paper.

use super::*;
use crate::decoder::{D2f, SemiAr, SemiArRule};
use crate::model::{ConfidenceModel, Scratch};
use crate::record::Quality;
use crate::search::{NoObserver, SpawnCompletion};
use crate::state::{Prediction, Token};
use rand_chacha::ChaCha8Rng;

/// Position i always predicts token `tokens[i]` with probability (and confidence) `probs[i]`,
/// whatever the branch holds.
pub(crate) struct Fixed {
    pub probs: Vec<f64>,
    pub tokens: Vec<Token>,
}

impl Fixed {
    pub(crate) fn new(probs: &[f64]) -> Self {
        Fixed {
            probs: probs.to_vec(),
            tokens: vec![1; probs.len()],
        }
    }
}

impl ConfidenceModel for Fixed {
    fn vocab_size(&self) -> usize {
        4
    }
    fn eos_token(&self) -> Option<Token> {
        None
    }
    fn predict(
        &self,
        _branch: &Branch,
        positions: &[usize],
        _kind: ConfidenceKind,
        _round: u64,
        out: &mut [Prediction],
        _scratch: &mut Scratch,
    ) {
        for &i in positions {
            out[i] = Prediction {
                token: self.tokens[i],
                prob: self.probs[i],
                conf: self.probs[i],
                entropy: 1.0 - self.probs[i],
            };
        }
    }
    fn quality(&self, _: &[Token], _: &[Token], _: &[f64], _: &mut Scratch) -> Quality {
        Quality::default()
    }
    fn sample_prompt(&self, len: usize, _rng: &mut ChaCha8Rng) -> Vec<Token> {
        vec![0; len]
    }
}

pub(crate) fn run(
    model: &Fixed,
    decoder: &dyn AnchorDecoder,
    k: usize,
    knobs: &Knobs,
) -> Result<Outcome, Stalled> {
    let prompt = [0];
    let info = SequenceInfo {
        seed: 0,
        seq: 0,
        prompt: &prompt,
        gen_length: model.probs.len() - 1,
    };
    decode(
        model,
        decoder,
        Search::Lopa { branches: k },
        knobs,
        ConfidenceKind::Prob,
        &info,
        100,
        &mut Workspace::default(),
        &mut NoObserver,
    )
}

fn needs_forward() -> Knobs {
    Knobs {
        spawn_completion: SpawnCompletion::NeedsForward,
        ..Knobs::default()
    }
}

fn counts(o: &Outcome) -> (u64, u64, u64, u64) {
    (o.rounds, o.branch_evals, o.branch_tokens, o.lookahead_wins)
}

#[test]
fn spawn_completing_the_last_block_needs_one_more_pass() {
    // One threshold block of 2: round 1 fills position 1, the spawn writes position 2.
    let model = Fixed::new(&[1.0, 0.95, 0.5]);
    let dec = SemiAr {
        block_size: 2,
        blocks: 1,
        rule: SemiArRule::Threshold(0.9),
    };
    let ends = run(&model, &dec, 1, &Knobs::default()).unwrap();
    assert_eq!(counts(&ends), (1, 1, 2, 0));
    // needs_forward: round 2 predicts the completed branch (empty window, score 1.0 beats
    // the base's 0.5), it wins with an empty fill and settles the block.
    let nf = run(&model, &dec, 1, &needs_forward()).unwrap();
    assert_eq!(counts(&nf), (2, 3, 6, 1));
    assert_eq!(nf.branch.tokens, ends.branch.tokens);
}

#[test]
fn d2f_block_completed_by_a_spawn_is_cached_one_round_later() {
    // Three d2f blocks of 2 after a one-token prompt, worked out by hand: each round fills
    // one position and the spawn the other of the same block, so a spawn token completes
    // every block.
    let model = Fixed::new(&[1.0, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let dec = D2f {
        block_size: 2,
        max_blocks: 3,
        add_threshold: 0.1,
        activate_threshold: 0.95,
        fill_threshold: 0.9,
        fill_rule: None,
    };
    let ends = run(&model, &dec, 1, &Knobs::default()).unwrap();
    // Rounds process 2, 4 + 4, and 4 + 4 positions (block 0 cached after round 2).
    assert_eq!(counts(&ends), (3, 5, 18, 2));
    let nf = run(&model, &dec, 1, &needs_forward()).unwrap();
    // Block 0 settles only at the end of round 2, so round 3 still processes it in both
    // branches (6 + 6); round 4 is the extra pass on the branch the spawn completed.
    assert_eq!(counts(&nf), (4, 7, 30, 3));
    assert_eq!(nf.branch.tokens, ends.branch.tokens);
    assert!(nf.branch.blocks.iter().all(|b| b.settled));
}

#[test]
fn needs_forward_without_lookahead_changes_nothing() {
    let model = Fixed::new(&[1.0, 0.95, 0.5, 0.3, 0.92, 0.5, 0.5]);
    let dec = D2f {
        block_size: 2,
        max_blocks: 3,
        add_threshold: 0.1,
        activate_threshold: 0.5,
        fill_threshold: 0.9,
        fill_rule: None,
    };
    let ends = run(&model, &dec, 0, &Knobs::default()).unwrap();
    let nf = run(&model, &dec, 0, &needs_forward()).unwrap();
    assert_eq!(ends, nf);
}

fn threshold_block(b: usize) -> SemiAr {
    SemiAr {
        block_size: b,
        blocks: 1,
        rule: SemiArRule::Threshold(0.9),
    }
}

#[test]
fn topp_scores_the_lowest_share_of_the_window() {
    let p: Vec<Prediction> = [0.9, 0.2, 0.5, 0.4]
        .iter()
        .map(|&c| Prediction {
            conf: c,
            ..Prediction::default()
        })
        .collect();
    let mut buf = Vec::new();
    let w = [0, 1, 2, 3];
    assert_eq!(
        window_score(&w, &p, 1.0, &mut buf),
        (0.9 + 0.2 + 0.5 + 0.4) / 4.0
    );
    // m = floor(4 * 0.5) = 2: the two lowest, 0.2 and 0.4.
    assert_eq!(window_score(&w, &p, 0.5, &mut buf), (0.2 + 0.4) / 2.0);
    // floor(1.2) = 1 and floor(0.4) = 0 -> max(1, 0): the lowest alone.
    assert_eq!(window_score(&w, &p, 0.3, &mut buf), 0.2);
    assert_eq!(window_score(&w, &p, 0.1, &mut buf), 0.2);
    assert_eq!(window_score(&[2], &p, 0.1, &mut buf), 0.5);
    assert_eq!(window_score(&[], &p, 0.5, &mut buf), 1.0);
    // All equal: any share gives the same score.
    assert_eq!(window_score(&[1, 1, 1], &p, 0.5, &mut buf), 0.2);
}

#[test]
fn alpha_weighs_the_spawn_confidence_and_favours_the_base() {
    // After round 1 fills position 1, every window scores 0.5: at alpha = 0 the lookahead
    // branch wins the tie; at alpha = 0.5 its c_b = 0.5 loses to the base's 1.0.
    let model = Fixed::new(&[1.0, 0.95, 0.5, 0.5, 0.5]);
    let dec = threshold_block(4);
    let plain = run(&model, &dec, 1, &Knobs::default()).unwrap();
    assert_eq!((plain.rounds, plain.lookahead_wins), (2, 1));
    let knobs = Knobs {
        alpha: 0.5,
        ..Knobs::default()
    };
    let weighted = run(&model, &dec, 1, &knobs).unwrap();
    // Rounds 2 and 3 go to the base; round 4 finds the spawned branch complete.
    assert_eq!((weighted.rounds, weighted.lookahead_wins), (3, 0));
}

#[test]
fn force_base_keeps_none_s_order_and_counts_the_branches() {
    let model = Fixed::new(&[1.0, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let dec = D2f {
        block_size: 2,
        max_blocks: 3,
        add_threshold: 0.1,
        activate_threshold: 0.95,
        fill_threshold: 0.9,
        fill_rule: None,
    };
    let none = run(&model, &dec, 0, &Knobs::default()).unwrap();
    let knobs = Knobs {
        force_base: true,
        ..Knobs::default()
    };
    for k in [1, 3] {
        let forced = run(&model, &dec, k, &knobs).unwrap();
        assert_eq!(forced.rounds, none.rounds, "k = {k}");
        assert_eq!(forced.branch.tokens, none.branch.tokens);
        assert_eq!(forced.lookahead_wins, 0);
        assert!(forced.branch_evals > none.branch_evals);
        assert!(forced.branch_tokens > none.branch_tokens);
    }
}

#[test]
fn extra_tokens_write_a_run_of_the_ranking() {
    // One block of 6, all 0.5 after position 1: lookahead wins every tie.
    let model = Fixed::new(&[1.0, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let dec = threshold_block(6);
    let one = run(&model, &dec, 1, &Knobs::default()).unwrap();
    // Rounds: fill 1 + spawn 2; fill 3 + spawn 4; fill 5 + spawn 6; then complete.
    assert_eq!((one.rounds, one.lookahead_wins), (3, 2));
    let knobs = Knobs {
        extra_tokens: 1,
        ..Knobs::default()
    };
    assert_eq!(run(&model, &dec, 1, &knobs).unwrap(), one);
    let two = Knobs {
        extra_tokens: 2,
        ..Knobs::default()
    };
    // fill 1 + spawn {2, 3}; fill 4 + spawn {5, 6}; then complete.
    let r = run(&model, &dec, 1, &two).unwrap();
    assert_eq!((r.rounds, r.lookahead_wins), (2, 1));
    // With k = 2, branch 2 writes ranks 2 and 3: still a valid decode of every position.
    let r = run(&model, &dec, 2, &two).unwrap();
    assert!(r.branch.tokens.iter().all(|&t| t != crate::state::MASK));
}
