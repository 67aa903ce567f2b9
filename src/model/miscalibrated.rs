//! A miscalibration wrapper for the exact models: the network's confidence is a tempered,
//! noisy copy of the true marginal, `q = softmax((ln p + sigma * eps) / T)`. T < 1 makes
//! the model over-confident, T > 1 under-confident. Quality is still judged by the exact
//! model, so the cost of trusting a miscalibrated confidence shows up in the outputs.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{ConfidenceModel, Scratch, SequenceInfo};
use crate::record::Quality;
use crate::state::{Branch, ConfidenceKind, Prediction, Token};

/// An exact model seen through a miscalibrated network.
#[derive(Clone)]
pub struct Miscalibrated {
    inner: Arc<dyn ConfidenceModel>,
    temperature: f64,
    noise: f64,
}

impl Miscalibrated {
    /// Wraps `inner` (which must hand out its distributions) with temperature T > 0 and
    /// logit noise sigma >= 0.
    pub fn new(inner: Arc<dyn ConfidenceModel>, temperature: f64, noise: f64) -> Self {
        Miscalibrated {
            inner,
            temperature,
            noise,
        }
    }

    /// Reshapes `q` into `out`. `eps` draws the noise of entry v.
    pub fn reshape(&self, q: &[f64], out: &mut [f64], mut eps: impl FnMut() -> f64) {
        let mut top = f64::NEG_INFINITY;
        for (o, &p) in out.iter_mut().zip(q) {
            *o = if p > 0.0 {
                (p.ln() + self.noise * eps()) / self.temperature
            } else {
                f64::NEG_INFINITY
            };
            top = top.max(*o);
        }
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = if o.is_finite() { (*o - top).exp() } else { 0.0 };
            sum += *o;
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
    }
}

impl ConfidenceModel for Miscalibrated {
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    fn eos_token(&self) -> Option<Token> {
        self.inner.eos_token()
    }

    fn begin_sequence(&self, info: &SequenceInfo<'_>, scratch: &mut Scratch) {
        scratch.sequence = (info.seed, info.seq);
        self.inner.begin_sequence(info, scratch);
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
        let (seed, seq) = scratch.sequence;
        let v = self.vocab_size();
        // Taken out of the scratch for the call, so the wrapped model can borrow the rest.
        let mut reshaped = std::mem::take(&mut scratch.reshaped);
        reshaped.resize(v, 0.0);
        let entropy = scratch.want_entropy;
        let key = seed ^ (seq as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x6d69_7363_616c;
        let exact = self
            .inner
            .distributions(branch, positions, round, scratch, &mut |i, q| {
                // The noise of (sequence, position, round) is the same in every branch and
                // every configuration: a paired comparison.
                let mut rng = ChaCha8Rng::seed_from_u64(key);
                rng.set_stream(i as u64);
                rng.set_word_pos(u128::from(round) * 4 * v as u128);
                let noisy = self.noise > 0.0;
                self.reshape(q, &mut reshaped, || {
                    if noisy {
                        StandardNormal.sample(&mut rng)
                    } else {
                        0.0
                    }
                });
                out[i] = Prediction::from_distribution_with(&reshaped, kind, entropy);
            });
        debug_assert!(exact, "only exact models, which hand out q, are wrapped");
        scratch.reshaped = reshaped;
    }

    fn quality(
        &self,
        prompt: &[Token],
        generated: &[Token],
        commit_probs: &[f64],
        scratch: &mut Scratch,
    ) -> Quality {
        self.inner.quality(prompt, generated, commit_probs, scratch)
    }

    fn sample_prompt(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<Token> {
        self.inner.sample_prompt(len, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MarkovOracle;
    use crate::state::Attention;
    use ndarray::array;

    fn wrapped(t: f64, sigma: f64) -> Miscalibrated {
        let m = MarkovOracle::new(array![[0.7, 0.3], [0.4, 0.6]], None, Attention::Full, 4);
        Miscalibrated::new(Arc::new(m), t, sigma)
    }

    #[test]
    fn a_neutral_wrapper_changes_nothing() {
        let t = array![[0.7, 0.3], [0.4, 0.6]];
        let exact = MarkovOracle::new(t, None, Attention::Full, 4);
        let mut b = Branch::new(&[0], 3);
        b.append_block();
        b.commit(3, 1, None);
        let (mut a, mut c) = (
            vec![Prediction::default(); 4],
            vec![Prediction::default(); 4],
        );
        let mut scratch = Scratch::default();
        exact.predict(&b, &[1, 2], ConfidenceKind::Margin, 1, &mut a, &mut scratch);
        wrapped(1.0, 0.0).predict(&b, &[1, 2], ConfidenceKind::Margin, 1, &mut c, &mut scratch);
        for i in [1, 2] {
            assert_eq!(a[i].token, c[i].token);
            assert!((a[i].conf - c[i].conf).abs() < 1e-12);
        }
    }

    #[test]
    fn temperature_sharpens_or_flattens() {
        let mut out = [0.0; 3];
        wrapped(0.5, 0.0).reshape(&[0.6, 0.4, 0.0], &mut out, || 0.0);
        assert!((out[0] - 0.36 / 0.52).abs() < 1e-12, "T = 0.5 squares p");
        assert_eq!(out[2], 0.0, "impossible tokens stay impossible");
        wrapped(2.0, 0.0).reshape(&[0.6, 0.4, 0.0], &mut out, || 0.0);
        assert!(out[0] < 0.6 && out[0] > 0.5);
        wrapped(1.0, 0.0).reshape(&[0.6, 0.4, 0.0], &mut out, || 0.0);
        assert!((out[0] - 0.6).abs() < 1e-12);
    }

    #[test]
    fn noise_is_fixed_per_position_and_round() {
        let w = wrapped(1.0, 1.0);
        let mut b = Branch::new(&[0], 2);
        b.append_block();
        let mut scratch = Scratch::default();
        let info = SequenceInfo {
            seed: 1,
            seq: 0,
            prompt: &[0],
            gen_length: 2,
        };
        w.begin_sequence(&info, &mut scratch);
        let mut a = vec![Prediction::default(); 3];
        let mut c = vec![Prediction::default(); 3];
        w.predict(&b, &[1, 2], ConfidenceKind::Prob, 1, &mut a, &mut scratch);
        w.predict(&b, &[1, 2], ConfidenceKind::Prob, 1, &mut c, &mut scratch);
        assert_eq!(a, c);
        w.predict(&b, &[1, 2], ConfidenceKind::Prob, 2, &mut c, &mut scratch);
        assert_ne!(a[1].prob, c[1].prob);
        // The exact model judges quality.
        let q = w.quality(&[0], &[0, 1], &[1.0, 1.0], &mut scratch);
        assert_eq!(q.invalid_transitions, Some(0));
    }
}
