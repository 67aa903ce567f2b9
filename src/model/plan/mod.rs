//! The latent-plan mixture (SPEC 2b.2): text is drawn by picking one of M plans from a prior,
//! then running that plan's Markov chain.
//!
//! The model is the Bayes-optimal denoiser for the mixture: the plan posterior, given a
//! branch's visible revealed tokens, weights each plan's section-2 marginal. Each plan is a
//! [`MarkovOracle`], so the matrix-power cache, and with it the memory, is M times the
//! Markov oracle's ([`PlanMixture::cache_bytes`]).

use ndarray::Array2;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::markov::{sample_chain, MarkovOracle};
use super::memo::{key, DistributionMemo, MAX_TAG, MAX_TOKEN};
use super::{ConfidenceModel, Scratch};
use crate::record::Quality;
use crate::state::{Attention, Branch, ConfidenceKind, Prediction, Token, MASK};

mod generator;
mod marginal;
mod posterior;
mod saturated;

pub use generator::{generate, PlanParams};
#[cfg(test)]
use generator::{normalised_entropy, prior_with_entropy, shared_rows};
use posterior::end_posterior;
use saturated::SaturatedMemo;

/// The mixture of M Markov plans with a prior over them.
#[derive(Debug)]
pub struct PlanMixture {
    plans: Vec<MarkovOracle>,
    prior: Vec<f64>,
    eos: Option<Token>,
    attention: Attention,
    /// This mixture's identity, for the posterior snapshots in a reused scratch.
    id: u64,
    /// Per plan: transposed powers, for the marginals' right factor.
    transposed: Vec<marginal::Transposed>,
    /// EOS, when its row is exactly (0, .., 1, .., 0) in every plan (see
    /// [`PlanMixture::neighbours`]).
    absorbing: Option<Token>,
}

/// Reusable buffers, kept in [`Scratch::slot`] so steady-state calls do not allocate.
#[derive(Default)]
struct Buffers {
    /// Per plan: prior * pair probabilities so far, stored as `mant * INV_SCALE^exp`.
    mant: Vec<f64>,
    exp: Vec<u32>,
    /// The normalised plan posterior.
    w: Vec<f64>,
    /// One plan's marginal, and the mixture's.
    qz: Vec<f64>,
    q: Vec<f64>,
    /// The last revealed position taken into the posterior, and where the scan stopped.
    last: Option<usize>,
    scanned: usize,
    /// Quality: the plans that allow every pair so far.
    alive: Vec<bool>,
    /// Snapshots of (`mant`, `exp`, `last`) before scanning position
    /// s * [`posterior::STRIDE`], for s = 0..`snap_last.len()`, taken from `snap_tokens` by
    /// the mixture `snap_owner`. The running products at j depend on tokens 0..j only, so
    /// the next call, whose branch differs from this one only near the decoding frontier,
    /// resumes from the last snapshot before the first changed token (bit-identical to a
    /// full scan).
    snap_mant: Vec<f64>,
    snap_exp: Vec<u32>,
    snap_last: Vec<Option<usize>>,
    snap_tokens: Vec<Token>,
    snap_owner: u64,
    /// The tokens before this index agree with `snap_tokens` (set at the start of a call).
    snap_agree: usize,
    /// Each plan's section-2 marginal by (plan, neighbours): a pure function of the key,
    /// shared by every branch, round and sequence of this mixture.
    marginals: DistributionMemo,
    /// The current posterior's plan of weight exactly 1, and the others' total weight.
    saturated: Option<(usize, f64)>,
    /// Predictions under a saturated posterior, by (plan, neighbours).
    saturated_memo: SaturatedMemo,
}

/// What [`PlanMixture::each`] hands on for a position.
enum Mixed<'a> {
    /// q_i, normalised.
    Distribution(&'a [f64]),
    /// The prediction, settled under a saturated posterior.
    Prediction(Prediction),
}

/// A position under a posterior saturated on plan `z`: its neighbours and their memo key.
struct Saturated {
    z: usize,
    key: u128,
    xl: Token,
    dl: usize,
    right: Option<(Token, usize)>,
}

/// Tokens compared at once by [`common_prefix`] and [`last_revealed`]: a slice comparison,
/// which the compiler vectorises, where a token-by-token search with an early exit is not.
const CHUNK: usize = 32;

/// The length of the common prefix of `a` and `b`.
fn common_prefix(a: &[Token], b: &[Token]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .position(|(x, y)| x != y)
        .unwrap_or(n - i)
}

