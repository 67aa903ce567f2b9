//! Tests of the K x V kernel against the plain loops and the full prediction path.
use super::BATCH;
use crate::state::{ConfidenceKind, Prediction};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The batched kernel's normaliser, maxima and argmax are the plain loops', bit for bit,
/// at every vector width the processor supports.
#[test]
fn batched_marginals_equal_the_plain_loops() {
    const B: usize = BATCH;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (k, v) in [(1, 3), (3, 17), (9, 128), (5, 33)] {
        let e: Vec<f64> = (0..k * v).map(|_| rng.random::<f64>()).collect();
        let e_t: Vec<f64> = (0..v * k).map(|j| e[(j % k) * v + j / k]).collect();
        let w: Vec<f64> = (0..k * B).map(|_| rng.random::<f64>() * 1e-3).collect();
        for simd in super::Simd::supported() {
            let mut qs = vec![0.0; B * v];
            let tally = super::marginals(&w, &e_t, &mut qs, simd);
            for r in 0..B {
                let row: Vec<f64> = (0..k).map(|h| w[h * B + r]).collect();
                let mut q = vec![0.0; v];
                super::marginal(&row, &e, &mut q, simd);
                let mut plain = vec![0.0; v];
                for (h, &wh) in row.iter().enumerate() {
                    for x in 0..v {
                        plain[x] += wh * e[h * v + x];
                    }
                }
                let s: f64 = plain.iter().sum();
                let t = plain.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let arg = plain.iter().position(|&q| q == t).unwrap();
                let other = (0..v).filter(|&x| x != arg).map(|x| plain[x]);
                let second = other.fold(f64::NEG_INFINITY, f64::max);
                assert_eq!(tally.sum[r].to_bits(), s.to_bits());
                assert_eq!(tally.top[r].to_bits(), t.to_bits());
                assert_eq!(tally.arg[r], arg as f64);
                assert_eq!(tally.second[r].to_bits(), second.to_bits());
                for x in 0..v {
                    assert_eq!(qs[x * B + r].to_bits(), plain[x].to_bits());
                    assert_eq!(q[x].to_bits(), plain[x].to_bits());
                }
            }
        }
    }
}

/// The kernel's prediction, where it gives one, is the full path's bit for bit, ties and
/// near-ties included (coarse emissions make many q values equal).
#[test]
fn kernel_prediction_equals_the_full_path() {
    const B: usize = BATCH;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut decided = 0;
    for trial in 0..200 {
        let (k, v) = (rng.random_range(1..=4), rng.random_range(1..=12));
        let coarse = trial % 2 == 0;
        let mut cell = || {
            let u = rng.random::<f64>();
            if coarse {
                (u * 3.0).floor() / 4.0
            } else {
                u
            }
        };
        let e: Vec<f64> = (0..k * v).map(|_| cell()).collect();
        let e_t: Vec<f64> = (0..v * k).map(|j| e[(j % k) * v + j / k]).collect();
        let w: Vec<f64> = (0..k * B).map(|_| cell()).collect();
        let mut qs = vec![0.0; B * v];
        let tally = super::marginals(&w, &e_t, &mut qs, super::Simd::detect());
        for r in 0..B {
            let q: Vec<f64> = (0..v).map(|x| qs[x * B + r] / tally.sum[r]).collect();
            for kind in [ConfidenceKind::Prob, ConfidenceKind::Margin] {
                let Some(got) = super::prediction(&qs, r, &tally, kind, false) else {
                    continue;
                };
                decided += 1;
                let want = Prediction::from_distribution_with(&q, kind, false);
                assert_eq!(got.token, want.token, "trial {trial} lane {r} {kind:?}");
                assert_eq!(got.prob.to_bits(), want.prob.to_bits());
                assert_eq!(got.conf.to_bits(), want.conf.to_bits());
            }
        }
    }
    assert!(decided > 1000);
}
