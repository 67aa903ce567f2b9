//! The seeded generator of plan mixtures: M chains that share some rows, and a prior of
//! chosen entropy.

use ndarray::Array2;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::model::chain_gen::{self, ChainParams};

/// Parameters of a generated plan mixture. Together with the seed they fix the plans and
/// the prior.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanParams {
    /// M >= 1 (0 is read as 1).
    pub plans: usize,
    /// Normalised entropy H(prior) / ln M in [0, 1]: 1 is uniform, 0 puts all mass on plan
    /// 0. The prior is prior_z ∝ exp(-beta z) with beta >= 0 found by bisection.
    pub prior_entropy: f64,
    /// Share of the tokens, in [0, 1], whose transition rows every plan copies from plan 0.
    pub overlap: f64,
    /// Row parameters of every plan's chain.
    pub chain: ChainParams,
}

/// Draws the plans and the prior for `params` from `seed`. Plan z is
/// [`chain_gen::generate`] with its own seed derived from (seed, z); then round(overlap * V)
/// tokens, chosen from the seed, get plan 0's rows in every plan. EOS rows stay absorbing,
/// since every plan makes them so. Out-of-range knobs are clamped, never a panic.
pub fn generate(params: &PlanParams, seed: u64) -> (Vec<Array2<f64>>, Vec<f64>) {
    let m = params.plans.max(1);
    let mut plans: Vec<Array2<f64>> = (0..m)
        .map(|z| chain_gen::generate(&params.chain, plan_seed(seed, z)))
        .collect();
    let (first, rest) = plans.split_first_mut().expect("m >= 1");
    for s in shared_rows(first.nrows(), params.overlap, seed) {
        for p in rest.iter_mut() {
            p.row_mut(s).assign(&first.row(s));
        }
    }
    (plans, prior_with_entropy(m, params.prior_entropy))
}

/// Plan z's chain seed: the z-th output of splitmix64 from `seed`. Distinct z give distinct
/// seeds, since splitmix64's finaliser is a bijection.
fn plan_seed(seed: u64, z: usize) -> u64 {
    let mut x = seed.wrapping_add((z as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The shared tokens: round(overlap * V) of them, from a stream of the seed kept apart from
/// the chains' streams.
pub(super) fn shared_rows(v: usize, overlap: f64, seed: u64) -> Vec<usize> {
    // A NaN share casts to 0 tokens.
    let k = ((overlap.clamp(0.0, 1.0) * v as f64).round() as usize).min(v);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x706c_616e_5f73_6872);
    sample(&mut rng, v, k).into_vec()
}

/// prior_z ∝ exp(-beta z) over M plans, normalised.
fn geometric(m: usize, beta: f64) -> Vec<f64> {
    let w: Vec<f64> = (0..m).map(|z| (-beta * z as f64).exp()).collect();
    let sum: f64 = w.iter().sum();
    w.into_iter().map(|x| x / sum).collect()
}

/// H(p) / ln M, summing only where p > 0.
pub(super) fn normalised_entropy(p: &[f64]) -> f64 {
    let h: f64 = p.iter().filter(|&&x| x > 0.0).map(|&x| -x * x.ln()).sum();
    h / (p.len() as f64).ln()
}

/// The geometric prior whose normalised entropy is `target`. The entropy falls strictly
/// from 1 (beta = 0) towards 0 as beta grows, so bisection on beta finds it.
pub(super) fn prior_with_entropy(m: usize, target: f64) -> Vec<f64> {
    if m == 1 || target.is_nan() || target >= 1.0 {
        return geometric(m, 0.0);
    }
    if target <= 0.0 {
        return (0..m).map(|z| if z == 0 { 1.0 } else { 0.0 }).collect();
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while normalised_entropy(&geometric(m, hi)) > target && hi < 1e6 {
        (lo, hi) = (hi, hi * 2.0);
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normalised_entropy(&geometric(m, mid)) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    geometric(m, 0.5 * (lo + hi))
}
