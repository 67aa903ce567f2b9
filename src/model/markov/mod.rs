//! The Markov oracle (SPEC 2): the Bayes-optimal denoiser for a first-order Markov chain.
//!
//! Its only error source is parallel filling: it fills with a product of marginals where the
//! chain has a joint. A marginal needs two matrix powers; they are computed once per model
//! on first use and shared by every decode, so one marginal costs O(V).
//!
//! `sample` draws prompts and continuations from the chain's rows.

mod sample;

use ndarray::{Array2, ArrayView2};
use rand_chacha::ChaCha8Rng;

use super::memo::{key, owner_id, PredictionMemo, MAX_TOKEN};
use super::powers::Powers;
use super::run_memo::{for_each_group, RunMemo};
use super::{predict_from_distributions, ConfidenceModel, Scratch};
use crate::record::Quality;
use crate::state::{Attention, Branch, ConfidenceKind, Prediction, Token};

pub(crate) use sample::{argmax, continue_chain, sample_chain};

/// The Markov oracle over a row-stochastic transition matrix T.
#[derive(Debug)]
pub struct MarkovOracle {
    t: Array2<f64>,
    /// Each token's greedy successor, argmax_v T[x, v] (smallest v on ties), for quality.
    greedy: Vec<Token>,
    /// T^n for n up to the largest distance, each built when some decode first needs it.
    powers: Powers,
    eos: Option<Token>,
    attention: Attention,
    /// This oracle's identity for the prediction memo.
    id: u64,
}

/// The incremental path's state: the memo and its own buffers.
#[derive(Default)]
struct MemoSlot {
    memo: PredictionMemo,
    /// Used instead of `memo` when the world fits its dense table.
    runs: RunMemo,
    q: Vec<f64>,
}

thread_local! {
    /// One memo per thread rather than per workspace: a sweep makes a workspace for every
    /// piece of work rayon splits off, and a memo that outlives them stays warm across a
    /// thread's decodes of the same world. Results never depend on what it holds.
    static MEMO: std::cell::RefCell<MemoSlot> = std::cell::RefCell::new(MemoSlot::default());
}

impl MarkovOracle {
    /// Bytes the power cache may take for `vocab` tokens and distances up to `max_distance`.
    pub fn cache_bytes(vocab: usize, max_distance: usize) -> u128 {
        (vocab as u128) * (vocab as u128) * (max_distance as u128) * 8
    }

    /// An oracle over `t`, valid for distances up to `max_distance` (>= L works for any decode
    /// of L generated positions). The caller has validated `t`.
    pub fn new(
        t: Array2<f64>,
        eos: Option<Token>,
        attention: Attention,
        max_distance: usize,
    ) -> Self {
        let t = t.as_standard_layout().into_owned();
        let greedy = t
            .rows()
            .into_iter()
            .map(|row| argmax(row.iter().copied()))
            .collect();
        MarkovOracle {
            powers: Powers::new(t.clone(), max_distance),
            t,
            greedy,
            eos,
            attention,
            id: owner_id(),
        }
    }

    /// The transition matrix.
    pub fn transitions(&self) -> ArrayView2<'_, f64> {
        self.t.view()
    }

    /// T^n, computed as T^(n-1) * T with left-to-right inner sums (SPEC 2), by every
    /// thread that needs it at the same time (`powers.rs`).
    pub fn power(&self, n: usize) -> &Array2<f64> {
        self.powers.get(n)
    }

    /// q_i for a masked position at distance `dl` right of token `xl`, and optionally at
    /// distance `dr` left of token `xr`. Writes the normalised distribution into `q`.
    pub fn marginal(&self, xl: Token, dl: usize, right: Option<(Token, usize)>, q: &mut [f64]) {
        let left = self.power(dl).row(xl as usize);
        if let Some((xr, dr)) = right {
            let pr = self.power(dr);
            let mut sum = 0.0;
            for (v, qv) in q.iter_mut().enumerate() {
                *qv = left[v] * pr[[v, xr as usize]];
                sum += *qv;
            }
            if sum > 0.0 {
                for qv in q.iter_mut() {
                    *qv /= sum;
                }
                return;
            }
        }
        let mut sum = 0.0;
        for (v, qv) in q.iter_mut().enumerate() {
            *qv = left[v];
            sum += *qv;
        }
        for qv in q.iter_mut() {
            *qv /= sum;
        }
    }

    /// Calls `each(i, x_l, d_l, right)` for every position of `positions` (masked,
    /// ascending): its nearest revealed left neighbour, and its nearest revealed right
    /// neighbour when `i` sees it (SPEC 2), from the groups of [`for_each_group`].
    fn neighbours(
        &self,
        branch: &Branch,
        positions: &[usize],
        mut each: impl FnMut(usize, Token, usize, Option<(Token, usize)>),
    ) {
        let tokens = &branch.tokens;
        for_each_group(branch, positions, self.attention, |start, end, l, r| {
            for i in start..end {
                each(i, tokens[l], i - l, r.map(|r| (tokens[r], r - i)));
            }
        });
    }
}

