//! Tests of the plan mixture against brute-force enumeration and the worked example.
use super::*;
use crate::model::chain_gen::ChainParams;
use crate::state::{ConfidenceKind, Prediction};
use ndarray::array;
use rand::SeedableRng;

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
fn brute(ts: &[Array2<f64>], prior: &[f64], t: &[Token], end: usize, i: usize) -> Option<Vec<f64>> {
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
        other_worlds: Vec::new(),
        decoder: Arc::new(crate::decoder::D2f {
            block_size: 8,
            max_blocks: 4,
            add_threshold: 0.1,
            activate_threshold: 0.95,
            fill_threshold: 0.85,
            fill_rule: None,
        }),
        search: crate::search::Search::Lopa { branches: 2 },
        knobs: Default::default(),
        confidence: ConfidenceKind::Prob,
        gen_length: 32,
        prompts: Prompts::Explicit(vec![vec![1], vec![4], vec![6, 5]]),
        seed: 4,
        sequences: 3,
        system: None,
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

/// Predictions under a saturated posterior (exact zeros with a small support, and weights
/// too small to matter with full support) equal the plain mixture's, bit for bit, and the
/// saturated path is taken.
#[test]
fn saturated_predictions_equal_the_mixture() {
    for (support, seed) in [(4, 3u64), (10, 4), (10, 5)] {
        let mut p = params(0.3);
        p.chain.support = support;
        p.chain.deterministic_share = 1.0;
        let (plans, prior) = generate(&p, seed);
        let model = PlanMixture::new(plans, prior, Some(0), Attention::Full, 96);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let prompt = model.sample_prompt(2, &mut rng);
        let text = model.sample_prompt(80, &mut rng);
        let mut b = Branch::new(&prompt, 16);
        for _ in 0..5 {
            b.append_block();
        }
        let mut fast = Scratch::default();
        let mut saturated = 0;
        for kind in [ConfidenceKind::Prob, ConfidenceKind::Margin] {
            for i in b.prompt_len..b.tokens.len() {
                if rng.random::<f64>() < 0.3 {
                    continue;
                }
                b.tokens[i] = text[i - b.prompt_len];
                let masked: Vec<usize> = (0..b.tokens.len())
                    .filter(|&j| b.tokens[j] == MASK)
                    .collect();
                let mut got = vec![Prediction::default(); b.tokens.len()];
                let mut want = got.clone();
                model.predict(&b, &masked, kind, 1, &mut got, &mut fast);
                saturated += usize::from(fast.slot::<Buffers>().saturated.is_some());
                let mut full = Scratch {
                    full_recompute: true,
                    ..Scratch::default()
                };
                model.predict(&b, &masked, kind, 1, &mut want, &mut full);
                for &j in &masked {
                    assert_eq!(got[j], want[j], "support {support}, position {j}");
                    assert_eq!(got[j].conf.to_bits(), want[j].conf.to_bits());
                }
            }
            b.tokens.truncate(b.prompt_len);
            b.blocks.clear();
            for _ in 0..5 {
                b.append_block();
            }
        }
        assert!(
            saturated > 0,
            "support {support}: the posterior never saturated"
        );
    }
}
