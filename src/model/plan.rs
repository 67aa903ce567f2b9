//! The latent-plan mixture (SPEC 2b.2): text is drawn by picking one of M plans from a prior,
//! then running that plan's Markov chain.
//!
//! The model is the Bayes-optimal denoiser for the mixture: the plan posterior, given a
//! branch's visible revealed tokens, weights each plan's section-2 marginal. Each plan is a
//! [`MarkovOracle`], so the matrix-power cache, and with it the memory, is M times the
//! Markov oracle's ([`PlanMixture::cache_bytes`]).

use ndarray::Array2;
use rand::seq::index::sample;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::chain_gen::{self, ChainParams};
use super::markov::{sample_chain, MarkovOracle};
use super::{ConfidenceModel, Scratch};
use crate::record::Quality;
use crate::state::{Attention, Branch, Token, MASK};

/// 2^256 and 2^-256. The running per-plan products are rescaled by this exact power of two
/// when they get small, so long sequences cannot underflow them, zero stays exactly zero,
/// and short of underflow the posterior is bit-identical to the plain product.
const SCALE: f64 = f64::from_bits((1023 + 256) << 52);
const INV_SCALE: f64 = f64::from_bits((1023 - 256) << 52);

/// The mixture of M Markov plans with a prior over them.
#[derive(Debug)]
pub struct PlanMixture {
    plans: Vec<MarkovOracle>,
    prior: Vec<f64>,
    eos: Option<Token>,
    attention: Attention,
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
    /// Per position: the nearest revealed position at or after it.
    right: Vec<usize>,
    /// The last revealed position taken into the posterior, and where the scan stopped.
    last: Option<usize>,
    scanned: usize,
    /// Quality: the plans that allow every pair so far.
    alive: Vec<bool>,
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
        let plans = plans
            .into_iter()
            .map(|t| MarkovOracle::new(t, eos, attention, max_distance))
            .collect();
        PlanMixture {
            plans,
            prior,
            eos,
            attention,
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
        self.each(branch, &[i], scratch, |_, d| q.copy_from_slice(d));
    }

    /// Hands q_i of every position of `positions` (masked, ascending) to `sink`: the work
    /// of `predict` and `distributions`, generic so `predict` pays no dynamic call.
    fn each(
        &self,
        branch: &Branch,
        positions: &[usize],
        scratch: &mut Scratch,
        mut sink: impl FnMut(usize, &[f64]),
    ) {
        let Some(&first) = positions.first() else {
            return;
        };
        let b = scratch.slot::<Buffers>();
        let (m, v, tokens) = (self.plans.len(), self.vocab_size(), &branch.tokens);
        b.mant.clear();
        b.mant.extend_from_slice(&self.prior);
        b.exp.clear();
        b.exp.resize(m, 0);
        b.w.resize(m, 0.0);
        b.qz.resize(v, 0.0);
        b.q.resize(v, 0.0);
        (b.last, b.scanned) = (None, 0);
        let len = tokens.len();
        b.right.resize(len + 1, usize::MAX);
        b.right[len] = usize::MAX;
        for j in (first..len).rev() {
            b.right[j] = if tokens[j] != MASK { j } else { b.right[j + 1] };
        }
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
            let r = b.right[i + 1];
            let right = (r < end).then(|| (tokens[r], r - i));
            // q = the sum, in plan order, of w_z times plan z's section-2 marginal. A plan
            // of weight 0 adds exactly nothing; skipping it spares its powers.
            b.q.fill(0.0);
            for (plan, &wz) in self.plans.iter().zip(&b.w) {
                if wz != 0.0 {
                    plan.marginal(tokens[left], i - left, right, &mut b.qz);
                    for (a, &p) in b.q.iter_mut().zip(&b.qz) {
                        *a += wz * p;
                    }
                }
            }
            sink(i, &b.q);
        }
    }

    /// Takes the revealed positions in `b.scanned..end` into the running products, then
    /// refreshes the posterior `b.w` (the prior if every plan is ruled out).
    fn extend(&self, b: &mut Buffers, tokens: &[Token], end: usize) {
        for (j, &x) in tokens.iter().enumerate().take(end).skip(b.scanned) {
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
    }
}

