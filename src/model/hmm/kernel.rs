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

/// The widest vector instructions the kernels may use, each level implying the ones below.
/// Checked once per oracle; every level gives the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Simd {
    Plain,
    Avx2,
    Avx512,
}

impl Simd {
    /// What this processor supports.
    pub(super) fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Plain
    }

    /// Every level this processor supports, for tests that compare them.
    #[cfg(test)]
    pub(super) fn supported() -> Vec<Simd> {
        [Simd::Plain, Simd::Avx2, Simd::Avx512]
            .into_iter()
            .filter(|&s| s <= Simd::detect())
            .collect()
    }
}

/// q = sum_h w[h] E[h, ..], unnormalised; `simd` from [`Simd::detect`].
pub(super) fn marginal(w: &[f64], e: &[f64], q: &mut [f64], simd: Simd) {
    #[cfg(target_arch = "x86_64")]
    if simd >= Simd::Avx2 {
        // SAFETY: `simd` is at least Avx2 only when the processor reported AVX2.
        unsafe { weighted_rows_avx2(w, e, q) };
        return;
    }
    let _ = simd;
    weighted_rows(w, e, q);
}

/// What [`batch`] keeps per position while q streams past: the normaliser (q(0), q(1),
/// ... added in turn), the largest value, the first x holding it (as f64, so the lanes
/// stay vector-wide) and the largest value at any other x.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tally {
    pub sum: [f64; BATCH],
    pub top: [f64; BATCH],
    pub arg: [f64; BATCH],
    pub second: [f64; BATCH],
}

impl Tally {
    fn new() -> Self {
        Tally {
            sum: [0.0; BATCH],
            top: [f64::NEG_INFINITY; BATCH],
            arg: [0.0; BATCH],
            second: [f64::NEG_INFINITY; BATCH],
        }
    }

    /// Takes in q(x) of every lane.
    // One lane index across five arrays reads plainer than a five-way zip.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn add(&mut self, x: f64, acc: &[f64; BATCH]) {
        for r in 0..BATCH {
            let (a, t) = (acc[r], self.top[r]);
            self.sum[r] += a;
            let gt = a > t;
            // The old top joins the others when a overtakes it; otherwise a does.
            let other = if gt { t } else { a };
            self.second[r] = if other > self.second[r] {
                other
            } else {
                self.second[r]
            };
            self.arg[r] = if gt { x } else { self.arg[r] };
            self.top[r] = if gt { a } else { t };
        }
    }

    /// [`Tally::add`] in AVX2 registers: the same comparisons and selections, lane by lane
    /// (`max_pd(a, b)` is `if a > b { a } else { b }`, as in the plain code).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    fn add_avx2(&mut self, x: f64, acc: &[f64; BATCH]) {
        use std::arch::x86_64::*;
        let xv = _mm256_set1_pd(x);
        for half in 0..BATCH / 4 {
            let lanes = half * 4..half * 4 + 4;
            let load = |v: &[f64; BATCH]| {
                // SAFETY: `lanes` is 4 in-bounds f64; unaligned loads are allowed.
                unsafe { _mm256_loadu_pd(v[lanes.clone()].as_ptr()) }
            };
            let (a, t, s) = (load(acc), load(&self.top), load(&self.sum));
            let (second, arg) = (load(&self.second), load(&self.arg));
            let gt = _mm256_cmp_pd::<_CMP_GT_OQ>(a, t);
            let other = _mm256_blendv_pd(a, t, gt);
            let out = [
                (&mut self.sum, _mm256_add_pd(s, a)),
                (&mut self.second, _mm256_max_pd(other, second)),
                (&mut self.arg, _mm256_blendv_pd(arg, xv, gt)),
                (&mut self.top, _mm256_blendv_pd(t, a, gt)),
            ];
            for (dst, v) in out {
                // SAFETY: as for the loads.
                unsafe { _mm256_storeu_pd(dst[lanes.clone()].as_mut_ptr(), v) };
            }
        }
    }

    #[inline(always)]
    fn take(&mut self, x: usize, acc: &[f64; BATCH], avx2: bool) {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: `avx2` is true only inside `batch_avx2`.
            unsafe { self.add_avx2(x as f64, acc) };
            return;
        }
        let _ = avx2;
        self.add(x as f64, acc);
    }
}

