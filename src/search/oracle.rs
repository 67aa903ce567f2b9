//! The oracle over LoPA's moves (SPEC 4.5): one branch per round, anchor-filled with its own
//! predictions, then at most one extra token at a window position, chosen with hindsight.
//!
//! `depth = 0` is breadth-first search over rounds with states merged on (tokens,
//! activation flags, `eos_detected`): the fewest rounds any filling order inside LoPA's
//! moves can reach, which no LoPA run beats. `depth > 0` is a beam: each round keeps the
//! `width` best successors by a `depth`-round greedy look-ahead, plus the state LoPA itself
//! reaches, so the beam is never slower than LoPA with the same k; it is an achievable order,
//! not a bound. Unlike the LoPA loop the oracle stores states, so it allocates per round.

use std::collections::{HashMap, HashSet};

use super::{lopa, Knobs, Outcome, RoundEvent, RoundObserver, Search, Stalled};
use crate::decoder::{AnchorDecoder, RoundContext};
use crate::model::{ConfidenceModel, SequenceInfo};
use crate::state::{Branch, ConfidenceKind, Prediction, MASK};

/// The oracle's memory limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OracleLimits {
    /// MiB the stored states may take (`search.state_budget_mb`).
    pub budget_mb: u64,
}

/// Bytes one stored state costs, roughly: its branch, its merge key and the hash entry.
pub fn state_bytes(prompt_len: usize, gen_length: usize, block_size: usize) -> u64 {
    let blocks = gen_length.div_ceil(block_size.max(1));
    (std::mem::size_of::<Branch>()
        + 4 * (prompt_len + gen_length)
        + blocks * std::mem::size_of::<crate::state::Block>()
        + 4 * (gen_length + blocks / 32 + 2)
        + 64) as u64
}

/// An upper estimate of the distinct states the exhaustive search may meet: every subset of
/// the current block and the one after it, for every block, and for `d2f`'s pipelined
/// blocks every subset of the generation. Saturates at `u64::MAX`.
pub fn state_estimate(gen_length: usize, block_size: usize, pipelined: bool) -> u64 {
    let pow2 = |n: usize| 1u64.checked_shl(n as u32).filter(|_| n < 64);
    if pipelined {
        return pow2(gen_length).unwrap_or(u64::MAX);
    }
    let span = (2 * block_size).min(gen_length);
    let blocks = gen_length.div_ceil(block_size.max(1)) as u64;
    pow2(span).map_or(u64::MAX, |p| p.saturating_mul(blocks))
}

/// The merge key: generated tokens, then the activation flags, then `eos_detected`.
fn key(b: &Branch) -> Box<[u32]> {
    let mut k: Vec<u32> = b.generated().to_vec();
    let mut word = 0u32;
    for (i, block) in b.blocks.iter().enumerate() {
        word |= u32::from(block.fully_activated) << (i % 32);
        if i % 32 == 31 {
            k.push(word);
            word = 0;
        }
    }
    k.push(word);
    k.push(u32::from(b.eos_detected));
    k.into_boxed_slice()
}

/// A state met by the search, with how it was reached.
struct Node {
    branch: Branch,
    /// Index of its parent in the previous level.
    parent: usize,
    /// The extra token its parent's move wrote.
    extra: Option<usize>,
}

struct Expander<'a> {
    model: &'a dyn ConfidenceModel,
    decoder: &'a dyn AnchorDecoder,
    kind: ConfidenceKind,
    sequence: &'a SequenceInfo<'a>,
    ws: &'a mut lopa::Workspace,
    preds: Vec<Prediction>,
    positions: Vec<usize>,
    fill: Vec<usize>,
    evals: u64,
    processed: u64,
}

impl Expander<'_> {
    /// Predicts `b` in forward pass `round` and anchor-fills it; `self.preds` then holds
    /// its predictions and `self.positions` the window after the fill.
    fn fill(&mut self, b: &mut Branch, round: u64) {
        self.decoder.prediction_positions(b, &mut self.positions);
        self.preds.resize(b.tokens.len(), Prediction::default());
        let scratch = &mut self.ws.scratch;
        self.model.predict(
            b,
            &self.positions,
            self.kind,
            round,
            &mut self.preds,
            scratch,
        );
        self.evals += 1;
        self.processed += self.decoder.processed_positions(b) as u64;
        self.decoder.end_round(b);
        let context = RoundContext {
            seed: self.sequence.seed,
            seq: self.sequence.seq,
            round,
        };
        self.decoder.fill(b, &self.preds, &context, &mut self.fill);
        let eos = self.model.eos_token();
        for &i in &self.fill {
            b.commit(i, self.preds[i].token, eos);
        }
        self.decoder.window(b, &mut self.positions);
    }

    /// Step 1 on `b` ("ends" completion): true when complete.
    fn complete(&self, b: &mut Branch) -> bool {
        b.settle_full_blocks();
        self.decoder.begin_round(b)
    }

    /// Filled positions after up to `depth` greedy rounds from `b` (fill, then the extra at
    /// the most confident window position), with a bonus for finishing early.
    fn look_ahead(&mut self, b: &Branch, round: u64, depth: usize) -> i64 {
        let mut s = b.clone();
        let eos = self.model.eos_token();
        for d in 0..depth {
            if self.complete(&mut s) {
                return (s.tokens.len() + depth - d) as i64 * 2;
            }
            self.fill(&mut s, round + d as u64);
            let best = crate::decoder::most_confident(self.positions.iter().copied(), &self.preds);
            if let Some(p) = best {
                s.commit(p, self.preds[p].token, eos);
            }
        }
        let filled = s.generated().iter().filter(|&&t| t != MASK).count();
        (filled * 2) as i64 - i64::from(!self.complete(&mut s))
    }
}

