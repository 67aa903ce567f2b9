//! The semi-AR fill rules of SPEC 3.4, plus `random` and `per_run`. Each takes the masked
//! positions of one block (ascending) in `out`, moves the positions the round fills to its
//! front and returns how many they are. A slice rather than a vector, so that d2f can apply
//! a rule to one block's tail of its fill list without a second buffer. Sorting is unstable but over a total order (the position breaks every tie),
//! so it is deterministic and allocates nothing.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::RoundContext;
use crate::state::Prediction;

/// Fast-dLLM's factor rule: ranks by prob (descending); rank m >= 2 fails when
/// p_(m) < 1 - f / (m + 1). Fills the ranks before the first failure, or every rank when
/// none fails or only the last one does (the published code's quirk).
pub(crate) fn factor(out: &mut [usize], preds: &[Prediction], f: f64) -> usize {
    out.sort_unstable_by(|&a, &b| preds[b].prob.total_cmp(&preds[a].prob).then(a.cmp(&b)));
    let n = out.len();
    let fails = (2..=n).find(|&m| preds[out[m - 1]].prob < 1.0 - f / (m + 1) as f64);
    match fails.filter(|&j| j < n) {
        Some(j) => j - 1,
        None => n,
    }
}

/// EB-sampler: ranks by entropy (ascending); rank m >= 2 is filled while the entropies of
/// ranks 1..m-1, summed in rank order, stay within gamma.
pub(crate) fn eb(out: &mut [usize], preds: &[Prediction], gamma: f64) -> usize {
    out.sort_unstable_by(|&a, &b| {
        preds[a]
            .entropy
            .total_cmp(&preds[b].entropy)
            .then(a.cmp(&b))
    });
    let mut sum = 0.0;
    let mut keep = out.len().min(1);
    for m in 2..=out.len() {
        sum += preds[out[m - 2]].entropy;
        if sum > gamma {
            break;
        }
        keep = m;
    }
    keep
}

/// dParallel: the lowest-entropy position plus every position with H_i <= eta.
pub(crate) fn entropy_threshold(out: &mut [usize], preds: &[Prediction], eta: f64) -> usize {
    let mut best: Option<usize> = None;
    for &i in out.iter() {
        // Ascending positions and a strict comparison: ties go to the lower position.
        if best.is_none_or(|b| preds[i].entropy < preds[b].entropy) {
            best = Some(i);
        }
    }
    let mut kept = 0;
    for j in 0..out.len() {
        let i = out[j];
        if preds[i].entropy <= eta || Some(i) == best {
            out[kept] = i;
            kept += 1;
        }
    }
    kept
}

/// Salt that keeps the fill's stream apart from the prompt's (both keyed by seed and seq).
const RANDOM_FILL_SALT: u64 = 0x7261_6e64_6f6d_6669;

/// `min(k, n)` distinct positions, uniformly at random: a partial Fisher-Yates shuffle
/// driven by a stream of (seed, seq, round, lane) alone, so every configuration that reaches
/// the same round with the same window fills the same positions. `lane` tells apart the
/// blocks one d2f round fills (0 for semi-AR's single block), so they draw independently.
pub(crate) fn random(out: &mut [usize], k: usize, round: &RoundContext, lane: u64) -> usize {
    // Lane 0 keeps the plain seed: semi-AR draws do not change with the lanes' arrival.
    let lane_key = lane.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut rng = ChaCha8Rng::seed_from_u64(round.seed ^ RANDOM_FILL_SALT ^ lane_key);
    rng.set_stream(round.seq as u64);
    // 2^32 words per round: far more than one round's draws ever consume.
    rng.set_word_pos(u128::from(round.round) << 32);
    let n = out.len();
    let take = k.min(n);
    for i in 0..take {
        let j = rng.random_range(i..n);
        out.swap(i, j);
    }
    take
}

