//! A phenomenological confidence field: no true joint, just the behaviour seen in real dLLMs.
//!
//! Position i has a latent difficulty d_i. Its confidence logit is
//! `base - d_i + left * sum K(i - j) + right * sum K(j - i) + n_i(t)`, summed over the
//! revealed positions j it sees, with the exponential kernel `K(d) = exp(-(d - 1) / scale)`.
//! `n_i(t)` is AR(1) noise over rounds with persistence rho, so confidence can oscillate and
//! settle. `prob_i` is the logistic of the logit. The distribution puts prob_i on the
//! position's reference token and spreads the rest evenly over the other V - 1 tokens, so
//! every confidence kind is defined. A committed token is correct with probability
//! `prob^gamma`, drawn from the sequence's own stream.
//!
//! A round costs O(window): every position before the first masked one is revealed, so the
//! kernel sums start from a closed-form geometric series there (`kernel`).

mod kernel;
mod noise;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use self::noise::Stream;
use super::{ConfidenceModel, Scratch, SequenceInfo};
use crate::record::Quality;
use crate::state::{Attention, Branch, ConfidenceKind, Prediction, Token};

/// Parameters of the confidence field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldParams {
    /// V, for the distribution's shape (neg_entropy, margin).
    pub vocab_size: usize,
    /// Logit of a position with no revealed neighbour and zero difficulty.
    pub base_logit: f64,
    /// Standard deviation of the per-position difficulty.
    pub difficulty_sd: f64,
    /// Logit added per unit of kernel weight from revealed positions on the left.
    pub left_strength: f64,
    /// The same from the right.
    pub right_strength: f64,
    /// Decay length of the exponential kernel, in positions (> 0).
    pub kernel_scale: f64,
    /// Stationary standard deviation of the AR(1) noise.
    pub noise_sd: f64,
    /// AR(1) persistence rho in [0, 1): 0 is fresh noise every round.
    pub persistence: f64,
    /// Calibration exponent: P(correct) = prob^gamma.
    pub gamma: f64,
}

/// The field over every position of one sequence, and the noise state.
#[derive(Default)]
struct FieldState {
    difficulty: Vec<f64>,
    reference: Vec<Token>,
    /// Uniform draws that decide each committed token's correctness.
    correct_draw: Vec<f64>,
    /// AR(1) noise per position and the round it was last advanced to (0 = initial).
    noise: Vec<(f64, u64)>,
    /// Per-position innovation stream: position i is stream i of this key.
    key: u64,
    /// The key's generator before any output, and per position its innovation stream
    /// from the first time the position is asked for.
    base: Option<ChaCha8Rng>,
    streams: Vec<Option<Stream>>,
    left: Vec<f64>,
    right: Vec<f64>,
}

/// The phenomenological confidence field.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfidenceField {
    params: FieldParams,
    attention: Attention,
    decay: f64,
    /// Mixed into every sequence's stream: 0 in world 0, so one world is the field as it
    /// always was; other worlds draw other difficulties, references and noise.
    world: u64,
}

impl ConfidenceField {
    /// A field with validated parameters.
    pub fn new(params: FieldParams, attention: Attention) -> Self {
        let decay = (-1.0 / params.kernel_scale).exp();
        ConfidenceField {
            params,
            attention,
            decay,
            world: 0,
        }
    }

    /// The same field in another world: `salt` (0 for world 0) moves every sequence's
    /// difficulty, reference tokens, correctness draws and noise, as another draw of
    /// prompts from the same benchmark would.
    pub fn in_world(mut self, salt: u64) -> Self {
        self.world = salt;
        self
    }

    /// Advances position i's noise to `round` and returns it.
    fn noise(&self, state: &mut FieldState, i: usize, round: u64) -> f64 {
        let p = &self.params;
        let (mut n, last) = state.noise[i];
        if last < round {
            let key = state.key;
            let base = state
                .base
                .get_or_insert_with(|| ChaCha8Rng::seed_from_u64(key));
            let stream = state.streams[i].get_or_insert_with(|| {
                let mut rng = base.clone();
                rng.set_stream(i as u64);
                Stream::new(rng)
            });
            let fresh = (1.0 - p.persistence * p.persistence).sqrt() * p.noise_sd;
            for r in last..round {
                // Each round's innovation has its own word position: a normal draw takes a
                // variable number of words, so catching up several rounds from one position
                // would make the noise depend on how often the position was asked for.
                n = p.persistence * n + fresh * stream.innovation(r);
            }
            state.noise[i] = (n, round);
        }
        n
    }

