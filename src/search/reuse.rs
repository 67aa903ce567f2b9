//! Prediction reuse between branches for models whose predictions are local
//! ([`ConfidenceModel::local_predictions`]): a masked position's prediction depends only on
//! its nearest revealed neighbours. A lookahead branch is its round's base plus a few fresh
//! tokens, and the base is the previous winner plus its fill, so outside the masked runs
//! (of the reference) that hold a fresh token every prediction is the reference's, and
//! only those runs go to the model. The copies are the values the model computed, so a
//! decode is bit-identical to predicting every position.
//!
//! [`ConfidenceModel::local_predictions`]: crate::model::ConfidenceModel::local_predictions

use std::iter::Peekable;
use std::ops::Range;

use crate::model::next_revealed;
use crate::state::{Prediction, Token, MASK};

/// What a branch's predictions can be copied from: a branch of `len` positions whose
/// predictions at `positions` are known, which differs from the branch predicted next only
/// at the fresh positions (revealed now, masked in the reference) and in masked blocks
/// either one appended.
pub(super) struct Reference<'a> {
    pub len: usize,
    pub positions: &'a [usize],
    /// None: the output slice holds them already.
    pub preds: Option<&'a [Prediction]>,
    /// `positions` is every masked position of the reference, and the branch's positions
    /// are every masked position of the branch.
    pub every_mask: bool,
}

/// Reused buffers, so that a round allocates nothing.
#[derive(Default)]
pub(super) struct Reuse {
    /// The fresh positions, ascending.
    pub fresh: Vec<usize>,
    /// Half-open position ranges whose neighbours may have changed.
    dirty: Vec<(usize, usize)>,
    /// The positions the model must predict, ascending.
    pub todo: Vec<usize>,
}

impl Reuse {
    /// Writes into `out` the reference's prediction at every position of `positions`
    /// (masked in `tokens`, ascending) whose neighbours are the reference's, and leaves
    /// the others in `self.todo`. `self.fresh` holds the fresh positions, in any order.
    pub(super) fn split(
        &mut self,
        tokens: &[Token],
        positions: &[usize],
        reference: &Reference<'_>,
        out: &mut [Prediction],
    ) {
        let lim = reference.len.min(tokens.len());
        if reference.every_mask {
            // Every masked position below `lim` was predicted in the reference: copy their
            // span at once (revealed positions' values are never read), and predict the
            // masked positions of the dirty runs and of the blocks past the reference.
            if let (Some(preds), Some(&lo)) = (reference.preds, reference.positions.first()) {
                let lo = lo.min(lim);
                out[lo..lim].copy_from_slice(&preds[lo..lim]);
            }
            self.dirty_positions(tokens, lim);
            return;
        }
        self.dirty_runs(tokens, lim);
        self.todo.clear();
        let (mut run, mut known) = (0, 0);
        for &i in positions {
            while run < self.dirty.len() && self.dirty[run].1 <= i {
                run += 1;
            }
            while known < reference.positions.len() && reference.positions[known] < i {
                known += 1;
            }
            let dirty = i >= lim || self.dirty.get(run).is_some_and(|&(lo, _)| lo <= i);
            if !dirty && reference.positions.get(known) == Some(&i) {
                if let Some(preds) = reference.preds {
                    out[i] = preds[i];
                }
            } else {
                self.todo.push(i);
            }
        }
    }

    /// Under `every_mask`: the masked positions of the dirty runs (below `lim`, the shorter
    /// length) and of the blocks past the reference into `self.todo`, ascending; the runs
    /// themselves are in `self.dirty`.
    fn dirty_positions(&mut self, tokens: &[Token], lim: usize) {
        self.dirty_runs(tokens, lim);
        self.todo.clear();
        // A dirty run is masked but for its fresh tokens (in `fresh`, sorted by now).
        let mut fresh = self.fresh.iter().copied().peekable();
        for &(lo, hi) in &self.dirty {
            spans_less_fresh(lo..hi, &mut fresh, |span| self.todo.extend(span));
        }
        debug_assert!(self.todo.iter().all(|&i| tokens[i] == MASK));
        self.todo
            .extend((lim..tokens.len()).filter(|&i| tokens[i] == MASK));
    }

