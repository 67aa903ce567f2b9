//! Predictions of a saturated plan posterior. Once the revealed tokens have all but ruled
//! out every plan but one, the posterior is exactly 1 on that plan z and so small on the
//! others that, added in, they cannot move a single bit of q = sum_z w_z q^z: q is then
//! q^z itself, bit for bit, and its prediction is a function of (z, neighbours) alone,
//! memoised like the Markov oracle's.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::model::memo::Key;
use crate::state::{ConfidenceKind, Prediction};

/// Entries kept before the memo starts over (a few MiB per thread).
const CAPACITY: usize = 1 << 16;

/// The plan that takes the whole posterior, if exactly one has weight 1, and the total
/// weight of the others.
pub(super) fn saturated(w: &[f64]) -> Option<(usize, f64)> {
    let z = w.iter().position(|&x| x == 1.0)?;
    let rest = w
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != z)
        .map(|(_, &x)| x)
        .sum();
    Some((z, rest))
}

/// The other plans' weights (summing to `rest`) cannot change q^z when every q^z(v) is at
/// least `q_min`. Each term w_y q^y(v) is at most w_y (to rounding), and adding less than
/// half an ulp of q^z(v) leaves it unchanged; an ulp of a normal x exceeds x 2^-53, so
/// rest < q_min 2^-60 is a bound with a wide margin. Zero weights add exactly nothing.
pub(super) fn negligible(rest: f64, q_min: f64) -> bool {
    const MARGIN: f64 = 1.0 / (1u64 << 60) as f64;
    rest == 0.0 || (q_min >= f64::MIN_POSITIVE && rest < q_min * MARGIN)
}

/// By (plan, neighbours): the prediction of that plan's section-2 marginal, and the
/// marginal's smallest value, for one mixture, confidence kind and entropy setting.
#[derive(Default)]
pub(super) struct SaturatedMemo {
    owner: u64,
    kind: Option<ConfidenceKind>,
    entropy: bool,
    map: HashMap<Key, (Prediction, f64), FixedState>,
}

impl SaturatedMemo {
    /// Readies the memo for `owner`'s predictions of `kind`, forgetting any other's.
    pub(super) fn bind(&mut self, owner: u64, kind: ConfidenceKind, entropy: bool) {
        if self.owner != owner || self.kind != Some(kind) || self.entropy != entropy {
            self.map.clear();
            (self.owner, self.kind, self.entropy) = (owner, Some(kind), entropy);
        }
    }

    pub(super) fn get(&self, key: Key) -> Option<(Prediction, f64)> {
        self.map.get(&key).copied()
    }

    pub(super) fn insert(&mut self, key: Key, value: (Prediction, f64)) {
        if self.map.len() >= CAPACITY {
            self.map.clear();
        }
        self.map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_weight_of_exactly_one_saturates() {
        assert_eq!(saturated(&[0.0, 1.0, 1e-30]), Some((1, 1e-30)));
        assert_eq!(saturated(&[0.5, 0.5]), None);
        assert!(negligible(0.0, 0.0));
        assert!(negligible(1e-40, 1e-6));
        assert!(!negligible(1e-20, 1e-6));
        assert!(
            !negligible(1e-300, 0.0),
            "a zero q^z(v) takes nothing but exact zeros"
        );
    }

    #[test]
    fn a_negligible_rest_leaves_every_value_unchanged() {
        // The bound's claim, checked on the mixing arithmetic itself.
        let q = [0.75, 1e-6, 0.249999];
        let q_min = 1e-6;
        let tiny = q_min / (1u64 << 62) as f64;
        assert!(negligible(2.0 * tiny, q_min));
        for &x in &q {
            let mixed = ((0.0 + tiny * 1.0) + 1.0 * x) + tiny * 1.0;
            assert_eq!(mixed.to_bits(), x.to_bits());
        }
    }
}
