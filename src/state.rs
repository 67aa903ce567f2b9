//! The shared words of the simulator: tokens, blocks, branches and predictions.
//!
//! Everything above this module speaks in these types. Positions are absolute
//! indices into a branch's token vector: the prompt occupies `0..prompt_len`
//! and generated blocks follow it.

use serde::{Deserialize, Serialize};

/// A token id in `0..V`, or [`MASK`].
pub type Token = u32;

/// The id of a masked position. No vocabulary reaches it.
pub const MASK: Token = u32::MAX;

/// The most lookahead branches k a round may hold: `search.branches` and the cost model's
/// what-if (`lopa-sim system --branches`) stop here.
pub const MAX_BRANCHES: u16 = 4096;

/// How a prediction's confidence `conf_i` is derived from its distribution (SPEC 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceKind {
    /// The top probability.
    #[default]
    Prob,
    /// `sum q ln q`, always <= 0.
    NegEntropy,
    /// Top probability minus the second-best probability.
    Margin,
}

/// Which revealed positions a masked position sees (SPEC 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// Every revealed position of the branch.
    #[default]
    Full,
    /// The prompt and the generated blocks up to and including the position's own.
    BlockCausal,
}

/// What the model says about one masked position.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Prediction {
    /// argmax of q, smallest id on ties.
    pub token: Token,
    /// max of q; thresholds compare this.
    pub prob: f64,
    /// The confidence of the scenario's kind; rankings and scores use this.
    pub conf: f64,
    /// H_i = -sum q ln q (SPEC 3.4), for the rules that rank by entropy. Computed only
    /// when a decode asks for it ([`crate::model::Scratch::want_entropy`]) or when it is
    /// free (`neg_entropy`); 0.0 otherwise.
    pub entropy: f64,
}

impl Prediction {
    /// Derives token, probability and confidence from a normalised distribution.
    pub fn from_distribution(q: &[f64], kind: ConfidenceKind) -> Self {
        Self::from_distribution_with(q, kind, false)
    }

    /// Like [`Prediction::from_distribution`], and computes the entropy when `entropy`.
    pub fn from_distribution_with(q: &[f64], kind: ConfidenceKind, entropy: bool) -> Self {
        let mut best = 0usize;
        let mut best_p = f64::NEG_INFINITY;
        for (v, &p) in q.iter().enumerate() {
            if p > best_p {
                best = v;
                best_p = p;
            }
        }
        let conf = match kind {
            ConfidenceKind::Prob => best_p,
            ConfidenceKind::NegEntropy => {
                let mut s = 0.0;
                for &p in q {
                    if p > 0.0 {
                        s += p * p.ln();
                    }
                }
                s
            }
            ConfidenceKind::Margin => {
                let mut second = 0.0f64;
                for (v, &p) in q.iter().enumerate() {
                    if v != best && p > second {
                        second = p;
                    }
                }
                best_p - second
            }
        };
        let entropy = match kind {
            // -conf is exactly the sum below, negated.
            ConfidenceKind::NegEntropy => -conf,
            _ if entropy => -q
                .iter()
                .filter(|&&p| p > 0.0)
                .map(|&p| p * p.ln())
                .sum::<f64>(),
            _ => 0.0,
        };
        Prediction {
            token: best as Token,
            prob: best_p,
            conf,
            entropy,
        }
    }
}

/// One generated block of a branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Absolute position of the block's first token.
    pub start: usize,
    /// Masked positions left in the block.
    pub masked: usize,
    /// D2F's sticky "fully activated" flag; semi-AR decoders ignore it.
    pub fully_activated: bool,
    /// Its key/value cache is written; it is no longer processed by a forward pass.
    pub cached: bool,
    /// Full, and counted as done for completion and caching (SPEC 4.4). Under
    /// `spawn_completion = "ends"` every full block is settled at the start of a round;
    /// under `"needs_forward"` only a winner's own fill settles a block.
    pub settled: bool,
}

/// One candidate state of a sequence: the prompt plus the generated blocks that exist.
#[derive(Debug, Default, PartialEq)]
pub struct Branch {
    /// Prompt tokens followed by every position of every existing generated block.
    pub tokens: Vec<Token>,
    /// P, the number of prompt tokens (>= 1).
    pub prompt_len: usize,
    /// B.
    pub block_size: usize,
    /// The generated blocks that exist, in order.
    pub blocks: Vec<Block>,
    /// A generated position holds EOS.
    pub eos_detected: bool,
    /// Leading generated blocks that were full when the current round started.
    pub full_prefix_at_start: usize,
}

// By hand: the derived `clone_from` would allocate two vectors, and the search recycles
// branches with `clone_from` every round.
impl Clone for Branch {
    fn clone(&self) -> Self {
        Branch {
            tokens: self.tokens.clone(),
            prompt_len: self.prompt_len,
            block_size: self.block_size,
            blocks: self.blocks.clone(),
            eos_detected: self.eos_detected,
            full_prefix_at_start: self.full_prefix_at_start,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.tokens.clone_from(&source.tokens);
        self.blocks.clone_from(&source.blocks);
        self.prompt_len = source.prompt_len;
        self.block_size = source.block_size;
        self.eos_detected = source.eos_detected;
        self.full_prefix_at_start = source.full_prefix_at_start;
    }
}

impl Branch {
    /// A branch holding only the prompt.
    pub fn new(prompt: &[Token], block_size: usize) -> Self {
        Branch {
            tokens: prompt.to_vec(),
            prompt_len: prompt.len(),
            block_size,
            blocks: Vec::new(),
            eos_detected: false,
            full_prefix_at_start: 0,
        }
    }