    /// The reference's masked runs (below `lim`) that hold a fresh position, ascending.
    fn dirty_runs(&mut self, tokens: &[Token], lim: usize) {
        self.fresh.sort_unstable();
        self.dirty.clear();
        let mut next = 0;
        while next < self.fresh.len() {
            let d = self.fresh[next];
            next += 1;
            // Back to the nearest revealed token (the prompt is never masked), and forward
            // over masks and later fresh tokens.
            let mut lo = d;
            while tokens[lo - 1] == MASK {
                lo -= 1;
            }
            let mut hi = next_revealed(tokens, d + 1, lim);
            while hi < lim && self.fresh.get(next) == Some(&hi) {
                next += 1;
                hi = next_revealed(tokens, hi + 1, lim);
            }
            self.dirty.push((lo, hi));
        }
    }
}

/// Calls `each` on the spans of `run` between the fresh positions `fresh` yields inside it
/// (ascending; those below `run.end` are consumed), in order: a dirty run's masked
/// positions, since its fresh positions are revealed in the branch.
pub(super) fn spans_less_fresh(
    run: Range<usize>,
    fresh: &mut Peekable<impl Iterator<Item = usize>>,
    mut each: impl FnMut(Range<usize>),
) {
    let mut from = run.start;
    while let Some(f) = fresh.next_if(|&f| f < run.end) {
        each(from..f);
        from = f + 1;
    }
    each(from..run.end);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(token: Token) -> Prediction {
        Prediction {
            token,
            prob: 0.5,
            conf: 0.5,
            entropy: 0.0,
        }
    }

    /// Splits `positions` of `tokens` against a reference of `len` positions that predicted
    /// `ref_positions` (prediction i carries token i), with `fresh` revealed since; returns
    /// the buffers and the output (99 where nothing was copied).
    fn split(
        tokens: &[Token],
        positions: &[usize],
        (len, ref_positions, every_mask): (usize, &[usize], bool),
        fresh: &[usize],
    ) -> (Reuse, Vec<Prediction>) {
        let ref_preds: Vec<Prediction> = (0..len as Token).map(pred).collect();
        let reference = Reference {
            len,
            positions: ref_positions,
            preds: Some(&ref_preds),
            every_mask,
        };
        let mut reuse = Reuse::default();
        reuse.fresh.extend_from_slice(fresh);
        let mut out = vec![pred(99); tokens.len()];
        reuse.split(tokens, positions, &reference, &mut out);
        (reuse, out)
    }

    const M: Token = MASK;

    #[test]
    fn only_runs_holding_a_fresh_token_are_recomputed() {
        // Reference: 0 | M M 5 M M M 7 M | (appended block) M M.
        // Branch: position 4 fresh, and an appended block at 9..11.
        let tokens = [1, M, M, 5, M, 9, M, 7, M, M, M];
        let reference = (9, &[1, 2, 4, 5, 6, 8][..], false);
        let (reuse, out) = split(&tokens, &[1, 2, 4, 6, 8, 9, 10], reference, &[5]);
        // The run 4..7 held the fresh token; 9 and 10 are new.
        assert_eq!(reuse.todo, [4, 6, 9, 10]);
        assert_eq!([out[1], out[2], out[8]], [pred(1), pred(2), pred(8)]);
        assert_eq!(out[4], pred(99));
    }

    #[test]
    fn adjacent_fresh_tokens_share_one_run_and_unknown_positions_are_predicted() {
        let tokens = [1, M, 3, 4, M, M, 2, M];
        // The reference did not predict 1.
        let reference = (8, &[2, 3, 4, 5, 7][..], false);
        let (reuse, out) = split(&tokens, &[1, 4, 5, 7], reference, &[3, 2]);
        assert_eq!(reuse.dirty, [(1, 6)]);
        assert_eq!(reuse.todo, [1, 4, 5]);
        assert_eq!(out[7], pred(7));
    }

    #[test]
    fn every_mask_copies_the_span_and_predicts_the_dirty_runs() {
        // Reference: 0 | M M 5 M M M 7 M ; the branch reveals 5 and appends 9..11.
        let tokens = [1, M, M, 5, M, 9, M, 7, M, M, M];
        let reference = (9, &[1, 2, 4, 5, 6, 8][..], true);
        let (reuse, out) = split(&tokens, &[1, 2, 4, 6, 8, 9, 10], reference, &[5]);
        assert_eq!(reuse.todo, [4, 6, 9, 10]);
        assert_eq!([out[1], out[2], out[8]], [pred(1), pred(2), pred(8)]);
    }
}