/// The last revealed (not masked) position of `tokens`, or 0 when there is none (position
/// 0 is always a prompt token where this is used).
fn last_revealed(tokens: &[Token]) -> usize {
    const MASKS: [Token; CHUNK] = [MASK; CHUNK];
    let mut end = tokens.len();
    while end >= CHUNK && tokens[end - CHUNK..end] == MASKS {
        end -= CHUNK;
    }
    tokens[..end].iter().rposition(|&t| t != MASK).unwrap_or(0)
}

impl PlanMixture {
    /// A mixture of `plans` (each V x V row-stochastic, EOS rows absorbing) under `prior`
    /// (non-negative, summing to 1), valid for distances up to `max_distance` (>= L). The
    /// caller has validated the inputs.
    pub fn new(
        plans: Vec<Array2<f64>>,
        prior: Vec<f64>,
        eos: Option<Token>,
        attention: Attention,
        max_distance: usize,
    ) -> Self {
        let m = plans.len();
        let v = plans.first().map_or(0, |t| t.nrows());
        let absorbing = eos.filter(|&e| plans.iter().all(|t| marginal::absorbs(t, e)));
        let plans = plans
            .into_iter()
            .map(|t| MarkovOracle::new(t, eos, attention, max_distance))
            .collect();
        PlanMixture {
            absorbing,
            transposed: (0..m)
                .map(|_| marginal::Transposed::new(m, v, max_distance))
                .collect(),
            plans,
            prior,
            eos,
            attention,
            id: super::memo::owner_id(),
        }
    }

    /// Bytes the power caches may take: M times [`MarkovOracle::cache_bytes`].
    pub fn cache_bytes(plans: usize, vocab: usize, max_distance: usize) -> u128 {
        plans as u128 * MarkovOracle::cache_bytes(vocab, max_distance)
    }

    /// Writes q_i, the mixture marginal of masked position `i` of `branch` (SPEC 2b.2), into
    /// `q` (length V). [`ConfidenceModel::predict`] computes the same values, sharing the
    /// posterior between the positions of one call.
    pub fn marginal(&self, branch: &Branch, i: usize, q: &mut [f64], scratch: &mut Scratch) {
        self.each(
            branch,
            &[i],
            scratch,
            |_, _| None,
            |_, d| {
                if let Mixed::Distribution(d) = d {
                    q.copy_from_slice(d);
                }
            },
        );
    }

    /// Hands q_i of every position of `positions` (masked, ascending) to `sink`: the work
    /// of `predict` and `distributions`, generic so `predict` pays no dynamic call. Before
    /// mixing, `shortcut(b, at)` may settle a position whose posterior is saturated (see
    /// [`saturated`]) with a prediction, which `sink` then receives instead.
    fn each(
        &self,
        branch: &Branch,
        positions: &[usize],
        scratch: &mut Scratch,
        mut shortcut: impl FnMut(&mut Buffers, &Saturated) -> Option<Prediction>,
        mut sink: impl FnMut(usize, Mixed<'_>),
    ) {
        let Some(&first) = positions.first() else {
            return;
        };
        let reuse = !scratch.full_recompute;
        let b = scratch.slot::<Buffers>();
        let (m, v, tokens) = (self.plans.len(), self.vocab_size(), &branch.tokens);
        self.begin_posterior(b, tokens, reuse);
        let memo = reuse && m < MAX_TAG as usize && v < MAX_TOKEN as usize;
        b.marginals.bind(self.id, v);
        b.qz.resize(v, 0.0);
        b.q.resize(v, 0.0);
        // The nearest revealed position after each position: a cursor that only moves
        // right (the positions ascend), never past the last revealed token, so a call
        // costs the span of its positions, not the masked tail up to L.
        let last_revealed = last_revealed(tokens);
        let mut next = first;
        let mut left = first - 1;
        while tokens[left] == MASK {
            left -= 1;
        }
        let mut scan = left;
        // The posterior depends only on the visible end: once per call under full
        // attention, once per block under block-causal (ends ascend with the positions).
        let mut seen_end = 0;
        for &i in positions {
            while scan < i {
                if tokens[scan] != MASK {
                    left = scan;
                }
                scan += 1;
            }
            let end = branch.visible_end(i, self.attention);
            if end != seen_end {
                self.extend(b, tokens, end);
                seen_end = end;
            }
            next = next.max(i + 1);
            while next <= last_revealed && tokens[next] == MASK {
                next += 1;
            }
            let right = (next <= last_revealed && next < end).then(|| (tokens[next], next - i));
            let (xl, dl, right) = self.neighbours(tokens[left], i - left, right);
            if let (Some((z, _)), true) = (b.saturated, memo) {
                let key = key(z as u32, xl, dl, right);
                let at = Saturated {
                    z,
                    key,
                    xl,
                    dl,
                    right,
                };
                if let Some(p) = shortcut(b, &at) {
                    sink(i, Mixed::Prediction(p));
                    continue;
                }
            }
            // q = the sum, in plan order, of w_z times plan z's section-2 marginal. A plan
            // of weight 0 adds exactly nothing; skipping it spares its powers.
            b.q.fill(0.0);
            for (z, &wz) in b.w.iter().enumerate() {
                if wz != 0.0 {
                    let qz: &[f64] = if memo {
                        b.marginals.get_or(key(z as u32, xl, dl, right), |q| {
                            self.plan_marginal(z, xl, dl, right, q)
                        })
                    } else {
                        self.plan_marginal(z, xl, dl, right, &mut b.qz);
                        &b.qz
                    };
                    for (a, &p) in b.q.iter_mut().zip(qz) {
                        *a += wz * p;
                    }
                }
            }
            sink(i, Mixed::Distribution(&b.q));
        }
        end_posterior(b, tokens);
    }
}

impl ConfidenceModel for PlanMixture {
    fn vocab_size(&self) -> usize {
        self.plans[0].transitions().nrows()
    }