impl ConfidenceModel for PlanMixture {
    fn vocab_size(&self) -> usize {
        self.plans[0].transitions().nrows()
    }

    fn eos_token(&self) -> Option<Token> {
        self.eos
    }

    fn distributions(
        &self,
        branch: &Branch,
        positions: &[usize],
        _round: u64,
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(usize, &[f64]),
    ) -> bool {
        self.each(branch, positions, scratch, sink);
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

/// Parameters of a generated plan mixture. Together with the seed they fix the plans and
/// the prior.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanParams {
    /// M >= 1 (0 is read as 1).
    pub plans: usize,
    /// Normalised entropy H(prior) / ln M in [0, 1]: 1 is uniform, 0 puts all mass on plan
    /// 0. The prior is prior_z ∝ exp(-beta z) with beta >= 0 found by bisection.
    pub prior_entropy: f64,
    /// Share of the tokens, in [0, 1], whose transition rows every plan copies from plan 0.
    pub overlap: f64,
    /// Row parameters of every plan's chain.
    pub chain: ChainParams,
}

/// Draws the plans and the prior for `params` from `seed`. Plan z is
/// [`chain_gen::generate`] with its own seed derived from (seed, z); then round(overlap * V)
/// tokens, chosen from the seed, get plan 0's rows in every plan. EOS rows stay absorbing,
/// since every plan makes them so. Out-of-range knobs are clamped, never a panic.
pub fn generate(params: &PlanParams, seed: u64) -> (Vec<Array2<f64>>, Vec<f64>) {
    let m = params.plans.max(1);
    let mut plans: Vec<Array2<f64>> = (0..m)
        .map(|z| chain_gen::generate(&params.chain, plan_seed(seed, z)))
        .collect();
    let (first, rest) = plans.split_first_mut().expect("m >= 1");
    for s in shared_rows(first.nrows(), params.overlap, seed) {
        for p in rest.iter_mut() {
            p.row_mut(s).assign(&first.row(s));
        }
    }
    (plans, prior_with_entropy(m, params.prior_entropy))
}

/// Plan z's chain seed: the z-th output of splitmix64 from `seed`. Distinct z give distinct
/// seeds, since splitmix64's finaliser is a bijection.
fn plan_seed(seed: u64, z: usize) -> u64 {
    let mut x = seed.wrapping_add((z as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The shared tokens: round(overlap * V) of them, from a stream of the seed kept apart from
/// the chains' streams.
fn shared_rows(v: usize, overlap: f64, seed: u64) -> Vec<usize> {
    // A NaN share casts to 0 tokens.
    let k = ((overlap.clamp(0.0, 1.0) * v as f64).round() as usize).min(v);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x706c_616e_5f73_6872);
    sample(&mut rng, v, k).into_vec()
}

/// prior_z ∝ exp(-beta z) over M plans, normalised.
fn geometric(m: usize, beta: f64) -> Vec<f64> {
    let w: Vec<f64> = (0..m).map(|z| (-beta * z as f64).exp()).collect();
    let sum: f64 = w.iter().sum();
    w.into_iter().map(|x| x / sum).collect()
}

/// H(p) / ln M, summing only where p > 0.
fn normalised_entropy(p: &[f64]) -> f64 {
    let h: f64 = p.iter().filter(|&&x| x > 0.0).map(|&x| -x * x.ln()).sum();
    h / (p.len() as f64).ln()
}

/// The geometric prior whose normalised entropy is `target`. The entropy falls strictly
/// from 1 (beta = 0) towards 0 as beta grows, so bisection on beta finds it.
fn prior_with_entropy(m: usize, target: f64) -> Vec<f64> {
    if m == 1 || target.is_nan() || target >= 1.0 {
        return geometric(m, 0.0);
    }
    if target <= 0.0 {
        return (0..m).map(|z| if z == 0 { 1.0 } else { 0.0 }).collect();
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while normalised_entropy(&geometric(m, hi)) > target && hi < 1e6 {
        (lo, hi) = (hi, hi * 2.0);
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normalised_entropy(&geometric(m, mid)) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    geometric(m, 0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{ConfidenceKind, Prediction};
    use ndarray::array;

    fn random_matrix(rng: &mut ChaCha8Rng, v: usize) -> Array2<f64> {
        let mut t = Array2::zeros((v, v));
        for mut row in t.rows_mut() {
            for x in row.iter_mut() {
                *x = if rng.random::<f64>() < 0.3 {
                    0.0
                } else {
                    rng.random::<f64>() + 0.05
                };
            }
            if row.sum() == 0.0 {
                row[rng.random_range(0..v)] = 1.0;
            }
            let s = row.sum();
            row.mapv_inplace(|x| x / s);
        }
        t
    }

    /// P(x_i = v | revealed in 0..end) by enumerating every completion of the masked
    /// positions under the mixture joint; None when the revealed tokens are impossible.
    fn brute(
        ts: &[Array2<f64>],
        prior: &[f64],
        t: &[Token],
        end: usize,
        i: usize,
    ) -> Option<Vec<f64>> {
        let v = ts[0].nrows();
        let masked: Vec<usize> = (0..end).filter(|&j| t[j] == MASK).collect();
        let (mut acc, mut total) = (vec![0.0; v], 0.0);
        let mut x = t[..end].to_vec();
        for code in 0..v.pow(masked.len() as u32) {
            let mut c = code;
            for &j in &masked {
                x[j] = (c % v) as Token;
                c /= v;
            }
            let chain = |t: &Array2<f64>| -> f64 {
                (1..end)
                    .map(|s| t[[x[s - 1] as usize, x[s] as usize]])
                    .product()
            };
            let joint: f64 = ts.iter().zip(prior).map(|(t, p)| p * chain(t)).sum();
            acc[x[i] as usize] += joint;
            total += joint;
        }
        (total > 0.0).then(|| acc.iter().map(|a| a / total).collect())
    }

    const KIND: ConfidenceKind = ConfidenceKind::NegEntropy;

    /// Predict and distributions (posterior shared per call or block) and `marginal` (fresh
    /// per position) agree, and both equal the exact marginal wherever the revealed tokens are possible.
    #[test]
    fn marginals_match_brute_force_enumeration() {
        let mut compared = 0;
        for seed in 0..150u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (m, v) = (rng.random_range(1..=3), rng.random_range(2..=4));
            let plans: Vec<_> = (0..m).map(|_| random_matrix(&mut rng, v)).collect();
            // Some plans get prior 0.
            let mut prior: Vec<f64> = (0..m)
                .map(|_| (rng.random::<f64>() - 0.2).max(0.0))
                .collect();
            prior[0] += 0.1;
            let s: f64 = prior.iter().sum();
            prior.iter_mut().for_each(|p| *p /= s);
            let p = rng.random_range(1..=2);
            let bs = rng.random_range(1..=2);
            let prompt: Vec<Token> = (0..p).map(|_| rng.random_range(0..v) as Token).collect();
            let mut branch = Branch::new(&prompt, bs);
            for _ in 0..rng.random_range(1..=(6 - p) / bs) {
                branch.append_block();
            }
            for j in p..branch.tokens.len() {
                if rng.random::<f64>() < 0.4 {
                    branch.commit(j, rng.random_range(0..v) as Token, None);
                }
            }
            let masked: Vec<usize> = (p..branch.tokens.len())
                .filter(|&j| branch.tokens[j] == MASK)
                .collect();
            for att in [Attention::Full, Attention::BlockCausal] {
                let model = PlanMixture::new(plans.clone(), prior.clone(), None, att, 8);
                let (mut scratch, mut q) = (Scratch::default(), vec![0.0; v]);
                let mut out = vec![Prediction::default(); branch.tokens.len()];
                model.predict(&branch, &masked, KIND, 1, &mut out, &mut scratch);
                let mut dists = vec![Vec::new(); branch.tokens.len()];
                let mut sink = |i: usize, q: &[f64]| dists[i] = q.to_vec();
                assert!(model.distributions(&branch, &masked, 1, &mut scratch, &mut sink));
                for &i in &masked {
                    model.marginal(&branch, i, &mut q, &mut scratch);
                    assert_eq!(out[i], Prediction::from_distribution(&q, KIND));
                    assert_eq!(dists[i], q);
                    let end = branch.visible_end(i, att);
                    if let Some(exact) = brute(&plans, &prior, &branch.tokens, end, i) {
                        let err = q
                            .iter()
                            .zip(&exact)
                            .map(|(a, b)| (a - b).abs())
                            .fold(0.0, f64::max);
                        assert!(err < 1e-9, "seed {seed} {att:?} i {i}: {q:?} vs {exact:?}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 200, "only {compared} exact comparisons");
    }

    #[test]
    fn fallbacks_use_the_prior_and_the_left_only_form() {
        let t0 = array![[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]];
        let t1 = array![[0.2, 0.0, 0.8], [0.3, 0.7, 0.0], [0.0, 0.0, 1.0]];
        let model = PlanMixture::new(vec![t0, t1], vec![0.6, 0.4], None, Attention::Full, 8);
        // Prompt pair 2 -> 0 fits no plan: the prior weights [0.6, 0.4]. Position 2 sits
        // between x = 0 and a revealed x3.
        // x3 = 2: the bridges are [0, 1, 0] and [0.16, 0, 0.8] / 0.96.
        // x3 = 1: plan 0 bridges to [0.5, 0.5, 0]; plan 1's bridge sums to 0, so it falls
        // back to its left-only row [0.2, 0, 0.8].
        for (x3, want) in [
            (2, [0.4 / 6.0, 0.6, 0.4 * 5.0 / 6.0]),
            (1, [0.38, 0.3, 0.32]),
        ] {
            let mut b = Branch::new(&[2, 0], 2);
            b.append_block();
            b.commit(3, x3, None);
            let mut q = vec![0.0; 3];
            model.marginal(&b, 2, &mut q, &mut Scratch::default());
            assert!(
                q.iter().zip(want).all(|(a, e)| (a - e).abs() < 1e-15),
                "{q:?}"
            );
        }
    }

    #[test]
    fn posterior_survives_long_sequences() {
        // Plan 1 loses a factor 1e-3 per pair; after 400 pairs only plan 0 is left, and it
        // must still be plan 1 alone once a pair rules plan 0 out.
        let t0 = array![[0.999, 0.001, 0.0], [0.5, 0.5, 0.0], [0.5, 0.5, 0.0]];
        let t1 = array![[0.001, 0.998, 0.001], [0.5, 0.0, 0.5], [0.0, 0.0, 1.0]];
        let model = PlanMixture::new(vec![t0, t1], vec![0.5, 0.5], None, Attention::Full, 8);
        let mut prompt = vec![0; 401];
        let mut b = Branch::new(&prompt, 1);
        b.append_block();
        let mut q = vec![0.0; 3];
        model.marginal(&b, 401, &mut q, &mut Scratch::default());
        assert_eq!(q, vec![0.999, 0.001, 0.0]);
        prompt.extend([1, 2]);
        let mut b = Branch::new(&prompt, 1);
        b.append_block();
        model.marginal(&b, 403, &mut q, &mut Scratch::default());
        assert_eq!(q, vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn quality_checks_one_plan_for_all_pairs() {
        let t0 = array![[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]];
        let t1 = array![[0.5, 0.0, 0.5], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]];
        let model = PlanMixture::new(vec![t0, t1], vec![0.5, 0.5], Some(2), Attention::Full, 8);
        let mut s = Scratch::default();
        let mut check = |gen: &[Token], invalid, consistent| {
            let q = model.quality(&[0], gen, &[], &mut s);
            let want = Quality {
                invalid_transitions: Some(invalid),
                plan_consistent: Some(consistent),
                ..Quality::default()
            };
            assert_eq!(q, want, "{gen:?}");
        };
        check(&[1, 2], 0, false); // 0 -> 1 only under plan 0, 1 -> 2 only under plan 1
        check(&[1, 1, 0], 0, true); // all under plan 0
        check(&[2, 0], 1, false); // 2 -> 0 under no plan
        check(&[], 0, true);
    }

    fn read_csv(name: &str) -> Vec<Vec<String>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        let text = std::fs::read_to_string(path).expect("golden file");
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split(',').map(|c| c.trim().to_string()).collect())
            .collect()
    }

    fn read_matrix(name: &str) -> Array2<f64> {
        let rows = read_csv(name);
        let flat = rows
            .iter()
            .flatten()
            .map(|c| c.parse().expect("number"))
            .collect();
        Array2::from_shape_vec((rows.len(), rows[0].len()), flat).expect("square")
    }

    #[test]
    fn reproduces_the_golden_plan_example() {
        use crate::engine::{Prompts, Setup, Workspace};
        use std::sync::Arc;
        let plans = vec![read_matrix("plan0.csv"), read_matrix("plan1.csv")];
        let model = PlanMixture::new(plans, vec![0.6, 0.4], Some(0), Attention::Full, 32);
        let setup = Setup {
            model: Arc::new(model),
            decoder: Arc::new(crate::decoder::D2f {
                block_size: 8,
                max_blocks: 4,
                add_threshold: 0.1,
                activate_threshold: 0.95,
                fill_threshold: 0.85,
            }),
            search: crate::search::Search::Lopa { branches: 2 },
            confidence: ConfidenceKind::Prob,
            gen_length: 32,
            prompts: Prompts::Explicit(vec![vec![1], vec![4], vec![6, 5]]),
            seed: 4,
            sequences: 3,
        };
        let rows = read_csv("expected-plan.csv");
        let col = |name: &str| rows[0].iter().position(|c| c == name).expect("column");
        let mut ws = Workspace::default();
        for row in &rows[1..] {
            let num = |name: &str| row[col(name)].parse::<u64>().expect("integer");
            let r = setup.decode(num("seq") as usize, &mut ws).expect("decodes");
            let got = [r.rounds, r.tokens, r.content_tokens, r.lookahead_wins];
            let want = ["rounds", "tokens", "content_tokens", "lookahead_wins"].map(num);
            assert_eq!(got, want, "seq {}", row[col("seq")]);
            let q = &r.quality;
            assert_eq!(q.invalid_transitions, Some(num("invalid_transitions")));
            assert_eq!(q.plan_consistent, Some(num("plan_consistent") == 1));
        }
    }

    fn params(overlap: f64) -> PlanParams {
        let chain = ChainParams {
            vocab_size: 10,
            peakedness: 2.0,
            deterministic_share: 0.5,
            deterministic_mass: 0.95,
            support: 4,
            eos_token: Some(0),
            eos_hazard: 0.02,
        };
        PlanParams {
            plans: 3,
            prior_entropy: 0.7,
            overlap,
            chain,
        }
    }

    #[test]
    fn generator_is_seeded_stochastic_and_shares_rows() {
        let (plans, prior) = generate(&params(0.5), 11);
        assert_eq!((plans.len(), prior.len()), (3, 3));
        assert_eq!(generate(&params(0.5), 11), (plans.clone(), prior.clone()));
        assert_ne!(generate(&params(0.5), 12).0, plans);
        for t in &plans {
            assert_eq!(t[[0, 0]], 1.0);
            assert!(t
                .rows()
                .into_iter()
                .all(|r| (r.sum() - 1.0).abs() < 1e-12 && r.iter().all(|&p| p >= 0.0)));
        }
        let shared = shared_rows(10, 0.5, 11);
        assert_eq!(shared.len(), 5);
        let same = |s: usize| plans.iter().all(|t| t.row(s) == plans[0].row(s));
        assert!(shared.iter().all(|&s| same(s)));
        // The other non-EOS rows come from distinct chains.
        assert!((1..10).filter(|s| !shared.contains(s)).all(|s| !same(s)));
        let (all, _) = generate(&params(1.0), 11);
        assert!(all.iter().all(|t| *t == all[0]));
    }

    #[test]
    fn prior_has_the_requested_entropy() {
        for m in [2, 3, 7] {
            for h in [0.0, 1e-3, 0.3, 0.7, 0.999, 1.0] {
                let p = prior_with_entropy(m, h);
                assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                assert!(
                    (normalised_entropy(&p) - h).abs() < 1e-6,
                    "m {m} h {h}: {p:?}"
                );
                assert!(p.windows(2).all(|w| w[0] >= w[1]), "plan 0 leads: {p:?}");
            }
        }
        assert_eq!(prior_with_entropy(1, 0.3), vec![1.0]);
    }
}
