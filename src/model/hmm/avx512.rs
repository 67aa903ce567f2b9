//! AVX-512 forms of the two hot HMM kernels: the batched K x V marginal and the K x K
//! propagation. A batch is [`BATCH`] = 8 positions, exactly one 512-bit register of f64, so
//! each weights row is one load and each E entry one broadcast. Every value is made by the
//! same IEEE multiplications and additions, in the same order, as the plain loops (never
//! fused), so results are bit-identical on every processor; only the speed differs.

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::kernel::{Tally, BATCH};

const _: () = assert!(BATCH == 8, "one 512-bit register holds a batch");

/// What [`Tally`] keeps, one register per field, while q streams past.
struct Lanes {
    sum: __m512d,
    top: __m512d,
    arg: __m512d,
    second: __m512d,
}

impl Lanes {
    /// [`Tally::add`] for all eight lanes: the same comparisons and selections
    /// (`max_pd(a, b)` is `if a > b { a } else { b }`; a masked blend takes its second
    /// operand where the mask is set).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn add(&mut self, x: f64, a: __m512d) {
        let gt = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(a, self.top);
        let other = _mm512_mask_blend_pd(gt, a, self.top);
        self.sum = _mm512_add_pd(self.sum, a);
        self.second = _mm512_max_pd(other, self.second);
        self.arg = _mm512_mask_blend_pd(gt, self.arg, _mm512_set1_pd(x));
        self.top = _mm512_mask_blend_pd(gt, self.top, a);
    }
}

/// The batched marginal of `super::kernel::batch`, in AVX-512: `wt` is K x [`BATCH`]
/// (weights rows as columns), `e_t` is V x K, `qs[x * BATCH + r]` receives q_r(x).
///
/// # Safety
/// The processor must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn batch(wt: &[f64], e_t: &[f64], qs: &mut [f64]) -> Tally {
    let k = wt.len() / BATCH;
    let v = qs.len() / BATCH;
    assert!(e_t.len() >= v * k && wt.len() == k * BATCH);
    let load = |h: usize| {
        // SAFETY: rows h < k of `wt` are BATCH in-bounds f64; unaligned loads are allowed.
        unsafe { _mm512_loadu_pd(wt[h * BATCH..(h + 1) * BATCH].as_ptr()) }
    };
    let mut lanes = Lanes {
        sum: _mm512_setzero_pd(),
        top: _mm512_set1_pd(f64::NEG_INFINITY),
        arg: _mm512_setzero_pd(),
        second: _mm512_set1_pd(f64::NEG_INFINITY),
    };
    let mut store = |x: usize, acc: __m512d, lanes: &mut Lanes| {
        // SAFETY: x < v, so the BATCH f64 at x * BATCH are in bounds.
        unsafe { _mm512_storeu_pd(qs[x * BATCH..(x + 1) * BATCH].as_mut_ptr(), acc) };
        lanes.add(x as f64, acc);
    };
    // Four values of x at a time: independent sums hide each one's chain of K additions,
    // and each weights row is loaded once for all four.
    let mut x = 0;
    while x + 4 <= v {
        let mut acc = [_mm512_setzero_pd(); 4];
        for h in 0..k {
            let w = load(h);
            for (j, a) in acc.iter_mut().enumerate() {
                let e = _mm512_set1_pd(e_t[(x + j) * k + h]);
                *a = _mm512_add_pd(*a, _mm512_mul_pd(w, e));
            }
        }
        for (j, &a) in acc.iter().enumerate() {
            store(x + j, a, &mut lanes);
        }
        x += 4;
    }
    while x < v {
        let mut a = _mm512_setzero_pd();
        for h in 0..k {
            let e = _mm512_set1_pd(e_t[x * k + h]);
            a = _mm512_add_pd(a, _mm512_mul_pd(load(h), e));
        }
        store(x, a, &mut lanes);
        x += 1;
    }
    let mut tally = Tally {
        sum: [0.0; BATCH],
        top: [0.0; BATCH],
        arg: [0.0; BATCH],
        second: [0.0; BATCH],
    };
    for (dst, src) in [
        (&mut tally.sum, lanes.sum),
        (&mut tally.top, lanes.top),
        (&mut tally.arg, lanes.arg),
        (&mut tally.second, lanes.second),
    ] {
        // SAFETY: each destination is BATCH f64.
        unsafe { _mm512_storeu_pd(dst.as_mut_ptr(), src) };
    }
    tally
}

/// out[j] = sum_h src[h] m[h, j] for K = `out.len()` up to 16 (one or two registers, the
/// last one part-filled through a lane mask: K is often 8 content states plus an end
/// state), the terms added for h = 0, 1, ... in turn from 0.0. Returns false, doing
/// nothing, for a larger K.
///
/// # Safety
/// The processor must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn propagate(src: &[f64], m: &[f64], out: &mut [f64]) -> bool {
    let n = out.len();
    if n == 0 || n > 16 {
        return false;
    }
    assert!(m.len() >= src.len() * n);
    // Lanes of the low and high register that hold entries.
    let lanes = |from: usize| -> __mmask8 {
        let count = n.saturating_sub(from).min(8);
        ((1u16 << count) - 1) as __mmask8
    };
    let (lo_mask, hi_mask) = (lanes(0), lanes(8));
    let (mut lo, mut hi) = (_mm512_setzero_pd(), _mm512_setzero_pd());
    for (h, &s) in src.iter().enumerate() {
        let s = _mm512_set1_pd(s);
        let row = m[h * n..].as_ptr();
        // SAFETY: the masks select only entries h * n + j with j < n, inside `m`; masked-off
        // lanes are not read.
        let (r0, r1) = unsafe {
            (
                _mm512_maskz_loadu_pd(lo_mask, row),
                _mm512_maskz_loadu_pd(hi_mask, row.wrapping_add(8)),
            )
        };
        lo = _mm512_add_pd(lo, _mm512_mul_pd(s, r0));
        if hi_mask != 0 {
            hi = _mm512_add_pd(hi, _mm512_mul_pd(s, r1));
        }
    }
    let at = out.as_mut_ptr();
    // SAFETY: as for the loads, the masks select entries j < n of `out`.
    unsafe {
        _mm512_mask_storeu_pd(at, lo_mask, lo);
        if hi_mask != 0 {
            _mm512_mask_storeu_pd(at.wrapping_add(8), hi_mask, hi);
        }
    }
    true
}