/// LoPA's own path: the extra token its winner took after each round, replayed as oracle
/// moves.
#[derive(Default)]
struct PathRecorder {
    moves: Vec<Option<usize>>,
    pending: Vec<usize>,
}

impl RoundObserver for PathRecorder {
    fn on_round(&mut self, e: &RoundEvent<'_>) {
        if e.round >= 2 {
            self.moves.push(e.lookahead_position);
        }
        self.pending.clear();
        self.pending.extend_from_slice(e.spawned);
    }

    fn on_finish(&mut self, b: &Branch) {
        self.moves
            .push(self.pending.iter().copied().find(|&p| b.tokens[p] != MASK));
    }
}

/// Decodes one sequence with the oracle, then replays its path round by round to
/// `observer`, as the LoPA loop reports its rounds.
#[allow(clippy::too_many_arguments)]
pub fn decode_oracle(
    model: &dyn ConfidenceModel,
    decoder: &dyn AnchorDecoder,
    search: Search,
    limits: OracleLimits,
    kind: ConfidenceKind,
    sequence: &SequenceInfo<'_>,
    max_rounds: u64,
    ws: &mut lopa::Workspace,
    observer: &mut dyn RoundObserver,
) -> Result<Outcome, Stalled> {
    let Search::Oracle {
        depth,
        width,
        branches,
    } = search
    else {
        unreachable!("decode_oracle runs only the oracle")
    };
    let lopa_moves = if depth > 0 {
        let mut rec = PathRecorder::default();
        let lopa = Search::Lopa { branches };
        let knobs = Knobs::default();
        lopa::decode(
            model, decoder, lopa, &knobs, kind, sequence, max_rounds, ws, &mut rec,
        )?;
        Some(rec.moves)
    } else {
        None
    };
    model.begin_sequence(sequence, &mut ws.scratch);
    ws.scratch.want_entropy = decoder.needs_entropy();
    let mut ex = Expander {
        model,
        decoder,
        kind,
        sequence,
        ws,
        preds: Vec::new(),
        positions: Vec::new(),
        fill: Vec::new(),
        evals: 0,
        processed: 0,
    };
    let root = decoder.initial_branch(sequence.prompt);
    let per_state = state_bytes(root.prompt_len, sequence.gen_length, root.block_size);
    let max_states = (limits.budget_mb << 20) / per_state.max(1);
    let mut seen: HashSet<Box<[u32]>> = HashSet::new();
    seen.insert(key(&root));
    let mut levels: Vec<Vec<Node>> = vec![vec![Node {
        branch: root,
        parent: 0,
        extra: None,
    }]];
    // The index, in the current level, of the state LoPA's own path reaches (beam only).
    let mut lopa_at = lopa_moves.as_ref().map(|_| 0usize);
    let found = loop {
        let rounds = levels.len() as u64 - 1;
        let level = levels.last_mut().expect("one level");
        if let Some(i) = (0..level.len()).find(|&i| ex.complete(&mut level[i].branch)) {
            break (rounds, i);
        }
        if rounds >= max_rounds {
            return Err(Stalled::RoundLimit(max_rounds));
        }
        let round = rounds + 1;
        let eos = model.eos_token();
        let mut next: Vec<Node> = Vec::new();
        let mut here: HashMap<Box<[u32]>, usize> = HashMap::new();
        let mut lopa_next = None;
        for (i, node) in level.iter_mut().enumerate() {
            ex.fill(&mut node.branch, round);
            let lopa_move = match (lopa_at, &lopa_moves) {
                (Some(at), Some(moves)) if at == i => {
                    Some(moves.get(rounds as usize).copied().flatten())
                }
                _ => None,
            };
            // Successors in SPEC order: no extra token, then each window position ascending.
            for extra in std::iter::once(None).chain(ex.positions.iter().map(|&p| Some(p))) {
                let mut child = node.branch.clone();
                if let Some(p) = extra {
                    child.commit(p, ex.preds[p].token, eos);
                }
                let k = key(&child);
                let idx = if depth == 0 {
                    if !seen.insert(k) {
                        continue;
                    }
                    next.len()
                } else if let Some(&at) = here.get(&k) {
                    at
                } else {
                    here.insert(k, next.len());
                    next.len()
                };
                if idx == next.len() {
                    next.push(Node {
                        branch: child,
                        parent: i,
                        extra,
                    });
                }
                if lopa_move == Some(extra) {
                    lopa_next = Some(idx);
                }
            }
            let held = seen.len().max(next.len()) as u64;
            if held > max_states {
                return Err(Stalled::StateBudget(format!(
                    "the oracle holds {held} states in round {round}, over its budget of {} states \
                     (raise search.state_budget_mb, or use search.depth > 0 for a beam)",
                    max_states
                )));
            }
        }
        if depth > 0 && next.len() > width {
            (next, lopa_next) = prune(&mut ex, next, round, depth, width, lopa_next);
        }
        lopa_at = lopa_next;
        if next.is_empty() {
            return Err(Stalled::RoundLimit(max_rounds));
        }
        // Only the path links of finished levels are needed from now on.
        for n in levels.last_mut().expect("one level") {
            n.branch = Branch::default();
        }
        levels.push(next);
    };
    let (evals, processed) = (ex.evals, ex.processed);
    replay(ex, &levels, found, evals, processed, observer)
}

