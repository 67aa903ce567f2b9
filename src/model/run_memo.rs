//! The Markov oracle's prediction cache, laid out by masked run rather than by position.
//!
//! A masked position's prediction is a function of (x_l, d_l) alone when it sees no right
//! neighbour, and of (x_l, x_r, g = d_l + d_r, d_l) when it does. The hashed memo
//! ([`super::memo::PredictionMemo`]) paid one look-up per position, and with megabytes of
//! table most of them waited on memory. Here the one-sided predictions sit in a dense
//! V x (D + 1) table, row x_l, column d_l, and the two-sided ones in one slice per run
//! (x_l, x_r, g), found by one hashed look-up per run. The positions of a run then read
//! consecutive entries, which the prefetcher brings in ahead of use. Entries are filled on
//! first use with exactly the arithmetic of the full path, so a hit is bit-identical to
//! recomputing.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::state::{ConfidenceKind, Prediction, MASK};

/// The most entries the dense one-sided table may hold (8 MiB). Larger V x L worlds use
/// the hashed memo instead.
const TAIL_MAX: usize = 1 << 18;

/// Two-sided entries kept before the run table starts over (8 MiB).
const ARENA_MAX: usize = 1 << 18;

/// An entry not computed yet: no prediction has the token [`MASK`].
const EMPTY: Prediction = Prediction {
    token: MASK,
    prob: 0.0,
    conf: 0.0,
    entropy: 0.0,
};

/// Predictions of one model, one confidence kind and one entropy setting, by run.
#[derive(Default)]
pub(crate) struct RunMemo {
    owner: u64,
    kind: Option<ConfidenceKind>,
    entropy: bool,
    /// D + 1: the columns of a row of `tail`.
    span: usize,
    /// Row x_l, column d_l: the prediction with no visible right neighbour.
    tail: Vec<Prediction>,
    /// (x_l, x_r, g) to the start of its g - 1 entries in `arena` (entry d_l - 1 is at
    /// distance d_l from x_l).
    runs: HashMap<u64, u32, FixedState>,
    arena: Vec<Prediction>,
}

impl RunMemo {
    /// Whether a world of `vocab` tokens and distances up to `max_distance` fits the dense
    /// table (and every field of a run's key fits 20 bits).
    pub(crate) fn fits(vocab: usize, max_distance: usize) -> bool {
        vocab.saturating_mul(max_distance + 1) <= TAIL_MAX
    }

    /// Readies the memo for `owner`'s predictions of `kind`, forgetting any other's. The
    /// caller has checked [`RunMemo::fits`].
    pub(crate) fn bind(
        &mut self,
        owner: u64,
        kind: ConfidenceKind,
        entropy: bool,
        vocab: usize,
        max_distance: usize,
    ) {
        let span = max_distance + 1;
        if self.owner != owner
            || self.kind != Some(kind)
            || self.entropy != entropy
            || self.span != span
            || self.tail.len() != vocab * span
        {
            (self.owner, self.kind, self.entropy, self.span) = (owner, Some(kind), entropy, span);
            self.tail.clear();
            self.tail.resize(vocab * span, EMPTY);
            self.runs.clear();
            self.arena.clear();
        }
    }

    /// The prediction at distance `dl` right of `xl` with no visible right neighbour.
    #[inline]
    pub(crate) fn one_sided(
        &mut self,
        xl: u32,
        dl: usize,
        compute: impl FnOnce() -> Prediction,
    ) -> Prediction {
        let e = &mut self.tail[xl as usize * self.span + dl];
        if e.token == MASK {
            *e = compute();
        }
        *e
    }

    /// Where the entries of run (`xl`, `xr`, `gap`) start, for [`RunMemo::two_sided`].
    #[inline]
    pub(crate) fn run(&mut self, xl: u32, xr: u32, gap: usize) -> usize {
        let key = (u64::from(xl) << 40) | (u64::from(xr) << 20) | gap as u64;
        if let Some(&at) = self.runs.get(&key) {
            return at as usize;
        }
        let len = gap - 1;
        if self.arena.len() + len > ARENA_MAX.max(len) {
            self.runs.clear();
            self.arena.clear();
        }
        let at = self.arena.len();
        self.arena.resize(at + len, EMPTY);
        self.runs.insert(key, at as u32);
        at
    }

    /// The prediction at distance `dl` from the left end of the run starting at `at`.
    #[inline]
    pub(crate) fn two_sided(
        &mut self,
        at: usize,
        dl: usize,
        compute: impl FnOnce() -> Prediction,
    ) -> Prediction {
        let e = &mut self.arena[at + dl - 1];
        if e.token == MASK {
            *e = compute();
        }
        *e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(token: u32) -> Prediction {
        Prediction {
            token,
            prob: 0.5,
            conf: 0.5,
            entropy: 0.0,
        }
    }

    #[test]
    fn entries_are_computed_once_and_forgotten_on_rebind() {
        let mut m = RunMemo::default();
        assert!(RunMemo::fits(32, 512) && !RunMemo::fits(1024, 8192));
        m.bind(1, ConfidenceKind::Prob, false, 4, 10);
        assert_eq!(m.one_sided(3, 10, || pred(7)), pred(7));
        assert_eq!(m.one_sided(3, 10, || unreachable!()), pred(7));
        let a = m.run(1, 2, 5);
        let b = m.run(2, 1, 5);
        assert_ne!(a, b, "runs are ordered pairs");
        assert_eq!(m.run(1, 2, 5), a);
        assert_eq!(m.two_sided(a, 4, || pred(1)), pred(1));
        assert_eq!(m.two_sided(a, 4, || unreachable!()), pred(1));
        assert_eq!(m.two_sided(b, 4, || pred(2)), pred(2));
        m.bind(1, ConfidenceKind::Margin, false, 4, 10);
        assert_eq!(
            m.one_sided(3, 10, || pred(5)),
            pred(5),
            "another kind starts over"
        );
        let c = m.run(1, 2, 5);
        assert_eq!(m.two_sided(c, 4, || pred(6)), pred(6));
    }
}
