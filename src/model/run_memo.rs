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

use crate::state::{Attention, Branch, ConfidenceKind, Prediction, MASK};

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

    /// Fills `out` with the predictions at distances `d0`, `d0 + 1`, ... right of `xl`, with
    /// no visible right neighbour, computing missing ones with `compute(d_l)`.
    #[inline]
    pub(crate) fn one_sided(
        &mut self,
        xl: u32,
        d0: usize,
        out: &mut [Prediction],
        compute: impl FnMut(usize) -> Prediction,
    ) {
        let at = xl as usize * self.span + d0;
        fill(&mut self.tail[at..at + out.len()], d0, out, compute);
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

    /// Fills `out` with the predictions at distances `d0`, `d0 + 1`, ... from the left end of
    /// the run whose entries start at `at`, computing missing ones with `compute(d_l)`.
    #[inline]
    pub(crate) fn two_sided(
        &mut self,
        at: usize,
        d0: usize,
        out: &mut [Prediction],
        compute: impl FnMut(usize) -> Prediction,
    ) {
        let at = at + d0 - 1;
        fill(&mut self.arena[at..at + out.len()], d0, out, compute);
    }
}

/// Copies `entries` (for distances `d0`, `d0 + 1`, ...) into `out`, computing empty ones.
#[inline]
fn fill(
    entries: &mut [Prediction],
    d0: usize,
    out: &mut [Prediction],
    mut compute: impl FnMut(usize) -> Prediction,
) {
    let entries = &mut entries[..out.len()];
    if entries.iter().all(|e| e.token != MASK) {
        out.copy_from_slice(entries);
        return;
    }
    for (j, (o, e)) in out.iter_mut().zip(entries).enumerate() {
        if e.token == MASK {
            *e = compute(d0 + j);
        }
        *o = *e;
    }
}

/// The first position at or after `from` (and before `end`) that is not masked, or `end`.
/// Masked runs are long under d2f, so it tests eight tokens at a time, with a test that
/// has no early exit so that the compiler turns it into vector compares.
#[inline]
pub(crate) fn next_revealed(tokens: &[crate::state::Token], from: usize, end: usize) -> usize {
    const CHUNK: usize = 8;
    let mut i = from;
    while i + CHUNK <= end
        && tokens[i..i + CHUNK]
            .iter()
            .fold(0, |acc, &t| acc | (t ^ MASK))
            == 0
    {
        i += CHUNK;
    }
    while i < end && tokens[i] == MASK {
        i += 1;
    }
    i
}

/// Calls `each(start, end, left, right)` for every maximal group of consecutive positions
/// of `positions` (masked, ascending) that share a nearest revealed left neighbour `left`
/// and a visible nearest revealed right neighbour `right` (None: none visible, SPEC 2).
/// The scans only move forward, so the cost follows the span of `positions`, never L.
pub(crate) fn for_each_group(
    branch: &Branch,
    positions: &[usize],
    attention: Attention,
    mut each: impl FnMut(usize, usize, usize, Option<usize>),
) {
    let Some(&first) = positions.first() else {
        return;
    };
    let tokens = &branch.tokens;
    let len = tokens.len();
    let mut left = first - 1;
    while tokens[left] == MASK {
        left -= 1;
    }
    // `left` is the nearest revealed position before `scan`.
    let mut scan = first;
    // The nearest revealed position after the current one (`len` if none).
    let mut right = first;
    let mut k = 0;
    while k < positions.len() {
        let i = positions[k];
        if scan < i {
            // Back from i to the first revealed position, if one is at or past `scan`:
            // a group that starts right of a revealed token finds it in one step.
            let mut j = i;
            while j > scan && tokens[j - 1] == MASK {
                j -= 1;
            }
            if j > scan {
                left = j - 1;
            }
            scan = i;
        }
        if right <= i {
            right = next_revealed(tokens, i + 1, len);
        }
        // `visible_end` never falls with the position: the positions i..right all see
        // `right` when i does, and otherwise those before i's view ends see nothing.
        let end = branch.visible_end(i, attention);
        let most = right.min(end) - i;
        let rest = &positions[k..];
        let mut m = most.min(rest.len());
        if rest[m - 1] != i + m - 1 {
            // Ascending and distinct: the group ends at the first gap.
            m = 1;
            while rest[m] == i + m {
                m += 1;
            }
        }
        each(i, i + m, left, (right < end).then_some(right));
        k += m;
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
        let mut out = [pred(0); 3];
        m.one_sided(3, 8, &mut out, |d| pred(d as u32));
        assert_eq!(out, [pred(8), pred(9), pred(10)]);
        m.one_sided(3, 9, &mut out[..2], |_| unreachable!());
        let a = m.run(1, 2, 5);
        let b = m.run(2, 1, 5);
        assert_ne!(a, b, "runs are ordered pairs");
        assert_eq!(m.run(1, 2, 5), a);
        m.two_sided(a, 2, &mut out, |d| pred(d as u32));
        assert_eq!(out, [pred(2), pred(3), pred(4)]);
        m.two_sided(a, 3, &mut out[..2], |_| unreachable!());
        m.two_sided(b, 3, &mut out[..1], |_| pred(7));
        assert_eq!(out[0], pred(7));
        m.bind(1, ConfidenceKind::Margin, false, 4, 10);
        m.one_sided(3, 10, &mut out[..1], |_| pred(5));
        assert_eq!(out[0], pred(5), "another kind starts over");
    }

    #[test]
    fn groups_split_at_gaps_neighbours_and_views() {
        const M: u32 = MASK;
        // Prompt [1]; blocks of 4: 1..5 = [M M 2 M], 5..9 = [M M M 3].
        let mut b = Branch::new(&[1], 4);
        b.append_block();
        b.append_block();
        b.tokens[1..].copy_from_slice(&[M, M, 2, M, M, M, M, 3]);
        let groups = |positions: &[usize], attention| {
            let mut g = Vec::new();
            for_each_group(&b, positions, attention, |s, e, l, r| g.push((s, e, l, r)));
            g
        };
        let all = [1, 2, 4, 5, 6, 7];
        assert_eq!(
            groups(&all, Attention::Full),
            [(1, 3, 0, Some(3)), (4, 8, 3, Some(8))]
        );
        // Block-causal: 4 (block 0) cannot see 8 (block 1).
        assert_eq!(
            groups(&all, Attention::BlockCausal),
            [(1, 3, 0, Some(3)), (4, 5, 3, None), (5, 8, 3, Some(8))]
        );
        assert_eq!(
            groups(&[1, 5, 7], Attention::Full),
            [(1, 2, 0, Some(3)), (5, 6, 3, Some(8)), (7, 8, 3, Some(8))]
        );
    }
}
