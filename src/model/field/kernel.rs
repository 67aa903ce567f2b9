//! The field's kernel sums: for each position, K summed over the revealed positions it sees
//! on either side. Only the masked span between the first and the last masked position
//! needs a sum per position; everything outside it is revealed, so a sum entering the
//! span from outside is a geometric series in closed form, and a round costs O(window)
//! rather than O(L).

use super::{ConfidenceField, FieldState};
use crate::state::{Branch, MASK};

impl ConfidenceField {
    /// Sum of K over `n` consecutive revealed positions ending next to the target.
    fn geometric(&self, n: usize) -> f64 {
        if self.decay >= 1.0 {
            return n as f64;
        }
        (1.0 - self.decay.powi(n.min(i32::MAX as usize) as i32)) / (1.0 - self.decay)
    }

    /// Kernel sums for every position of `lo..top` of the branch, written into the state's
    /// `left` and `right` buffers (indexed from `lo`). Every position outside `lo..top` is
    /// revealed, which gives the sums at the edges in closed form.
    pub(super) fn kernel_sums(&self, b: &Branch, lo: usize, top: usize, state: &mut FieldState) {
        let revealed = |j: usize| f64::from(u8::from(b.tokens[j] != MASK));
        // Every entry is written below, so only a longer range than before needs filling.
        state.left.resize(top - lo, 0.0);
        state.right.resize(top - lo, 0.0);
        let mut s = self.geometric(lo);
        for i in lo..top {
            state.left[i - lo] = s;
            s = revealed(i) + self.decay * s;
        }
        let len = b.tokens.len();
        let mut end = usize::MAX;
        let mut s = 0.0;
        for i in (lo..top).rev() {
            let e = b.visible_end(i, self.attention).min(len);
            if e != end {
                // i is the last position of its visibility span inside the range, so
                // everything it sees to its right lies at or past `top`: all revealed.
                end = e;
                s = self.geometric(e.saturating_sub(i + 1));
            }
            state.right[i - lo] = s;
            s = revealed(i) + self.decay * s;
        }
    }

    /// The first and one past the last masked position of the branch.
    pub(super) fn masked_span(b: &Branch) -> Option<(usize, usize)> {
        let first = b.blocks.iter().position(|k| k.masked > 0)?;
        let last = b.blocks.iter().rposition(|k| k.masked > 0)?;
        let lo = b.block_range(first).find(|&i| b.tokens[i] == MASK)?;
        let hi = b.block_range(last).rev().find(|&i| b.tokens[i] == MASK)? + 1;
        Some((lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::field::tests::params;
    use crate::state::Attention;

    /// Sums the kernel over every visible revealed neighbour, the slow way.
    fn brute(f: &ConfidenceField, b: &Branch, i: usize) -> (f64, f64) {
        let k = |d: usize| f.decay.powi(d as i32 - 1);
        let left = (0..i)
            .filter(|&j| b.tokens[j] != MASK)
            .map(|j| k(i - j))
            .sum();
        let end = b.visible_end(i, f.attention).min(b.tokens.len());
        let right = (i + 1..end)
            .filter(|&j| b.tokens[j] != MASK)
            .map(|j| k(j - i))
            .sum();
        (left, right)
    }

    #[test]
    fn kernel_sums_match_the_slow_sums() {
        for attention in [Attention::Full, Attention::BlockCausal] {
            let f = ConfidenceField::new(params(), attention);
            let mut b = Branch::new(&[1, 2, 3], 4);
            for _ in 0..5 {
                b.append_block();
            }
            // A scattered pattern: blocks 0 and 4 full, the others partly revealed.
            for pos in [3, 4, 5, 6, 8, 11, 12, 14, 19, 20, 21, 22] {
                b.commit(pos, 1, None);
            }
            let (lo, top) = ConfidenceField::masked_span(&b).unwrap();
            let mut state = FieldState::default();
            f.kernel_sums(&b, lo, top, &mut state);
            for i in lo..top {
                let (l, r) = brute(&f, &b, i);
                assert!(
                    (state.left[i - lo] - l).abs() < 1e-12,
                    "{attention:?} left {i}"
                );
                assert!(
                    (state.right[i - lo] - r).abs() < 1e-12,
                    "{attention:?} right {i}"
                );
            }
        }
    }
}
