//! A seeded generator of Markov chains, for scenarios without an explicit matrix.
//!
//! Each non-EOS row puts its mass on `support` random successors with softmax weights of
//! `peakedness` times a standard normal draw. A `deterministic_share` of the rows is then
//! made near-deterministic: `deterministic_mass` goes to one successor. Last, every non-EOS
//! row sends `eos_hazard` of its mass to the absorbing EOS token.

use ndarray::Array2;
use rand::seq::index::sample;
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

/// Draws the transition matrix for `params` from `seed`.
pub fn generate(params: &ChainParams, seed: u64) -> Array2<f64> {
    let v = params.vocab_size;
    let eos = params.eos_token.map(|e| e as usize).filter(|&e| e < v);
    let choices: Vec<usize> = (0..v).filter(|&j| Some(j) != eos).collect();
    let support = params.support.clamp(1, choices.len().max(1));
    let mut rng = matrix_rng(seed);
    let mut t = Array2::zeros((v, v));
    let mut weights = vec![0.0; choices.len()];
    for i in 0..v {
        if Some(i) == eos {
            t[[i, i]] = 1.0;
            continue;
        }
        weights.iter_mut().for_each(|w| *w = 0.0);
        let picked = sample(&mut rng, choices.len(), support);
        let mut total = 0.0;
        for c in picked.iter() {
            let z: f64 = StandardNormal.sample(&mut rng);
            weights[c] = (params.peakedness * z).exp();
            total += weights[c];
        }
        let deterministic = rng.random::<f64>() < params.deterministic_share;
        let favourite = picked.index(rng.random_range(0..support));
        let keep = 1.0 - params.eos_hazard;
        for (c, &j) in choices.iter().enumerate() {
            let mut p = weights[c] / total;
            if deterministic {
                let onehot = if c == favourite { 1.0 } else { 0.0 };
                p = params.deterministic_mass * onehot + (1.0 - params.deterministic_mass) * p;
            }
            t[[i, j]] = keep * p;
        }
        if let Some(e) = eos {
            t[[i, e]] = params.eos_hazard;
        }
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
    fn the_seed_alone_fixes_the_matrix() {
        assert_eq!(generate(&params(), 7), generate(&params(), 7));
        assert_ne!(generate(&params(), 7), generate(&params(), 8));
    }
}
