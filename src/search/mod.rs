//! Token-filling-order search (SPEC 4): how a round's branches are made and which one is
//! kept. `none` is LoPA with no lookahead branch, so both share one loop.

mod lazy;
mod lopa;
mod oracle;
mod predict;
mod rank;
mod reuse;
mod workspace;

pub use lopa::{decode, Workspace};
pub use oracle::{decode_oracle, state_bytes, state_estimate, OracleLimits};

use serde::{Deserialize, Serialize};

use crate::state::{Branch, Prediction};

/// Which search a decode runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Search {
    /// One branch, anchor fill only.
    None,
    /// LoPA with `branches` lookahead branches per round.
    Lopa {
        /// k.
        branches: usize,
    },
    /// The fewest rounds over LoPA's moves (SPEC 4.5): exhaustive when `depth` = 0, else a
    /// beam of `width` states ranked by a `depth`-round greedy look-ahead, which always
    /// keeps LoPA's own path with `branches` lookahead branches.
    Oracle {
        /// 0 for the exhaustive optimum.
        depth: usize,
        /// Beam width (ignored when depth is 0).
        width: usize,
        /// The k of the LoPA run whose path the beam keeps.
        branches: usize,
    },
}

/// When a lookahead token that fills a block's last mask counts the block as done (SPEC 4.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpawnCompletion {
    /// A branch its extra token completed ends the decode at the next bookkeeping step.
    #[default]
    Ends,
    /// The published LoPA code: a block counts as done (settled) only once a winner's own
    /// fill leaves it without a mask, so such a branch runs one more forward pass.
    NeedsForward,
}

/// LoPA's options beyond k. The defaults are the rules of SPEC 4.2.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    /// `search.spawn_completion`.
    pub spawn_completion: SpawnCompletion,
    /// `search.branch_topp`, rho in (0, 1]: score only the lowest share of the window.
    pub branch_topp: f64,
    /// `search.alpha` in [0, 1]: weight of the spawn confidence c_b in the score.
    pub alpha: f64,
    /// `search.force_base`: the base always wins; lookahead branches are still evaluated.
    pub force_base: bool,
    /// `search.extra_tokens` >= 1: lookahead branch j writes ranks j..j+extra_tokens-1.
    pub extra_tokens: usize,
    /// `search.state_budget_mb`: the memory the oracle's stored states may take.
    pub state_budget_mb: u64,
    /// `search.max_rounds`: the round limit, past which a decode is an error (default
    /// 4 L + 16, which no progressing decode reaches).
    pub max_rounds: Option<u64>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            spawn_completion: SpawnCompletion::Ends,
            branch_topp: 1.0,
            alpha: 0.0,
            force_base: false,
            extra_tokens: 1,
            state_budget_mb: 1024,
            max_rounds: None,
        }
    }
}

impl Search {
    /// The number of lookahead branches, k.
    pub fn lookahead_branches(self) -> usize {
        match self {
            Search::None => 0,
            Search::Lopa { branches } => branches,
            Search::Oracle { .. } => 0,
        }
    }
}

/// What a finished search hands back.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The complete branch that ended the decode.
    pub branch: Branch,
    /// Forward passes.
    pub rounds: u64,
    /// Branches predicted, summed over rounds.
    pub branch_evals: u64,
    /// Positions processed, summed over rounds and branches.
    pub branch_tokens: u64,
    /// Rounds won by a lookahead branch.
    pub lookahead_wins: u64,
}

/// One finished round, as an observer sees it.
#[derive(Debug)]
pub struct RoundEvent<'a> {
    /// The round's number, from 1.
    pub round: u64,
    /// Every branch's score, in branch order (lookahead branches first, base last).
    pub scores: &'a [f64],
    /// Index of the winner in `scores`.
    pub winner: usize,
    /// The position of the winner's extra token when it is a lookahead branch (the first,
    /// its own rank, when `search.extra_tokens` > 1).
    pub lookahead_position: Option<usize>,
    /// Every position the winner's extra tokens were written at; empty for the base.
    pub lookahead_tokens: &'a [usize],
    /// Positions the anchor fill committed this round.
    pub filled: &'a [usize],
    /// The winner after its fill.
    pub branch: &'a Branch,
    /// The winner's predictions from this round's verification pass.
    pub predictions: &'a [Prediction],
    /// Extra-token positions of the next round's lookahead branches, in rank order:
    /// branch j holds ranks j..j+extra_tokens-1 (one each by default).
    pub spawned: &'a [usize],
    /// What each branch of this round's verification pass processed, in branch order.
    pub loads: &'a [crate::record::BranchLoad],
}

/// Watches a decode round by round (traces, per-round statistics).
pub trait RoundObserver {
    /// Called once per forward pass, after the winner's fill.
    fn on_round(&mut self, event: &RoundEvent<'_>);

    /// Called once with the complete branch that ended the decode.
    fn on_finish(&mut self, _branch: &Branch) {}
}

/// An observer that ignores everything.
pub struct NoObserver;

impl RoundObserver for NoObserver {
    fn on_round(&mut self, _event: &RoundEvent<'_>) {}
}

/// A decode that did not finish.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Stalled {
    /// The round limit was reached.
    #[error("the decode made no progress within {0} rounds (its round limit)")]
    RoundLimit(u64),
    /// The oracle's search outgrew its memory budget.
    #[error("{0}")]
    StateBudget(String),
}
