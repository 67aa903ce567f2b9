//! The buffers the LoPA loop reuses from round to round and decode to decode.

use super::lazy::Lazy;
use super::reuse::Reuse;
use crate::model::Scratch;
use crate::record::BranchLoad;
use crate::state::{Branch, Prediction};

/// Buffers reused from round to round and decode to decode, so rounds do not allocate.
#[derive(Default)]
pub struct Workspace {
    pub(super) live: Vec<Branch>,
    pub(super) next: Vec<Branch>,
    pub(super) preds: Vec<Vec<Prediction>>,
    pub(super) scores: Vec<f64>,
    /// Per live branch: the positions its predictions cover (not kept for a lookahead
    /// branch scored lazily).
    pub(super) positions: Vec<Vec<usize>>,
    /// The previous winner's positions, while the base's are found.
    pub(super) ref_positions: Vec<usize>,
    /// The previous winner's length when the base's slot holds its predictions.
    pub(super) base_ref: Option<usize>,
    pub(super) reuse: Reuse,
    pub(super) window: Vec<usize>,
    pub(super) fill: Vec<usize>,
    /// Per live branch: its rank in the previous round's spawn ranking (None for the base).
    pub(super) extra: Vec<Option<usize>>,
    pub(super) next_extra: Vec<Option<usize>>,
    /// The previous round's spawn ranking: lookahead branch j wrote ranks j..j+extra_tokens.
    pub(super) ranked: Vec<usize>,
    /// The confidences a score knob sorts.
    pub(super) confs: Vec<f64>,
    /// The winner's conf at each rank of `ranked`, when it was spawned.
    pub(super) spawn_confs: Vec<f64>,
    pub(super) loads: Vec<BranchLoad>,
    /// The base's window as lookahead branches are scored against it.
    pub(super) lazy: Lazy,
    /// Under `every_mask`: the previous winner's window after its fill, the next base's
    /// masked positions up to the previous winner's length.
    pub(super) base_window: Vec<usize>,
    /// The model's buffers and per-sequence state; the engine reads it for `quality`.
    pub scratch: Scratch,
}

impl Workspace {
    pub(super) fn reserve(&mut self, branches: usize) {
        self.live.resize_with(branches, Branch::default);
        self.next.resize_with(branches, Branch::default);
        self.preds.resize_with(branches, Vec::new);
        self.positions.resize_with(branches, Vec::new);
        self.scores.resize(branches, 0.0);
        self.extra.resize(branches, None);
        self.next_extra.resize(branches, None);
        self.loads.resize(branches, BranchLoad::default());
    }

    /// c_b of the lookahead branch that took rank `r` of the previous spawn ranking.
    pub(super) fn spawn_conf(&self, r: usize) -> f64 {
        self.spawn_confs[r]
    }
}
