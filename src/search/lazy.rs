//! Lazy scoring of lookahead branches, for a local model under a decoder whose window is
//! every masked position (d2f) and the plain mean score (rho = 1).
//!
//! A lookahead branch is its base plus a few fresh tokens, so its predictions are the
//! base's but in the base's masked runs that hold a fresh token (`reuse.rs`). The base's
//! window is kept once per round as its confs, their running sums and its masked runs;
//! each lookahead branch then predicts only its dirty runs and finishes its score from
//! the base's, with the same additions in the same order as summing its own window. Only
//! a winner needs its predictions in full: the base's, with its dirty runs written over.

use super::reuse::spans_less_fresh;
use super::workspace::Workspace;
use crate::model::ConfidenceModel;
use crate::state::{ConfidenceKind, Prediction, Token, MASK};

/// A maximal masked run of the base, positions `lo..hi`; `lo` is window index `at`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Run {
    lo: usize,
    hi: usize,
    at: usize,
}

/// The base's window and one lookahead branch's split against it.
#[derive(Default)]
pub(super) struct Lazy {
    /// The base's confs in window order, and their running sums (`sums[t]` adds the
    /// first t).
    confs: Vec<f64>,
    sums: Vec<f64>,
    /// The base's masked runs, ascending.
    runs: Vec<Run>,
    /// The branch's fresh positions, ascending.
    fresh: Vec<usize>,
    /// The base's runs that hold a fresh position, cut at the shorter length.
    dirty: Vec<Run>,
    /// The positions the model must predict for the branch, ascending.
    todo: Vec<usize>,
    /// Where the positions past the shorter length start in `todo`.
    tail: usize,
    /// 0, 1, 2, ...: `todo` copies its ranges from here rather than counting them out.
    iota: Vec<usize>,
}

impl Lazy {
    /// The base's score (the mean conf over its window, every masked position), keeping
    /// what the lookahead branches are scored against. The sums start where
    /// `Iterator::sum` starts and add in window order, so the score is
    /// [`super::rank::window_score`]'s bit for bit.
    fn base(&mut self, positions: &[usize], preds: &[Prediction]) -> f64 {
        let n = positions.len();
        self.confs.resize(n, 0.0);
        self.sums.resize(n + 1, 0.0);
        self.runs.clear();
        let mut acc = std::iter::empty::<f64>().sum::<f64>();
        self.sums[0] = acc;
        // One pass: the confs, their running sums, and a new run at every gap.
        let mut at = 0;
        let mut next = positions.first().copied().unwrap_or(0);
        let cells = self.confs.iter_mut().zip(&mut self.sums[1..]);
        for (t, (&p, (c, s))) in positions.iter().zip(cells).enumerate() {
            *c = preds[p].conf;
            acc += *c;
            *s = acc;
            if p != next {
                self.runs.push(Run {
                    lo: positions[at],
                    hi: next,
                    at,
                });
                at = t;
            }
            next = p + 1;
        }
        if n > 0 {
            self.runs.push(Run {
                lo: positions[at],
                hi: next,
                at,
            });
        }
        match self.confs.len() {
            0 => 1.0,
            n => acc / n as f64,
        }
    }

    /// The dirty runs and the positions to predict of a branch with `fresh` revealed since
    /// the base (masked positions of its window), `tokens` and the shorter length `lim`:
    /// its dirty runs' positions but the fresh ones, and its masked positions past `lim`.
    fn split(&mut self, fresh: &[usize], tokens: &[Token], lim: usize) {
        self.fresh.clear();
        // One by one: there are `extra_tokens` of them, one by default.
        for &f in fresh {
            self.fresh.push(f);
        }
        self.fresh.sort_unstable();
        self.dirty.clear();
        self.todo.clear();
        for &f in &self.fresh {
            if self.dirty.last().is_some_and(|d| f < d.hi) {
                continue;
            }
            let run = self.runs[self.runs.partition_point(|r| r.hi <= f)];
            debug_assert!(run.lo <= f && f < run.hi.min(lim), "fresh {f} in {run:?}");
            self.dirty.push(Run {
                hi: run.hi.min(lim),
                ..run
            });
        }
        if self.iota.len() < lim {
            let have = self.iota.len();
            self.iota.extend(have..lim);
        }
        let mut fresh = self.fresh.iter().copied().peekable();
        let (todo, iota) = (&mut self.todo, &self.iota);
        for d in &self.dirty {
            spans_less_fresh(d.lo..d.hi, &mut fresh, |span| {
                todo.extend_from_slice(&iota[span]);
            });
        }
        self.tail = self.todo.len();
        self.todo
            .extend((lim..tokens.len()).filter(|&i| tokens[i] == MASK));
    }

