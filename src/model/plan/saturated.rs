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

/// Slots of the direct-mapped cache in front of the memo (4096 x 48 bytes, so it stays in
/// L2): the branches of a round share most of their positions, and the memo's table of
/// megabytes mostly misses every cache.
const NEAR_BITS: u32 = 12;

/// No key is all ones: a token field is below `MAX_TOKEN`.
const EMPTY: Key = Key::MAX;

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
    near: Vec<(Key, (Prediction, f64))>,
    map: HashMap<Key, (Prediction, f64), FixedState>,
}

/// The near-cache slot of `key`.
#[inline]
fn slot(key: Key) -> usize {
    let mixed =
        ((key as u64) ^ ((key >> 64) as u64).rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - NEAR_BITS)) as usize
}

impl SaturatedMemo {
    /// Readies the memo for `owner`'s predictions of `kind`, forgetting any other's.
    pub(super) fn bind(&mut self, owner: u64, kind: ConfidenceKind, entropy: bool) {
        if self.owner != owner || self.kind != Some(kind) || self.entropy != entropy {
            self.map.clear();
            self.near.clear();
            (self.owner, self.kind, self.entropy) = (owner, Some(kind), entropy);
        }
        if self.near.is_empty() {
            self.near
                .resize(1 << NEAR_BITS, (EMPTY, (Prediction::default(), 0.0)));
        }
    }

    pub(super) fn get(&mut self, key: Key) -> Option<(Prediction, f64)> {
        // An unbound memo has no near cache yet; the table alone still answers.
        let s = slot(key);
        if let Some(&(k, hit)) = self.near.get(s) {
            if k == key {
                return Some(hit);
            }
        }
        let hit = self.map.get(&key).copied()?;
        if let Some(near) = self.near.get_mut(s) {
            *near = (key, hit);
        }
        Some(hit)
    }

    pub(super) fn insert(&mut self, key: Key, value: (Prediction, f64)) {
        if self.map.len() >= CAPACITY {
            self.map.clear();
        }
        self.map.insert(key, value);
        if let Some(near) = self.near.get_mut(slot(key)) {
            *near = (key, value);
        }
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
