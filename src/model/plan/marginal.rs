//! One plan's section-2 marginal, read straight from the power matrices' entries.
//!
//! [`MarkovOracle::marginal`] indexes T^d through ndarray's two-dimensional, bounds-checked
//! indexing and reads q's right factor, column x_r of T^(d_r), one cache line per value.
//! At B = 128 a decode computes about 1.7 new marginals per predicted position (a revealed
//! token in a long masked run gives every position of the run new neighbours), so both
//! showed. Here the column comes from a transposed copy of T^(d_r), contiguous, where the
//! budget allows one; the products are formed first (vectorised), then summed in order
//! and divided by the same sum. It is the oracle's arithmetic on the same values, so the
//! marginal is the same bits (the tests check this).

use std::sync::OnceLock;

use super::PlanMixture;
use crate::model::markov::MarkovOracle;
use crate::state::Token;

/// The bytes of transposed powers one mixture may hold, over all its plans. Only distances
/// up to what fits are transposed (all of them at V = 32, L = 512 with 3 plans; T^1..T^42
/// at V = 128); a longer right distance reads the column of T^(d_r) in place.
const TRANSPOSED_BYTES: usize = 16 << 20;

/// One plan's transposed powers, (T^d)^T for d below the budget's span, each built on
/// first use from the power cache and shared by every thread.
#[derive(Debug, Default)]
pub(super) struct Transposed {
    levels: Vec<OnceLock<Box<[f64]>>>,
}

impl Transposed {
    /// Room for the transposes of one of `plans` plans over `vocab` tokens, distances up
    /// to `max_distance`, within [`TRANSPOSED_BYTES`] for all the plans.
    pub(super) fn new(plans: usize, vocab: usize, max_distance: usize) -> Self {
        let per_distance = (plans * vocab * vocab * 8).max(1);
        let span = (TRANSPOSED_BYTES / per_distance).min(max_distance.saturating_add(1));
        Transposed {
            levels: (0..span).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Column `x` of T^d (T = `plan`'s transitions) as a contiguous slice, when T^d is
    /// within the span.
    fn column<'a>(
        &'a self,
        plan: &MarkovOracle,
        d: usize,
        x: usize,
        v: usize,
    ) -> Option<&'a [f64]> {
        let t = self.levels.get(d)?.get_or_init(|| {
            let p = plan.power(d);
            let mut t = vec![0.0; v * v];
            for ((r, c), &e) in p.indexed_iter() {
                t[c * v + r] = e;
            }
            t.into_boxed_slice()
        });
        Some(&t[x * v..][..v])
    }
}

/// Whether row `eos` of `t` is exactly the unit vector at `eos`.
pub(super) fn absorbs(t: &ndarray::Array2<f64>, eos: Token) -> bool {
    let e = eos as usize;
    e < t.nrows()
        && t.row(e)
            .iter()
            .enumerate()
            .all(|(v, &p)| p == if v == e { 1.0 } else { 0.0 })
}

impl PlanMixture {
    /// The neighbours a position's marginals are computed and memoised under. Right of an
    /// EOS whose row is exactly absorbing in every plan, every plan's marginal is exactly
    /// the unit vector at EOS: row EOS of every T^d is (each entry of T^d adds zeros and
    /// one product 1 x T[EOS, v], in order), so every product but q(EOS) is an exact 0,
    /// and the right factor T^(d_r)[EOS, x_r] is 1 or 0 (then the left-only form is used).
    /// So all such positions share the key (EOS, 1, none), whose marginal is the same bits.
    /// Under B = 128 most of a decode is EOS (the sequences end early), and this turns
    /// their many distinct keys into one.
    pub(super) fn neighbours(
        &self,
        xl: Token,
        dl: usize,
        right: Option<(Token, usize)>,
    ) -> (Token, usize, Option<(Token, usize)>) {
        if Some(xl) == self.absorbing {
            (xl, 1, None)
        } else {
            (xl, dl, right)
        }
    }

