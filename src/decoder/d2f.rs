//! D2F pipelined blocks (SPEC 3.1), the anchor decoder LoPA runs on.

use super::{most_confident, push_masked, AnchorDecoder, RoundContext, SemiArRule};
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
    /// Another rule for the fill of a fully activated block (`decoder.fill_rule`); `None`
    /// is D2F's own (SPEC 3.1). Semi-activated blocks always keep D2F's rule.
    pub fill_rule: Option<SemiArRule>,
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
        // Blocks up to the settled prefix of the last round followed a full block then, so
        // their flags are set already (or never will be, if tau_act > 1).
        for i in b.full_prefix_at_start.max(1)..b.blocks.len() {
            // The flag is sticky, so an active block needs no division.
            if !b.blocks[i].fully_activated && b.ratio(i - 1) >= self.activate_threshold {
                b.blocks[i].fully_activated = true;
            }
        }
        // Settled blocks are full; under "ends" every full block is settled (SPEC 4.4).
        let from = b.full_prefix_at_start;
        let prefix = from + b.blocks[from..].iter().take_while(|k| k.settled).count();
        b.full_prefix_at_start = prefix;
        // 3. Done? Every block settled: none is masked, as a settled block is full.
        !added && prefix == b.blocks.len()
    }

    fn prediction_positions(&self, b: &Branch, out: &mut Vec<usize>) {
        self.window(b, out);
    }

    fn every_mask_is_predicted(&self) -> bool {
        true
    }

    fn window(&self, b: &Branch, out: &mut Vec<usize>) {
        out.clear();
        // Only blocks with a mask are scanned, so the cost follows the window, not L.
        for (k, block) in b.blocks.iter().enumerate() {
            if block.masked == self.block_size {
                // A block none of whose positions is written yet: no token to test.
                out.extend(b.block_range(k));
            } else if block.masked > 0 {
                push_masked(b, b.block_range(k), out);
            }
        }
    }

    fn fill(&self, b: &Branch, preds: &[Prediction], round: &RoundContext, out: &mut Vec<usize>) {
        out.clear();
        for (k, block) in b.blocks.iter().enumerate() {
            if block.masked == 0 {
                continue;
            }
            let before = out.len();
            if let (Some(rule), true) = (self.fill_rule, block.fully_activated) {
                // The rule sees this block alone, as a semi-AR decoder sees its current block.
                push_masked(b, b.block_range(k), out);
                let kept = rule.apply(&mut out[before..], preds, round, k as u64);
                out.truncate(before + kept);
                continue;
            }
            let range = b.block_range(k);
            let start = range.start;
            if block.masked == self.block_size {
                // Every position is masked: no token to test.
                for (j, p) in preds[range].iter().enumerate() {
                    if p.prob > self.fill_threshold {
                        out.push(start + j);
                    }
                }
            } else {
                let cells = b.tokens[range.clone()].iter().zip(&preds[range]);
                for (j, (&t, p)) in cells.enumerate() {
                    if t == MASK && p.prob > self.fill_threshold {
                        out.push(start + j);
                    }
                }
            }
            if out.len() == before && block.fully_activated {
                let masked = b.block_range(k).filter(|&i| b.tokens[i] == MASK);
                out.extend(most_confident(masked, preds));
            }
        }
    }

    fn needs_entropy(&self) -> bool {
        self.fill_rule.is_some_and(SemiArRule::needs_entropy)
    }

    fn processed_positions(&self, b: &Branch) -> usize {
        // Cached blocks are a prefix: `end_round` caches the settled prefix, which only grows.
        (b.blocks.len() - b.blocks.partition_point(|k| k.cached)) * self.block_size
    }

    fn end_round(&self, b: &mut Branch) {
        let done = b.full_prefix_at_start;
        for block in &mut b.blocks[..done] {
            block.cached = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d2f(fill_rule: Option<SemiArRule>) -> D2f {
        D2f {
            block_size: 4,
            max_blocks: 2,
            add_threshold: 0.1,
            activate_threshold: 0.95,
            fill_threshold: 0.9,
            fill_rule,
        }
    }

    /// A one-token prompt and two blocks of 4: block 0 fully activated, block 1 not.
    fn branch() -> Branch {
        let mut b = Branch::new(&[0], 4);
        b.append_block();
        b.append_block();
        b.blocks[0].fully_activated = true;
        b
    }

    fn preds(probs: &[f64]) -> Vec<Prediction> {
        probs
            .iter()
            .map(|&p| Prediction {
                token: 1,
                prob: p,
                conf: p,
                entropy: 1.0 - p,
            })
            .collect()
    }

    fn fill(d: &D2f, b: &Branch, p: &[Prediction]) -> Vec<usize> {
        let round = RoundContext {
            seed: 1,
            seq: 0,
            round: 1,
        };
        let mut out = Vec::new();
        d.fill(b, p, &round, &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn the_rule_replaces_the_fill_of_fully_activated_blocks_only() {
        let b = branch();
        // Position 0 is the prompt; block 0 is 1..5, block 1 is 5..9.
        let p = preds(&[1.0, 0.5, 0.95, 0.6, 0.92, 0.3, 0.97, 0.4, 0.5]);
        assert_eq!(fill(&d2f(None), &b, &p), [2, 4, 6]);
        // Left to right takes block 0's first masked position; block 1 keeps tau_conf.
        assert_eq!(fill(&d2f(Some(SemiArRule::LeftToRight)), &b, &p), [1, 6]);
        assert_eq!(fill(&d2f(Some(SemiArRule::TopK(3))), &b, &p), [2, 3, 4, 6]);
        // Fast-dLLM's threshold keeps prob == tau, where D2F's own needs prob > tau.
        let q = preds(&[1.0, 0.9, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5, 0.5]);
        assert_eq!(fill(&d2f(Some(SemiArRule::Threshold(0.9))), &b, &q), [1]);
        assert_eq!(fill(&d2f(None), &b, &q), [1]);
        let r = preds(&[1.0, 0.5, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5]);
        assert_eq!(fill(&d2f(Some(SemiArRule::Threshold(0.9))), &b, &r), [2, 3]);
        assert_eq!(fill(&d2f(None), &b, &r), [2]);
    }

    #[test]
    fn a_rule_sees_one_block_and_skips_full_ones() {
        let mut b = branch();
        b.blocks[1].fully_activated = true;
        for i in 1..5 {
            b.commit(i, 1, None);
        }
        let p = preds(&[1.0; 9]);
        // Block 0 is full; block 1's first masked position is 5.
        assert_eq!(fill(&d2f(Some(SemiArRule::LeftToRight)), &b, &p), [5]);
        // All-equal confidences: per_run takes the lower position of the one run.
        let flat = preds(&[0.5; 9]);
        assert_eq!(fill(&d2f(Some(SemiArRule::PerRun(0.9))), &b, &flat), [5]);
        // Random draws k per block from that block.
        let drawn = fill(&d2f(Some(SemiArRule::Random(2))), &b, &flat);
        assert_eq!(drawn.len(), 2);
        assert!(drawn.iter().all(|i| (5..9).contains(i)));
    }

    #[test]
    fn entropy_rules_ask_for_entropy() {
        assert!(!d2f(None).needs_entropy());
        assert!(d2f(Some(SemiArRule::Eb(0.1))).needs_entropy());
        assert!(d2f(Some(SemiArRule::EntropyThreshold(0.5))).needs_entropy());
        assert!(!d2f(Some(SemiArRule::Factor(1.0))).needs_entropy());
    }
}
