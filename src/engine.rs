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
use crate::system::{LatencyMeter, SystemModel};

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
    /// The confidence model of world 0, shared by every configuration that uses the same
    /// one.
    pub model: Arc<dyn ConfidenceModel>,
    /// The models of worlds 1..N when the configuration is replicated over generated
    /// worlds (`worlds = N`); empty for one world. Every world decodes the same sequences.
    pub other_worlds: Vec<Arc<dyn ConfidenceModel>>,
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
    /// The cost model that times each decode, when the scenario has `[system]`.
    pub system: Option<Arc<SystemModel>>,
}

/// Buffers one thread reuses across decodes.
#[derive(Default)]
pub struct Workspace {
    search: search::Workspace,
    committed: Vec<u32>,
    commit_probs: Vec<f64>,
    pending: Vec<(usize, f64)>,
    /// Adjacent token pairs of one sequence, for `distinct2`.
    pairs: Vec<u64>,
    meter: LatencyMeter,
}

impl Workspace {
    /// A workspace whose models recompute every prediction from the branch alone, reusing
    /// nothing between calls: the reference that incremental evaluation must equal.
    pub fn full_recompute() -> Self {
        let mut ws = Workspace::default();
        ws.search.scratch.full_recompute = true;
        ws
    }
}

/// Distinct adjacent pairs / pairs over `text` (None below two tokens): 1.0 for text that
/// never repeats a bigram, near 0 for one token over and over. `pairs` is reused.
fn distinct_pairs(text: &[Token], pairs: &mut Vec<u64>) -> Option<f64> {
    if text.len() < 2 {
        return None;
    }
    pairs.clear();
    pairs.extend(
        text.windows(2)
            .map(|w| (u64::from(w[0]) << 32) | u64::from(w[1])),
    );
    pairs.sort_unstable();
    pairs.dedup();
    Some(pairs.len() as f64 / (text.len() - 1) as f64)
}

/// Counts the tokens each round commits and remembers the top probability each position had
/// when it was committed, then passes the event on.
struct Tally<'a> {
    committed: &'a mut Vec<u32>,
    commit_probs: &'a mut Vec<f64>,
    /// The next round's lookahead tokens: (position, probability when spawned).
    pending: &'a mut Vec<(usize, f64)>,
    prompt_len: usize,
    /// Times the rounds when the configuration has a cost model.
    timing: Option<(&'a SystemModel, &'a mut LatencyMeter)>,
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
        if let Some((system, meter)) = &mut self.timing {
            meter.round(system, e.loads);
        }
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

/// The seed of generated world `world`: world 0 is the model seed itself, so `worlds = 1`
/// is exactly the scenario without the key; later worlds mix the world number into it
/// with SplitMix64's finaliser, so nearby seeds and worlds give unrelated streams.
pub fn world_seed(model_seed: u64, world: usize) -> u64 {
    if world == 0 {
        return model_seed;
    }
    let mut z = model_seed ^ (world as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The random stream of sequence `seq`: from the seed and `seq` alone, never the
/// configuration, so every configuration decodes the same sequences (SPEC 6).
pub fn sequence_rng(seed: u64, seq: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(seq as u64);
    rng
}

impl Setup {
    /// Worlds this configuration is decoded in (at least 1).
    pub fn world_count(&self) -> usize {
        1 + self.other_worlds.len()
    }

    /// Decodes this configuration runs: every sequence in every world.
    pub fn decodes(&self) -> usize {
        self.sequences * self.world_count()
    }

    /// The model of world `world`.
    ///
    /// # Panics
    ///
    /// If `world` is not below [`Setup::world_count`], a caller bug.
    pub fn model_of(&self, world: usize) -> &Arc<dyn ConfidenceModel> {
        match world {
            0 => &self.model,
            w => &self.other_worlds[w - 1],
        }
    }

    /// The prompt of sequence `seq` in world 0.
    pub fn prompt(&self, seq: usize) -> Vec<Token> {
        self.prompt_in(0, seq)
    }

    /// The prompt of sequence `seq` in world `world`: the same stream in every world, so a
    /// sampled prompt differs between worlds only through the world's chain.
    pub fn prompt_in(&self, world: usize, seq: usize) -> Vec<Token> {
        match &self.prompts {
            Prompts::Explicit(list) => list[seq % list.len()].clone(),
            Prompts::Sampled(len) => {
                let mut rng = sequence_rng(self.seed, seq);
                self.model_of(world).sample_prompt(*len, &mut rng)
            }
        }
    }

    /// A bound on rounds that no progressing decode reaches.
    fn max_rounds(&self) -> u64 {
        self.knobs
            .max_rounds
            .unwrap_or(4 * self.gen_length as u64 + 16)
    }

    /// Decodes sequence `seq` in world 0, reporting each round to `observer`.
    pub fn decode_observed(
        &self,
        seq: usize,
        ws: &mut Workspace,
        observer: &mut dyn RoundObserver,
    ) -> Result<DecodeRecord, Stalled> {
        self.decode_in(0, seq, ws, observer)
    }

    /// Decodes sequence `seq` in world `world`, reporting each round to `observer`.
    pub fn decode_in(
        &self,
        world: usize,
        seq: usize,
        ws: &mut Workspace,
        observer: &mut dyn RoundObserver,
    ) -> Result<DecodeRecord, Stalled> {
        let model = self.model_of(world).as_ref();
        let prompt = self.prompt_in(world, seq);
        ws.committed.clear();
        ws.commit_probs.clear();
        ws.commit_probs.resize(self.gen_length, 0.0);
        ws.pending.clear();
        ws.meter.reset();
        let mut tally = Tally {
            committed: &mut ws.committed,
            commit_probs: &mut ws.commit_probs,
            pending: &mut ws.pending,
            prompt_len: prompt.len(),
            timing: self.system.as_deref().map(|s| (s, &mut ws.meter)),
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
                model,
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
                model,
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
        let eos = model.eos_token();
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
            distinct2: distinct_pairs(&generated[..content_tokens as usize], &mut ws.pairs),
            quality: model.quality(
                &prompt,
                generated,
                &ws.commit_probs[..generated.len()],
                &mut ws.search.scratch,
            ),
            latency: self.system.as_ref().map(|_| ws.meter.latency()),
        })
    }

    /// Decodes sequence `seq` of world `world` and bins its rounds by generation progress.
    pub fn decode_binned(
        &self,
        world: usize,
        seq: usize,
        ws: &mut Workspace,
    ) -> Result<(DecodeRecord, ProgressBins), Stalled> {
        let record = self.decode_in(world, seq, ws, &mut search::NoObserver)?;
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
