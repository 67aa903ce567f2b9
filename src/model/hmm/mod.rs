//! The hidden Markov oracle (SPEC 2b.1): the Bayes-optimal denoiser for text emitted by an
//! HMM, plus a seeded generator of HMMs for scenarios without explicit matrices.
//!
//! A prediction call runs one scaled forward pass per branch, shared by every position,
//! and one scaled backward pass per distinct visible end: the whole branch under full
//! attention, each block under block-causal attention (a position's visible sequence ends
//! with its own block, so that block's backward pass serves all of its positions). A call
//! costs O(len K^2 + positions K V), and its buffers live in the scratch slot.

use ndarray::{Array1, Array2};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::{ConfidenceModel, Scratch};
use crate::record::Quality;
use crate::state::{Attention, Branch, ConfidenceKind, Prediction, Token};

#[cfg(target_arch = "x86_64")]
mod avx512;
mod generator;
mod kernel;
mod memo;
mod passes;

pub use generator::{generate, HmmMatrices, HmmParams};
use memo::PositionMemo;

/// The HMM oracle over transitions A (K x K), emissions E (K x V) and initial law pi.
#[derive(Debug)]
pub struct HmmOracle {
    a: Array2<f64>,
    /// A transposed, for the backward pass's products with A's rows.
    a_t: Array2<f64>,
    e: Array2<f64>,
    /// E transposed: row x is every state's likelihood of emitting x, read once a position.
    e_t: Array2<f64>,
    pi: Array1<f64>,
    eos: Option<Token>,
    attention: Attention,
    /// This oracle's identity, so a reused scratch never mistakes another model's forward
    /// messages for its own.
    id: u64,
    /// The widest vectors the K x V marginal and the passes may use.
    simd: kernel::Simd,
}

/// Reusable buffers, kept in the scratch slot so steady-state calls do not allocate.
#[derive(Default)]
struct HmmBuffers {
    /// Row t: the normalised forward state at t, before t's emission.
    alpha: Vec<f64>,
    /// Row t: the normalised backward state at t, for the current visible end.
    beta: Vec<f64>,
    /// Position t's emission likelihood is 1: it is masked, or its token is impossible.
    hidden: Vec<bool>,
    /// K-long work rows.
    w: Vec<f64>,
    next: Vec<f64>,
    /// The marginal handed to the caller.
    q: Vec<f64>,
    /// The tokens `alpha` and `hidden` were computed from, and by which oracle (0: none).
    /// Row t of `alpha` depends on tokens 0..t only, so the next call, whose branch
    /// differs from this one only near the decoding frontier, resumes the forward pass at
    /// the first token that changed (incremental evaluation, bit-identical).
    alpha_tokens: Vec<Token>,
    alpha_owner: u64,
    /// The tokens and hidden flags `beta` rows `beta_from..beta_end` were computed from,
    /// and by which oracle (0: none).
    beta_tokens: Vec<Token>,
    beta_hidden: Vec<bool>,
    beta_from: usize,
    beta_end: usize,
    beta_owner: u64,
    /// A K-long row being computed, before it is compared with the one it replaces.
    row: Vec<f64>,
    /// The last prediction made at each position, by its weights row.
    memo: PositionMemo,
    /// Positions whose prediction is still to be made, their weights rows, and
    /// [`kernel::BATCH`] of them at a time: rows as columns, and their unnormalised
    /// marginals.
    /// (position, weights row's hash)
    pending: Vec<(usize, u64)>,
    pending_rows: Vec<f64>,
    wt: Vec<f64>,
    qs: Vec<f64>,
}

impl HmmOracle {
    /// An oracle over `transitions` (K x K), `emissions` (K x V) and `initial` (K), K >= 1.
    /// The caller has validated shapes and stochastic rows.
    pub fn new(
        transitions: Array2<f64>,
        emissions: Array2<f64>,
        initial: Array1<f64>,
        eos: Option<Token>,
        attention: Attention,
    ) -> Self {
        HmmOracle {
            a_t: transitions.t().as_standard_layout().into_owned(),
            a: transitions.as_standard_layout().into_owned(),
            e_t: emissions.t().as_standard_layout().into_owned(),
            e: emissions.as_standard_layout().into_owned(),
            pi: initial,
            eos,
            attention,
            id: super::memo::owner_id(),
            simd: kernel::Simd::detect(),
        }
    }

