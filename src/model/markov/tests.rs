//! The oracle's powers, bridge marginals, attention and quality on small chains.

use super::*;
use crate::state::{ConfidenceKind, Prediction};
use ndarray::array;

fn chain() -> MarkovOracle {
    let t = array![[0.5, 0.5, 0.0], [0.0, 0.1, 0.9], [1.0, 0.0, 0.0]];
    MarkovOracle::new(t, None, Attention::Full, 8)
}

#[test]
fn powers_match_matrix_products() {
    let m = chain();
    let t2 = m.t.dot(&m.t);
    let t3 = t2.dot(&m.t);
    for (a, b) in m.power(3).iter().zip(t3.iter()) {
        assert!((a - b).abs() < 1e-15);
    }
    for (a, b) in m.power(2).iter().zip(t2.iter()) {
        assert!((a - b).abs() < 1e-15);
    }
}

#[test]
fn bridge_marginal_is_exact() {
    // q(v) for x0 = 0, one masked position, x2 = 2: T[0,v] T[v,2] = [0, 0.45, 0].
    let m = chain();
    let mut q = vec![0.0; 3];
    m.marginal(0, 1, Some((2, 1)), &mut q);
    assert_eq!(q, vec![0.0, 1.0, 0.0]);
    // An unreachable right neighbour falls back to the left-only form.
    m.marginal(2, 1, Some((2, 1)), &mut q);
    assert_eq!(q, vec![1.0, 0.0, 0.0]);
}

#[test]
fn predict_sees_right_neighbours_only_within_attention() {
    let sticky = array![[0.9, 0.1], [0.1, 0.9]];
    let mut b = Branch::new(&[1], 2);
    b.append_block();
    b.append_block();
    b.commit(3, 0, None);
    let mut out = vec![Prediction::default(); b.tokens.len()];
    // Full attention: position 2 bridges x0 = 1 (two steps left) and x3 = 0 (one step
    // right): q(v) is proportional to T^2[1, v] T[v, 0] = [0.162, 0.082].
    let full = MarkovOracle::new(sticky.clone(), None, Attention::Full, 8);
    full.predict(
        &b,
        &[1, 2, 4],
        ConfidenceKind::Prob,
        1,
        &mut out,
        &mut Scratch::default(),
    );
    assert!((out[2].prob - 0.162 / 0.244).abs() < 1e-12);
    assert_eq!((out[2].token, out[4].token), (0, 0));
    // Block-causal: position 2 (block 0) cannot see position 3 (block 1).
    let causal = MarkovOracle::new(sticky, None, Attention::BlockCausal, 8);
    causal.predict(
        &b,
        &[2],
        ConfidenceKind::Prob,
        1,
        &mut out,
        &mut Scratch::default(),
    );
    let two_steps = 0.9 * 0.9 + 0.1 * 0.1;
    assert!((out[2].prob - two_steps).abs() < 1e-12);
    assert_eq!(out[2].token, 1);
}

#[test]
fn quality_counts_invalid_pairs_and_greedy() {
    let m = chain();
    let q = m.quality(&[0], &[0, 2, 0], &[], &mut Scratch::default());
    assert_eq!(q.invalid_transitions, Some(1));
    assert_eq!(q.matches_greedy, Some(false));
    let g = m.quality(&[1], &[2, 0, 0], &[], &mut Scratch::default());
    assert_eq!(g.invalid_transitions, Some(0));
    assert_eq!(g.matches_greedy, Some(true));
    assert!((g.log_likelihood.unwrap() - (0.9f64.ln() + 0.5f64.ln())).abs() < 1e-12);
}
