//! The K x V marginal, q(v) = sum_h w[h] E[h, v], and the prediction taken from it.
//!
//! Each q(v) adds its K terms for h = 0, 1, ... in turn, and the normaliser adds q(0),
//! q(1), ... in turn, exactly as the plain loops do, so every value is bit-identical to
//! [`super::HmmOracle::fill_marginal`]. The speed comes from keeping the sums in registers
//! while E streams past, from AVX2 when the processor has it (the same IEEE operations,
//! never fused), and from computing several positions side by side (one per vector lane),
//! since each normaliser is a chain of dependent additions.

use crate::state::{ConfidenceKind, Prediction};

/// Lanes of q kept in registers while the K rows of E stream past.
const LANES: usize = 16;

/// Positions whose normalisers are summed side by side.
pub(super) const BATCH: usize = 8;

/// q = sum_h w[h] E[h, ..] (unnormalised) for `e` row-major K x V, K = `w.len()`.
#[inline(always)]
fn weighted_rows(w: &[f64], e: &[f64], q: &mut [f64]) {
    let v = q.len();
    let mut c = 0;
    while c + LANES <= v {
        let mut acc = [0.0f64; LANES];
        for (h, &wh) in w.iter().enumerate() {
            let row = &e[h * v + c..h * v + c + LANES];
            for (a, &x) in acc.iter_mut().zip(row) {
                *a += wh * x;
            }
        }
        q[c..c + LANES].copy_from_slice(&acc);
        c += LANES;
    }
    for (x, q) in q.iter_mut().enumerate().skip(c) {
        let mut s = 0.0;
        for (h, &wh) in w.iter().enumerate() {
            s += wh * e[h * v + x];
        }
        *q = s;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn weighted_rows_avx2(w: &[f64], e: &[f64], q: &mut [f64]) {
    weighted_rows(w, e, q);
}

/// The processor runs AVX2 (checked once per oracle).
pub(super) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// q = sum_h w[h] E[h, ..], unnormalised; `avx2` from [`has_avx2`].
pub(super) fn marginal(w: &[f64], e: &[f64], q: &mut [f64], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the processor reported AVX2 (`has_avx2`).
        unsafe { weighted_rows_avx2(w, e, q) };
        return;
    }
    let _ = avx2;
    weighted_rows(w, e, q);
}

/// The unnormalised marginals of [`BATCH`] positions at once. `wt` holds their weights
/// rows as columns (K x BATCH, `wt[h * BATCH + r]`), `e_t` is E transposed (V x K). Writes
/// `qs[x * BATCH + r]` = q_r(x), and per position the normaliser `sum` (q_r(0), q_r(1), ...
/// added in turn) and the largest value `top`.
#[inline(always)]
fn batch(wt: &[f64], e_t: &[f64], qs: &mut [f64], sum: &mut [f64; BATCH], top: &mut [f64; BATCH]) {
    let k = wt.len() / BATCH;
    let v = e_t.len() / k;
    // Local copies, so the running sums and maxima stay in registers.
    let (mut s, mut t) = (*sum, *top);
    let mut add = |x: usize, acc: &[f64; BATCH], qs: &mut [f64]| {
        qs[x * BATCH..(x + 1) * BATCH].copy_from_slice(acc);
        for r in 0..BATCH {
            s[r] += acc[r];
            t[r] = if acc[r] > t[r] { acc[r] } else { t[r] };
        }
    };
    // X values of x at a time: independent sums to hide the latency of each one's K
    // additions, and each weights row loaded once for all of them.
    const X: usize = 4;
    let mut x = 0;
    while x + X <= v {
        let mut acc = [[0.0f64; BATCH]; X];
        for h in 0..k {
            let w = &wt[h * BATCH..(h + 1) * BATCH];
            for (j, acc) in acc.iter_mut().enumerate() {
                let eh = e_t[(x + j) * k + h];
                for (a, &wr) in acc.iter_mut().zip(w) {
                    *a += wr * eh;
                }
            }
        }
        for (j, acc) in acc.iter().enumerate() {
            add(x + j, acc, qs);
        }
        x += X;
    }
    for x in x..v {
        let mut acc = [0.0f64; BATCH];
        for h in 0..k {
            let eh = e_t[x * k + h];
            for (a, &wr) in acc.iter_mut().zip(&wt[h * BATCH..(h + 1) * BATCH]) {
                *a += wr * eh;
            }
        }
        add(x, &acc, qs);
    }
    (*sum, *top) = (s, t);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn batch_avx2(
    wt: &[f64],
    e_t: &[f64],
    qs: &mut [f64],
    sum: &mut [f64; BATCH],
    top: &mut [f64; BATCH],
) {
    batch(wt, e_t, qs, sum, top);
}

/// [`batch`], with AVX2 when `avx2` (from [`has_avx2`]).
pub(super) fn marginals(
    wt: &[f64],
    e_t: &[f64],
    qs: &mut [f64],
    sum: &mut [f64; BATCH],
    top: &mut [f64; BATCH],
    avx2: bool,
) {
    *sum = [0.0; BATCH];
    *top = [f64::NEG_INFINITY; BATCH];
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the processor reported AVX2 (`has_avx2`).
        unsafe { batch_avx2(wt, e_t, qs, sum, top) };
        return;
    }
    let _ = avx2;
    batch(wt, e_t, qs, sum, top);
}

/// The prediction of position `r` of a [`batch`] (its q_r(x) at `qs[x * BATCH + r]`, its
/// normaliser `sum` and largest value `top`), as [`Prediction::from_distribution_with`]
/// would give it from q_r / sum, when `kind` needs no more than the two largest
/// probabilities and no entropy is asked for; None when the full path must decide.
///
/// Division by a positive sum is monotone, so the largest quotient is the largest q's
/// quotient, the argmax is the first x whose quotient equals it (only values within
/// rounding of the largest q are divided to find it), and the runner-up's quotient is the
/// largest other q's.
pub(super) fn prediction(
    qs: &[f64],
    r: usize,
    sum: f64,
    top: f64,
    kind: ConfidenceKind,
    entropy: bool,
) -> Option<Prediction> {
    if entropy
        || kind == ConfidenceKind::NegEntropy
        || !(sum > 0.0 && sum.is_finite() && top >= 0.0)
    {
        return None;
    }
    let v = qs.len() / BATCH;
    let q = |x: usize| qs[x * BATCH + r];
    let prob = top / sum;
    let near = top * (1.0 - 1e-14);
    let best = (0..v).find(|&x| q(x) >= near && q(x) / sum == prob)?;
    let conf = match kind {
        ConfidenceKind::Margin => {
            let second =
                (0..v)
                    .filter(|&x| x != best)
                    .map(q)
                    .fold(0.0f64, |a, b| if b > a { b } else { a });
            prob - second / sum
        }
        _ => prob,
    };
    Some(Prediction {
        token: best as crate::state::Token,
        prob,
        conf,
        entropy: 0.0,
    })
}
