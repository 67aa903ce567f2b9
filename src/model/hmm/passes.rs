//! The scaled forward and backward passes, resumed where the tokens they depend on are
//! unchanged.

use super::kernel::Simd;
use super::{same_bits, HmmBuffers, HmmOracle};
use crate::state::{Token, MASK};

impl HmmOracle {
    /// One forward step from the normalised state `alpha` at a position holding `x` to the
    /// normalised state at the next position. Returns the forward total
    /// sum_h alpha(h) E[h, x], or None when the position counts as masked (MASK, or a
    /// token no state can emit here), in which case its emission is taken as 1.
    pub(super) fn step(
        &self,
        alpha: &[f64],
        x: Token,
        w: &mut [f64],
        next: &mut [f64],
    ) -> Option<f64> {
        let mut total = None;
        if x != MASK {
            let e = self.e_t.row(x as usize);
            let e = e.as_slice().expect("standard layout");
            let mut s = 0.0;
            for h in 0..alpha.len() {
                w[h] = alpha[h] * e[h];
                s += w[h];
            }
            total = (s > 0.0).then_some(s);
        }
        let src: &[f64] = if total.is_some() { w } else { alpha };
        let a = self.a.as_slice().expect("standard layout");
        propagate(src, a, next, self.simd);
        let mut sum = 0.0;
        for &n in next.iter() {
            sum += n;
        }
        // The step keeps positive mass (A's rows are stochastic), so this never divides by 0.
        next.iter_mut().for_each(|n| *n /= sum);
        total
    }

    /// Fills `alpha` rows 0..=tokens.len() and `hidden` for `tokens`. When `reuse`, it
    /// resumes the last call's pass where its tokens first differ, and stops once a row
    /// past the last changed token comes out bit for bit as it was: every later row is then
    /// the same too.
    pub(super) fn forward(&self, tokens: &[Token], buf: &mut HmmBuffers, reuse: bool) {
        let k = self.states();
        let old_len = buf.alpha_tokens.len();
        let valid = reuse && buf.alpha_owner == self.id;
        let (mut from, mut last_diff) = (0, None);
        if valid {
            let n = old_len.min(tokens.len());
            let (new, old) = (&tokens[..n], &buf.alpha_tokens[..n]);
            from = new.iter().zip(old).position(|(a, b)| a != b).unwrap_or(n);
            last_diff = new.iter().zip(old).rposition(|(a, b)| a != b);
        }
        // Rows up to tokens.len() are the old pass's where tokens agree.
        let may_stop = valid && tokens.len() <= old_len;
        buf.alpha.resize((tokens.len() + 1) * k, 0.0);
        buf.hidden.resize(tokens.len(), false);
        buf.row.resize(k, 0.0);
        if from == 0 {
            buf.alpha[..k].copy_from_slice(self.pi.as_slice().expect("standard layout"));
        }
        for (t, &x) in tokens.iter().enumerate().skip(from) {
            let total = self.step(&buf.alpha[t * k..(t + 1) * k], x, &mut buf.w, &mut buf.row);
            let hidden = total.is_none();
            let out = &mut buf.alpha[(t + 1) * k..(t + 2) * k];
            if may_stop
                && last_diff.is_none_or(|d| t > d)
                && buf.hidden[t] == hidden
                && same_bits(out, &buf.row)
            {
                break;
            }
            out.copy_from_slice(&buf.row);
            buf.hidden[t] = hidden;
        }
        buf.alpha_tokens.clear();
        buf.alpha_tokens.extend_from_slice(tokens);
        buf.alpha_owner = self.id;
    }

