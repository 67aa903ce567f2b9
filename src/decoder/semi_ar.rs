//! Block-wise semi-autoregressive decoding (SPEC 3.2 to 3.4): all blocks exist from the
//! start and only the first block with masks is eligible.

use super::{most_confident, push_masked, rank_by_confidence, rules, AnchorDecoder, RoundContext};
use crate::state::{Branch, Prediction, Token};

/// How the current block's fill is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SemiArRule {
    /// Fast-dLLM: every position with prob >= tau, plus the most confident one.
    Threshold(f64),
    /// LLaDA low-confidence remasking: the k most confident positions.
    TopK(usize),
    /// Fast-dLLM's factor rule with factor f (SPEC 3.4).
    Factor(f64),
    /// EB-sampler with entropy budget gamma (SPEC 3.4).
    Eb(f64),
    /// dParallel's entropy threshold eta (SPEC 3.4).
    EntropyThreshold(f64),
    /// The leftmost masked position: the autoregressive reference.
    LeftToRight,
    /// k uniformly random masked positions, from the sequence's own stream.
    Random(usize),
    /// dInfer-style: the most confident position of each masked run when its prob > tau,
    /// else the most confident position of the block.
    PerRun(f64),
}

impl SemiArRule {
    /// Applies the rule to one block's masked positions (ascending): moves the positions it
    /// fills to the front of `window` and returns their count. `lane` keys `Random`'s draw
    /// apart for each block one round fills.
    pub(crate) fn apply(
        self,
        window: &mut [usize],
        preds: &[Prediction],
        round: &RoundContext,
        lane: u64,
    ) -> usize {
        if window.is_empty() {
            return 0;
        }
        match self {
            SemiArRule::Threshold(tau) => {
                let top = most_confident(window.iter().copied(), preds);
                let mut kept = 0;
                for j in 0..window.len() {
                    let i = window[j];
                    if preds[i].prob >= tau || Some(i) == top {
                        window[kept] = i;
                        kept += 1;
                    }
                }
                kept
            }
            SemiArRule::TopK(k) => {
                rank_by_confidence(window, preds);
                k.min(window.len())
            }
            SemiArRule::Factor(f) => rules::factor(window, preds, f),
            SemiArRule::Eb(gamma) => rules::eb(window, preds, gamma),
            SemiArRule::EntropyThreshold(eta) => rules::entropy_threshold(window, preds, eta),
            SemiArRule::LeftToRight => 1,
            SemiArRule::Random(k) => rules::random(window, k, round, lane),
            SemiArRule::PerRun(tau) => rules::per_run(window, preds, tau),
        }
    }

    /// The rule ranks by H_i, so predictions must carry their entropy.
    pub(crate) fn needs_entropy(self) -> bool {
        matches!(self, SemiArRule::Eb(_) | SemiArRule::EntropyThreshold(_))
    }
}

/// A semi-autoregressive block decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct SemiAr {
    /// B.
    pub block_size: usize,
    /// L / B.
    pub blocks: usize,
    /// The fill rule.
    pub rule: SemiArRule,
}

impl SemiAr {
    fn current_block(b: &Branch) -> Option<usize> {
        b.first_masked_block()
    }
}

impl AnchorDecoder for SemiAr {
    fn initial_branch(&self, prompt: &[Token]) -> Branch {
        let mut b = Branch::new(prompt, self.block_size);
        for _ in 0..self.blocks {
            b.append_block();
        }
        b
    }

    fn begin_round(&self, b: &mut Branch) -> bool {
        b.masked_total() == 0 && b.all_settled()
    }

    fn prediction_positions(&self, b: &Branch, out: &mut Vec<usize>) {
        // The current block, and the next block with masks: the spawn's window when this
        // round's fill completes the current block.
        out.clear();
        let Some(cur) = Self::current_block(b) else {
            return;
        };
        push_masked(b, b.block_range(cur), out);
        if let Some(next) = (cur + 1..b.blocks.len()).find(|&k| b.blocks[k].masked > 0) {
            push_masked(b, b.block_range(next), out);
        }
    }

    fn window(&self, b: &Branch, out: &mut Vec<usize>) {
        out.clear();
        if let Some(cur) = Self::current_block(b) {
            push_masked(b, b.block_range(cur), out);
        }
    }

    fn fill(&self, b: &Branch, preds: &[Prediction], round: &RoundContext, out: &mut Vec<usize>) {
        self.window(b, out);
        if out.is_empty() {
            return;
        }
        let kept = self.rule.apply(out, preds, round, 0);
        out.truncate(kept);
    }

    fn needs_entropy(&self) -> bool {
        self.rule.needs_entropy()
    }

    fn processed_positions(&self, b: &Branch) -> usize {
        b.blocks.len() * self.block_size
    }

    fn end_round(&self, _b: &mut Branch) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(n: usize, p: f64, h: f64) -> Vec<Prediction> {
        (0..n)
            .map(|_| Prediction {
                token: 1,
                prob: p,
                conf: p,
                entropy: h,
            })
            .collect()
    }

    const EVERY_RULE: [SemiArRule; 8] = [
        SemiArRule::Threshold(0.9),
        SemiArRule::TopK(2),
        SemiArRule::Factor(1.0),
        SemiArRule::Eb(0.1),
        SemiArRule::EntropyThreshold(0.5),
        SemiArRule::LeftToRight,
        SemiArRule::Random(2),
        SemiArRule::PerRun(0.9),
    ];

    fn apply(rule: SemiArRule, window: &[usize], preds: &[Prediction]) -> Vec<usize> {
        let round = RoundContext {
            seed: 3,
            seq: 1,
            round: 1,
        };
        let mut w = window.to_vec();
        let kept = rule.apply(&mut w, preds, &round, 0);
        w.truncate(kept);
        w.sort_unstable();
        w
    }

    #[test]
    fn every_rule_fills_nothing_in_an_empty_window_and_the_one_position_of_a_single() {
        let p = flat(8, 0.5, 0.7);
        for rule in EVERY_RULE {
            assert!(apply(rule, &[], &p).is_empty(), "{rule:?}");
            assert_eq!(apply(rule, &[5], &p), [5], "{rule:?}");
        }
    }

    #[test]
    fn all_equal_confidences_go_to_the_lowest_positions() {
        // prob 0.5 and H 0.7 everywhere: no threshold is cleared, so each rule falls back
        // to its best position, and ties go to the lower position.
        let p = flat(8, 0.5, 0.7);
        let window = [2, 3, 4, 6];
        for (rule, want) in [
            (SemiArRule::Threshold(0.9), vec![2]),
            (SemiArRule::TopK(2), vec![2, 3]),
            (SemiArRule::Factor(1.0), vec![2]),
            (SemiArRule::Eb(0.1), vec![2]),
            (SemiArRule::EntropyThreshold(0.5), vec![2]),
            (SemiArRule::LeftToRight, vec![2]),
            (SemiArRule::PerRun(0.9), vec![2]),
        ] {
            assert_eq!(apply(rule, &window, &p), want, "{rule:?}");
        }
        // Random draws k distinct positions of the window.
        let drawn = apply(SemiArRule::Random(2), &window, &p);
        assert_eq!(drawn.len(), 2);
        assert!(drawn.iter().all(|i| window.contains(i)));
    }

    #[test]
    fn left_to_right_takes_the_leftmost_whatever_the_confidences() {
        let mut p = flat(8, 0.2, 1.0);
        p[6].prob = 0.99;
        p[6].conf = 0.99;
        assert_eq!(apply(SemiArRule::LeftToRight, &[3, 4, 6], &p), [3]);
    }
}
