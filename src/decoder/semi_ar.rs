//! Block-wise semi-autoregressive decoding (SPEC 3.2 and 3.3): all blocks exist from the
//! start and only the first block with masks is eligible.

use super::{most_confident, push_masked, rank_by_confidence, AnchorDecoder};
use crate::state::{Branch, Prediction, Token};

/// How the current block's fill is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SemiArRule {
    /// Fast-dLLM: every position with prob >= tau, plus the most confident one.
    Threshold(f64),
    /// LLaDA low-confidence remasking: the k most confident positions.
    TopK(usize),
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

    fn fill(&self, b: &Branch, preds: &[Prediction], out: &mut Vec<usize>) {
        self.window(b, out);
        match self.rule {
            SemiArRule::Threshold(tau) => {
                let top = most_confident(out.iter().copied(), preds);
                out.retain(|&i| preds[i].prob >= tau || Some(i) == top);
            }
            SemiArRule::TopK(k) => {
                rank_by_confidence(out, preds);
                out.truncate(k);
            }
        }
    }

    fn processed_positions(&self, b: &Branch) -> usize {
        b.blocks.len() * self.block_size
    }

    fn end_round(&self, _b: &mut Branch) {}
}