/// Keeps the `width` best of `next` by the look-ahead, in their original order, plus the
/// node LoPA's path is at (moved to the end when it would have been cut). Returns the kept
/// nodes and the LoPA node's new index.
fn prune(
    ex: &mut Expander<'_>,
    next: Vec<Node>,
    round: u64,
    depth: usize,
    width: usize,
    lopa: Option<usize>,
) -> (Vec<Node>, Option<usize>) {
    let mut scored: Vec<(i64, usize)> = next
        .iter()
        .enumerate()
        .map(|(i, n)| (ex.look_ahead(&n.branch, round + 1, depth), i))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut keep: Vec<usize> = scored.iter().take(width).map(|&(_, i)| i).collect();
    if let Some(l) = lopa.filter(|l| !keep.contains(l)) {
        keep.push(l);
    }
    keep.sort_unstable();
    let at = lopa.and_then(|l| keep.iter().position(|&i| i == l));
    let mut slots: Vec<Option<Node>> = next.into_iter().map(Some).collect();
    let out = keep.iter().filter_map(|&i| slots[i].take()).collect();
    (out, at)
}

/// Replays the path to `found` with fresh predictions (the same ones: models are
/// deterministic in state and round), reporting each round to `observer`.
fn replay(
    mut ex: Expander<'_>,
    levels: &[Vec<Node>],
    found: (u64, usize),
    evals: u64,
    processed: u64,
    observer: &mut dyn RoundObserver,
) -> Result<Outcome, Stalled> {
    let (rounds, mut at) = found;
    // moves[r] = the extra token taken after round r + 1.
    let mut moves = vec![None; rounds as usize];
    for r in (1..=rounds as usize).rev() {
        let node = &levels[r][at];
        moves[r - 1] = node.extra;
        at = node.parent;
    }
    let mut b = ex.decoder.initial_branch(ex.sequence.prompt);
    let eos = ex.model.eos_token();
    let mut prev_extra = None;
    for (r, &m) in moves.iter().enumerate() {
        let done = ex.complete(&mut b);
        debug_assert!(!done, "the path ends at its last round");
        // One branch per round: the cost model sees it as a single-branch LoPA round.
        let load = [crate::record::BranchLoad {
            processed: ex.decoder.processed_positions(&b) as u32,
            context: b.tokens.len() as u32,
        }];
        ex.fill(&mut b, r as u64 + 1);
        let spawned: &[usize] = match m {
            Some(ref p) => std::slice::from_ref(p),
            None => &[],
        };
        observer.on_round(&RoundEvent {
            round: r as u64 + 1,
            scores: &[1.0],
            winner: 0,
            lookahead_position: prev_extra,
            lookahead_tokens: match prev_extra {
                Some(ref p) => std::slice::from_ref(p),
                None => &[],
            },
            filled: &ex.fill,
            branch: &b,
            predictions: &ex.preds,
            spawned,
            loads: &load,
        });
        if let Some(p) = m {
            b.commit(p, ex.preds[p].token, eos);
        }
        prev_extra = m;
    }
    let done = ex.complete(&mut b);
    debug_assert!(done, "the replayed path ends complete");
    observer.on_finish(&b);
    Ok(Outcome {
        branch: b,
        rounds,
        branch_evals: evals,
        branch_tokens: processed,
        // The path's rounds whose move took an extra token (SPEC 4.5).
        lookahead_wins: moves.iter().filter(|m| m.is_some()).count() as u64,
    })
}

#[cfg(test)]
#[path = "oracle_tests.rs"]
mod tests;
