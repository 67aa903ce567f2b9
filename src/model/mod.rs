//! Confidence models: the synthetic stand-ins for a dLLM's forward pass.
//!
//! Every model answers one question per masked position, "what distribution over the
//! vocabulary does the denoiser give here, given the branch's revealed tokens?", and judges
//! a finished sequence. One file per model family, all behind [`ConfidenceModel`].

pub mod chain_gen;
pub mod field;
pub mod hmm;
pub mod markov;
pub(crate) mod memo;
pub mod miscalibrated;
pub mod phrase_gen;
pub mod plan;
pub(crate) mod powers;
pub(crate) mod run_memo;
pub mod stages;

use std::any::Any;

use rand_chacha::ChaCha8Rng;

use crate::record::Quality;
use crate::state::{Branch, ConfidenceKind, Prediction, Token};

pub use markov::MarkovOracle;
pub(crate) use run_memo::next_revealed;

/// Reusable buffers for [`ConfidenceModel::predict`], so the hot loop does not allocate,
/// plus a slot for a model's per-sequence state (set up in
/// [`ConfidenceModel::begin_sequence`]).
#[derive(Default)]
pub struct Scratch {
    /// One distribution over the vocabulary.
    pub q: Vec<f64>,
    /// Per position: the nearest revealed position at or after it (`usize::MAX` if none).
    pub right: Vec<usize>,
    /// A wrapper's reshaped distribution, kept apart from `q`, which the wrapped model uses.
    pub reshaped: Vec<f64>,
    /// The (seed, seq) being decoded, for models whose noise is keyed by it.
    pub sequence: (u64, usize),
    /// The decoder ranks by entropy: fill [`Prediction::entropy`] (SPEC 3.4).
    pub want_entropy: bool,
    /// Recompute every prediction from the branch alone, reusing nothing from earlier
    /// calls: the reference that incremental evaluation is tested against.
    pub full_recompute: bool,
    /// Model-specific buffers and per-sequence state.
    slot: Option<Box<dyn Any + Send>>,
}

impl Scratch {
    /// The model-specific slot as a `T`, created on first use (or when another model's
    /// type sits there).
    pub fn slot<T: Default + Send + 'static>(&mut self) -> &mut T {
        if !self.slot.as_ref().is_some_and(|s| s.is::<T>()) {
            self.slot = Some(Box::new(T::default()));
        }
        self.slot
            .as_mut()
            .and_then(|s| s.downcast_mut::<T>())
            .expect("just set")
    }
}

/// What a model learns about a sequence before its first round.
#[derive(Clone, Copy, Debug)]
pub struct SequenceInfo<'a> {
    /// The scenario seed.
    pub seed: u64,
    /// The sequence number.
    pub seq: usize,
    /// Its prompt.
    pub prompt: &'a [Token],
    /// L.
    pub gen_length: usize,
}

/// A synthetic denoiser.
pub trait ConfidenceModel: Send + Sync {
    /// V.
    fn vocab_size(&self) -> usize;

    /// The EOS token, if the model has one.
    fn eos_token(&self) -> Option<Token>;

    /// Sets up per-sequence state in `scratch` before the first round. Exact models have
    /// none.
    fn begin_sequence(&self, _info: &SequenceInfo<'_>, _scratch: &mut Scratch) {}

    /// Predicts every position of `positions` (masked, ascending) of `branch` in forward
    /// pass `round` (from 1), writing `out[pos]`. `out` is at least as long as the branch.
    /// The default derives each prediction from [`ConfidenceModel::distributions`]; a
    /// model implements at least one of the two.
    fn predict(
        &self,
        branch: &Branch,
        positions: &[usize],
        kind: ConfidenceKind,
        round: u64,
        out: &mut [Prediction],
        scratch: &mut Scratch,
    ) {
        predict_from_distributions(self, branch, positions, kind, round, out, scratch);
    }

    /// Every prediction at a masked position is a function of the position's nearest
    /// revealed neighbours alone (token, distance, and whether the position sees the right
    /// one), whatever the round and the rest of the branch. Then a search may copy a
    /// prediction from another branch where those neighbours agree, instead of asking.
    fn local_predictions(&self) -> bool {
        false
    }

    /// Hands the full distribution q_i of every position of `positions` to `sink`, in
    /// order, for wrappers that reshape it. Returns false when the model has no explicit
    /// distribution (then nothing is handed over).
    fn distributions(
        &self,
        _branch: &Branch,
        _positions: &[usize],
        _round: u64,
        _scratch: &mut Scratch,
        _sink: &mut dyn FnMut(usize, &[f64]),
    ) -> bool {
        false
    }

    /// Judges a finished sequence. `commit_probs[i]` is the top probability generated
    /// position i had when it was committed.
    fn quality(
        &self,
        prompt: &[Token],
        generated: &[Token],
        commit_probs: &[f64],
        scratch: &mut Scratch,
    ) -> Quality;

    /// Samples a prompt of `len` tokens from the sequence's own stream.
    fn sample_prompt(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<Token>;
}

/// [`ConfidenceModel::predict`] from [`ConfidenceModel::distributions`]: the full path,
/// which a model with an incremental `predict` keeps for `Scratch::full_recompute`.
pub(crate) fn predict_from_distributions<M: ConfidenceModel + ?Sized>(
    model: &M,
    branch: &Branch,
    positions: &[usize],
    kind: ConfidenceKind,
    round: u64,
    out: &mut [Prediction],
    scratch: &mut Scratch,
) {
    let entropy = scratch.want_entropy;
    model.distributions(branch, positions, round, scratch, &mut |i, q| {
        out[i] = Prediction::from_distribution_with(q, kind, entropy);
    });
}
