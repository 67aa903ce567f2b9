//! The LoPA round loop (SPEC 4.2): bookkeeping, one batched verification pass over every
//! branch, the winner by mean window confidence, the anchor fill with the winner's own
//! predictions, and the spawn of the next lookahead branches from the same predictions.

use super::lazy::{materialise, score_base, score_lookahead};
use super::predict::predict_branch;
use super::rank::{top_k_by_confidence, window_score};
pub use super::workspace::Workspace;
use super::{Knobs, Outcome, RoundEvent, RoundObserver, Search, SpawnCompletion, Stalled};
use crate::decoder::{AnchorDecoder, RoundContext};
use crate::model::{ConfidenceModel, SequenceInfo};
use crate::record::BranchLoad;
use crate::state::{Branch, ConfidenceKind};

/// Score tolerance: a branch within this of the best score ties with it.
const SCORE_TOLERANCE: f64 = 1e-9;

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
                    score_base(ws, base)
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
                materialise(ws, per_branch, (w, base));
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

#[cfg(test)]
#[path = "lopa_tests.rs"]
mod tests;