    /// The prediction of a position with probability `p` on its reference token; its
    /// entropy only when `entropy` or the kind needs it (0.0 otherwise, as for every model).
    fn prediction(
        &self,
        p: f64,
        reference: Token,
        kind: ConfidenceKind,
        entropy: bool,
    ) -> Prediction {
        let v = self.params.vocab_size as f64;
        let rest = (1.0 - p) / (v - 1.0);
        let other = if reference == 0 { 1 } else { 0 };
        // Ties go to the smallest token id, as for every distribution (SPEC 1).
        let (token, top) = if p > rest || (p == rest && reference == 0) {
            (reference, p)
        } else {
            (other, rest)
        };
        let term = |x: f64| if x > 0.0 { x * x.ln() } else { 0.0 };
        // Two logarithms, which cost as much as the rest of the prediction.
        let neg_entropy = if entropy || kind == ConfidenceKind::NegEntropy {
            term(p) + (v - 1.0) * term(rest)
        } else {
            0.0
        };
        let conf = match kind {
            ConfidenceKind::Prob => top,
            ConfidenceKind::NegEntropy => neg_entropy,
            ConfidenceKind::Margin => {
                if p >= rest {
                    p - rest
                } else if v > 2.0 {
                    0.0
                } else {
                    rest - p
                }
            }
        };
        Prediction {
            token,
            prob: top,
            conf,
            entropy: -neg_entropy,
        }
    }
}

impl ConfidenceModel for ConfidenceField {
    fn vocab_size(&self) -> usize {
        self.params.vocab_size
    }

    fn eos_token(&self) -> Option<Token> {
        None
    }

