//! One decode: a sequence's prompt, the search over its filling order, and its record.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::decoder::AnchorDecoder;
use crate::model::{ConfidenceModel, SequenceInfo};
use crate::record::{DecodeRecord, DecodeTrace, ProgressBins, TracedRound, TracedToken};
use crate::search::{self, RoundEvent, RoundObserver, Search, Stalled};
use crate::state::{Branch, MASK};
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
    /// LoPA's options beyond k (SPEC 4.3, 4.4).
    pub knobs: search::Knobs,
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

/// Buffers one thread reuses across decodes.
#[derive(Default)]
pub struct Workspace {
    search: search::Workspace,
    committed: Vec<u32>,
    commit_probs: Vec<f64>,
    pending: Vec<(usize, f64)>,
}

/// Counts the tokens each round commits and remembers the top probability each position had
/// when it was committed, then passes the event on.
struct Tally<'a> {
    committed: &'a mut Vec<u32>,
    commit_probs: &'a mut Vec<f64>,
    /// The next round's lookahead tokens: (position, probability when spawned).
    pending: &'a mut Vec<(usize, f64)>,
    prompt_len: usize,
    inner: &'a mut dyn RoundObserver,
}

impl RoundObserver for Tally<'_> {
    fn on_round(&mut self, e: &RoundEvent<'_>) {
        self.committed
            .push((e.filled.len() + e.lookahead_tokens.len()) as u32);
        let base = self.prompt_len;
        for &i in e.filled {
            self.commit_probs[i - base] = e.predictions[i].prob;
        }
        for &p in e.lookahead_tokens {
            if let Some(&(_, prob)) = self.pending.iter().find(|(q, _)| *q == p) {
                self.commit_probs[p - base] = prob;
            }
        }
        self.pending.clear();
        self.pending
            .extend(e.spawned.iter().map(|&i| (i, e.predictions[i].prob)));
        self.inner.on_round(e);
    }

    fn on_finish(&mut self, branch: &Branch) {
        // A lookahead token that completed the decode.
        for &(p, prob) in self.pending.iter() {
            if branch.tokens[p] != MASK {
                self.commit_probs[p - self.prompt_len] = prob;
            }
        }
        self.inner.on_finish(branch);
    }
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
        self.knobs
            .max_rounds
            .unwrap_or(4 * self.gen_length as u64 + 16)
    }

    /// Decodes sequence `seq`, reporting each round to `observer`.
    pub fn decode_observed(
        &self,
        seq: usize,
        ws: &mut Workspace,
        observer: &mut dyn RoundObserver,
    ) -> Result<DecodeRecord, Stalled> {
        let prompt = self.prompt(seq);
        ws.committed.clear();
        ws.commit_probs.clear();
        ws.commit_probs.resize(self.gen_length, 0.0);
        ws.pending.clear();
        let mut tally = Tally {
            committed: &mut ws.committed,
            commit_probs: &mut ws.commit_probs,
            pending: &mut ws.pending,
            prompt_len: prompt.len(),
            inner: observer,
        };
        let sequence = SequenceInfo {
            seed: self.seed,
            seq,
            prompt: &prompt,
            gen_length: self.gen_length,
        };
        let outcome = match self.search {
            Search::Oracle { .. } => search::decode_oracle(
                self.model.as_ref(),
                self.decoder.as_ref(),
                self.search,
                search::OracleLimits {
                    budget_mb: self.knobs.state_budget_mb,
                },
                self.confidence,
                &sequence,
                self.max_rounds(),
                &mut ws.search,
                &mut tally,
            )?,
            _ => search::decode(
                self.model.as_ref(),
                self.decoder.as_ref(),
                self.search,
                &self.knobs,
                self.confidence,
                &sequence,
                self.max_rounds(),
                &mut ws.search,
                &mut tally,
            )?,
        };
        let generated = outcome.branch.generated();
        let tokens = generated.len() as u64;
        let eos = self.model.eos_token();
        let content_tokens = generated
            .iter()
            .position(|&t| Some(t) == eos)
            .map_or(tokens, |i| i as u64 + 1);
        // A lookahead token that completed the decode counts to the last round.
        let counted: u64 = ws.committed.iter().map(|&c| u64::from(c)).sum();
        if let Some(last) = ws.committed.last_mut() {
            *last += (tokens - counted.min(tokens)) as u32;
        }
        Ok(DecodeRecord {
            rounds: outcome.rounds,
            tokens,
            content_tokens,
            branch_evals: outcome.branch_evals,
            branch_tokens: outcome.branch_tokens,
            lookahead_wins: outcome.lookahead_wins,
            quality: self.model.quality(
                &prompt,
                generated,
                &ws.commit_probs[..generated.len()],
                &mut ws.search.scratch,
            ),
        })
    }

    /// Decodes sequence `seq` and bins its rounds by generation progress.
    pub fn decode_binned(
        &self,
        seq: usize,
        ws: &mut Workspace,
    ) -> Result<(DecodeRecord, ProgressBins), Stalled> {
        let record = self.decode(seq, ws)?;
        let bins = ProgressBins::from_rounds(&ws.committed, record.tokens);
        Ok((record, bins))
    }

    /// Decodes sequence `seq`.
    pub fn decode(&self, seq: usize, ws: &mut Workspace) -> Result<DecodeRecord, Stalled> {
        self.decode_observed(seq, ws, &mut search::NoObserver)
    }
}

/// Records every round of one decode, for `trace.csv`, `tfo_map` and `lopa-sim trace`.
#[derive(Default)]
struct TraceRecorder {
    trace: DecodeTrace,
    prompt_len: usize,
    /// The next round's lookahead tokens, as predicted when they were spawned.
    pending: Vec<TracedToken>,
}

impl TraceRecorder {
    fn token(&self, pos: usize, e: &RoundEvent<'_>) -> TracedToken {
        let p = e.predictions[pos];
        TracedToken {
            position: pos - self.prompt_len,
            token: p.token,
            prob: p.prob,
            confidence: p.conf,
        }
    }
}

impl RoundObserver for TraceRecorder {
    fn on_round(&mut self, e: &RoundEvent<'_>) {
        self.prompt_len = e.branch.prompt_len;
        let lookahead = e.lookahead_position.and_then(|p| {
            let p = p - self.prompt_len;
            self.pending.iter().find(|t| t.position == p).cloned()
        });
        let filled = e.filled.iter().map(|&i| self.token(i, e)).collect();
        self.pending = e.spawned.iter().map(|&i| self.token(i, e)).collect();
        self.trace.rounds.push(TracedRound {
            round: e.round,
            scores: e.scores.to_vec(),
            winner: e.winner,
            lookahead,
            filled,
            positions: e.branch.tokens.len() - e.branch.prompt_len,
        });
    }

    fn on_finish(&mut self, branch: &Branch) {
        self.trace.positions = branch.tokens.len() - branch.prompt_len;
        let prompt_len = branch.prompt_len;
        self.trace.completion = self
            .pending
            .iter()
            .find(|t| branch.tokens[t.position + prompt_len] != MASK)
            .cloned();
    }
}

impl Setup {
    /// Decodes sequence `seq` and records every round.
    pub fn trace(
        &self,
        seq: usize,
        config: usize,
        ws: &mut Workspace,
    ) -> Result<(DecodeRecord, DecodeTrace), Stalled> {
        let mut recorder = TraceRecorder::default();
        let record = self.decode_observed(seq, ws, &mut recorder)?;
        let trace = DecodeTrace {
            config,
            seq,
            branches: self.search.lookahead_branches(),
            ..recorder.trace
        };
        Ok((record, trace))
    }
}
