//! Predictions of a saturated plan posterior. Once the revealed tokens have all but ruled
//! out every plan but one, the posterior is exactly 1 on that plan z and so small on the
//! others that, added in, they cannot move a single bit of q = sum_z w_z q^z: q is then
//! q^z itself, bit for bit, and its prediction is a function of (z, neighbours) alone,
//! memoised like the Markov oracle's.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::{Buffers, PlanMixture, Saturated};
use crate::model::memo::{key, Key};
use crate::state::{ConfidenceKind, Prediction};

/// Entries kept before the memo starts over (a few MiB per thread).
const CAPACITY: usize = 1 << 16;

/// The plan that takes the whole posterior, if exactly one has weight 1, and the total
/// weight of the others.
pub(super) fn saturated(w: &[f64]) -> Option<(usize, f64)> {
    let z = w.iter().position(|&x| x == 1.0)?;
    let rest = w
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != z)
        .map(|(_, &x)| x)
        .sum();
    Some((z, rest))
}

/// q^z(v) below this never lets another plan's term be dropped: far above the subnormals,
/// so the products' absolute rounding cannot matter against an ulp of q^z(v).
const TINY: f64 = f64::from_bits((1023 - 900) << 52);

/// How far plan y's marginal rises above plan z's at the same neighbours: the largest
/// q^y(v) / q^z(v), over the v where q^y(v) > 0 (infinite where q^z(v) is below [`TINY`]
/// there).
pub(super) fn ratio(qz: &[f64], qy: &[f64]) -> f64 {
    let mut r = 0.0f64;
    for (&a, &b) in qz.iter().zip(qy) {
        if b > 0.0 {
            r = r.max(if a >= TINY { b / a } else { f64::INFINITY });
        }
    }
    r
}

/// The other plans' total weight below which they cannot change q^z at a position, given
/// q^z's smallest value `q_min` and the largest [`ratio`] of another plan's marginal to
/// q^z's there. A prediction memoised with this limit stands for the mixture's wherever
/// [`negligible`] holds.
///
/// Why: the mixture adds, in plan order, w_y q^y(v) for every plan of non-zero weight, and
/// w_z q^z(v) = q^z(v) exactly (w_z = 1). Adding a non-negative amount below half an ulp
/// of q^z(v) to q^z(v) rounds back to it, and an ulp of a normal x exceeds x 2^-53. Each
/// other plan's term is at most w_y ratio q^z(v), so their sum is at most rest ratio
/// q^z(v) (to a few roundings), and rest ratio < 2^-58 keeps every partial sum, before and
/// after plan z's term, below q^z(v) 2^-57. Where q^z(v) = 0 the ratio is infinite unless
/// every other plan is 0 there too, and then every term is exactly 0. The older bound,
/// rest < q_min 2^-60 (each q^y(v) at most 1), is implied but kept where it is the larger.
pub(super) fn limit(q_min: f64, ratio: f64) -> f64 {
    by_min(q_min).max(by_ratio(ratio))
}

/// The part of [`limit`] that needs q^z alone.
fn by_min(q_min: f64) -> f64 {
    const BY_MIN: f64 = 1.0 / (1u64 << 60) as f64;
    if q_min >= f64::MIN_POSITIVE {
        q_min * BY_MIN
    } else {
        0.0
    }
}

/// The part of [`limit`] that needs the other plans' marginals.
fn by_ratio(ratio: f64) -> f64 {
    const BY_RATIO: f64 = 1.0 / (1u64 << 58) as f64;
    BY_RATIO / ratio
}

/// The other plans' weights, summing to `rest`, cannot change q^z at a position whose
/// [`limit`] is `limit`. Zero weights add exactly nothing.
pub(super) fn negligible(rest: f64, limit: f64) -> bool {
    rest == 0.0 || rest < limit
}

/// A memoised saturated prediction: the prediction, a weight below which the other plans
/// are negligible, and whether that weight is the full [`limit`] (or only [`by_min`], the
/// other plans' marginals not read yet).
type Entry = (Prediction, f64, bool);

/// By (plan, neighbours): the prediction of that plan's section-2 marginal, and its
/// [`limit`], for one mixture, confidence kind and entropy setting.
#[derive(Default)]
pub(super) struct SaturatedMemo {
    owner: u64,
    kind: Option<ConfidenceKind>,
    entropy: bool,
    map: HashMap<Key, Entry, FixedState>,
}

impl SaturatedMemo {
    /// Readies the memo for `owner`'s predictions of `kind`, forgetting any other's.
    pub(super) fn bind(&mut self, owner: u64, kind: ConfidenceKind, entropy: bool) {
        if self.owner != owner || self.kind != Some(kind) || self.entropy != entropy {
            self.map.clear();
            (self.owner, self.kind, self.entropy) = (owner, Some(kind), entropy);
        }
    }

    pub(super) fn get(&self, key: Key) -> Option<Entry> {
        self.map.get(&key).copied()
    }

    pub(super) fn insert(&mut self, key: Key, value: Entry) {
        if self.map.len() >= CAPACITY {
            self.map.clear();
        }
        self.map.insert(key, value);
    }
}