    /// Fills `beta` rows `from..end` for the visible sequence `tokens[..end]`, using the
    /// `hidden` flags of the forward pass. Row t depends on positions t + 1..end only, so
    /// when `reuse` and the last call had the same end, the rows right of its last changed
    /// position are kept, and the pass stops once a row left of its first changed position
    /// comes out as it was.
    pub(super) fn backward(
        &self,
        tokens: &[Token],
        from: usize,
        end: usize,
        buf: &mut HmmBuffers,
        reuse: bool,
    ) {
        let k = self.states();
        let valid = reuse && buf.beta_owner == self.id && buf.beta_end == end;
        let old_from = buf.beta_from;
        let mut top = end - 1;
        let mut first_diff = end;
        if valid {
            let differs = |d: &usize| {
                tokens[*d] != buf.beta_tokens[*d] || buf.hidden[*d] != buf.beta_hidden[*d]
            };
            let range = from + 1..end;
            first_diff = range.clone().find(differs).unwrap_or(end);
            let last = range.rev().find(differs).unwrap_or(from);
            top = last.max(old_from).min(end - 1);
        } else {
            buf.beta.resize(end * k, 0.0);
            buf.beta[(end - 1) * k..].fill(1.0);
        }
        buf.row.resize(k, 0.0);
        let mut t = top;
        while t > from {
            t -= 1;
            let after = &buf.beta[(t + 1) * k..(t + 2) * k];
            if buf.hidden[t + 1] {
                buf.w.copy_from_slice(after);
            } else {
                let e = self.e_t.row(tokens[t + 1] as usize);
                for ((w, &b), &e) in buf.w.iter_mut().zip(after).zip(e.iter()) {
                    *w = e * b;
                }
            }
            // row[h] = sum_j A[h, j] w[j], the terms added for j = 0, 1, ... in turn.
            let a_t = self.a_t.as_slice().expect("standard layout");
            propagate(&buf.w, a_t, &mut buf.row, self.simd);
            let mut sum = 0.0;
            for &c in buf.row.iter() {
                sum += c;
            }
            if sum > 0.0 {
                buf.row.iter_mut().for_each(|c| *c /= sum);
            }
            let cur = &mut buf.beta[t * k..(t + 1) * k];
            if valid && t >= old_from && t < first_diff && same_bits(cur, &buf.row) {
                // Rows old_from..t are the old ones; only rows below old_from are missing.
                t = old_from.max(from);
                continue;
            }
            cur.copy_from_slice(&buf.row);
        }
        buf.beta_tokens.clear();
        buf.beta_tokens.extend_from_slice(&tokens[..end]);
        buf.beta_hidden.clear();
        buf.beta_hidden.extend_from_slice(&buf.hidden[..end]);
        (buf.beta_end, buf.beta_from, buf.beta_owner) = (end, from, self.id);
    }
}

/// out[j] = sum_h src[h] m[h, j] for `m` row-major (src.len() x out.len()), the terms
/// added for h = 0, 1, ... in turn from 0.0: a dot product with column j, with the inner
/// loop over j vectorised (in the widest vectors `simd` allows, the same IEEE operations,
/// never fused).
fn propagate(src: &[f64], m: &[f64], out: &mut [f64], simd: Simd) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `simd` names a level only when the processor reported it.
        if simd == Simd::Avx512 && unsafe { super::avx512::propagate(src, m, out) } {
            return;
        }
        if simd >= Simd::Avx2 {
            // SAFETY: as above.
            unsafe { propagate_avx2(src, m, out) };
            return;
        }
    }
    let _ = simd;
    propagate_plain(src, m, out);
}

#[inline(always)]
fn propagate_plain(src: &[f64], m: &[f64], out: &mut [f64]) {
    // The usual state counts get fixed-length rows, held in registers.
    match out.len() {
        4 => return propagate_fixed::<4>(src, m, out),
        8 => return propagate_fixed::<8>(src, m, out),
        16 => return propagate_fixed::<16>(src, m, out),
        _ => {}
    }
    out.fill(0.0);
    for (&s, row) in src.iter().zip(m.chunks_exact(out.len())) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += s * x;
        }
    }
}

/// [`propagate_plain`] for K = N.
#[inline(always)]
fn propagate_fixed<const N: usize>(src: &[f64], m: &[f64], out: &mut [f64]) {
    let mut acc = [0.0f64; N];
    for (&s, row) in src.iter().zip(m.as_chunks::<N>().0) {
        for (o, &x) in acc.iter_mut().zip(row) {
            *o += s * x;
        }
    }
    out.copy_from_slice(&acc);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn propagate_avx2(src: &[f64], m: &[f64], out: &mut [f64]) {
    propagate_plain(src, m, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Every vector width gives the plain loop's bits, at the state counts with a fixed
    /// form (4, 8, 16) and at others.
    #[test]
    fn propagate_is_the_plain_loop_at_every_width() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for k in [1, 3, 4, 8, 9, 16, 24] {
            let src: Vec<f64> = (0..k).map(|_| rng.random::<f64>()).collect();
            let m: Vec<f64> = (0..k * k).map(|_| rng.random::<f64>() * 1e-3).collect();
            let mut want = vec![0.0; k];
            for (h, &s) in src.iter().enumerate() {
                for j in 0..k {
                    want[j] += s * m[h * k + j];
                }
            }
            for simd in Simd::supported() {
                let mut out = vec![f64::NAN; k];
                propagate(&src, &m, &mut out, simd);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out), bits(&want), "K = {k}, {simd:?}");
            }
        }
    }
}
