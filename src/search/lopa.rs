//! The LoPA round loop (SPEC 4.2): bookkeeping, one batched verification pass over every
//! branch, the winner by mean window confidence, the anchor fill with the winner's own
//! predictions, and the spawn of the next lookahead branches from the same predictions.

use super::rank::{top_k_by_confidence, window_score};
use super::reuse::{Reference, Reuse};
use super::{Knobs, Outcome, RoundEvent, RoundObserver, Search, SpawnCompletion, Stalled};
use crate::decoder::{AnchorDecoder, RoundContext};
use crate::model::{ConfidenceModel, Scratch, SequenceInfo};
use crate::record::BranchLoad;
use crate::state::{Branch, ConfidenceKind, Prediction, MASK};

/// Score tolerance: a branch within this of the best score ties with it.
const SCORE_TOLERANCE: f64 = 1e-9;

/// Buffers reused from round to round and decode to decode, so rounds do not allocate.
#[derive(Default)]
pub struct Workspace {
    live: Vec<Branch>,
    next: Vec<Branch>,
    preds: Vec<Vec<Prediction>>,
    scores: Vec<f64>,
    /// Per live branch: the positions its predictions cover.
    positions: Vec<Vec<usize>>,
    /// The previous winner's positions, while the base's are found.
    ref_positions: Vec<usize>,
    /// The previous winner's length when the base's slot holds its predictions.
    base_ref: Option<usize>,
    reuse: Reuse,
    window: Vec<usize>,
    fill: Vec<usize>,
    /// Per live branch: its rank in the previous round's spawn ranking (None for the base).
    extra: Vec<Option<usize>>,
    next_extra: Vec<Option<usize>>,
    /// The previous round's spawn ranking: lookahead branch j wrote ranks j..j+extra_tokens.
    ranked: Vec<usize>,
    /// The confidences a score knob sorts.
    confs: Vec<f64>,
    /// The winner's conf at each rank of `ranked`, when it was spawned.
    spawn_confs: Vec<f64>,
    loads: Vec<BranchLoad>,
    /// The base's confs in window order, and their running sums (`base_sums[t]` adds the
    /// first t), from which a lookahead branch's score is finished without copying the
    /// base's predictions.
    base_confs: Vec<f64>,
    base_sums: Vec<f64>,
    /// Under `every_mask`: the previous winner's window after its fill, the next base's
    /// masked positions up to the previous winner's length.
    base_window: Vec<usize>,
    /// The model's buffers and per-sequence state; the engine reads it for `quality`.
    pub scratch: Scratch,
}

