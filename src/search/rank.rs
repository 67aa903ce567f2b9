//! The two orderings of a round's window: its score (the mean conf, or the mean of its
//! lowest confs under `branch_topp`) and the spawn ranking of its most confident positions.

use crate::state::Prediction;

/// Step 3's score of a window (SPEC 4.2, 4.3): the mean conf in position order, or with
/// `topp` < 1 and n >= 2 the mean of the m = max(1, floor(n * topp)) lowest confs, added in
/// ascending order; 1.0 for an empty window.
pub(super) fn window_score(
    window: &[usize],
    preds: &[Prediction],
    topp: f64,
    confs: &mut Vec<f64>,
) -> f64 {
    let n = window.len();
    if n == 0 {
        return 1.0;
    }
    if topp >= 1.0 || n < 2 {
        return window.iter().map(|&i| preds[i].conf).sum::<f64>() / n as f64;
    }
    let m = ((n as f64 * topp).floor() as usize).max(1);
    confs.clear();
    confs.extend(window.iter().map(|&i| preds[i].conf));
    if m < n {
        confs.select_nth_unstable_by(m - 1, f64::total_cmp);
    }
    confs[..m].sort_unstable_by(f64::total_cmp);
    confs[..m].iter().sum::<f64>() / m as f64
}

/// Moves the `k` most confident positions to the front, in rank order (conf descending,
/// lower position first on ties); the rest are left in no particular order. The order is
/// strict, so the front is the one `select_nth_unstable` and a sort would give; k is a
/// few branches and the window a few blocks, so one pass that keeps a sorted front
/// compares most positions once with the front's last.
pub(super) fn top_k_by_confidence(positions: &mut [usize], k: usize, preds: &[Prediction]) {
    let k = k.min(positions.len());
    if k == 0 {
        return;
    }
    // Conf descending, then position ascending, with `total_cmp`'s order as integers.
    let key = |p: usize| order_key(preds[p].conf);
    let before = |a: usize, b: usize| {
        let (ka, kb) = (key(a), key(b));
        ka > kb || (ka == kb && a < b)
    };
    // Sorted insertion of the first k, then each later position that beats the front's
    // last takes its place (the evicted one goes to the later position's slot).
    for i in 1..k {
        insert_sorted(&mut positions[..=i], &before);
    }
    // The front's last kept as its key, so most positions cost one load and one compare.
    let mut last = (key(positions[k - 1]), positions[k - 1]);
    for i in k..positions.len() {
        let p = positions[i];
        let kp = key(p);
        if kp > last.0 || (kp == last.0 && p < last.1) {
            positions[i] = positions[k - 1];
            positions[k - 1] = p;
            insert_sorted(&mut positions[..k], &before);
            last = (key(positions[k - 1]), positions[k - 1]);
        }
    }
}

/// An integer whose order is [`f64::total_cmp`]'s (the same transform it makes).
fn order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// Moves the last element of `front` left to its place; the rest is sorted.
fn insert_sorted(front: &mut [usize], before: &impl Fn(usize, usize) -> bool) {
    let mut j = front.len() - 1;
    let p = front[j];
    while j > 0 && before(p, front[j - 1]) {
        front[j] = front[j - 1];
        j -= 1;
    }
    front[j] = p;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn order_keys_order_like_total_cmp() {
        let xs = [
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            1e-300,
            0.5,
            1.0,
            f64::INFINITY,
        ];
        for a in xs {
            for b in xs {
                assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
    }

    /// The one-pass ranking equals a full sort by (conf descending, position ascending) on its
    /// front, with ties, signed zeros and k past the window.
    #[test]
    fn ranking_front_is_the_sorted_order() {
        use rand::{RngExt, SeedableRng};
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for trial in 0..400 {
            let n = rng.random_range(0..40);
            let levels = [0.0, -0.0, 0.25, 0.5, 0.9, 1.0];
            let preds: Vec<Prediction> = (0..n)
                .map(|_| Prediction {
                    token: 1,
                    prob: 0.5,
                    conf: if trial % 2 == 0 {
                        levels[rng.random_range(0..levels.len())]
                    } else {
                        rng.random::<f64>()
                    },
                    entropy: 0.0,
                })
                .collect();
            let mut positions: Vec<usize> = (0..n).collect();
            // Shuffled, as a window in position order is not what the ranking relies on.
            for i in (1..n).rev() {
                positions.swap(i, rng.random_range(0..=i));
            }
            let k = rng.random_range(0..n + 3);
            let mut want = positions.clone();
            want.sort_by(|a, b| preds[*b].conf.total_cmp(&preds[*a].conf).then(a.cmp(b)));
            let mut got = positions.clone();
            top_k_by_confidence(&mut got, k, &preds);
            let m = k.min(n);
            assert_eq!(got[..m], want[..m], "n {n}, k {k}");
            got.sort_unstable();
            assert_eq!(got, (0..n).collect::<Vec<_>>(), "a permutation");
        }
    }
}