/// dInfer-style: within each maximal run of consecutive masked positions, the most
/// confident (conf, lower position on ties) is filled when its prob > tau. When no run's
/// best clears tau, the most confident position of the whole block is filled instead.
pub(crate) fn per_run(out: &mut [usize], preds: &[Prediction], tau: f64) -> usize {
    let n = out.len();
    let (mut kept, mut start) = (0, 0);
    let mut overall: Option<usize> = None;
    while start < n {
        let mut end = start + 1;
        while end < n && out[end] == out[end - 1] + 1 {
            end += 1;
        }
        let mut best = out[start];
        for &i in &out[start + 1..end] {
            if preds[i].conf > preds[best].conf {
                best = i;
            }
        }
        if overall.is_none_or(|o| preds[best].conf > preds[o].conf) {
            overall = Some(best);
        }
        // kept <= runs seen <= start, so this never overwrites an unread position.
        if preds[best].prob > tau {
            out[kept] = best;
            kept += 1;
        }
        start = end;
    }
    if let (0, Some(o)) = (kept, overall) {
        out[0] = o;
        kept = 1;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Predictions at positions 0..n with the given prob (= conf) and entropy.
    fn preds(probs: &[f64], entropies: &[f64]) -> Vec<Prediction> {
        probs
            .iter()
            .zip(entropies)
            .map(|(&p, &h)| Prediction {
                token: 0,
                prob: p,
                conf: p,
                entropy: h,
            })
            .collect()
    }

    fn sorted(mut v: Vec<usize>) -> Vec<usize> {
        v.sort_unstable();
        v
    }

    fn apply(rule: impl Fn(&mut [usize]) -> usize, window: &[usize]) -> Vec<usize> {
        let mut out = window.to_vec();
        let kept = rule(&mut out);
        out.truncate(kept);
        sorted(out)
    }

    #[test]
    fn factor_fills_the_ranks_before_the_first_failure() {
        // f = 1: rank m needs p >= 1 - 1/(m+1): 0.667, 0.75, 0.8, ...
        let p = preds(&[0.9, 0.7, 0.95, 0.5, 0.74], &[0.0; 5]);
        // Ranks: 2 (0.95), 0 (0.9), 4 (0.74 < 0.75 fails at m = 3).
        assert_eq!(apply(|o| factor(o, &p, 1.0), &[0, 1, 2, 3, 4]), [0, 2]);
        // Only the last rank fails: everything is filled.
        assert_eq!(apply(|o| factor(o, &p, 1.0), &[0, 2, 4]), [0, 2, 4]);
        // Rank 2 fails (0.6 < 0.667) before the last rank: rank 1 alone.
        let q = preds(&[0.9, 0.6, 0.5], &[0.0; 3]);
        assert_eq!(apply(|o| factor(o, &q, 1.0), &[0, 1, 2]), [0]);
        // A single position always passes; an empty window stays empty.
        assert_eq!(apply(|o| factor(o, &p, 1.0), &[3]), [3]);
        assert!(apply(|o| factor(o, &p, 1.0), &[]).is_empty());
    }

    #[test]
    fn factor_ties_go_to_the_lower_position() {
        // All equal at 0.6: rank 2 fails (0.6 < 0.667), rank 1 is the lowest position.
        let p = preds(&[0.6; 4], &[0.0; 4]);
        assert_eq!(apply(|o| factor(o, &p, 1.0), &[1, 2, 3]), [1]);
        // A larger factor lowers the bar: 1 - 2/(m+1) <= 0.6 up to m = 4, nothing fails.
        assert_eq!(apply(|o| factor(o, &p, 2.0), &[0, 1, 2, 3]), [0, 1, 2, 3]);
    }

    #[test]
    fn eb_fills_a_prefix_within_the_budget() {
        let p = preds(&[0.0; 5], &[0.3, 0.05, 0.02, 0.2, 0.05]);
        // Ascending H: 2 (0.02), 1 (0.05), 4 (0.05, tie after 1), 3 (0.2), 0 (0.3).
        // Sums before each rank: 0.02, 0.07, 0.12 > 0.1 stops at rank 4.
        assert_eq!(apply(|o| eb(o, &p, 0.1), &[0, 1, 2, 3, 4]), [1, 2, 4]);
        assert_eq!(apply(|o| eb(o, &p, 0.0), &[0, 1, 2, 3, 4]), [2]);
        assert_eq!(apply(|o| eb(o, &p, 10.0), &[0, 3]), [0, 3]);
        assert_eq!(apply(|o| eb(o, &p, 0.1), &[0]), [0]);
        assert!(apply(|o| eb(o, &p, 0.1), &[]).is_empty());
    }

    #[test]
    fn eb_all_equal_entropies() {
        // Zero entropy everywhere: every sum is 0 <= gamma, so all are filled.
        let p = preds(&[1.0; 3], &[0.0; 3]);
        assert_eq!(apply(|o| eb(o, &p, 0.0), &[0, 1, 2]), [0, 1, 2]);
        // 0.5 each with gamma 0.5: ranks 1 and 2.
        let p = preds(&[0.5; 3], &[0.5; 3]);
        assert_eq!(apply(|o| eb(o, &p, 0.5), &[0, 1, 2]), [0, 1]);
    }

    #[test]
    fn entropy_threshold_keeps_the_best_and_everything_under_eta() {
        let p = preds(&[0.0; 4], &[0.9, 0.7, 0.4, 0.7]);
        assert_eq!(apply(|o| entropy_threshold(o, &p, 0.5), &[0, 1, 2, 3]), [2]);
        assert_eq!(
            apply(|o| entropy_threshold(o, &p, 0.7), &[0, 1, 2, 3]),
            [1, 2, 3]
        );
        // Tie for the lowest (0.7 at 1 and 3) with eta below it: the lower position.
        assert_eq!(apply(|o| entropy_threshold(o, &p, 0.1), &[0, 1, 3]), [1]);
        assert_eq!(apply(|o| entropy_threshold(o, &p, 0.0), &[0]), [0]);
        assert!(apply(|o| entropy_threshold(o, &p, 0.5), &[]).is_empty());
    }

    #[test]
    fn per_run_takes_each_runs_best_over_tau() {
        // Runs {1, 2, 3} and {6, 7}: bests 2 (0.95) and 7 (0.92); run {9} has 0.5.
        let mut probs = [0.0; 10];
        probs[1..4].copy_from_slice(&[0.8, 0.95, 0.95]);
        probs[6..8].copy_from_slice(&[0.3, 0.92]);
        probs[9] = 0.5;
        let p = preds(&probs, &[0.0; 10]);
        let window = [1, 2, 3, 6, 7, 9];
        assert_eq!(apply(|o| per_run(o, &p, 0.9), &window), [2, 7]);
        // Nobody clears tau: the best of the block (tie at 0.95 goes to position 2).
        assert_eq!(apply(|o| per_run(o, &p, 0.99), &window), [2]);
        // A strict threshold: 0.95 is not > 0.95.
        assert_eq!(apply(|o| per_run(o, &p, 0.95), &window), [2]);
        assert_eq!(apply(|o| per_run(o, &p, 0.9), &[9]), [9]);
        assert!(apply(|o| per_run(o, &p, 0.9), &[]).is_empty());
    }

    #[test]
    fn per_run_all_equal_confidences() {
        let p = preds(&[0.97; 6], &[0.0; 6]);
        // Runs {0, 1} and {3, 4, 5}: the first position of each.
        assert_eq!(apply(|o| per_run(o, &p, 0.9), &[0, 1, 3, 4, 5]), [0, 3]);
    }

    #[test]
    fn random_is_a_keyed_uniform_draw() {
        let at = |round| RoundContext {
            seed: 7,
            seq: 3,
            round,
        };
        let window: Vec<usize> = (10..18).collect();
        let a = apply(|o| random(o, 3, &at(1), 0), &window);
        assert_eq!(a.len(), 3);
        assert!(a.iter().all(|i| window.contains(i)));
        assert_eq!(
            a,
            apply(|o| random(o, 3, &at(1), 0), &window),
            "same key, same draw"
        );
        // k larger than the window fills it all; one position is that position.
        assert_eq!(apply(|o| random(o, 20, &at(1), 0), &window), window);
        assert_eq!(apply(|o| random(o, 2, &at(1), 0), &[4]), [4]);
        assert!(apply(|o| random(o, 2, &at(1), 0), &[]).is_empty());
        // Uniform over positions: each of 8 is drawn about 1/8 of the time with k = 1.
        let mut hits = [0u32; 8];
        for r in 0..4000 {
            hits[apply(|o| random(o, 1, &at(r), 0), &window)[0] - 10] += 1;
        }
        assert!(hits.iter().all(|&h| (400..600).contains(&h)), "{hits:?}");
    }

    #[test]
    fn random_lanes_draw_apart() {
        let at = RoundContext {
            seed: 7,
            seq: 3,
            round: 2,
        };
        let window: Vec<usize> = (0..32).collect();
        let lanes: Vec<Vec<usize>> = (0..4)
            .map(|lane| apply(|o| random(o, 4, &at, lane), &window))
            .collect();
        // Four draws of 4 from 32 agree by chance with probability about 1e-4 per pair.
        for a in 0..4 {
            for b in a + 1..4 {
                assert_ne!(lanes[a], lanes[b], "lanes {a} and {b}");
            }
        }
    }
}