impl Workspace {
    fn reserve(&mut self, branches: usize) {
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
    fn spawn_conf(&self, r: usize) -> f64 {
        self.spawn_confs[r]
    }
}

/// Decodes one sequence.
#[allow(clippy::too_many_arguments)]
pub fn decode(
    model: &dyn ConfidenceModel,
    decoder: &dyn AnchorDecoder,
    search: Search,
    knobs: &Knobs,
    kind: ConfidenceKind,
    sequence: &SequenceInfo<'_>,
    max_rounds: u64,
    ws: &mut Workspace,
    observer: &mut dyn RoundObserver,
) -> Result<Outcome, Stalled> {
    let k = search.lookahead_branches();
    let per_branch = knobs.extra_tokens.max(1);
    let settle_at_start = knobs.spawn_completion == SpawnCompletion::Ends;
    let eos = model.eos_token();
    ws.reserve(k + 1);
    model.begin_sequence(sequence, &mut ws.scratch);
    ws.scratch.want_entropy = decoder.needs_entropy();
    ws.live[0] = decoder.initial_branch(sequence.prompt);
    ws.extra[0] = None;
    ws.ranked.clear();
    ws.base_ref = None;
    let reuse = model.local_predictions() && !ws.scratch.full_recompute;
    // A lookahead branch's score can be read off the base's predictions and its own dirty
    // runs; only a winner needs its predictions in full.
    let lazy = reuse && decoder.every_mask_is_predicted() && knobs.branch_topp >= 1.0;
    let mut n_live = 1;
    let mut out = Outcome {
        branch: Branch::default(),
        rounds: 0,
        branch_evals: 0,
        branch_tokens: 0,
        lookahead_wins: 0,
    };
    loop {
        // 1. Bookkeeping; the first complete branch in branch order ends the decode. With
        // `force_base` only the base can end it, so the order is exactly `none`'s.
        let mut complete = None;
        for b in 0..n_live {
            if settle_at_start {
                ws.live[b].settle_full_blocks();
            }
            let eligible = !knobs.force_base || b == n_live - 1;
            if decoder.begin_round(&mut ws.live[b]) && eligible && complete.is_none() {
                complete = Some(b);
            }
        }
        if let Some(c) = complete {
            observer.on_finish(&ws.live[c]);
            out.branch = std::mem::take(&mut ws.live[c]);
            return Ok(out);
        }
        if out.rounds >= max_rounds {
            return Err(Stalled::RoundLimit(max_rounds));
        }
        out.rounds += 1;
        out.branch_evals += n_live as u64;

        // 2-3. Verification pass and scores. The base goes first: the lookahead branches
        // copy its predictions where they can (`reuse`), and it copies the previous winner's.
        let base = n_live - 1;
        for b in std::iter::once(base).chain(0..base) {
            let s = if lazy && b != base {
                score_lookahead(model, kind, out.rounds, per_branch, (b, base), ws)
            } else {
                predict_branch(
                    model,
                    decoder,
                    kind,
                    out.rounds,
                    reuse,
                    per_branch,
                    (b, base),
                    ws,
                );
                if lazy {
                    base_sums(ws, base)
                } else {
                    let window = if decoder.every_mask_is_predicted() {
                        &ws.positions[b]
                    } else {
                        decoder.window(&ws.live[b], &mut ws.window);
                        &ws.window
                    };
                    window_score(window, &ws.preds[b], knobs.branch_topp, &mut ws.confs)
                }
            };
            let branch = &ws.live[b];
            ws.scores[b] = if knobs.alpha == 0.0 {
                s
            } else {
                // c_b: the confidence the branch's own extra token was spawned with, in the
                // previous winner's predictions; 1.0 for the base (SPEC 4.3).
                let c = ws.extra[b].map_or(1.0, |r| ws.spawn_conf(r));
                knobs.alpha * c + (1.0 - knobs.alpha) * s
            };
            let processed = decoder.processed_positions(branch);
            out.branch_tokens += processed as u64;
            ws.loads[b] = BranchLoad {
                processed: processed as u32,
                context: branch.tokens.len() as u32,
            };
        }

        // 4. Winner: the first branch within the tolerance of the best; the base is last.
        let w = if knobs.force_base {
            n_live - 1
        } else {
            let best = ws.scores[..n_live]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            (0..n_live)
                .find(|&b| ws.scores[b] >= best - SCORE_TOLERANCE)
                .unwrap_or(n_live - 1)
        };
        if w != n_live - 1 {
            out.lookahead_wins += 1;
            if lazy {
                predict_branch(
                    model,
                    decoder,
                    kind,
                    out.rounds,
                    reuse,
                    per_branch,
                    (w, base),
                    ws,
                );
            }
        }

        // 5. Anchor fill on the winner with its own predictions (logit reuse).
        let preds = &ws.preds[w];
        let winner = &mut ws.live[w];
        decoder.end_round(winner);
        let context = RoundContext {
            seed: sequence.seed,
            seq: sequence.seq,
            round: out.rounds,
        };
        decoder.fill(winner, preds, &context, &mut ws.fill);
        for &i in &ws.fill {
            winner.commit(i, preds[i].token, eos);
        }
        if !settle_at_start {
            // "needs_forward": only the winner's own fill settles a block; spawned
            // branches inherit the flags.
            winner.settle_full_blocks();
        }
        // 6. Spawn: rank the masked positions of the base's window by the winner's conf.
        // Branch j takes ranks j..j+extra_tokens, so the ranking needs k + extra_tokens - 1.
        // Under `every_mask` the window before ranking is also the next base's positions
        // but for any block the base appends, so the base need not scan for them.
        let keep_window = decoder.every_mask_is_predicted();
        if k == 0 {
            // Nothing is spawned, so the ranking is never read.
            ws.window.clear();
            if keep_window {
                decoder.window(winner, &mut ws.base_window);
            }
        } else {
            decoder.window(winner, &mut ws.window);
            if keep_window {
                ws.base_window.clear();
                ws.base_window.extend_from_slice(&ws.window);
            }
        }
        let take = k.min(ws.window.len());
        let ranked = if take == 0 {
            0
        } else {
            (k + per_branch - 1).min(ws.window.len())
        };
        top_k_by_confidence(&mut ws.window, ranked, preds);
        let extra = match ws.extra[w] {
            Some(r) => &ws.ranked[r..(r + per_branch).min(ws.ranked.len())],
            None => &[][..],
        };
        observer.on_round(&RoundEvent {
            round: out.rounds,
            scores: &ws.scores[..n_live],
            winner: w,
            lookahead_position: extra.first().copied(),
            lookahead_tokens: extra,
            filled: &ws.fill,
            branch: winner,
            predictions: preds,
            spawned: &ws.window[..ranked],
            loads: &ws.loads[..n_live],
        });

        for j in 0..take {
            ws.next[j].clone_from(winner);
            for &p in &ws.window[j..(j + per_branch).min(ranked)] {
                ws.next[j].commit(p, preds[p].token, eos);
            }
            ws.next_extra[j] = Some(j);
        }
        // The base is the winner itself; its old slot is overwritten before it is read.
        std::mem::swap(&mut ws.next[take], winner);
        ws.next_extra[take] = None;
        // The ranking's confidences, for the next round's alpha (c_b).
        ws.confs.clear();
        ws.confs
            .extend(ws.window[..ranked].iter().map(|&p| preds[p].conf));
        std::mem::swap(&mut ws.spawn_confs, &mut ws.confs);
        ws.ranked.clear();
        ws.ranked.extend_from_slice(&ws.window[..ranked]);
        std::mem::swap(&mut ws.live, &mut ws.next);
        std::mem::swap(&mut ws.extra, &mut ws.next_extra);
        // The next base is the winner plus its fill: its slot takes the winner's
        // predictions, to be copied outside the runs the fill split.
        ws.base_ref = Some(ws.live[take].tokens.len());
        ws.preds.swap(w, take);
        ws.positions.swap(w, take);
        n_live = take + 1;
    }
}

/// Step 2 for live branch `b`: its prediction positions into `ws.positions[b]` and its
/// predictions into `ws.preds[b]`, copied from a reference where `reuse` allows: the base
/// from the previous winner (already in its slot), a lookahead branch from the base (whose
/// index is `base`, predicted before it).
#[allow(clippy::too_many_arguments)]
fn predict_branch(
    model: &dyn ConfidenceModel,
    decoder: &dyn AnchorDecoder,
    kind: ConfidenceKind,
    round: u64,
    reuse: bool,
    per_branch: usize,
    (b, base): (usize, usize),
    ws: &mut Workspace,
) {
    if b == base {
        std::mem::swap(&mut ws.ref_positions, &mut ws.positions[b]);
    }
    let branch = &ws.live[b];
    let mut positions = std::mem::take(&mut ws.positions[b]);
    let mut preds = std::mem::take(&mut ws.preds[b]);
    let every_mask = decoder.every_mask_is_predicted();
    if reuse && every_mask && b != base {
        // The base's masked positions, less the fresh ones, plus any block it lacks.
        let lim = ws.live[base].tokens.len().min(branch.tokens.len());
        let masked = |&p: &usize| branch.tokens[p] == MASK;
        positions.clear();
        let known = ws.positions[base].iter().take_while(|&&p| p < lim);
        positions.extend(known.filter(|p| masked(p)).copied());
        positions.extend((lim..branch.tokens.len()).filter(masked));
        #[cfg(debug_assertions)]
        {
            let mut want = Vec::new();
            decoder.prediction_positions(branch, &mut want);
            debug_assert_eq!(positions, want, "branch {b}'s positions");
        }
    } else if let (true, Some(len)) = (every_mask && b == base, ws.base_ref) {
        // The previous winner's window, plus the masked positions of any block appended.
        positions.clear();
        positions.extend_from_slice(&ws.base_window);
        positions.extend((len..branch.tokens.len()).filter(|&p| branch.tokens[p] == MASK));
        #[cfg(debug_assertions)]
        {
            let mut want = Vec::new();
            decoder.prediction_positions(branch, &mut want);
            debug_assert_eq!(positions, want, "the base's positions");
        }
    } else {
        decoder.prediction_positions(branch, &mut positions);
    }
    preds.resize(branch.tokens.len(), Prediction::default());
    let todo = match (reuse, ws.extra[b], ws.base_ref) {
        (true, None, Some(len)) => {
            // The base: the previous winner's predictions are in `preds` already.
            ws.reuse.fresh.clear();
            ws.reuse.fresh.extend_from_slice(&ws.fill);
            let reference = Reference {
                len,
                positions: &ws.ref_positions,
                preds: None,
                every_mask,
            };
            ws.reuse
                .split(&branch.tokens, &positions, &reference, &mut preds);
            &ws.reuse.todo
        }
        (true, Some(r), _) => {
            ws.reuse.fresh.clear();
            let end = (r + per_branch).min(ws.ranked.len());
            ws.reuse.fresh.extend_from_slice(&ws.ranked[r..end]);
            let reference = Reference {
                len: ws.live[base].tokens.len(),
                positions: &ws.positions[base],
                preds: Some(&ws.preds[base]),
                every_mask,
            };
            ws.reuse
                .split(&branch.tokens, &positions, &reference, &mut preds);
            &ws.reuse.todo
        }
        _ => &positions,
    };
    model.predict(branch, todo, kind, round, &mut preds, &mut ws.scratch);
    ws.positions[b] = positions;
    ws.preds[b] = preds;
}

/// The base's score (the mean conf over its window, every masked position), keeping its
/// confs and running sums for [`score_lookahead`]. The sums start where `Iterator::sum`
/// starts and add in window order, so the score is [`window_score`]'s bit for bit.
fn base_sums(ws: &mut Workspace, base: usize) -> f64 {
    let preds = &ws.preds[base];
    ws.base_confs.clear();
    ws.base_confs
        .extend(ws.positions[base].iter().map(|&p| preds[p].conf));
    ws.base_sums.clear();
    let mut acc = std::iter::empty::<f64>().sum::<f64>();
    ws.base_sums.push(acc);
    for &c in &ws.base_confs {
        acc += c;
        ws.base_sums.push(acc);
    }
    match ws.base_confs.len() {
        0 => 1.0,
        n => acc / n as f64,
    }
}

/// Steps 2-3 for lookahead branch `b` under d2f with the base predicted: only its dirty
/// runs (and any block the base lacks) go to the model, into `ws.preds[b]`; everything
/// else is the base's. Its window is the base's less its fresh tokens, so its sum in
/// window order is the base's running sum up to the first dirty run, then the run's new
/// confs and the base's confs in turn: the same additions in the same order as summing
/// its materialised window, without copying the base's predictions. A winner is
/// materialised afterwards by [`predict_branch`].
fn score_lookahead(
    model: &dyn ConfidenceModel,
    kind: ConfidenceKind,
    round: u64,
    per_branch: usize,
    (b, base): (usize, usize),
    ws: &mut Workspace,
) -> f64 {
    let branch = &ws.live[b];
    let r = ws.extra[b].expect("a lookahead branch has a rank");
    ws.reuse.fresh.clear();
    let end = (r + per_branch).min(ws.ranked.len());
    ws.reuse.fresh.extend_from_slice(&ws.ranked[r..end]);
    let lim = ws.live[base].tokens.len().min(branch.tokens.len());
    ws.reuse.dirty_positions(&branch.tokens, lim);
    let preds = &mut ws.preds[b];
    preds.resize(branch.tokens.len(), Prediction::default());
    model.predict(branch, &ws.reuse.todo, kind, round, preds, &mut ws.scratch);

    let known = &ws.positions[base];
    let (confs, sums) = (&ws.base_confs, &ws.base_sums);
    let mut todo = ws.reuse.todo.iter().copied().peekable();
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
    for &(lo, hi) in ws.reuse.dirty() {
        let t0 = known.partition_point(|&p| p < lo);
        add_base(&mut acc, t, t0);
        n += t0 - t;
        while let Some(p) = todo.next_if(|&p| p < hi) {
            acc += preds[p].conf;
            n += 1;
        }
        // A run holds a fresh token, one of the base's positions, so t > 0 from here on.
        t = known.partition_point(|&p| p < hi);
    }
    let below = known.partition_point(|&p| p < lim);
    add_base(&mut acc, t, below);
    n += below - t;
    for p in todo {
        acc += preds[p].conf;
        n += 1;
    }
    if n == 0 {
        1.0
    } else {
        acc / n as f64
    }
}

#[cfg(test)]
#[path = "lopa_tests.rs"]
mod tests;