    /// Plan z's section-2 marginal: exactly [`MarkovOracle::marginal`].
    pub(super) fn plan_marginal(
        &self,
        z: usize,
        xl: Token,
        dl: usize,
        right: Option<(Token, usize)>,
        q: &mut [f64],
    ) {
        marginal(&self.plans[z], &self.transposed[z], xl, dl, right, q);
    }
}

/// q_i under `plan` for a masked position at distance `dl` right of token `xl`, and
/// optionally at distance `dr` left of token `xr`, written into `q` (length V): exactly
/// [`MarkovOracle::marginal`].
fn marginal(
    plan: &MarkovOracle,
    transposed: &Transposed,
    xl: Token,
    dl: usize,
    right: Option<(Token, usize)>,
    q: &mut [f64],
) {
    let v = q.len();
    let Some(lp) = plan.power(dl).as_slice() else {
        // Not in standard layout (never, as the powers are built): the indexed form.
        return plan.marginal(xl, dl, right, q);
    };
    let left = &lp[xl as usize * v..][..v];
    if let Some((xr, dr)) = right {
        let xr = xr as usize;
        if let Some(column) = transposed.column(plan, dr, xr, v) {
            for ((qv, &l), &r) in q.iter_mut().zip(left).zip(column) {
                *qv = l * r;
            }
        } else {
            let Some(pr) = plan.power(dr).as_slice() else {
                return plan.marginal(xl, dl, right, q);
            };
            // Column xr of T^dr in place: entries xr, xr + V, xr + 2V, ...
            for ((qv, &l), &r) in q.iter_mut().zip(left).zip(pr[xr..].iter().step_by(v)) {
                *qv = l * r;
            }
        }
        let mut sum = 0.0;
        for &qv in q.iter() {
            sum += qv;
        }
        if sum > 0.0 {
            for qv in q.iter_mut() {
                *qv /= sum;
            }
            return;
        }
    }
    q.copy_from_slice(left);
    let mut sum = 0.0;
    for &qv in q.iter() {
        sum += qv;
    }
    for qv in q.iter_mut() {
        *qv /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Attention;
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};

    /// The plain definition right of an absorbing EOS is the canonical key's marginal, bit
    /// for bit, at every distance and right neighbour.
    #[test]
    fn right_of_an_absorbing_eos_every_key_gives_the_same_marginal() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let v = 6;
        let eos = 2;
        let mut t = Array2::<f64>::zeros((v, v));
        for (r, mut row) in t.rows_mut().into_iter().enumerate() {
            if r == eos {
                row[eos] = 1.0;
                continue;
            }
            row.iter_mut().for_each(|x| *x = rng.random::<f64>());
            let s = row.sum();
            row.mapv_inplace(|x| x / s);
        }
        assert!(absorbs(&t, eos as Token));
        let mut leaky = t.clone();
        leaky[[eos, 0]] = 1e-300;
        assert!(!absorbs(&leaky, eos as Token));
        let plan = MarkovOracle::new(t, Some(eos as Token), Attention::Full, 40);
        let (mut a, mut b) = (vec![0.0; v], vec![0.0; v]);
        plan.marginal(eos as Token, 1, None, &mut b);
        let bits = |q: &[f64]| q.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for dl in 1..=20 {
            for right in (0..v).flat_map(|x| (1..=20).map(move |d| Some((x as Token, d)))) {
                for right in [right, None] {
                    plan.marginal(eos as Token, dl, right, &mut a);
                    assert_eq!(bits(&a), bits(&b), "dl {dl}, {right:?}");
                }
            }
        }
    }

    /// Bit for bit the oracle's marginal, one-sided and two-sided, including a right
    /// neighbour the left one cannot reach (the left-only fallback), with the column read
    /// from a transposed power or in place.
    #[test]
    fn equals_the_oracle_marginal_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for v in [2usize, 5, 8, 13] {
            let mut t = Array2::<f64>::zeros((v, v));
            for mut row in t.rows_mut() {
                for x in row.iter_mut() {
                    *x = if rng.random::<f64>() < 0.4 {
                        0.0
                    } else {
                        rng.random::<f64>()
                    };
                }
                row[rng.random_range(0..v)] += 0.1;
                let s = row.sum();
                row.mapv_inplace(|x| x / s);
            }
            let plan = MarkovOracle::new(t, None, Attention::Full, 20);
            // Transposes for no distance, some, and all.
            let none = Transposed::default();
            let some = Transposed {
                levels: (0..5).map(|_| OnceLock::new()).collect(),
            };
            let all = Transposed::new(1, v, 20);
            let (mut a, mut b) = (vec![0.0; v], vec![0.0; v]);
            for _ in 0..300 {
                let xl = rng.random_range(0..v) as Token;
                let dl = rng.random_range(1..=10);
                let right = rng
                    .random_bool(0.7)
                    .then(|| (rng.random_range(0..v) as Token, rng.random_range(1..=10)));
                plan.marginal(xl, dl, right, &mut b);
                let bits = |q: &[f64]| q.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                for transposed in [&none, &some, &all] {
                    marginal(&plan, transposed, xl, dl, right, &mut a);
                    assert_eq!(bits(&a), bits(&b), "v {v}, xl {xl}, dl {dl}, {right:?}");
                }
            }
        }
    }
}