impl ConfidenceModel for MarkovOracle {
    fn vocab_size(&self) -> usize {
        self.t.nrows()
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
        // Distances fit the key's 32 bits whenever the power cache fits in memory.
        if scratch.full_recompute || self.vocab_size() >= MAX_TOKEN as usize {
            return predict_from_distributions(self, branch, positions, kind, round, out, scratch);
        }
        let entropy = scratch.want_entropy;
        let v = self.vocab_size();
        let max_distance = self.powers.len() - 1;
        // The prompt is never masked, so no distance exceeds the generated length.
        let generated = branch.tokens.len() - branch.prompt_len;
        if RunMemo::fits(v, max_distance) && generated <= max_distance {
            return MEMO.with_borrow_mut(|slot| {
                let MemoSlot { runs, q, .. } = slot;
                runs.bind(self.id, kind, entropy, v, max_distance);
                q.resize(v, 0.0);
                let tokens = &branch.tokens;
                for_each_group(branch, positions, self.attention, |start, end, l, r| {
                    let xl = tokens[l];
                    let out = &mut out[start..end];
                    let mut compute = |dl: usize, right: Option<(Token, usize)>| {
                        self.marginal(xl, dl, right, q);
                        Prediction::from_distribution_with(q, kind, entropy)
                    };
                    match r {
                        None => runs.one_sided(xl, start - l, out, |dl| compute(dl, None)),
                        Some(r) => {
                            let (xr, gap) = (tokens[r], r - l);
                            let at = runs.run(xl, xr, gap);
                            runs.two_sided(at, start - l, out, |dl| {
                                compute(dl, Some((xr, gap - dl)))
                            });
                        }
                    }
                });
            });
        }
        MEMO.with_borrow_mut(|slot| {
            let MemoSlot { memo, q, .. } = slot;
            memo.bind(self.id, kind, entropy);
            q.resize(v, 0.0);
            self.neighbours(branch, positions, |i, xl, dl, r| {
                out[i] = memo.get_or(key(0, xl, dl, r), || {
                    self.marginal(xl, dl, r, q);
                    Prediction::from_distribution_with(q, kind, entropy)
                });
            });
        });
    }

    fn local_predictions(&self) -> bool {
        true
    }

    fn distributions(
        &self,
        branch: &Branch,
        positions: &[usize],
        _round: u64,
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(usize, &[f64]),
    ) -> bool {
        let mut q = std::mem::take(&mut scratch.q);
        q.resize(self.vocab_size(), 0.0);
        self.neighbours(branch, positions, |i, xl, dl, r| {
            self.marginal(xl, dl, r, &mut q);
            sink(i, &q);
        });
        scratch.q = q;
        true
    }

    fn quality(
        &self,
        prompt: &[Token],
        generated: &[Token],
        _commit_probs: &[f64],
        _scratch: &mut Scratch,
    ) -> Quality {
        let mut invalid = 0u64;
        let mut ll = 0.0;
        let mut prev = *prompt.last().expect("prompts are non-empty");
        let mut greedy_prev = prev;
        let mut greedy = true;
        for &x in generated {
            let p = self.t[[prev as usize, x as usize]];
            if p == 0.0 {
                invalid += 1;
            } else {
                ll += p.ln();
            }
            let g = self.greedy[greedy_prev as usize];
            greedy &= g == x;
            greedy_prev = g;
            prev = x;
        }
        Quality {
            invalid_transitions: Some(invalid),
            log_likelihood: Some(ll),
            matches_greedy: Some(greedy),
            ..Quality::default()
        }
    }

    fn sample_prompt(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<Token> {
        sample_chain(self.t.view(), self.eos, len, rng)
    }
}

#[cfg(test)]
mod tests;
