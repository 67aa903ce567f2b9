//! Text drawn from a chain's rows: prompts, and the continuation of a started text.

use ndarray::ArrayView2;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::state::Token;

/// argmax with the smallest index on ties.
pub(crate) fn argmax(values: impl Iterator<Item = f64>) -> Token {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (i, v) in values.enumerate() {
        if v > best_v {
            best = i;
            best_v = v;
        }
    }
    best as Token
}

/// A prompt drawn from a chain: the first token uniform over the non-EOS tokens, the rest
/// by the chain's rows.
pub(crate) fn sample_chain(
    t: ArrayView2<'_, f64>,
    eos: Option<Token>,
    len: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Token> {
    let v = t.nrows();
    let eos = eos.filter(|&e| (e as usize) < v);
    let starts = v - usize::from(eos.is_some());
    let mut first = rng.random_range(0..starts.max(1)) as Token;
    // Skip over EOS, unless EOS is the only token there is.
    if starts > 0 && eos.is_some_and(|e| first >= e) {
        first += 1;
    }
    let mut out = vec![first];
    continue_chain(t, &mut out, len, rng);
    out
}

/// Extends a non-empty `out` to `len` tokens by the chain's rows, one uniform draw a token
/// (the last token if rounding leaves the row's sum below the draw).
pub(crate) fn continue_chain(
    t: ArrayView2<'_, f64>,
    out: &mut Vec<Token>,
    len: usize,
    rng: &mut ChaCha8Rng,
) {
    let v = t.nrows();
    while out.len() < len {
        let row = t.row(*out.last().expect("non-empty") as usize);
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut next = v - 1;
        for (j, &p) in row.iter().enumerate() {
            acc += p;
            if u < acc {
                next = j;
                break;
            }
        }
        out.push(next as Token);
    }
}
