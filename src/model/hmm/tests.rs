//! Tests of the hidden Markov oracle against brute-force enumeration and the worked example.
use super::*;
use crate::state::{ConfidenceKind, Prediction, MASK};
use rand::SeedableRng;
use std::sync::Arc;

/// A tiny random HMM with exact zeros, so some tokens are impossible.
fn tiny(rng: &mut ChaCha8Rng, k: usize, v: usize, att: Attention) -> HmmOracle {
    let mut row = |n: usize| {
        let keep = rng.random_range(0..n);
        let mut r: Vec<f64> = (0..n)
            .map(|j| (j == keep || rng.random::<f64>() > 0.4) as u8 as f64 * rng.random::<f64>())
            .collect();
        r[keep] += 0.1;
        let s: f64 = r.iter().sum();
        r.iter_mut().for_each(|x| *x /= s);
        r
    };
    let a = Array2::from_shape_vec((k, k), (0..k).flat_map(|_| row(k)).collect()).unwrap();
    let e = Array2::from_shape_vec((k, v), (0..k).flat_map(|_| row(v)).collect()).unwrap();
    HmmOracle::new(a, e, Array1::from(row(k)), None, att)
}

/// Calls `f` with every tuple over 0..base of length `len`.
fn tuples(len: usize, base: usize, mut f: impl FnMut(&[usize])) {
    let mut t = vec![0; len];
    loop {
        f(&t);
        let mut d = 0;
        loop {
            if d == len {
                return;
            }
            t[d] += 1;
            if t[d] < base {
                break;
            }
            t[d] = 0;
            d += 1;
        }
    }
}

/// The joint probability of each token sequence that agrees with `fixed`, summed over
/// every state path, handed to `f`.
fn completions(m: &HmmOracle, fixed: &[Option<usize>], mut f: impl FnMut(&[usize], f64)) {
    let (k, v) = (m.states(), m.vocab_size());
    tuples(fixed.len(), v, |y| {
        if y.iter().zip(fixed).any(|(&y, f)| f.is_some_and(|f| f != y)) {
            return;
        }
        let mut joint = 0.0;
        tuples(y.len(), k, |h| {
            let mut p = m.pi[h[0]] * m.e[[h[0], y[0]]];
            for t in 1..y.len() {
                p *= m.a[[h[t - 1], h[t]]] * m.e[[h[t], y[t]]];
            }
            joint += p;
        });
        f(y, joint);
    });
}

fn prob(m: &HmmOracle, fixed: &[Option<usize>]) -> f64 {
    let mut s = 0.0;
    completions(m, fixed, |_, p| s += p);
    s
}

/// The revealed tokens, with every impossible one (zero prefix probability) dropped.
fn effective(m: &HmmOracle, tokens: &[Token]) -> Vec<Option<usize>> {
    let mut fixed = vec![None; tokens.len()];
    for t in 0..tokens.len() {
        if tokens[t] != MASK {
            fixed[t] = Some(tokens[t] as usize);
            if prob(m, &fixed[..=t]) == 0.0 {
                fixed[t] = None;
            }
        }
    }
    fixed
}

#[test]
fn marginals_match_brute_force_enumeration() {
    let mut dropped = 0;
    for seed in 0..60u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (k, v) = (rng.random_range(1..=3), rng.random_range(2..=4));
        let p = rng.random_range(1..=2);
        let bs = rng.random_range(1..=2);
        let prompt: Vec<Token> = (0..p).map(|_| rng.random_range(0..v) as Token).collect();
        let mut b = Branch::new(&prompt, bs);
        for _ in 0..rng.random_range(1..=(6 - p) / bs) {
            b.append_block();
        }
        for i in p..b.tokens.len() {
            if rng.random::<f64>() < 0.5 {
                b.commit(i, rng.random_range(0..v) as Token, None);
            }
        }
        let masked: Vec<usize> = (p..b.tokens.len())
            .filter(|&i| b.tokens[i] == MASK)
            .collect();
        for att in [Attention::Full, Attention::BlockCausal] {
            let m = tiny(&mut ChaCha8Rng::seed_from_u64(seed + 1000), k, v, att);
            let mut got = Vec::new();
            m.marginals(&b, &masked, &mut Scratch::default(), |i, q| {
                got.push((i, q.to_vec()))
            });
            assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), masked);
            for (i, q) in got {
                let end = b.visible_end(i, att);
                let fixed = effective(&m, &b.tokens[..end]);
                dropped += (0..end)
                    .filter(|&t| b.tokens[t] != MASK && fixed[t].is_none())
                    .count();
                let mut want = vec![0.0; v];
                completions(&m, &fixed, |y, p| want[y[i]] += p);
                let s: f64 = want.iter().sum();
                for (a, w) in q.iter().zip(&want) {
                    assert!(
                        (a - w / s).abs() < 1e-9,
                        "seed {seed} {att:?} i {i}: {q:?} vs {want:?}"
                    );
                }
            }
        }
    }
    assert!(dropped > 0, "no impossible token was exercised");
}