    /// Appends one block of B masks.
    pub fn append_block(&mut self) {
        let start = self.tokens.len();
        self.tokens.resize(start + self.block_size, MASK);
        self.blocks.push(Block {
            start,
            masked: self.block_size,
            fully_activated: false,
            cached: false,
            settled: false,
        });
    }

    /// Settles every block with no mask left (SPEC 4.4). Flags never clear.
    pub fn settle_full_blocks(&mut self) {
        // The blocks before the settled prefix of the last round are settled already.
        for block in &mut self.blocks[self.full_prefix_at_start..] {
            block.settled |= block.masked == 0;
        }
    }

    /// Every generated block is settled.
    pub fn all_settled(&self) -> bool {
        self.blocks.iter().all(|b| b.settled)
    }

    /// The generated positions that exist.
    pub fn generated(&self) -> &[Token] {
        &self.tokens[self.prompt_len..]
    }

    /// Index of the generated block holding absolute position `pos`.
    pub fn block_of(&self, pos: usize) -> usize {
        (pos - self.prompt_len) / self.block_size
    }

    /// Absolute positions of block `b`.
    pub fn block_range(&self, b: usize) -> std::ops::Range<usize> {
        let start = self.blocks[b].start;
        start..start + self.block_size
    }

    /// D2F's decoded ratio, (B - masked) / B, as an f64 division.
    pub fn ratio(&self, b: usize) -> f64 {
        (self.block_size - self.blocks[b].masked) as f64 / self.block_size as f64
    }

    /// Masked positions left in the whole branch.
    pub fn masked_total(&self) -> usize {
        self.blocks.iter().map(|b| b.masked).sum()
    }

    /// The first generated block with a masked position.
    pub fn first_masked_block(&self) -> Option<usize> {
        self.blocks.iter().position(|b| b.masked > 0)
    }

    /// Writes `token` at a masked position, keeping the block counts and the EOS flag.
    pub fn commit(&mut self, pos: usize, token: Token, eos: Option<Token>) {
        debug_assert_eq!(self.tokens[pos], MASK, "position {pos} filled twice");
        self.tokens[pos] = token;
        let b = self.block_of(pos);
        self.blocks[b].masked -= 1;
        if eos == Some(token) {
            self.eos_detected = true;
        }
    }

    /// The first position past what `pos` may see under `attention`.
    pub fn visible_end(&self, pos: usize, attention: Attention) -> usize {
        match attention {
            Attention::Full => self.tokens.len(),
            Attention::BlockCausal => {
                if pos < self.prompt_len {
                    self.prompt_len
                } else {
                    self.prompt_len + (self.block_of(pos) + 1) * self.block_size
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_from_reuses_the_buffers() {
        let mut a = Branch::new(&[1, 2], 4);
        a.append_block();
        let mut b = a.clone();
        assert_eq!(b, a);
        let (tokens, blocks) = (b.tokens.as_ptr(), b.blocks.as_ptr());
        a.commit(3, 5, Some(5));
        b.clone_from(&a);
        assert_eq!(b, a);
        assert_eq!((b.tokens.as_ptr(), b.blocks.as_ptr()), (tokens, blocks));
    }

    #[test]
    fn confidence_kinds() {
        let q = [0.1, 0.6, 0.3];
        let p = Prediction::from_distribution(&q, ConfidenceKind::Prob);
        assert_eq!((p.token, p.prob, p.conf), (1, 0.6, 0.6));
        let m = Prediction::from_distribution(&q, ConfidenceKind::Margin);
        assert!((m.conf - 0.3).abs() < 1e-15);
        let e = Prediction::from_distribution(&[0.5, 0.0, 0.5], ConfidenceKind::NegEntropy);
        assert!((e.conf - 0.5f64.ln()).abs() < 1e-15);
        assert_eq!(e.token, 0, "ties go to the smallest token");
        assert_eq!(e.entropy, -e.conf);
        let h = Prediction::from_distribution_with(&[0.5, 0.0, 0.5], ConfidenceKind::Prob, true);
        assert_eq!(h.entropy, -e.conf, "the same left-to-right sum");
        assert_eq!(p.entropy, 0.0, "not asked for");
    }

    #[test]
    fn commit_tracks_blocks_and_eos() {
        let mut b = Branch::new(&[3], 2);
        b.append_block();
        b.append_block();
        assert_eq!(b.masked_total(), 4);
        b.commit(3, 7, Some(7));
        assert!(b.eos_detected);
        assert_eq!(b.blocks[0].masked, 2);
        assert_eq!(b.blocks[1].masked, 1);
        assert_eq!(b.first_masked_block(), Some(0));
        assert_eq!(b.visible_end(1, Attention::BlockCausal), 3);
        assert_eq!(b.visible_end(4, Attention::BlockCausal), 5);
        assert_eq!(b.ratio(1), 0.5);
    }
}