    fn eos_token(&self) -> Option<Token> {
        self.eos
    }

    fn predict(
        &self,
        branch: &Branch,
        positions: &[usize],
        kind: ConfidenceKind,
        round: u64,
        out: &mut [Prediction],
        scratch: &mut Scratch,
    ) {
        if scratch.full_recompute {
            super::predict_from_distributions(self, branch, positions, kind, round, out, scratch);
            return;
        }
        let entropy = scratch.want_entropy;
        scratch
            .slot::<Buffers>()
            .saturated_memo
            .bind(self.id, kind, entropy);
        let shortcut =
            |b: &mut Buffers, at: &Saturated| self.saturated_prediction(b, at, kind, entropy);
        self.each(branch, positions, scratch, shortcut, |i, mixed| {
            out[i] = match mixed {
                Mixed::Prediction(p) => p,
                Mixed::Distribution(q) => Prediction::from_distribution_with(q, kind, entropy),
            };
        });
    }

    fn distributions(
        &self,
        branch: &Branch,
        positions: &[usize],
        _round: u64,
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(usize, &[f64]),
    ) -> bool {
        self.each(
            branch,
            positions,
            scratch,
            |_, _| None,
            |i, mixed| {
                if let Mixed::Distribution(q) = mixed {
                    sink(i, q);
                }
            },
        );
        true
    }

    fn quality(
        &self,
        prompt: &[Token],
        generated: &[Token],
        _commit_probs: &[f64],
        scratch: &mut Scratch,
    ) -> Quality {
        let alive = &mut scratch.slot::<Buffers>().alive;
        alive.clear();
        alive.resize(self.plans.len(), true);
        let mut invalid = 0u64;
        let mut prev = *prompt.last().expect("prompts are non-empty") as usize;
        for &x in generated {
            let mut any = false;
            for (plan, a) in self.plans.iter().zip(alive.iter_mut()) {
                let ok = plan.transitions()[[prev, x as usize]] > 0.0;
                any |= ok;
                *a &= ok;
            }
            invalid += u64::from(!any);
            prev = x as usize;
        }
        Quality {
            invalid_transitions: Some(invalid),
            plan_consistent: Some(alive.iter().any(|&a| a)),
            ..Quality::default()
        }
    }

    fn sample_prompt(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<Token> {
        let u: f64 = rng.random();
        let mut acc = 0.0;
        // Rounding can leave the cumulative sum just under u: take the last possible plan.
        let mut plan = self.prior.iter().rposition(|&p| p > 0.0).unwrap_or(0);
        for (z, &p) in self.prior.iter().enumerate() {
            acc += p;
            if u < acc {
                plan = z;
                break;
            }
        }
        sample_chain(self.plans[plan].transitions(), self.eos, len, rng)
    }
}

#[cfg(test)]
mod tests;