    /// The branch's score from its predictions at `self.todo` and the base's elsewhere:
    /// the base's running sum up to its first dirty run, then the run's new confs and the
    /// base's confs in turn.
    fn score(&self, preds: &[Prediction], lim: usize) -> f64 {
        let (confs, sums) = (&self.confs, &self.sums);
        let (mut acc, mut t, mut n) = (sums[0], 0, 0);
        // The base's confs at window indices t..to; before any run, its running sum.
        let add_base = |acc: &mut f64, t: usize, to: usize| {
            if t == 0 {
                *acc = sums[to];
            } else {
                for &c in &confs[t..to] {
                    *acc += c;
                }
            }
        };
        let add_own = |acc: &mut f64, span: &[Prediction]| {
            for p in span {
                *acc += p.conf;
            }
        };
        // A dirty run's positions in `todo` are the run less its fresh positions.
        let mut fresh = self.fresh.iter().copied().peekable();
        for d in &self.dirty {
            add_base(&mut acc, t, d.at);
            spans_less_fresh(d.lo..d.hi, &mut fresh, |span| {
                add_own(&mut acc, &preds[span])
            });
            // A run holds a fresh token, so t > 0 from here on.
            let next = d.at + (d.hi - d.lo);
            n += next - t;
            t = next;
        }
        // Less the fresh positions, which are in the base's window but not the branch's.
        n -= self.fresh.len();
        // The base's window positions below `lim`.
        let below = match self.runs.get(self.runs.partition_point(|r| r.hi <= lim)) {
            Some(r) => r.at + lim.saturating_sub(r.lo),
            None => confs.len(),
        };
        add_base(&mut acc, t, below);
        n += below - t;
        for &p in &self.todo[self.tail..] {
            acc += preds[p].conf;
            n += 1;
        }
        if n == 0 {
            1.0
        } else {
            acc / n as f64
        }
    }
}

/// The base's score, keeping its window for [`score_lookahead`].
pub(super) fn score_base(ws: &mut Workspace, base: usize) -> f64 {
    ws.lazy.base(&ws.positions[base], &ws.preds[base])
}

/// Steps 2-3 for lookahead branch `b` with its base (index `base`) predicted and scored:
/// only its dirty runs (and any block the base lacks) go to the model, into `ws.preds[b]`;
/// the rest of its score is the base's. Its positions are not kept.
pub(super) fn score_lookahead(
    model: &dyn ConfidenceModel,
    kind: ConfidenceKind,
    round: u64,
    per_branch: usize,
    (b, base): (usize, usize),
    ws: &mut Workspace,
) -> f64 {
    let lim = split(ws, per_branch, (b, base));
    let branch = &ws.live[b];
    let preds = &mut ws.preds[b];
    preds.resize(branch.tokens.len(), Prediction::default());
    model.predict(branch, &ws.lazy.todo, kind, round, preds, &mut ws.scratch);
    ws.lazy.score(preds, lim)
}

