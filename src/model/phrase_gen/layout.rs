//! A phrase world's layout: the shuffled vocabulary cut into phrases of the length
//! mixture, and which of them are exact idioms.

use rand::seq::index::sample;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::PhraseParams;

/// The world's stream, kept apart from the chain generator's and the sequences'.
pub(crate) fn phrase_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x7068_7261_7365_5f77)
}

/// Which phrases are exact idioms: `exact_share` of them, rounded, picked from a stream of
/// their own so that worlds without the knob keep their matrix.
pub(super) fn exact_phrases(params: &PhraseParams, count: usize, seed: u64) -> Vec<bool> {
    let mut exact = vec![params.determinism >= 1.0; count];
    if params.exact_share > 0.0 && params.determinism < 1.0 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6964_696f_6d5f_7368);
        let n = (params.exact_share * count as f64).round() as usize;
        for i in sample(&mut rng, count, n.min(count)).iter() {
            exact[i] = true;
        }
    }
    exact
}

/// The phrases: the shuffled non-EOS tokens, cut by the length mixture.
pub fn phrases(params: &PhraseParams, words: &[usize], rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut order = words.to_vec();
    order.shuffle(rng);
    let long = params.phrase_length.max(1.0);
    let (floor, frac) = (long.floor() as usize, long - long.floor());
    let mut out = Vec::new();
    let mut at = 0;
    while at < order.len() {
        let len = if rng.random::<f64>() < params.short_share {
            params.short_length.max(1)
        } else if rng.random::<f64>() < frac {
            floor + 1
        } else {
            floor
        };
        let end = (at + len).min(order.len());
        out.push(order[at..end].to_vec());
        at = end;
    }
    out
}
