//! What a decode reports (SPEC 5), and how a configuration is labelled in the outputs.
//!
//! Reports, plots and summaries read only these types.

use serde::Serialize;

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
    /// The model's verdict on the output.
    pub quality: Quality,
}

impl DecodeRecord {
    /// Tokens per forward pass of this sequence.
    pub fn tpf(&self) -> f64 {
        self.tokens as f64 / self.rounds.max(1) as f64
    }
}

/// How one configuration is named in the outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConfigLabel {
    /// Configuration number, from 0.
    pub index: usize,
    /// The `[[case]]` name, when the scenario has cases.
    pub case: Option<String>,
    /// Swept keys and their values, written as TOML reads them.
    pub swept: Vec<(String, String)>,
}

/// All decodes of one configuration, in sequence order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigRuns {
    /// Its name in the outputs.
    pub label: ConfigLabel,
    /// One record per sequence, `seq` = index.
    pub records: Vec<DecodeRecord>,
}