/// Makes lookahead branch `w`, scored by [`score_lookahead`] this round, a winner: its
/// predictions in full in its slot, the base's with its dirty runs written over (the
/// base's slot takes what `w`'s held). The base's predictions are not read again.
pub(super) fn materialise(ws: &mut Workspace, per_branch: usize, (w, base): (usize, usize)) {
    split(ws, per_branch, (w, base));
    let len = ws.live[w].tokens.len();
    let mut full = std::mem::take(&mut ws.preds[base]);
    full.resize(len, Prediction::default());
    let own = &ws.preds[w];
    // Whole runs: their fresh positions are revealed in `w`, and a revealed position's
    // prediction is never read.
    for d in &ws.lazy.dirty {
        full[d.lo..d.hi].copy_from_slice(&own[d.lo..d.hi]);
    }
    if let Some(&first) = ws.lazy.todo.get(ws.lazy.tail) {
        full[first..len].copy_from_slice(&own[first..len]);
    }
    ws.preds[base] = std::mem::replace(&mut ws.preds[w], full);
    ws.positions[w].clear();
}

/// [`Lazy::split`] of lookahead branch `b`; returns the shorter length.
fn split(ws: &mut Workspace, per_branch: usize, (b, base): (usize, usize)) -> usize {
    let tokens = &ws.live[b].tokens;
    let lim = ws.live[base].tokens.len().min(tokens.len());
    let r = ws.extra[b].expect("a lookahead branch has a rank");
    let fresh = &ws.ranked[r..(r + per_branch).min(ws.ranked.len())];
    ws.lazy.split(fresh, tokens, lim);
    lim
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Token = MASK;

    fn pred(conf: f64) -> Prediction {
        Prediction {
            token: 1,
            prob: conf,
            conf,
            entropy: 0.0,
        }
    }

    #[test]
    fn runs_split_and_score_like_the_materialised_window() {
        // Base: 0 | M M 5 M M M 7 M ; the branch reveals 4 and appends 9..11.
        let base: [Token; 9] = [1, M, M, 5, M, M, M, 7, M];
        let branch: [Token; 11] = [1, M, M, 5, 9, M, M, 7, M, M, M];
        let positions: Vec<usize> = (0..9).filter(|&i| base[i] == M).collect();
        let base_preds: Vec<Prediction> = (0..9).map(|i| pred(0.1 * i as f64)).collect();
        let mut lazy = Lazy::default();
        let s = lazy.base(&positions, &base_preds);
        let want: f64 = positions.iter().map(|&p| base_preds[p].conf).sum::<f64>() / 6.0;
        assert_eq!(s, want);
        assert_eq!(lazy.runs.len(), 3);
        lazy.split(&[4], &branch, 9);
        assert_eq!(lazy.todo, [5, 6, 9, 10]);
        // The branch's own predictions: the base's but in its dirty run and new block.
        let mut own = base_preds.clone();
        own.resize(11, pred(0.0));
        for (p, c) in [(5, 0.95), (6, 0.35), (9, 0.5), (10, 0.25)] {
            own[p] = pred(c);
        }
        let window: Vec<usize> = (0..11).filter(|&i| branch[i] == M).collect();
        let full = window.iter().map(|&p| own[p].conf).sum::<f64>() / window.len() as f64;
        assert_eq!(lazy.score(&own, 9).to_bits(), full.to_bits());
    }

    #[test]
    fn a_shorter_branch_cuts_the_runs_at_its_length() {
        // Base 0 | M M M M | M M M M ; the branch lacks the second block and reveals 2.
        let branch: [Token; 5] = [1, M, 3, M, M];
        let positions: Vec<usize> = (1..9).collect();
        let base_preds: Vec<Prediction> = (0..9).map(|i| pred(0.05 * i as f64)).collect();
        let mut lazy = Lazy::default();
        lazy.base(&positions, &base_preds);
        lazy.split(&[2], &branch, 5);
        assert_eq!(lazy.todo, [1, 3, 4]);
        let full = [1, 3, 4].iter().map(|&p| base_preds[p].conf).sum::<f64>() / 3.0;
        assert_eq!(lazy.score(&base_preds, 5).to_bits(), full.to_bits());
    }
}
