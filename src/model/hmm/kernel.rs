//! The K x V marginal, q(v) = sum_h w[h] E[h, v], and the prediction taken from it.
//!
//! Each q(v) adds its K terms for h = 0, 1, ... in turn, and the normaliser adds q(0),
//! q(1), ... in turn, exactly as the plain loops do, so every value is bit-identical to
//! [`super::HmmOracle::fill_marginal`]. The speed comes from keeping 16 sums in registers
//! while the rows of E stream past, from AVX2 when the processor has it (the same IEEE
//! operations, never fused), and from running the normalisers of several positions side by
//! side, since each one is a chain of dependent additions.

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

/// The predictions of the unnormalised marginals `qs` (one V-long row per position, at
/// [`BATCH`], of which the first `n` are wanted), as [`Prediction::from_distribution_with`] would give them from q / sum,
/// when `kind` needs no more than the two largest probabilities and no entropy is asked
/// for. Returns false (and writes nothing) when the slow path must decide.
///
/// Division by a positive sum is monotone, so the largest quotient is the largest q's
/// quotient, and the argmax is the first v whose quotient equals it: only values within
/// rounding of the largest q are divided to find it.
pub(super) fn predictions(
    qs: &[f64],
    n: usize,
    v: usize,
    kind: ConfidenceKind,
    entropy: bool,
    out: &mut [Prediction; BATCH],
) -> bool {
    if entropy || kind == ConfidenceKind::NegEntropy {
        return false;
    }
    let qs = &qs[..BATCH * v];
    let mut sum = [0.0f64; BATCH];
    let mut top = [f64::NEG_INFINITY; BATCH];
    // Every row, wanted or not, so the BATCH chains of additions run side by side.
    for x in 0..v {
        for r in 0..BATCH {
            let q = qs[r * v + x];
            sum[r] += q;
            if q > top[r] {
                top[r] = q;
            }
        }
    }
    if (0..n).any(|r| !(sum[r] > 0.0 && sum[r].is_finite() && top[r] >= 0.0)) {
        return false;
    }
    for r in 0..n {
        let (q, s) = (&qs[r * v..(r + 1) * v], sum[r]);
        let prob = top[r] / s;
        let near = top[r] * (1.0 - 1e-14);
        let best = (0..v)
            .find(|&x| q[x] >= near && q[x] / s == prob)
            .expect("the largest q divides to the largest quotient");
        let conf = match kind {
            ConfidenceKind::Prob => prob,
            ConfidenceKind::Margin => {
                let second = (0..v)
                    .filter(|&x| x != best)
                    .map(|x| q[x])
                    .fold(0.0f64, |a, b| if b > a { b } else { a });
                prob - second / s
            }
            ConfidenceKind::NegEntropy => unreachable!("handled above"),
        };
        out[r] = Prediction {
            token: best as crate::state::Token,
            prob,
            conf,
            entropy: 0.0,
        };
    }
    true
}
