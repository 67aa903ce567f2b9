//! One decode: a sequence's prompt, the search over its filling order, and its record.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::decoder::AnchorDecoder;
use crate::model::ConfidenceModel;
use crate::record::DecodeRecord;
use crate::search::{self, RoundObserver, Search, Stalled, Workspace};
use crate::state::{ConfidenceKind, Token};

/// Where each sequence's prompt comes from (SPEC 2).
#[derive(Clone, Debug, PartialEq)]
pub enum Prompts {
    /// Sequence s uses `prompts[s mod len]`.
    Explicit(Vec<Vec<Token>>),
    /// Sequence s samples this many tokens from the model with its own stream.
    Sampled(usize),
}

/// Everything one configuration needs to decode its sequences.
#[derive(Clone)]
pub struct Setup {
    /// The confidence model, shared by every configuration that uses the same one.
    pub model: Arc<dyn ConfidenceModel>,
    /// The anchor decoder.
    pub decoder: Arc<dyn AnchorDecoder>,
    /// The order search.
    pub search: Search,
    /// conf_i's kind.
    pub confidence: ConfidenceKind,
    /// L.
    pub gen_length: usize,
    /// Prompt source.
    pub prompts: Prompts,
    /// Root of every random stream.
    pub seed: u64,
    /// Sequences decoded.
    pub sequences: usize,
}

/// The random stream of sequence `seq`: from the seed and `seq` alone, never the
/// configuration, so every configuration decodes the same sequences (SPEC 6).
pub fn sequence_rng(seed: u64, seq: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(seq as u64);
    rng
}

impl Setup {
    /// The prompt of sequence `seq`.
    pub fn prompt(&self, seq: usize) -> Vec<Token> {
        match &self.prompts {
            Prompts::Explicit(list) => list[seq % list.len()].clone(),
            Prompts::Sampled(len) => {
                let mut rng = sequence_rng(self.seed, seq);
                self.model.sample_prompt(*len, &mut rng)
            }
        }
    }

    /// A bound on rounds that no progressing decode reaches.
    fn max_rounds(&self) -> u64 {
        4 * self.gen_length as u64 + 16
    }

    /// Decodes sequence `seq`, reporting each round to `observer`.
    pub fn decode_observed(
        &self,
        seq: usize,
        ws: &mut Workspace,
        observer: &mut dyn RoundObserver,
    ) -> Result<DecodeRecord, Stalled> {
        let prompt = self.prompt(seq);
        let outcome = search::decode(
            self.model.as_ref(),
            self.decoder.as_ref(),
            self.search,
            self.confidence,
            &prompt,
            self.max_rounds(),
            ws,
            observer,
        )?;
        let generated = outcome.branch.generated();
        let tokens = generated.len() as u64;
        let eos = self.model.eos_token();
        let content_tokens = generated
            .iter()
            .position(|&t| Some(t) == eos)
            .map_or(tokens, |i| i as u64 + 1);
        Ok(DecodeRecord {
            rounds: outcome.rounds,
            tokens,
            content_tokens,
            branch_evals: outcome.branch_evals,
            branch_tokens: outcome.branch_tokens,
            lookahead_wins: outcome.lookahead_wins,
            quality: self.model.quality(&prompt, generated),
        })
    }

    /// Decodes sequence `seq`.
    pub fn decode(&self, seq: usize, ws: &mut Workspace) -> Result<DecodeRecord, Stalled> {
        self.decode_observed(seq, ws, &mut search::NoObserver)
    }
}