/// The unnormalised marginals of [`BATCH`] positions at once. `wt` holds their weights
/// rows as columns (K x BATCH, `wt[h * BATCH + r]`), `e_t` is E transposed (V x K). Writes
/// `qs[x * BATCH + r]` = q_r(x) and returns each position's [`Tally`].
#[inline(always)]
fn batch(wt: &[f64], e_t: &[f64], qs: &mut [f64], avx2: bool) -> Tally {
    let k = wt.len() / BATCH;
    let (wt, _) = wt.as_chunks::<BATCH>();
    let mut tally = Tally::new();
    // X values of x at a time: independent sums to hide the latency of each one's K
    // additions, and each weights row loaded once for all of them.
    const X: usize = 4;
    let v = qs.len() / BATCH;
    let whole = v / X * X;
    let (qs, qs_rest) = qs.split_at_mut(whole * BATCH);
    let (e_head, e_rest) = e_t.split_at(whole * k);
    for (n, (ex, qx)) in e_head
        .chunks_exact(X * k)
        .zip(qs.chunks_exact_mut(X * BATCH))
        .enumerate()
    {
        let (e0, e1) = ex.split_at(k);
        let (e1, e2) = e1.split_at(k);
        let (e2, e3) = e2.split_at(k);
        let mut acc = [[0.0f64; BATCH]; X];
        for ((((w, &h0), &h1), &h2), &h3) in wt.iter().zip(e0).zip(e1).zip(e2).zip(e3) {
            for (j, eh) in [h0, h1, h2, h3].into_iter().enumerate() {
                for (a, &wr) in acc[j].iter_mut().zip(w) {
                    *a += wr * eh;
                }
            }
        }
        for (j, (acc, q)) in acc.iter().zip(qx.chunks_exact_mut(BATCH)).enumerate() {
            q.copy_from_slice(acc);
            tally.take(n * X + j, acc, avx2);
        }
    }
    for (j, (ex, q)) in e_rest
        .chunks_exact(k)
        .zip(qs_rest.chunks_exact_mut(BATCH))
        .enumerate()
    {
        let mut acc = [0.0f64; BATCH];
        for (w, &eh) in wt.iter().zip(ex) {
            for (a, &wr) in acc.iter_mut().zip(w) {
                *a += wr * eh;
            }
        }
        q.copy_from_slice(&acc);
        tally.take(whole + j, &acc, avx2);
    }
    tally
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn batch_avx2(wt: &[f64], e_t: &[f64], qs: &mut [f64]) -> Tally {
    batch(wt, e_t, qs, true)
}

/// [`batch`], in the widest vectors `simd` (from [`Simd::detect`]) allows.
pub(super) fn marginals(wt: &[f64], e_t: &[f64], qs: &mut [f64], simd: Simd) -> Tally {
    #[cfg(target_arch = "x86_64")]
    match simd {
        // SAFETY: `simd` names a level only when the processor reported it.
        Simd::Avx512 => return unsafe { super::avx512::batch(wt, e_t, qs) },
        // SAFETY: as above.
        Simd::Avx2 => return unsafe { batch_avx2(wt, e_t, qs) },
        Simd::Plain => {}
    }
    batch(wt, e_t, qs, false)
}

/// The prediction of position `r` of a [`batch`] (its q_r(x) at `qs[x * BATCH + r]` and its
/// [`Tally`]), as [`Prediction::from_distribution_with`] would give it from q_r / sum,
/// when `kind` needs no more than the two largest probabilities and no entropy is asked
/// for; None when the full path must decide.
///
/// Division by a positive sum is monotone, so the largest quotient is the largest q's
/// quotient, and when the largest other q's quotient falls short of it, the argmax is the
/// first x holding the largest q and the runner-up's quotient is that other q's. Else the
/// argmax is the first x whose quotient equals the largest (only values within rounding of
/// the largest q are divided to find it).
pub(super) fn prediction(
    qs: &[f64],
    r: usize,
    tally: &Tally,
    kind: ConfidenceKind,
    entropy: bool,
) -> Option<Prediction> {
    let (sum, top) = (tally.sum[r], tally.top[r]);
    if entropy
        || kind == ConfidenceKind::NegEntropy
        || !(sum > 0.0 && sum.is_finite() && top >= 0.0)
    {
        return None;
    }
    let v = qs.len() / BATCH;
    let q = |x: usize| qs[x * BATCH + r];
    let prob = top / sum;
    let other = tally.second[r];
    let (best, second) = if v >= 2 && other / sum != prob {
        // Every q is at least +0.0, so the largest other one is the fold's from 0.0.
        (tally.arg[r] as usize, other)
    } else {
        let near = top * (1.0 - 1e-14);
        let best = (0..v).find(|&x| q(x) >= near && q(x) / sum == prob)?;
        let second = (0..v)
            .filter(|&x| x != best)
            .map(q)
            .fold(0.0f64, |a, b| if b > a { b } else { a });
        (best, second)
    };
    let conf = match kind {
        ConfidenceKind::Margin => prob - second / sum,
        _ => prob,
    };
    Some(Prediction {
        token: best as crate::state::Token,
        prob,
        conf,
        entropy: 0.0,
    })
}

#[cfg(test)]
#[path = "kernel_tests.rs"]
mod tests;
