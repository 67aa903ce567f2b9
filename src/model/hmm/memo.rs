//! The HMM's per-position prediction memo. q_i is a function of the weights row
//! alpha_i(h) * beta_i(h) alone, so when a position's row is bit for bit the row its last
//! prediction was made from, that prediction is reused. A lookahead branch changes the
//! messages near its extra token, but a few revealed tokens away the change falls below
//! rounding, and the rows there repeat the base's and the last round's exactly.

use crate::state::{ConfidenceKind, Prediction};

/// Per position: the weights row (K) and the prediction made from it.
#[derive(Default)]
pub(super) struct PositionMemo {
    rows: Vec<f64>,
    preds: Vec<Option<Prediction>>,
    /// Which oracle, K, confidence kind and entropy setting the entries were made for.
    key: Option<(u64, usize, ConfidenceKind, bool)>,
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
            self.preds.clear();
            self.rows.clear();
        }
        if self.preds.len() < len {
            self.preds.resize(len, None);
            self.rows.resize(len * k, 0.0);
        }
    }

    fn k(&self) -> usize {
        self.key.map_or(0, |k| k.1)
    }

    /// The prediction made at `i` from exactly `row`, if that was the last one made there.
    pub(super) fn get(&self, i: usize, row: &[f64]) -> Option<Prediction> {
        let p = self.preds[i]?;
        let k = self.k();
        let same = self.rows[i * k..(i + 1) * k]
            .iter()
            .zip(row)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        same.then_some(p)
    }

    /// Records the prediction made at `i` from `row`.
    pub(super) fn put(&mut self, i: usize, row: &[f64], p: Prediction) {
        let k = self.k();
        self.rows[i * k..(i + 1) * k].copy_from_slice(row);
        self.preds[i] = Some(p);
    }
}