impl PlanMixture {
    /// The prediction at a position whose posterior is saturated on plan z, with memo key
    /// `at.key` under z, if the other plans are negligible there.
    ///
    /// The bound is built in two steps, since [`negligible`] with [`limit`] holds exactly
    /// when it holds with [`by_min`] or with [`by_ratio`]: the first needs q^z only, and
    /// the other plans' marginals (for the ratio) are read only when the others' weight
    /// fails it. Early in a decode, when many keys are new, that spares most of them.
    pub(super) fn saturated_prediction(
        &self,
        b: &mut Buffers,
        at: &Saturated,
        kind: ConfidenceKind,
        entropy: bool,
    ) -> Option<Prediction> {
        let rest = b.saturated.map_or(f64::INFINITY, |s| s.1);
        let (p, bound, full) = match b.saturated_memo.get(at.key) {
            Some(hit) => hit,
            None => {
                let q = b.marginals.get_or(at.key, |q| {
                    self.plan_marginal(at.z, at.xl, at.dl, at.right, q)
                });
                let p = Prediction::from_distribution_with(q, kind, entropy);
                let q_min = q.iter().copied().fold(f64::INFINITY, f64::min);
                let entry = (p, by_min(q_min), false);
                b.saturated_memo.insert(at.key, entry);
                entry
            }
        };
        if negligible(rest, bound) {
            return Some(p);
        }
        if full {
            return None;
        }
        // How far the other plans rise above plan z here: the same neighbours' marginals,
        // memoised as the mixing path would fetch them.
        let q = b.marginals.get_or(at.key, |q| {
            self.plan_marginal(at.z, at.xl, at.dl, at.right, q)
        });
        b.qz.copy_from_slice(q);
        let mut r = 0.0f64;
        for y in 0..self.plans.len() {
            if y != at.z {
                let qy = b
                    .marginals
                    .get_or(key(y as u32, at.xl, at.dl, at.right), |q| {
                        self.plan_marginal(y, at.xl, at.dl, at.right, q)
                    });
                r = r.max(ratio(&b.qz, qy));
            }
        }
        let q_min = b.qz.iter().copied().fold(f64::INFINITY, f64::min);
        let limit = limit(q_min, r);
        b.saturated_memo.insert(at.key, (p, limit, true));
        negligible(rest, limit).then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_weight_of_exactly_one_saturates() {
        assert_eq!(saturated(&[0.0, 1.0, 1e-30]), Some((1, 1e-30)));
        assert_eq!(saturated(&[0.5, 0.5]), None);
        let by_min = limit(1e-6, f64::INFINITY);
        assert!(negligible(0.0, 0.0));
        assert!(negligible(1e-40, by_min));
        assert!(!negligible(1e-20, by_min));
        assert!(
            !negligible(1e-300, limit(0.0, f64::INFINITY)),
            "a zero q^z(v) takes nothing but exact zeros"
        );
        assert_eq!(ratio(&[0.5, 0.5, 0.0], &[0.25, 0.75, 0.0]), 1.5);
        assert_eq!(ratio(&[1.0, 0.0], &[0.5, 0.5]), f64::INFINITY);
        assert!(limit(1e-6, 1.5) > by_min, "a close plan allows more weight");
    }

    /// The bounds' claim, checked on the mixing arithmetic itself: random marginals, the
    /// saturated plan anywhere in plan order, the others' weights just under the limit.
    #[test]
    fn a_negligible_rest_leaves_every_value_unchanged() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut taken = 0;
        for _ in 0..2000 {
            let (m, v) = (rng.random_range(2..=4), rng.random_range(2..=8));
            let q: Vec<Vec<f64>> = (0..m)
                .map(|_| {
                    let raw: Vec<f64> = (0..v)
                        .map(|_| match rng.random_range(0..4) {
                            0 => 0.0,
                            1 => rng.random::<f64>() * 1e-12,
                            _ => rng.random::<f64>(),
                        })
                        .collect();
                    let s: f64 = raw.iter().sum::<f64>().max(f64::MIN_POSITIVE);
                    raw.iter().map(|x| x / s).collect()
                })
                .collect();
            let z = rng.random_range(0..m);
            let q_min = q[z].iter().copied().fold(f64::INFINITY, f64::min);
            let r = (0..m)
                .filter(|&y| y != z)
                .map(|y| ratio(&q[z], &q[y]))
                .fold(0.0, f64::max);
            let lim = limit(q_min, r);
            if !(lim > 0.0 && lim.is_finite()) {
                continue;
            }
            // Weights that sum (as `saturated` sums them) to just under the limit.
            let mut w: Vec<f64> = (0..m).map(|_| rng.random::<f64>() + 0.01).collect();
            w[z] = 0.0;
            let s: f64 = w.iter().sum();
            let scale = lim * (1.0 - 1e-9) / s;
            w.iter_mut().for_each(|x| *x *= scale);
            w[z] = 1.0;
            let (zz, rest) = saturated(&w).expect("w_z = 1");
            assert_eq!(zz, z);
            if !negligible(rest, lim) {
                continue;
            }
            taken += 1;
            for u in 0..v {
                let mut a = 0.0;
                for y in 0..m {
                    if w[y] != 0.0 {
                        a += w[y] * q[y][u];
                    }
                }
                assert_eq!(a.to_bits(), q[z][u].to_bits(), "z {z}, v {u}: {q:?} {w:?}");
            }
        }
        assert!(taken > 500, "only {taken} cases were negligible");
    }
}
