//! The plan posterior of one branch: per plan, the prior times the transition probability
//! of every pair of consecutive revealed tokens up to the visible end, normalised.
//!
//! The running products at position j depend on tokens 0..j only, so they are saved every
//! [`STRIDE`] positions, and a call resumes from the last snapshot its tokens still agree
//! with, which for branches of one round is near the decoding frontier rather than
//! position 0. The products are the same in the same order, so the posterior is
//! bit-identical to a full scan.

use super::{common_prefix, saturated, Buffers, PlanMixture};
use crate::state::{Token, MASK};

/// 2^256 and 2^-256. The running per-plan products are rescaled by this exact power of two
/// when they get small, so long sequences cannot underflow them, zero stays exactly zero,
/// and short of underflow the posterior is bit-identical to the plain product.
const SCALE: f64 = f64::from_bits((1023 + 256) << 52);
const INV_SCALE: f64 = f64::from_bits((1023 - 256) << 52);

/// Positions between posterior snapshots.
const STRIDE: usize = 8;

impl PlanMixture {
    /// Starts a call's posterior at the prior: drops the snapshots unless they are this
    /// mixture's and `reuse` allows them, and records how far `tokens` agree with the
    /// tokens they were taken from.
    pub(super) fn begin_posterior(&self, b: &mut Buffers, tokens: &[Token], reuse: bool) {
        let m = self.plans.len();
        if !reuse || b.snap_owner != self.id {
            b.snap_last.clear();
            b.snap_tokens.clear();
            b.snap_owner = self.id;
        }
        b.snap_agree = common_prefix(tokens, &b.snap_tokens);
        b.mant.clear();
        b.mant.extend_from_slice(&self.prior);
        b.exp.clear();
        b.exp.resize(m, 0);
        b.w.resize(m, 0.0);
        (b.last, b.scanned) = (None, 0);
    }

    /// Takes the revealed positions in `b.scanned..end` into the running products, then
    /// refreshes the posterior `b.w` (the prior if every plan is ruled out).
    pub(super) fn extend(&self, b: &mut Buffers, tokens: &[Token], end: usize) {
        let m = self.plans.len();
        if b.scanned == 0 {
            // Resume from the last snapshot that this branch's tokens still agree with.
            let s = (b.snap_agree.min(end) / STRIDE).min(b.snap_last.len());
            if s > 0 {
                let s = s - 1;
                b.mant.copy_from_slice(&b.snap_mant[s * m..(s + 1) * m]);
                b.exp.copy_from_slice(&b.snap_exp[s * m..(s + 1) * m]);
                b.last = b.snap_last[s];
                b.scanned = s * STRIDE;
            }
            let kept = b.scanned / STRIDE;
            b.snap_last.truncate(kept);
            b.snap_mant.truncate(kept * m);
            b.snap_exp.truncate(kept * m);
        }
        for (j, &x) in tokens.iter().enumerate().take(end).skip(b.scanned) {
            if j % STRIDE == 0 && j / STRIDE == b.snap_last.len() {
                b.snap_mant.extend_from_slice(&b.mant);
                b.snap_exp.extend_from_slice(&b.exp);
                b.snap_last.push(b.last);
            }
            if x == MASK {
                continue;
            }
            if let Some(l) = b.last {
                let xl = tokens[l] as usize;
                for (z, plan) in self.plans.iter().enumerate() {
                    if b.mant[z] == 0.0 {
                        continue;
                    }
                    let mut m = b.mant[z] * plan.power(j - l)[[xl, x as usize]];
                    while m > 0.0 && m < INV_SCALE {
                        m *= SCALE;
                        b.exp[z] += 1;
                    }
                    b.mant[z] = m;
                }
            }
            b.last = Some(j);
        }
        b.scanned = b.scanned.max(end);
        let live = || (0..b.mant.len()).filter(|&z| b.mant[z] > 0.0);
        let Some(top) = live().map(|z| b.exp[z]).min() else {
            b.w.copy_from_slice(&self.prior);
            b.saturated = saturated::saturated(&b.w);
            return;
        };
        let mut sum = 0.0;
        for z in 0..b.mant.len() {
            let mut x = b.mant[z];
            for _ in top..b.exp[z] {
                x *= INV_SCALE;
            }
            b.w[z] = x;
            sum += x;
        }
        for w in b.w.iter_mut() {
            *w /= sum;
        }
        b.saturated = saturated::saturated(&b.w);
    }
}

/// Ends a call: the snapshots now stand for `tokens`.
pub(super) fn end_posterior(b: &mut Buffers, tokens: &[Token]) {
    b.snap_tokens.clear();
    b.snap_tokens.extend_from_slice(tokens);
}