/// The memoised, batched prediction path with resumed passes, on a chain of branches that
/// change a few tokens at a time (as LoPA's branches and rounds do), gives exactly the
/// predictions of the plain path recomputed from scratch, for every confidence kind.
#[test]
fn incremental_predictions_equal_the_plain_path() {
    let kinds = [
        ConfidenceKind::Prob,
        ConfidenceKind::Margin,
        ConfidenceKind::NegEntropy,
    ];
    let mut reused = 0;
    for seed in 0..24u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (k, v) = (rng.random_range(1..=4), rng.random_range(2..=40));
        let att = [Attention::Full, Attention::BlockCausal][seed as usize % 2];
        let m = tiny(&mut rng, k, v, att);
        let kind = kinds[seed as usize % 3];
        let entropy = seed % 4 == 1;
        let mut b = Branch::new(&[0, 1 % v as Token], 4);
        for _ in 0..6 {
            b.append_block();
        }
        let mut fast = Scratch {
            want_entropy: entropy,
            ..Scratch::default()
        };
        for step in 0..40 {
            // A few tokens change, sometimes back to masks (a sibling branch).
            for _ in 0..rng.random_range(1..=3) {
                let i = rng.random_range(b.prompt_len..b.tokens.len());
                b.tokens[i] = if rng.random::<f64>() < 0.6 {
                    rng.random_range(0..v) as Token
                } else {
                    MASK
                };
            }
            if step % 13 == 12 {
                b.append_block();
            }
            let masked: Vec<usize> = (0..b.tokens.len())
                .filter(|&i| b.tokens[i] == MASK)
                .collect();
            let mut got = vec![Prediction::default(); b.tokens.len()];
            let mut want = got.clone();
            m.predict(&b, &masked, kind, 1, &mut got, &mut fast);
            let mut full = Scratch {
                want_entropy: entropy,
                full_recompute: true,
                ..Scratch::default()
            };
            m.predict(&b, &masked, kind, 1, &mut want, &mut full);
            for &i in &masked {
                assert_eq!(got[i], want[i], "seed {seed} step {step} position {i}");
                assert_eq!(got[i].prob.to_bits(), want[i].prob.to_bits());
                assert_eq!(got[i].conf.to_bits(), want[i].conf.to_bits());
            }
            reused += usize::from(step > 0);
        }
    }
    assert!(reused > 0);
}

#[test]
fn quality_matches_brute_force() {
    let mut invalid_seen = 0;
    for seed in 0..30u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (k, v) = (rng.random_range(1..=3), rng.random_range(2..=4));
        let m = tiny(&mut rng, k, v, Attention::Full);
        let p = rng.random_range(1..=2);
        let x: Vec<Token> = (0..6).map(|_| rng.random_range(0..v) as Token).collect();
        let mut fixed = effective(&m, &x[..p]);
        let (mut ll, mut invalid) = (0.0, 0);
        for &t in &x[p..] {
            let before = prob(&m, &fixed);
            fixed.push(Some(t as usize));
            let pt = prob(&m, &fixed) / before;
            if pt > 0.0 {
                ll += pt.ln();
            } else {
                invalid += 1;
                *fixed.last_mut().unwrap() = None;
            }
        }
        let q = m.quality(&x[..p], &x[p..], &[], &mut Scratch::default());
        assert_eq!(q.invalid_transitions, Some(invalid), "seed {seed}");
        assert!((q.log_likelihood.unwrap() - ll).abs() < 1e-9, "seed {seed}");
        assert_eq!(
            (q.matches_greedy, q.plan_consistent, q.token_errors),
            (None, None, None)
        );
        invalid_seen += invalid;
    }
    assert!(invalid_seen > 0, "no invalid token was exercised");
}

#[test]
fn long_sequences_do_not_underflow() {
    let (a, e, pi) = generate(&params(), 5);
    let m = HmmOracle::new(a, e, pi, Some(0), Attention::Full);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut b = Branch::new(&m.sample_prompt(512, &mut rng), 8);
    b.append_block();
    let mut out = vec![Prediction::default(); b.tokens.len()];
    let positions: Vec<usize> = (512..520).collect();
    m.predict(
        &b,
        &positions,
        ConfidenceKind::Prob,
        1,
        &mut out,
        &mut Scratch::default(),
    );
    assert!(positions
        .iter()
        .all(|&i| out[i].prob.is_finite() && out[i].prob > 0.0));
}

fn golden_csv(name: &str) -> Vec<Vec<String>> {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let rows = text.lines().filter(|l| !l.trim().is_empty());
    rows.map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
        .collect()
}

fn golden_matrix(name: &str) -> Array2<f64> {
    let rows = golden_csv(name);
    let flat = rows.iter().flatten().map(|s| s.parse().unwrap()).collect();
    Array2::from_shape_vec((rows.len(), rows[0].len()), flat).unwrap()
}

