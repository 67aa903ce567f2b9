//! D2F pipelined blocks (SPEC 3.1), the anchor decoder LoPA runs on.

use super::{most_confident, push_masked, AnchorDecoder, RoundContext};
use crate::state::{Branch, Prediction, Token, MASK};

/// Discrete Diffusion Forcing's pipelined block decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct D2f {
    /// B.
    pub block_size: usize,
    /// L / B, the most generated blocks.
    pub max_blocks: usize,
    /// tau_add: the last block's ratio that lets a new block in.
    pub add_threshold: f64,
    /// tau_act: the ratio that fully activates the next block.
    pub activate_threshold: f64,
    /// tau_conf: the probability a position must exceed to be filled.
    pub fill_threshold: f64,
}

impl AnchorDecoder for D2f {
    fn initial_branch(&self, prompt: &[Token]) -> Branch {
        Branch::new(prompt, self.block_size)
    }

    fn begin_round(&self, b: &mut Branch) -> bool {
        // 1. Add a block; the prompt counts as a block of ratio 1.
        let last_ratio = if b.blocks.is_empty() {
            1.0
        } else {
            b.ratio(b.blocks.len() - 1)
        };
        let added =
            b.blocks.len() < self.max_blocks && !b.eos_detected && last_ratio >= self.add_threshold;
        if added {
            b.append_block();
        }
        // 2. Activate (sticky); block 0 follows the prompt, whose ratio is 1.
        if let Some(first) = b.blocks.first_mut() {
            first.fully_activated |= 1.0 >= self.activate_threshold;
        }
        for i in 1..b.blocks.len() {
            if b.ratio(i - 1) >= self.activate_threshold {
                b.blocks[i].fully_activated = true;
            }
        }
        // Settled blocks are full; under "ends" every full block is settled (SPEC 4.4).
        b.full_prefix_at_start = b.blocks.iter().take_while(|k| k.settled).count();
        // 3. Done?
        !added && b.masked_total() == 0 && b.all_settled()
    }

    fn prediction_positions(&self, b: &Branch, out: &mut Vec<usize>) {
        self.window(b, out);
    }

    fn window(&self, b: &Branch, out: &mut Vec<usize>) {
        out.clear();
        // Only blocks with a mask are scanned, so the cost follows the window, not L.
        for (k, block) in b.blocks.iter().enumerate() {
            if block.masked > 0 {
                push_masked(b, b.block_range(k), out);
            }
        }
    }

    fn fill(&self, b: &Branch, preds: &[Prediction], _: &RoundContext, out: &mut Vec<usize>) {
        out.clear();
        for (k, block) in b.blocks.iter().enumerate() {
            if block.masked == 0 {
                continue;
            }
            let before = out.len();
            for i in b.block_range(k) {
                if b.tokens[i] == MASK && preds[i].prob > self.fill_threshold {
                    out.push(i);
                }
            }
            if out.len() == before && block.fully_activated {
                let masked = b.block_range(k).filter(|&i| b.tokens[i] == MASK);
                out.extend(most_confident(masked, preds));
            }
        }
    }

    fn processed_positions(&self, b: &Branch) -> usize {
        b.blocks.iter().filter(|k| !k.cached).count() * self.block_size
    }

    fn end_round(&self, b: &mut Branch) {
        let done = b.full_prefix_at_start;
        for block in &mut b.blocks[..done] {
            block.cached = true;
        }
    }
}
