//! Confidence models: the synthetic stand-ins for a dLLM's forward pass.
//!
//! Every model answers one question per masked position, "what distribution over the
//! vocabulary does the denoiser give here, given the branch's revealed tokens?", and judges
//! a finished sequence. One file per model family, all behind [`ConfidenceModel`].

pub mod chain_gen;
pub mod markov;

use rand_chacha::ChaCha8Rng;

use crate::record::Quality;
use crate::state::{Branch, ConfidenceKind, Prediction, Token};

pub use markov::MarkovOracle;

/// Reusable buffers for [`ConfidenceModel::predict`], so the hot loop does not allocate.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// One distribution over the vocabulary.
    pub q: Vec<f64>,
    /// Per position: the nearest revealed position at or before it.
    pub left: Vec<usize>,
    /// Per position: the nearest revealed position at or after it (`usize::MAX` if none).
    pub right: Vec<usize>,
}

/// A synthetic denoiser.
pub trait ConfidenceModel: Send + Sync {
    /// V.
    fn vocab_size(&self) -> usize;

    /// The EOS token, if the model has one.
    fn eos_token(&self) -> Option<Token>;

    /// Predicts every position of `positions` (masked, ascending) of `branch`, writing
    /// `out[pos]`. `out` is at least as long as the branch.
    fn predict(
        &self,
        branch: &Branch,
        positions: &[usize],
        kind: ConfidenceKind,
        out: &mut [Prediction],
        scratch: &mut Scratch,
    );

    /// Judges a finished sequence.
    fn quality(&self, prompt: &[Token], generated: &[Token]) -> Quality;

    /// Samples a prompt of `len` tokens from the sequence's own stream.
    fn sample_prompt(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<Token>;
}
