//! The HMM's per-position prediction memo. q_i is a function of the weights row
//! alpha_i(h) * beta_i(h) alone, so when a position's row is bit for bit a row a
//! prediction was made from, that prediction is reused. A lookahead branch changes the
//! messages near its extra token, but a few revealed tokens away the change falls below
//! rounding, and the rows there repeat the base's exactly. Each position keeps several
//! rows, the least recently used replaced first: the rows of a round's lookahead branches
//! recur in the next round's, whose branches mostly carry the same extra tokens.

use crate::state::{ConfidenceKind, Prediction};

/// Rows kept per position, enough for a round's base and the lookahead branches of a
/// usual search.
const WAYS: usize = 16;

/// Fewer ways when K is large: a 2048-position branch's rows stay within this many f64.
const MAX_CELLS: usize = 1 << 20;

/// Per position, `ways` entries: a row's hash, the row (K), the prediction made from it,
/// and when it was last used.
#[derive(Default)]
pub(super) struct PositionMemo {
    /// 0 for an empty entry.
    hashes: Vec<u64>,
    rows: Vec<f64>,
    preds: Vec<Option<Prediction>>,
    used: Vec<u64>,
    clock: u64,
    ways: usize,
    /// Which oracle, K, confidence kind and entropy setting the entries were made for.
    key: Option<(u64, usize, ConfidenceKind, bool)>,
}

/// A hash of a row's bits, to pass over entries without comparing whole rows. Each entry's
/// bits times its own odd constant, summed: the products are independent (no chain of
/// multiplications through the row), and a row that differs from another in one entry, as
/// the rows of one position mostly do, never collides with it, since multiplying by an odd
/// number is one-to-one modulo 2^64. A final mix spreads the sum; a collision would only
/// cost a full comparison.
fn hash(row: &[f64]) -> u64 {
    let mut sum = 0x243f_6a88_85a3_08d3u64;
    let mut c = 0x9e37_79b9_7f4a_7c15u64;
    for x in row {
        sum = sum.wrapping_add(x.to_bits().wrapping_mul(c));
        c = c.wrapping_add(0x6a09_e667_f3bc_c90a);
    }
    let h = (sum ^ (sum >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    // 0 marks an empty entry.
    (h ^ (h >> 29)) | 1
}

impl PositionMemo {
    /// Binds the memo to one oracle and prediction setting, for positions below `len`,
    /// forgetting every entry made under another.
    pub(super) fn bind(
        &mut self,
        owner: u64,
        k: usize,
        kind: ConfidenceKind,
        entropy: bool,
        len: usize,
    ) {
        let key = Some((owner, k, kind, entropy));
        if self.key != key {
            self.key = key;
            self.ways = (MAX_CELLS / (2048 * k.max(1))).clamp(2, WAYS);
            self.hashes.clear();
            self.preds.clear();
            self.used.clear();
            self.rows.clear();
        }
        let n = len * self.ways;
        if self.preds.len() < n {
            self.hashes.resize(n, 0);
            self.preds.resize(n, None);
            self.used.resize(n, 0);
            self.rows.resize(n * k, 0.0);
        }
    }

    fn k(&self) -> usize {
        self.key.map_or(0, |k| k.1)
    }

    /// A prediction made at `i` from exactly `row`, if the memo still holds one;
    /// otherwise the row's hash, for the [`PositionMemo::put`] that follows.
    pub(super) fn get(&mut self, i: usize, row: &[f64]) -> Result<Prediction, u64> {
        let (k, ways) = (self.k(), self.ways);
        let h = hash(row);
        let first = i * ways;
        for (w, &hw) in self.hashes[first..first + ways].iter().enumerate() {
            let slot = first + w;
            if hw == h && super::same_bits(&self.rows[slot * k..(slot + 1) * k], row) {
                self.clock += 1;
                self.used[slot] = self.clock;
                if let Some(p) = self.preds[slot] {
                    return Ok(p);
                }
            }
        }
        Err(h)
    }

    /// Records the prediction made at `i` from `row`, whose hash [`PositionMemo::get`]
    /// returned, in place of the entry there least recently used.
    pub(super) fn put(&mut self, i: usize, hash: u64, row: &[f64], p: Prediction) {
        let (k, ways) = (self.k(), self.ways);
        let slots = i * ways..(i + 1) * ways;
        let w = (0..ways)
            .min_by_key(|&w| self.used[slots.start + w])
            .unwrap_or(0);
        let slot = slots.start + w;
        self.clock += 1;
        self.used[slot] = self.clock;
        self.hashes[slot] = hash;
        self.preds[slot] = Some(p);
        self.rows[slot * k..(slot + 1) * k].copy_from_slice(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(token: u32) -> Prediction {
        Prediction {
            token: token as crate::state::Token,
            ..Prediction::default()
        }
    }

    /// Rows alternate between branches, so a position keeps several; the least recently
    /// used goes first, and a row differing in one bit is another row.
    #[test]
    fn keeps_several_rows_per_position_and_evicts_the_oldest() {
        let mut m = PositionMemo::default();
        m.bind(7, 2, ConfidenceKind::Prob, false, 4);
        let row = |x: f64| [x, 1.0 - x];
        let put = |m: &mut PositionMemo, r: [f64; 2], p| {
            let h = m.get(3, &r).expect_err("not yet recorded");
            assert_eq!(h, hash(&r));
            m.put(3, h, &r, p);
        };
        for n in 0..WAYS {
            put(&mut m, row(n as f64 / 64.0), pred(n as u32));
        }
        for n in 0..WAYS {
            assert_eq!(m.get(3, &row(n as f64 / 64.0)), Ok(pred(n as u32)));
        }
        assert!(m.get(2, &row(0.0)).is_err());
        let near = f64::from_bits((1.0f64 / 64.0).to_bits() + 1);
        assert!(m.get(3, &[near, 1.0 - 1.0 / 64.0]).is_err());
        // Row 0 was used least recently: a new row takes its place, the others stay.
        put(&mut m, row(0.9), pred(99));
        assert!(m.get(3, &row(0.0)).is_err());
        assert_eq!(m.get(3, &row(0.9)), Ok(pred(99)));
        assert_eq!(m.get(3, &row(1.0 / 64.0)), Ok(pred(1)));
        // Another setting forgets everything.
        m.bind(7, 2, ConfidenceKind::Margin, false, 4);
        assert!(m.get(3, &row(0.9)).is_err());
    }
}