#[test]
fn reproduces_the_golden_example() {
    use crate::engine::{Prompts, Setup, Workspace};
    let pi = golden_matrix("hmm_pi.csv").row(0).to_owned();
    let (a, e) = (golden_matrix("hmm_A.csv"), golden_matrix("hmm_E.csv"));
    let model = Arc::new(HmmOracle::new(a, e, pi, Some(0), Attention::Full));
    let expected = golden_csv("expected-hmm.csv");
    let col = |name: &str| expected[0].iter().position(|c| c == name).unwrap();
    for row in &expected[1..] {
        let branches = row[col("search.branches")].parse().unwrap();
        let setup = Setup {
            model: model.clone(),
            other_worlds: Vec::new(),
            decoder: Arc::new(crate::decoder::D2f {
                block_size: 8,
                max_blocks: 4,
                add_threshold: 0.1,
                activate_threshold: 0.95,
                fill_threshold: 0.9,
                fill_rule: None,
            }),
            search: crate::search::Search::Lopa { branches },
            knobs: Default::default(),
            confidence: ConfidenceKind::Prob,
            gen_length: 32,
            prompts: Prompts::Explicit(vec![vec![1, 2], vec![5], vec![7]]),
            seed: 3,
            sequences: 3,
            system: None,
        };
        let seq = row[col("seq")].parse().unwrap();
        let r = setup.decode(seq, &mut Workspace::default()).unwrap();
        let int = |name: &str| row[col(name)].parse::<u64>().unwrap();
        let got = [r.rounds, r.tokens, r.content_tokens, r.lookahead_wins];
        let want = ["rounds", "tokens", "content_tokens", "lookahead_wins"].map(int);
        assert_eq!(got, want, "k {branches} seq {seq}");
        assert_eq!(
            r.quality.invalid_transitions,
            Some(int("invalid_transitions"))
        );
        let ll: f64 = row[col("log_likelihood")].parse().unwrap();
        assert!((r.quality.log_likelihood.unwrap() - ll).abs() < 1e-9);
        assert_eq!(r.quality.matches_greedy, None);
    }
}

fn params() -> HmmParams {
    HmmParams {
        states: 4,
        vocab_size: 10,
        stickiness: 0.8,
        emission_sharpness: 2.0,
        state_flow: 0.0,
        eos_token: Some(0),
        eos_hazard: 0.02,
    }
}

#[test]
fn generated_rows_are_stochastic_and_seeded() {
    let (a, e, pi) = generate(&params(), 7);
    assert_eq!((a.dim(), e.dim(), pi.len()), ((5, 5), (5, 10), 5));
    for row in a.rows().into_iter().chain(e.rows()) {
        assert!((row.sum() - 1.0).abs() < 1e-12);
        assert!(row.iter().all(|&p| p >= 0.0));
    }
    assert!((pi.sum() - 1.0).abs() < 1e-12 && pi[4] == 0.0);
    // The end state absorbs and emits only EOS; content states reach it at the hazard.
    assert_eq!((a[[4, 4]], e[[4, 0]]), (1.0, 1.0));
    assert!((a[[1, 4]] - 0.02).abs() < 1e-15 && (e[[1, 0]] - 0.02).abs() < 1e-15);
    assert!(a[[2, 2]] >= 0.98 * 0.8);
    assert_eq!(generate(&params(), 7), (a, e, pi));
    assert_ne!(generate(&params(), 7), generate(&params(), 8));
    let no_eos = HmmParams {
        eos_token: None,
        ..params()
    };
    let (a, e, _) = generate(&no_eos, 7);
    assert_eq!((a.dim(), e.dim()), ((4, 4), (4, 10)));
    assert!(e.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
}

#[test]
fn state_flow_walks_one_cycle_through_the_states() {
    let flowing = HmmParams {
        stickiness: 0.0,
        state_flow: 0.98,
        states: 6,
        ..params()
    };
    let (a, e, _) = generate(&flowing, 3);
    for row in a.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    // Each content state's favourite successor takes at least 0.98 of the kept mass, and
    // following favourites visits all 6 states before coming back.
    let favourite = |h: usize| (0..6).fold(0, |b, j| if a[[h, j]] > a[[h, b]] { j } else { b });
    let mut seen = [false; 6];
    let mut h = 0;
    for _ in 0..6 {
        assert!(!seen[h], "a cycle shorter than the states");
        seen[h] = true;
        assert!(a[[h, favourite(h)]] >= 0.98 * 0.98);
        h = favourite(h);
    }
    assert_eq!(h, 0);
    // The emissions do not depend on the knob: state_flow has its own stream.
    let (_, e0, _) = generate(
        &HmmParams {
            state_flow: 0.0,
            ..flowing
        },
        3,
    );
    assert_eq!(e, e0);
}