    fn begin_sequence(&self, info: &SequenceInfo<'_>, scratch: &mut Scratch) {
        let p = &self.params;
        let len = info.prompt.len() + info.gen_length;
        let state = scratch.slot::<FieldState>();
        let mut rng = ChaCha8Rng::seed_from_u64(info.seed ^ 0x6669_656c_645f_7374 ^ self.world);
        rng.set_stream(info.seq as u64);
        state.difficulty.clear();
        state.reference.clear();
        state.correct_draw.clear();
        state.noise.clear();
        state.base = None;
        state.streams.clear();
        state.streams.resize(len, None);
        for _ in 0..len {
            let z: f64 = StandardNormal.sample(&mut rng);
            state.difficulty.push(p.difficulty_sd * z);
            state
                .reference
                .push(rng.random_range(0..p.vocab_size) as Token);
            state.correct_draw.push(rng.random::<f64>());
            let z: f64 = StandardNormal.sample(&mut rng);
            state.noise.push((p.noise_sd * z, 0));
        }
        state.key = rng.random();
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
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
            return;
        };
        let (lo, top) = Self::masked_span(branch).unwrap_or((first, last + 1));
        let (lo, top) = (lo.min(first), top.max(last + 1));
        let entropy = scratch.want_entropy;
        let state = scratch.slot::<FieldState>();
        self.kernel_sums(branch, lo, top, state);
        let p = &self.params;
        for &i in positions {
            let logit = p.base_logit - state.difficulty[i]
                + p.left_strength * state.left[i - lo]
                + p.right_strength * state.right[i - lo]
                + self.noise(state, i, round);
            let prob = 1.0 / (1.0 + (-logit).exp());
            out[i] = self.prediction(prob, state.reference[i], kind, entropy);
        }
    }

    fn quality(
        &self,
        prompt: &[Token],
        generated: &[Token],
        commit_probs: &[f64],
        scratch: &mut Scratch,
    ) -> Quality {
        let state = scratch.slot::<FieldState>();
        let errors = (0..generated.len())
            .filter(|&g| {
                let u = state.correct_draw[prompt.len() + g];
                u >= commit_probs[g].powf(self.params.gamma)
            })
            .count();
        Quality {
            token_errors: Some(errors as u64),
            ..Quality::default()
        }
    }

    fn sample_prompt(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<Token> {
        (0..len)
            .map(|_| rng.random_range(0..self.params.vocab_size) as Token)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn params() -> FieldParams {
        FieldParams {
            vocab_size: 5,
            base_logit: -1.0,
            difficulty_sd: 0.5,
            left_strength: 1.5,
            right_strength: 0.7,
            kernel_scale: 3.0,
            noise_sd: 0.3,
            persistence: 0.8,
            gamma: 2.0,
        }
    }

    #[test]
    fn closed_form_prediction_matches_the_full_distribution() {
        let f = ConfidenceField::new(params(), Attention::Full);
        for p in [0.05, 0.2, 0.5, 0.97] {
            let rest = (1.0 - p) / 4.0;
            let mut q = vec![rest; 5];
            q[3] = p;
            for kind in [
                ConfidenceKind::Prob,
                ConfidenceKind::NegEntropy,
                ConfidenceKind::Margin,
            ] {
                let want = Prediction::from_distribution_with(&q, kind, true);
                let got = f.prediction(p, 3, kind, true);
                assert_eq!(got.token, want.token, "{p} {kind:?}");
                assert!((got.prob - want.prob).abs() < 1e-12);
                assert!((got.conf - want.conf).abs() < 1e-12, "{p} {kind:?}");
                assert!((got.entropy - want.entropy).abs() < 1e-12, "{p} {kind:?}");
                // Not asked for: the same prediction, entropy 0.0 unless the kind is it.
                let bare = f.prediction(p, 3, kind, false);
                let entropy = if kind == ConfidenceKind::NegEntropy {
                    got.entropy
                } else {
                    0.0
                };
                assert_eq!(bare, Prediction { entropy, ..got }, "{p} {kind:?}");
            }
        }
    }

    #[test]
    fn noise_is_shared_within_a_round_and_settles_with_persistence() {
        let f = ConfidenceField::new(params(), Attention::Full);
        let mut scratch = Scratch::default();
        let info = SequenceInfo {
            seed: 9,
            seq: 2,
            prompt: &[0],
            gen_length: 8,
        };
        f.begin_sequence(&info, &mut scratch);
        let mut b = Branch::new(&[0], 4);
        b.append_block();
        b.append_block();
        let mut a = vec![Prediction::default(); 9];
        let mut c = vec![Prediction::default(); 9];
        let all: Vec<usize> = (1..9).collect();
        f.predict(&b, &all, ConfidenceKind::Prob, 1, &mut a, &mut scratch);
        f.predict(&b, &all, ConfidenceKind::Prob, 1, &mut c, &mut scratch);
        assert_eq!(a, c, "branches of one round see the same noise");
        f.predict(&b, &all, ConfidenceKind::Prob, 2, &mut c, &mut scratch);
        assert_ne!(a[1].prob, c[1].prob, "the noise moves between rounds");
        // Revealing a neighbour raises confidence (strengths are positive).
        let before = a[2].prob;
        b.commit(1, 0, None);
        f.predict(&b, &[2], ConfidenceKind::Prob, 1, &mut a, &mut scratch);
        assert!(a[2].prob > before);
    }

    #[test]
    fn errors_follow_the_calibration_exponent() {
        let mut p = params();
        p.gamma = 1.0;
        let f = ConfidenceField::new(p, Attention::Full);
        let mut scratch = Scratch::default();
        let info = SequenceInfo {
            seed: 1,
            seq: 0,
            prompt: &[0],
            gen_length: 2000,
        };
        f.begin_sequence(&info, &mut scratch);
        let generated = vec![0; 2000];
        let sure = f.quality(&[0], &generated, &vec![1.0; 2000], &mut scratch);
        assert_eq!(sure.token_errors, Some(0));
        let half = f.quality(&[0], &generated, &vec![0.5; 2000], &mut scratch);
        let errors = half.token_errors.unwrap();
        assert!((900..1100).contains(&errors), "{errors} errors at p = 0.5");
    }
}
