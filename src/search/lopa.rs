//! The LoPA round loop (SPEC 4.2): bookkeeping, one batched verification pass over every
//! branch, the winner by mean window confidence, the anchor fill with the winner's own
//! predictions, and the spawn of the next lookahead branches from the same predictions.

use super::{Outcome, RoundEvent, RoundObserver, Search, Stalled};
use crate::decoder::AnchorDecoder;
use crate::model::{ConfidenceModel, Scratch, SequenceInfo};
use crate::record::BranchLoad;
use crate::state::{Branch, ConfidenceKind, Prediction};

/// Score tolerance: a branch within this of the best score ties with it.
const SCORE_TOLERANCE: f64 = 1e-9;

/// Buffers reused from round to round and decode to decode, so rounds do not allocate.
#[derive(Default)]
pub struct Workspace {
    live: Vec<Branch>,
    next: Vec<Branch>,
    preds: Vec<Vec<Prediction>>,
    scores: Vec<f64>,
    positions: Vec<usize>,
    window: Vec<usize>,
    fill: Vec<usize>,
    extra: Vec<Option<usize>>,
    next_extra: Vec<Option<usize>>,
    loads: Vec<BranchLoad>,
    /// The model's buffers and per-sequence state; the engine reads it for `quality`.
    pub scratch: Scratch,
}

impl Workspace {
    fn reserve(&mut self, branches: usize) {
        self.live.resize_with(branches, Branch::default);
        self.next.resize_with(branches, Branch::default);
        self.preds.resize_with(branches, Vec::new);
        self.scores.resize(branches, 0.0);
        self.extra.resize(branches, None);
        self.next_extra.resize(branches, None);
        self.loads.resize(branches, BranchLoad::default());
    }
}

/// Decodes one sequence.
#[allow(clippy::too_many_arguments)]
pub fn decode(
    model: &dyn ConfidenceModel,
    decoder: &dyn AnchorDecoder,
    search: Search,
    kind: ConfidenceKind,
    sequence: &SequenceInfo<'_>,
    max_rounds: u64,
    ws: &mut Workspace,
    observer: &mut dyn RoundObserver,
) -> Result<Outcome, Stalled> {
    let k = search.lookahead_branches();
    let eos = model.eos_token();
    ws.reserve(k + 1);
    model.begin_sequence(sequence, &mut ws.scratch);
    ws.live[0] = decoder.initial_branch(sequence.prompt);
    ws.extra[0] = None;
    let mut n_live = 1;
    let mut out = Outcome {
        branch: Branch::default(),
        rounds: 0,
        branch_evals: 0,
        branch_tokens: 0,
        lookahead_wins: 0,
    };
    loop {
        // 1. Bookkeeping; the first complete branch in branch order ends the decode.
        let mut complete = None;
        for b in 0..n_live {
            if decoder.begin_round(&mut ws.live[b]) && complete.is_none() {
                complete = Some(b);
            }
        }
        if let Some(c) = complete {
            observer.on_finish(&ws.live[c]);
            out.branch = std::mem::take(&mut ws.live[c]);
            return Ok(out);
        }
        if out.rounds >= max_rounds {
            return Err(Stalled(max_rounds));
        }
        out.rounds += 1;
        out.branch_evals += n_live as u64;

        // 2-3. Verification pass and scores.
        for b in 0..n_live {
            let branch = &ws.live[b];
            decoder.prediction_positions(branch, &mut ws.positions);
            let preds = &mut ws.preds[b];
            preds.resize(branch.tokens.len(), Prediction::default());
            let round = out.rounds;
            model.predict(branch, &ws.positions, kind, round, preds, &mut ws.scratch);
            decoder.window(branch, &mut ws.window);
            ws.scores[b] = if ws.window.is_empty() {
                1.0
            } else {
                ws.window.iter().map(|&i| preds[i].conf).sum::<f64>() / ws.window.len() as f64
            };
            let processed = decoder.processed_positions(branch);
            out.branch_tokens += processed as u64;
            ws.loads[b] = BranchLoad {
                processed: processed as u32,
                context: branch.tokens.len() as u32,
            };
        }

        // 4. Winner: the first branch within the tolerance of the best; the base is last.
        let best = ws.scores[..n_live]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let w = (0..n_live)
            .find(|&b| ws.scores[b] >= best - SCORE_TOLERANCE)
            .unwrap_or(n_live - 1);
        if w != n_live - 1 {
            out.lookahead_wins += 1;
        }

        // 5. Anchor fill on the winner with its own predictions (logit reuse).
        let preds = &ws.preds[w];
        let winner = &mut ws.live[w];
        decoder.end_round(winner);
        decoder.fill(winner, preds, &mut ws.fill);
        for &i in &ws.fill {
            winner.commit(i, preds[i].token, eos);
        }
        // 6. Spawn: the top-k masked positions of the base's window, by the winner's conf.
        decoder.window(winner, &mut ws.window);
        let take = k.min(ws.window.len());
        top_k_by_confidence(&mut ws.window, take, preds);
        observer.on_round(&RoundEvent {
            round: out.rounds,
            scores: &ws.scores[..n_live],
            winner: w,
            lookahead_position: ws.extra[w],
            filled: &ws.fill,
            branch: winner,
            predictions: preds,
            spawned: &ws.window[..take],
            loads: &ws.loads[..n_live],
        });

        for j in 0..take {
            let p = ws.window[j];
            ws.next[j].clone_from(winner);
            ws.next[j].commit(p, preds[p].token, eos);
            ws.next_extra[j] = Some(p);
        }
        ws.next[take].clone_from(winner);
        ws.next_extra[take] = None;
        std::mem::swap(&mut ws.live, &mut ws.next);
        std::mem::swap(&mut ws.extra, &mut ws.next_extra);
        n_live = take + 1;
    }
}

/// Moves the `k` most confident positions to the front, in rank order (conf descending,
/// lower position first on ties).
fn top_k_by_confidence(positions: &mut [usize], k: usize, preds: &[Prediction]) {
    if k == 0 {
        return;
    }
    let order = |a: &usize, b: &usize| preds[*b].conf.total_cmp(&preds[*a].conf).then(a.cmp(b));
    if k < positions.len() {
        positions.select_nth_unstable_by(k - 1, order);
    }
    positions[..k].sort_unstable_by(order);
}
