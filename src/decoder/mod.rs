//! Anchor decoders (SPEC 3): which masked positions one round fills, given one set of
//! predictions, plus the block bookkeeping that decides when a branch is complete.

mod d2f;
mod rules;
mod semi_ar;

pub use d2f::D2f;
pub use semi_ar::{SemiAr, SemiArRule};

use crate::state::{Branch, Prediction};

/// An anchor decoder. The search calls, per round and branch: [`begin_round`], then
/// [`prediction_positions`] and [`window`] for the verification pass, then on the winner
/// [`end_round`] and [`fill`].
///
/// [`begin_round`]: AnchorDecoder::begin_round
/// [`prediction_positions`]: AnchorDecoder::prediction_positions
/// [`window`]: AnchorDecoder::window
/// [`end_round`]: AnchorDecoder::end_round
/// [`fill`]: AnchorDecoder::fill
pub trait AnchorDecoder: Send + Sync {
    /// The branch a decode starts from: the prompt plus whatever blocks exist up front.
    fn initial_branch(&self, prompt: &[crate::state::Token]) -> Branch;

    /// Start-of-round bookkeeping. Returns true when the branch is complete.
    fn begin_round(&self, branch: &mut Branch) -> bool;

    /// Masked positions the verification pass must predict: everything `window` and `fill`
    /// read now, and the window the spawn reads after the fill. Ascending.
    fn prediction_positions(&self, branch: &Branch, out: &mut Vec<usize>);

    /// [`window`](AnchorDecoder::window) and
    /// [`prediction_positions`](AnchorDecoder::prediction_positions) are both every masked
    /// position of the branch, so a search may take one for the other, or find a branch's
    /// from another's.
    fn every_mask_is_predicted(&self) -> bool {
        false
    }

    /// The masked positions of the branch's window, ascending.
    fn window(&self, branch: &Branch, out: &mut Vec<usize>);

    /// The positions this round fills on `branch` from `preds`, in any order.
    fn fill(
        &self,
        branch: &Branch,
        preds: &[Prediction],
        round: &RoundContext,
        out: &mut Vec<usize>,
    );

    /// The fill ranks by H_i, so predictions must carry their entropy.
    fn needs_entropy(&self) -> bool {
        false
    }

    /// Generated positions a forward pass processes on this branch this round.
    fn processed_positions(&self, branch: &Branch) -> usize;

    /// Called on the winner before its fill: blocks that were done at the start of the
    /// round have now written their cache.
    fn end_round(&self, branch: &mut Branch);
}

/// Which decode and round a fill belongs to: the key of a rule's own random draws, so that
/// they come from the sequence alone, never the configuration (SPEC 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundContext {
    /// The scenario seed.
    pub seed: u64,
    /// The sequence number.
    pub seq: usize,
    /// The forward pass, from 1.
    pub round: u64,
}

/// Pushes the masked positions of `range` onto `out`.
pub(crate) fn push_masked(branch: &Branch, range: std::ops::Range<usize>, out: &mut Vec<usize>) {
    let start = range.start;
    for (j, &t) in branch.tokens[range].iter().enumerate() {
        if t == crate::state::MASK {
            out.push(start + j);
        }
    }
}

/// The masked position of `positions` with the highest conf, the lower position on ties.
pub(crate) fn most_confident(
    positions: impl IntoIterator<Item = usize>,
    preds: &[Prediction],
) -> Option<usize> {
    let mut best: Option<usize> = None;
    for i in positions {
        if best.is_none_or(|b| preds[i].conf > preds[b].conf) {
            best = Some(i);
        }
    }
    best
}

/// Sorts positions by conf, descending, lower position first on ties.
pub fn rank_by_confidence(positions: &mut [usize], preds: &[Prediction]) {
    positions.sort_by(|&a, &b| preds[b].conf.total_cmp(&preds[a].conf).then(a.cmp(&b)));
}
