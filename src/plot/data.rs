//! What the figures draw: plain data read back from a results folder, so that `run` and
//! `plot DIR` render from the very same numbers.

/// One configuration, from `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigPoint {
    /// Configuration number.
    pub config: usize,
    /// Case name, when the scenario has cases.
    pub case: Option<String>,
    /// Swept keys and their values, as written in the CSV.
    pub swept: Vec<(String, String)>,
    /// The effective number of lookahead branches k (0 for search "none").
    pub branches: usize,
    /// sum(tokens) / sum(rounds).
    pub tpf: f64,
    /// The 95% interval of `tpf` itself (over sequences), which every TPF band draws.
    pub tpf_lo: f64,
    /// Its upper end.
    pub tpf_hi: f64,
    /// The 95% interval of `tpf` across replicated worlds, when the run measured one.
    pub tpf_world: Option<(f64, f64)>,
    /// Invalid transitions per 1000 tokens, if the model defines them.
    pub invalid_per_1k: Option<f64>,
    /// Share of sequences equal to the greedy continuation, if defined.
    pub greedy_match_rate: Option<f64>,
    /// Mean log-likelihood of a sequence (markov, hmm), if defined.
    pub log_likelihood_mean: Option<f64>,
    /// Share of sequences inside one plan (plan), if defined.
    pub plan_consistent_rate: Option<f64>,
    /// Incorrect tokens per 1000 tokens (field), if defined.
    pub token_errors_per_1k: Option<f64>,
    /// Positions processed per generated token.
    pub branch_tokens_per_token: f64,
    /// The resolved `decoder.kind`, from `summary.json`.
    pub decoder: Option<String>,
    /// The resolved `search.kind`, from `summary.json`.
    pub search: Option<String>,
}

/// A configuration of case `case` at k branches, with TPF 1 + k and nothing else measured:
/// the figures' unit tests build their sweeps from it.
#[cfg(test)]
pub(crate) fn test_point(config: usize, case: &str, k: usize) -> ConfigPoint {
    ConfigPoint {
        config,
        case: Some(case.to_string()),
        swept: vec![],
        branches: k,
        tpf: 1.0 + k as f64,
        tpf_lo: 1.0,
        tpf_hi: 1.0,
        tpf_world: None,
        invalid_per_1k: None,
        greedy_match_rate: None,
        log_likelihood_mean: None,
        plan_consistent_rate: None,
        token_errors_per_1k: None,
        branch_tokens_per_token: 1.0,
        decoder: None,
        search: None,
    }
}

impl ConfigPoint {
    /// The swept values other than `search.branches`, plus the case: what tells apart the
    /// lines of a figure whose x axis is k.
    pub fn series_key(&self) -> String {
        let mut parts: Vec<String> = self.case.iter().cloned().collect();
        parts.extend(
            self.swept
                .iter()
                // Both only set k, which the x axis (or the k = 0 / LoPA pair) shows.
                .filter(|(k, _)| k != "search.branches" && k != "search.kind")
                .map(|(k, v)| format!("{k}={v}")),
        );
        parts.join(", ")
    }

    /// A short name for legends: case and every swept value.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = self.case.iter().cloned().collect();
        parts.extend(self.swept.iter().map(|(k, v)| format!("{k}={v}")));
        if parts.is_empty() {
            format!("config {}", self.config)
        } else {
            parts.join(", ")
        }
    }
}

/// Per-round totals of one configuration in one bin of generation progress, from
/// `rounds.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressBin {
    /// Configuration number.
    pub config: usize,
    /// Bin index, 0..bins.
    pub bin: usize,
    /// Lower edge of the bin, as a share of the generated positions filled before a round.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Rounds that started in this bin, over all sequences.
    pub rounds: u64,
    /// Tokens those rounds committed.
    pub tokens: u64,
}

/// How a traced position was committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// By the anchor fill.
    Anchor,
    /// As the extra token of a winning lookahead branch.
    Lookahead,
    /// As the extra token of a lookahead branch that completed the decode (no forward pass).
    Completion,
}

/// One committed position of a traced sequence, from `trace.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceCell {
    /// Generated position, from 0.
    pub position: usize,
    /// Round it was committed in, from 1 (a completion counts to the last round).
    pub round: u64,
    /// How.
    pub via: Via,
}

/// The full decode of one sequence in one configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Configuration number.
    pub config: usize,
    /// Sequence number.
    pub seq: usize,
    /// Effective k.
    pub branches: usize,
    /// Forward passes.
    pub rounds: u64,
    /// Generated positions at the end (= tokens).
    pub positions: usize,
    /// Every committed position, in commit order.
    pub cells: Vec<TraceCell>,
}

/// How the k axis is scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KAxis {
    /// Log2 when the swept k values are mostly powers of two, else linear.
    #[default]
    Auto,
    /// Linear.
    Linear,
    /// Log2, with k = 0 drawn one step left of the smallest positive k.
    Log2,
}

/// Everything the figures need.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PlotData {
    /// Scenario name, for titles.
    pub name: String,
    /// `plot.k_axis`.
    pub k_axis: KAxis,
    /// One per configuration, in order.
    pub configs: Vec<ConfigPoint>,
    /// Per configuration, `bins` consecutive entries.
    pub bins: Vec<ProgressBin>,
    /// The `tfo_map` panels: the first k = 0 configuration, then the largest k (at most 2).
    pub traces: Vec<Trace>,
}
