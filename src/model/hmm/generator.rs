//! The seeded generator of HMMs for scenarios without explicit matrices.

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::model::chain_gen;
use crate::state::Token;

/// Parameters of a generated HMM. Together with the seed they fix A, E and pi.
///
/// There are `states` content states. Without EOS, K = `states`. With an EOS token, each
/// content state emits EOS with probability `eos_hazard` and moves to one extra absorbing
/// "end" state with probability `eos_hazard`, so K = `states` + 1; the end state emits only
/// EOS. So EOS can appear mid-text (as a stray emission) but eventually the text ends in
/// EOS padding, at an expected length of about 1 / `eos_hazard`. pi is uniform over the
/// content states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HmmParams {
    /// Content states (at least 1 is used).
    pub states: usize,
    /// V.
    pub vocab_size: usize,
    /// In [0, 1]: a content row is `stickiness` on itself plus (1 - `stickiness`) times a
    /// flat-Dirichlet random row over the content states.
    pub stickiness: f64,
    /// Non-negative: the inverse temperature of each emission row's softmax over standard
    /// normal draws; 0 gives uniform emissions.
    pub emission_sharpness: f64,
    /// In [0, 1]: the share of a content row's non-sticky mass that goes to the state's
    /// successor on one random cycle through the content states, so the hidden state
    /// moves on predictably (the next clause follows this one) instead of at random. 0 is
    /// the flat-Dirichlet row alone.
    pub state_flow: f64,
    /// The EOS token; ignored if it is not below `vocab_size`.
    pub eos_token: Option<Token>,
    /// In [0, 1): each content state's EOS emission mass and its chance of moving to the
    /// end state.
    pub eos_hazard: f64,
}

/// The stream a generated HMM is drawn from, kept apart from chain_gen's so an HMM and a
/// chain from the same seed do not share draws.
fn hmm_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x686d_6d5f_6d6f_6465)
}

/// An HMM's (A, E, pi): transitions (K x K), emissions (K x V) and initial law (K).
pub type HmmMatrices = (Array2<f64>, Array2<f64>, Array1<f64>);

/// Draws (A, E, pi) for `params` from `seed`.
pub fn generate(params: &HmmParams, seed: u64) -> HmmMatrices {
    let v = params.vocab_size;
    let eos = params.eos_token.map(|e| e as usize).filter(|&e| e < v);
    let content = params.states.max(1);
    let k = content + usize::from(eos.is_some());
    let hazard = if eos.is_some() {
        params.eos_hazard
    } else {
        0.0
    };
    let keep = 1.0 - hazard;
    let words: Vec<usize> = (0..v).filter(|&x| Some(x) != eos).collect();
    let mut rng = hmm_rng(seed);
    let mut a = Array2::zeros((k, k));
    let mut e = Array2::zeros((k, v));
    let mut draws = vec![0.0; content.max(words.len())];
    // Each state's successor on one cycle, from its own stream, so that state_flow = 0
    // draws exactly the matrices the generator drew before the knob existed.
    let next = chain_gen::one_cycle(
        content,
        &mut ChaCha8Rng::seed_from_u64(seed ^ 0x666c_6f77_5f63_7963),
    );
    let flow = params.state_flow;
    for h in 0..content {
        for d in &mut draws[..content] {
            *d = Exp1.sample(&mut rng);
        }
        let total: f64 = draws[..content].iter().sum();
        for j in 0..content {
            let stay = if j == h { params.stickiness } else { 0.0 };
            let onward = if j == next[h] { flow } else { 0.0 };
            let moved = (1.0 - flow) * draws[j] / total + onward;
            a[[h, j]] = keep * (stay + (1.0 - params.stickiness) * moved);
        }
        for d in &mut draws[..words.len()] {
            *d = StandardNormal.sample(&mut rng);
        }
        // Shift by the largest draw so a sharp softmax cannot overflow.
        let top = draws[..words.len()]
            .iter()
            .copied()
            .fold(f64::MIN, f64::max);
        for d in &mut draws[..words.len()] {
            *d = (params.emission_sharpness * (*d - top)).exp();
        }
        let total: f64 = draws[..words.len()].iter().sum();
        for (c, &x) in words.iter().enumerate() {
            e[[h, x]] = keep * draws[c] / total;
        }
        if let Some(x) = eos {
            a[[h, content]] = hazard;
            e[[h, x]] = if words.is_empty() { 1.0 } else { hazard };
        }
    }
    if let Some(x) = eos {
        a[[content, content]] = 1.0;
        e[[content, x]] = 1.0;
    }
    let mut pi = Array1::zeros(k);
    pi.slice_mut(ndarray::s![..content])
        .fill(1.0 / content as f64);
    (a, e, pi)
}
