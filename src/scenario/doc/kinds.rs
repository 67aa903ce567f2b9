//! The values of the `kind` keys: which model, which anchor decoder, which order search.

use serde::{Deserialize, Serialize};

/// `model.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// The Markov oracle (SPEC 2).
    Markov,
    /// The hidden Markov oracle (SPEC 2b.1).
    Hmm,
    /// The latent-plan mixture (SPEC 2b.2).
    Plan,
    /// The phenomenological confidence field.
    Field,
    /// The Markov oracle over a generated phrase world.
    Phrase,
}

/// `decoder.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecoderKind {
    /// D2F pipelined blocks.
    D2f,
    /// Fast-dLLM threshold.
    Threshold,
    /// Fixed k per round.
    Topk,
    /// Fast-dLLM's factor rule (SPEC 3.4).
    Factor,
    /// EB-sampler (SPEC 3.4).
    Eb,
    /// dParallel's entropy threshold (SPEC 3.4).
    EntropyThreshold,
    /// One position per round, leftmost first (SPEC 3.4).
    LeftToRight,
    /// k uniformly random positions per round.
    Random,
    /// The most confident position of each masked run (dInfer-style).
    PerRun,
}

impl DecoderKind {
    /// The name a scenario file uses.
    pub fn name(self) -> &'static str {
        match self {
            DecoderKind::D2f => "d2f",
            DecoderKind::Threshold => "threshold",
            DecoderKind::Topk => "topk",
            DecoderKind::Factor => "factor",
            DecoderKind::Eb => "eb",
            DecoderKind::EntropyThreshold => "entropy_threshold",
            DecoderKind::LeftToRight => "left_to_right",
            DecoderKind::Random => "random",
            DecoderKind::PerRun => "per_run",
        }
    }
}

/// `search.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// One branch.
    None,
    /// Lookahead parallel decoding.
    Lopa,
    /// The fewest rounds over LoPA's moves (SPEC 4.5).
    Oracle,
}
