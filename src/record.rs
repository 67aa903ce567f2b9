//! What a decode reports (SPEC 5), and how a configuration is labelled in the outputs.
//!
//! Reports, plots and summaries read only these types.

use serde::{Deserialize, Serialize};

/// Output quality of one finished sequence, as the model judges it. A field the model does
/// not define stays `None` and is written as an empty CSV cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Quality {
    /// Adjacent generated pairs the true distribution forbids.
    pub invalid_transitions: Option<u64>,
    /// Sum of ln p over the valid generated transitions.
    pub log_likelihood: Option<f64>,
    /// The generated tokens equal the left-to-right greedy continuation.
    pub matches_greedy: Option<bool>,
    /// Every generated pair is possible under one and the same plan.
    pub plan_consistent: Option<bool>,
    /// Committed tokens drawn incorrect (phenomenological models).
    pub token_errors: Option<u64>,
}

/// One row of `runs.csv`: a decoded sequence.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DecodeRecord {
    /// Forward passes until the decode ended.
    pub rounds: u64,
    /// Generated positions filled at the end, EOS padding included.
    pub tokens: u64,
    /// Generated positions up to and including the first generated EOS.
    pub content_tokens: u64,
    /// Sum over rounds of the branches predicted.
    pub branch_evals: u64,
    /// Sum over rounds and branches of the positions processed.
    pub branch_tokens: u64,
    /// Rounds won by a lookahead branch.
    pub lookahead_wins: u64,
    /// Distinct adjacent pairs / adjacent pairs over the content tokens (None below two):
    /// a text statistic, near 0 when the decode repeats a few tokens over and over.
    pub distinct2: Option<f64>,
    /// The model's verdict on the output.
    pub quality: Quality,
    /// Predicted time on the scenario's `[system]`, when it has one.
    pub latency: Option<Latency>,
}

/// What one branch costs a verification pass: the cost model's only input per branch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BranchLoad {
    /// Positions the forward pass processes (recomputed blocks and the branch's suffix).
    pub processed: u32,
    /// Positions the processed ones attend to: the cached prefix plus the processed.
    pub context: u32,
}

/// A decode's predicted time on a system, by where it goes, summed over the timed rounds:
/// every round but the first, the prefill, which the LoPA paper leaves out of a sample's
/// latency. Seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Rounds timed (rounds - 1).
    pub timed_rounds: u64,
    /// Roofline time of rounds whose slowest group was compute-bound.
    pub compute_s: f64,
    /// Roofline time of rounds whose slowest group was memory-bound.
    pub memory_s: f64,
    /// Collectives: tensor-parallel all-reduces, branch scatter and gathers, K/V commits.
    pub comm_s: f64,
    /// Fixed per-round overhead.
    pub overhead_s: f64,
}

impl Latency {
    /// The whole predicted time.
    pub fn total_s(&self) -> f64 {
        self.compute_s + self.memory_s + self.comm_s + self.overhead_s
    }

    /// Adds another time.
    pub fn add(&mut self, other: &Latency) {
        self.timed_rounds += other.timed_rounds;
        self.compute_s += other.compute_s;
        self.memory_s += other.memory_s;
        self.comm_s += other.comm_s;
        self.overhead_s += other.overhead_s;
    }
}

/// Bins of generation progress per sequence: a round falls in the bin of the share of
/// generated positions filled before it.
pub const PROGRESS_BINS: usize = 20;

/// Rounds and the tokens they committed, by generation progress. Integer totals, so
/// summing over sequences in any order gives the same result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgressBins {
    /// Rounds that started in each bin.
    pub rounds: [u64; PROGRESS_BINS],
    /// Tokens committed by those rounds.
    pub tokens: [u64; PROGRESS_BINS],
}

impl ProgressBins {
    /// Bins one sequence's per-round commit counts, given its final token count.
    pub fn from_rounds(committed: &[u32], tokens: u64) -> Self {
        let mut bins = ProgressBins::default();
        let mut before = 0u64;
        for &c in committed {
            let bin = (before * PROGRESS_BINS as u64)
                .checked_div(tokens)
                .map_or(0, |b| b.min(PROGRESS_BINS as u64 - 1) as usize);
            bins.rounds[bin] += 1;
            bins.tokens[bin] += u64::from(c);
            before += u64::from(c);
        }
        bins
    }

    /// Adds another sequence's totals.
    pub fn add(&mut self, other: &ProgressBins) {
        for b in 0..PROGRESS_BINS {
            self.rounds[b] += other.rounds[b];
            self.tokens[b] += other.tokens[b];
        }
    }
}

/// One position committed during a traced decode.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TracedToken {
    /// Generated position, from 0.
    pub position: usize,
    /// The token written.
    pub token: u32,
    /// Its top probability when it was predicted.
    pub prob: f64,
    /// Its confidence when it was predicted.
    pub confidence: f64,
}

/// One round of a traced decode.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TracedRound {
    /// Round number, from 1.
    pub round: u64,
    /// Every branch's score, lookahead branches first and the base last.
    pub scores: Vec<f64>,
    /// Index of the winner in `scores`.
    pub winner: usize,
    /// The winner's extra token, when the winner is a lookahead branch.
    pub lookahead: Option<TracedToken>,
    /// The anchor fill.
    pub filled: Vec<TracedToken>,
    /// Generated positions that exist after the round (d2f appends blocks over time).
    pub positions: usize,
}

/// The full record of one decode, round by round.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DecodeTrace {
    /// Configuration number.
    pub config: usize,
    /// Sequence number.
    pub seq: usize,
    /// Effective lookahead branches k.
    pub branches: usize,
    /// Every round.
    pub rounds: Vec<TracedRound>,
    /// A lookahead token that completed the decode without another forward pass.
    pub completion: Option<TracedToken>,
    /// Generated positions at the end.
    pub positions: usize,
}

impl DecodeRecord {
    /// Tokens per forward pass of this sequence.
    pub fn tpf(&self) -> f64 {
        self.tokens as f64 / self.rounds.max(1) as f64
    }
}

/// How one configuration is named in the outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigLabel {
    /// Configuration number, from 0.
    pub index: usize,
    /// The `[[case]]` name, when the scenario has cases.
    pub case: Option<String>,
    /// Swept keys and their values, written as TOML reads them.
    pub swept: Vec<(String, String)>,
    /// The effective number of lookahead branches k (0 without search).
    pub branches: usize,
    /// The `[system]` layout, e.g. `h200 TP1 BP8 two_phase`, when the scenario has one.
    pub system: Option<String>,
}

/// All decodes of one configuration: world 0's sequences in order, then world 1's, ...
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigRuns {
    /// Its name in the outputs.
    pub label: ConfigLabel,
    /// Generated worlds decoded (0 or 1 both mean one world).
    pub worlds: usize,
    /// One record per (world, sequence), world-major: with one world, `seq` = index.
    pub records: Vec<DecodeRecord>,
    /// Rounds and committed tokens by generation progress, summed over the sequences.
    pub bins: ProgressBins,
}

impl ConfigRuns {
    /// Worlds decoded, at least 1.
    pub fn world_count(&self) -> usize {
        self.worlds.max(1)
    }

    /// (world, seq) of `records[i]`.
    pub fn world_seq(&self, i: usize) -> (usize, usize) {
        let per = (self.records.len() / self.world_count()).max(1);
        (i / per, i % per)
    }

    /// Each world's records, in world order.
    pub fn by_world(&self) -> impl Iterator<Item = &[DecodeRecord]> {
        let per = (self.records.len() / self.world_count()).max(1);
        self.records.chunks(per)
    }
}