    fn states(&self) -> usize {
        self.a.nrows()
    }

    /// Computes q_i for every masked position of `positions` (ascending) of `branch` and
    /// hands each to `each(i, q)`, normalised. [`ConfidenceModel::predict`] is built on it.
    pub fn marginals(
        &self,
        branch: &Branch,
        positions: &[usize],
        scratch: &mut Scratch,
        mut each: impl FnMut(usize, &[f64]),
    ) {
        self.pass(branch, positions, scratch, |m, buf, i| {
            m.fill_marginal(buf);
            each(i, &buf.q);
        });
    }

    /// Runs the forward and backward passes for `positions` (masked, ascending) of
    /// `branch` and calls `at(self, buf, i)` for each position i, in order, with
    /// `buf.next` holding alpha_i(h) * beta_i(h): q_i is a function of that row alone.
    fn pass(
        &self,
        branch: &Branch,
        positions: &[usize],
        scratch: &mut Scratch,
        mut at: impl FnMut(&Self, &mut HmmBuffers, usize),
    ) {
        let Some(&last) = positions.last() else {
            return;
        };
        let (k, v) = (self.states(), self.e.ncols());
        let reuse = !scratch.full_recompute;
        let buf = scratch.slot::<HmmBuffers>();
        buf.w.resize(k, 0.0);
        buf.next.resize(k, 0.0);
        buf.q.resize(v, 0.0);
        let tokens = &branch.tokens[..branch.visible_end(last, self.attention)];
        self.forward(tokens, buf, reuse);
        let mut j = 0;
        while j < positions.len() {
            let end = branch.visible_end(positions[j], self.attention);
            let group = positions[j..]
                .iter()
                .position(|&p| branch.visible_end(p, self.attention) != end)
                .map_or(positions.len(), |n| j + n);
            self.backward(tokens, positions[j], end, buf, reuse);
            for &i in &positions[j..group] {
                let rows = i * k..(i + 1) * k;
                let (a, b) = (&buf.alpha[rows.clone()], &buf.beta[rows]);
                for ((n, &a), &b) in buf.next.iter_mut().zip(a).zip(b) {
                    *n = a * b;
                }
                at(self, buf, i);
            }
            j = group;
        }
    }

    /// `buf.q` = the normalised marginal of the weights `buf.next` (K): q(v) is
    /// proportional to sum_h next[h] E[h, v], the terms added for h = 0, 1, ... in turn.
    fn fill_marginal(&self, buf: &mut HmmBuffers) {
        let e = self.e.as_slice().expect("standard layout");
        kernel::marginal(&buf.next, e, &mut buf.q, self.simd);
        let sum: f64 = buf.q.iter().sum();
        buf.q.iter_mut().for_each(|q| *q /= sum);
    }

    /// Makes the predictions of `buf.pending` from `buf.pending_rows` into `out`,
    /// recording each in the memo.
    fn predict_pending(
        &self,
        buf: &mut HmmBuffers,
        kind: ConfidenceKind,
        entropy: bool,
        out: &mut [Prediction],
    ) {
        const B: usize = kernel::BATCH;
        let (k, v) = (self.states(), self.e.ncols());
        let e_t = self.e_t.as_slice().expect("standard layout");
        buf.qs.resize(B * v, 0.0);
        buf.wt.resize(k * B, 0.0);
        let mut start = 0;
        while start < buf.pending.len() {
            let n = (buf.pending.len() - start).min(B);
            // The weights rows as columns; unused lanes weigh nothing.
            buf.wt.fill(0.0);
            for r in 0..n {
                for h in 0..k {
                    buf.wt[h * B + r] = buf.pending_rows[(start + r) * k + h];
                }
            }
            let tally = kernel::marginals(&buf.wt, e_t, &mut buf.qs, self.simd);
            for r in 0..n {
                let p =
                    kernel::prediction(&buf.qs, r, &tally, kind, entropy).unwrap_or_else(|| {
                        for (x, q) in buf.q.iter_mut().enumerate() {
                            *q = buf.qs[x * B + r] / tally.sum[r];
                        }
                        Prediction::from_distribution_with(&buf.q, kind, entropy)
                    });
                let (i, hash) = buf.pending[start + r];
                buf.memo.put(
                    i,
                    hash,
                    &buf.pending_rows[(start + r) * k..(start + r + 1) * k],
                    p,
                );
                out[i] = p;
            }
            start += n;
        }
    }
}

