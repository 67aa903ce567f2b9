//! A seeded generator of Markov chains, for scenarios without an explicit matrix.
//!
//! The non-EOS tokens are first shuffled into one cycle, and every token's favourite
//! successor is the next token on it. So the greedy (argmax) path walks the whole
//! vocabulary before it repeats, like text, instead of falling into a self-loop or a short
//! cycle, as a row-by-row random argmax does (a random map's cycles have length about
//! sqrt(V)). Each non-EOS row puts its mass on `support` successors: its favourite and
//! `support - 1` random others (never itself while there are others), with softmax weights
//! of `peakedness` times a standard normal draw, the largest weight going to the
//! favourite. A `deterministic_share` of the rows is then made near-deterministic:
//! `deterministic_mass` goes to the favourite. Last, every non-EOS row sends `eos_hazard`
//! of its mass to the absorbing EOS token.

use ndarray::Array2;
use rand::seq::index::sample;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::state::Token;

/// Parameters of a generated chain. Together with the seed they fix the matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainParams {
    /// V.
    pub vocab_size: usize,
    /// Inverse temperature of a row's softmax weights; 0 gives uniform rows.
    pub peakedness: f64,
    /// Share of the non-EOS rows that are near-deterministic.
    pub deterministic_share: f64,
    /// The mass a near-deterministic row puts on its one successor.
    pub deterministic_mass: f64,
    /// Successors with non-zero probability per non-EOS row (the rest are invalid).
    pub support: usize,
    /// Absorbing EOS token.
    pub eos_token: Option<Token>,
    /// Probability that a non-EOS token is followed by EOS.
    pub eos_hazard: f64,
}

/// The stream a generated matrix is drawn from: the scenario seed alone, kept apart from
/// the per-sequence streams, which use `set_stream(seq)` on the plain seed.
fn matrix_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x6d61_7472_6978_5f67)
}

/// The favourite successor of each of `n` tokens (indices into the non-EOS list): one
/// random cycle through all of them.
pub(crate) fn one_cycle(n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mut next = vec![0; n];
    for (i, &a) in order.iter().enumerate() {
        next[a] = order[(i + 1) % n];
    }
    next
}

/// Draws the transition matrix for `params` from `seed`.
pub fn generate(params: &ChainParams, seed: u64) -> Array2<f64> {
    let v = params.vocab_size;
    let eos = params.eos_token.map(|e| e as usize).filter(|&e| e < v);
    let choices: Vec<usize> = (0..v).filter(|&j| Some(j) != eos).collect();
    let n = choices.len();
    let mut rng = matrix_rng(seed);
    let mut t = Array2::zeros((v, v));
    if n == 0 {
        if let Some(e) = eos {
            t[[e, e]] = 1.0;
        }
        return t;
    }
    let next = one_cycle(n, &mut rng);
    let mut weights = vec![0.0; n];
    let mut others: Vec<usize> = Vec::with_capacity(n);
    let keep = 1.0 - params.eos_hazard;
    let mut c = 0;
    for i in 0..v {
        if Some(i) == eos {
            t[[i, i]] = 1.0;
            continue;
        }
        let favourite = next[c];
        others.clear();
        others.extend((0..n).filter(|&o| o != c && o != favourite));
        let extra = params.support.saturating_sub(1).min(others.len());
        weights.iter_mut().for_each(|w| *w = 0.0);
        let mut draws: Vec<(usize, f64)> = Vec::with_capacity(extra + 1);
        for o in std::iter::once(favourite).chain(
            sample(&mut rng, others.len(), extra)
                .iter()
                .map(|k| others[k]),
        ) {
            let z: f64 = StandardNormal.sample(&mut rng);
            draws.push((o, z));
        }
        // The favourite takes the largest draw, so it is the row's argmax.
        let top = draws
            .iter()
            .enumerate()
            .fold(0, |best, (k, d)| if d.1 > draws[best].1 { k } else { best });
        let z0 = draws[0].1;
        draws[0].1 = draws[top].1;
        draws[top].1 = z0;
        let shift = draws[0].1;
        let mut total = 0.0;
        for &(o, z) in &draws {
            weights[o] = (params.peakedness * (z - shift)).exp();
            total += weights[o];
        }
        let deterministic = rng.random::<f64>() < params.deterministic_share;
        for (k, &j) in choices.iter().enumerate() {
            let mut p = weights[k] / total;
            if deterministic {
                let onehot = if k == favourite { 1.0 } else { 0.0 };
                p = params.deterministic_mass * onehot + (1.0 - params.deterministic_mass) * p;
            }
            t[[i, j]] = keep * p;
        }
        if let Some(e) = eos {
            t[[i, e]] = params.eos_hazard;
        }
        c += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ChainParams {
        ChainParams {
            vocab_size: 12,
            peakedness: 2.0,
            deterministic_share: 0.5,
            deterministic_mass: 0.99,
            support: 6,
            eos_token: Some(0),
            eos_hazard: 0.01,
        }
    }

    #[test]
    fn rows_are_stochastic_and_eos_absorbs() {
        let t = generate(&params(), 7);
        for row in t.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
            assert!(row.iter().all(|&p| p >= 0.0));
        }
        assert_eq!(t[[0, 0]], 1.0);
        assert!((t[[3, 0]] - 0.01).abs() < 1e-15);
        // Support 6 plus EOS: at most 7 non-zero entries per row.
        assert!(t
            .rows()
            .into_iter()
            .all(|r| r.iter().filter(|&&p| p > 0.0).count() <= 7));
    }

    #[test]
    fn the_greedy_path_walks_the_whole_vocabulary() {
        for seed in 0..20 {
            let t = generate(&params(), seed);
            // From token 1, the argmax successors visit all 11 non-EOS tokens before
            // coming back, and no token is its own successor.
            let argmax =
                |i: usize| (1..12).fold(1, |b, j| if t[[i, j]] > t[[i, b]] { j } else { b });
            let mut seen = [false; 12];
            let mut x = 1;
            for _ in 0..11 {
                assert!(!seen[x], "seed {seed}: a cycle shorter than the vocabulary");
                seen[x] = true;
                let y = argmax(x);
                assert_ne!(x, y, "seed {seed}: a self-loop at {x}");
                x = y;
            }
            assert_eq!(x, 1);
            assert!(
                (1..12).all(|i| t[[i, i]] == 0.0),
                "seed {seed}: a self-transition"
            );
        }
    }

    #[test]
    fn the_seed_alone_fixes_the_matrix() {
        assert_eq!(generate(&params(), 7), generate(&params(), 7));
        assert_ne!(generate(&params(), 7), generate(&params(), 8));
    }
}
