//! Incremental evaluation for the exact chain models: a memo of finished predictions.
//!
//! Under the Markov oracle (and inside one plan posterior) a masked position's prediction
//! is a pure function of its nearest visible revealed neighbours: (x_l, i - l) and, when
//! one is visible, (x_r, r - i). A lookahead branch differs from its base by one token, and
//! the base from the previous winner only where the fill split a masked run, so almost
//! every key of a round was already seen, in another branch or an earlier round (or an
//! earlier sequence of the same world). The memo stores the [`Prediction`] computed by
//! exactly the arithmetic of the full path, so a hit is bit-identical to recomputing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use foldhash::fast::FixedState;

use crate::state::{ConfidenceKind, Prediction};

/// A memo key, packed into one integer so that hashing it is a single multiply: see
/// [`key`].
pub(crate) type Key = u128;

/// Tags, and tokens (plus one, for "no right neighbour"), must stay below these.
pub(crate) const MAX_TAG: u32 = 1 << 16;
pub(crate) const MAX_TOKEN: u32 = (1 << 24) - 1;

/// The key of a position with left neighbour `xl` at distance `dl` and, if visible, right
/// neighbour `xr` at distance `dr`, under a model-chosen `tag` (0, or a plan posterior's
/// id). The caller keeps tags below [`MAX_TAG`] and tokens below [`MAX_TOKEN`].
#[inline]
pub(crate) fn key(tag: u32, xl: u32, dl: usize, right: Option<(u32, usize)>) -> Key {
    debug_assert!(tag < MAX_TAG && xl < MAX_TOKEN);
    let (xr, dr) = right.map_or((MAX_TOKEN, 0), |(x, d)| (x, d));
    debug_assert!(xr <= MAX_TOKEN);
    (u128::from(tag) << 112)
        | (u128::from(xl) << 88)
        | (u128::from(xr) << 64)
        | (u128::from(dl as u64 as u32) << 32)
        | u128::from(dr as u64 as u32)
}

/// Entries kept before the memo starts over. Sized so that the table stays a few MiB per
/// thread (about 56 bytes an entry); a full memo is cleared, keeping its capacity, so the
/// steady state allocates nothing.
const CAPACITY: usize = 7 << 14;

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// A fresh model identity. Memos compare identities, never addresses, because a model
/// dropped during calibration can leave its address to the next one.
pub(crate) fn owner_id() -> u64 {
    NEXT_OWNER.fetch_add(1, Ordering::Relaxed)
}

/// Slots of the direct-mapped cache in front of the memo: 4096 x 48 bytes stays in L2,
/// where the memo's table (megabytes) mostly misses every cache. Within one decode the same
/// keys come back in every branch and round, so most look-ups end here.
const NEAR_BITS: u32 = 12;

/// No key is all ones: a token field is below [`MAX_TOKEN`].
const EMPTY: Key = Key::MAX;

/// Predictions of one model, one confidence kind and one entropy setting, by key.
#[derive(Default)]
pub(crate) struct PredictionMemo {
    owner: u64,
    kind: Option<ConfidenceKind>,
    entropy: bool,
    near: Vec<(Key, Prediction)>,
    map: HashMap<Key, Prediction, FixedState>,
}

impl PredictionMemo {
    /// Readies the memo for `owner`'s predictions of `kind`, forgetting any other's.
    pub(crate) fn bind(&mut self, owner: u64, kind: ConfidenceKind, entropy: bool) {
        if self.owner != owner || self.kind != Some(kind) || self.entropy != entropy {
            self.map.clear();
            self.near.clear();
            (self.owner, self.kind, self.entropy) = (owner, Some(kind), entropy);
        }
        if self.near.is_empty() {
            self.near
                .resize(1 << NEAR_BITS, (EMPTY, Prediction::default()));
        }
    }

    /// The prediction under `key`, computing it with `compute` on a miss.
    #[inline]
    pub(crate) fn get_or(&mut self, key: Key, compute: impl FnOnce() -> Prediction) -> Prediction {
        let mixed = ((key as u64) ^ ((key >> 64) as u64).rotate_left(29))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = &mut self.near[(mixed >> (64 - NEAR_BITS)) as usize];
        if slot.0 == key {
            return slot.1;
        }
        let p = match self.map.get(&key) {
            Some(p) => *p,
            None => {
                let p = compute();
                if self.map.len() >= CAPACITY {
                    self.map.clear();
                }
                self.map.insert(key, p);
                p
            }
        };
        *slot = (key, p);
        p
    }
}

/// Distributions (V values each) by key, for mixtures whose final prediction depends on
/// more than the key: the plan mixture memoises each plan's section-2 marginal and mixes
/// them with the branch's posterior. Entries are stored in one arena, cleared when full.
#[derive(Default)]
pub(crate) struct DistributionMemo {
    owner: u64,
    vocab: usize,
    map: HashMap<Key, usize, FixedState>,
    arena: Vec<f64>,
}

/// Values the distribution arena holds before it starts over (8 MiB).
const ARENA: usize = 1 << 20;

impl DistributionMemo {
    /// Readies the memo for `owner`'s distributions over `vocab` tokens.
    pub(crate) fn bind(&mut self, owner: u64, vocab: usize) {
        if self.owner != owner || self.vocab != vocab {
            self.map.clear();
            self.arena.clear();
            (self.owner, self.vocab) = (owner, vocab);
        }
    }

    /// The distribution under `key`, written by `compute` into a V-long slice on a miss.
    #[inline]
    pub(crate) fn get_or(&mut self, key: Key, compute: impl FnOnce(&mut [f64])) -> &[f64] {
        let v = self.vocab;
        let at = match self.map.get(&key) {
            Some(&at) => at,
            None => {
                if self.arena.len() + v > ARENA.max(v) {
                    self.map.clear();
                    self.arena.clear();
                }
                let at = self.arena.len();
                self.arena.resize(at + v, 0.0);
                compute(&mut self.arena[at..at + v]);
                self.map.insert(key, at);
                at
            }
        };
        &self.arena[at..at + v]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_to_one_model_and_kind() {
        let mut m = PredictionMemo::default();
        let a = owner_id();
        m.bind(a, ConfidenceKind::Prob, false);
        let p = Prediction {
            token: 3,
            prob: 0.5,
            conf: 0.5,
            entropy: 0.0,
        };
        assert_eq!(m.get_or(key(0, 1, 2, Some((3, 4))), || p), p);
        // A hit does not call `compute`.
        assert_eq!(m.get_or(key(0, 1, 2, Some((3, 4))), || unreachable!()), p);
        m.bind(a, ConfidenceKind::Margin, false);
        let q = Prediction { token: 1, ..p };
        assert_eq!(
            m.get_or(key(0, 1, 2, Some((3, 4))), || q),
            q,
            "another kind starts over"
        );
        m.bind(owner_id(), ConfidenceKind::Margin, false);
        assert_eq!(
            m.get_or(key(0, 1, 2, Some((3, 4))), || p),
            p,
            "another model starts over"
        );
    }
}