impl ConfidenceModel for HmmOracle {
    fn vocab_size(&self) -> usize {
        self.e.ncols()
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
        let len = branch.tokens.len();
        {
            let buf = scratch.slot::<HmmBuffers>();
            buf.memo.bind(self.id, self.states(), kind, entropy, len);
        }
        {
            let buf = scratch.slot::<HmmBuffers>();
            buf.pending.clear();
            buf.pending_rows.clear();
        }
        self.pass(branch, positions, scratch, |_, buf, i| {
            match buf.memo.get(i, &buf.next) {
                Ok(p) => out[i] = p,
                Err(hash) => {
                    buf.pending.push((i, hash));
                    buf.pending_rows.extend_from_slice(&buf.next);
                }
            }
        });
        let buf = scratch.slot::<HmmBuffers>();
        self.predict_pending(buf, kind, entropy, out);
    }

    fn distributions(
        &self,
        branch: &Branch,
        positions: &[usize],
        _round: u64,
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(usize, &[f64]),
    ) -> bool {
        self.marginals(branch, positions, scratch, sink);
        true
    }

    fn quality(
        &self,
        prompt: &[Token],
        generated: &[Token],
        _commit_probs: &[f64],
        scratch: &mut Scratch,
    ) -> Quality {
        let k = self.states();
        let buf = scratch.slot::<HmmBuffers>();
        buf.w.resize(k, 0.0);
        buf.next.resize(k, 0.0);
        // This pass reuses `alpha` as one row: the prediction path starts over.
        buf.alpha_owner = 0;
        buf.beta_owner = 0;
        buf.alpha.resize(k, 0.0);
        buf.alpha
            .copy_from_slice(self.pi.as_slice().expect("standard layout"));
        let (mut invalid, mut ll) = (0u64, 0.0);
        for (t, &x) in prompt.iter().chain(generated).enumerate() {
            // The state is normalised, so the forward total is P(x_t | x_0..x_{t-1}).
            let p = self.step(&buf.alpha, x, &mut buf.w, &mut buf.next);
            if t >= prompt.len() {
                match p {
                    Some(p) => ll += p.ln(),
                    None => invalid += 1,
                }
            }
            std::mem::swap(&mut buf.alpha, &mut buf.next);
        }
        Quality {
            invalid_transitions: Some(invalid),
            log_likelihood: Some(ll),
            ..Quality::default()
        }
    }

    fn sample_prompt(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<Token> {
        let mut state = draw(self.pi.iter().copied(), rng);
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            out.push(draw(self.e.row(state).iter().copied(), rng) as Token);
            state = draw(self.a.row(state).iter().copied(), rng);
        }
        out
    }
}

/// The two rows hold the same bits.
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// An index drawn from a stochastic row; rounding short of 1 goes to the last positive entry.
fn draw(row: impl Iterator<Item = f64>, rng: &mut ChaCha8Rng) -> usize {
    let u: f64 = rng.random();
    let (mut acc, mut last) = (0.0, 0);
    for (j, p) in row.enumerate() {
        acc += p;
        if p > 0.0 {
            last = j;
            if u < acc {
                return j;
            }
        }
    }
    last
}

#[cfg(test)]
mod tests;
