//! Hand-made rounds of the LoPA loop: a model whose predictions are fixed per position, so
//! every round can be worked out on paper.

use super::*;
use crate::decoder::{D2f, SemiAr, SemiArRule};
use crate::model::ConfidenceModel;
use crate::record::Quality;
use crate::search::{NoObserver, SpawnCompletion};
use crate::state::Token;
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
    };
    let ends = run(&model, &dec, 0, &Knobs::default()).unwrap();
    let nf = run(&model, &dec, 0, &needs_forward()).unwrap();
    assert_eq!(ends, nf);
}
