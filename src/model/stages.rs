//! Stages of an answer in a phrase world: the text knows how far along it is.
//!
//! With `stages` S above 1, each topic's phrases (in list order) fall into S ordered groups,
//! the sections of an answer. A decision in stage s < S - 1 moves on to stage s + 1 with a
//! probability set so that a stage lasts about `output_length` / S tokens; only the last
//! stage's tokens send a hazard to the absorbing EOS, again about `output_length` / S tokens
//! on average. The length is then a sum of S geometric stages instead of one, and every
//! revealed content token carries its stage, so the exact oracle cannot put EOS to the left
//! of revealed earlier-stage text. A prompt starts in the first stage ([`StagedStart`]);
//! starting anywhere would make a sequence's length depend on the stage it is dropped into.
//!
//! Without `output_length` the world has one stage and every token sends `eos_hazard`, the
//! matrix the generator always made.

use std::sync::Arc;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::markov::continue_chain;
use super::phrase_gen::{phrase_rng, phrases, PhraseParams};
use super::{ConfidenceModel, MarkovOracle, Scratch, SequenceInfo};
use crate::record::Quality;
use crate::state::{Branch, ConfidenceKind, Prediction, Token};

/// Where each phrase sits in its topic's answer, and what its tokens send on.
#[derive(Clone, Debug, PartialEq)]
pub struct Staging {
    /// Per phrase: its group, `topic * stages + stage` (the topic itself with one stage).
    pub group: Vec<usize>,
    /// Per phrase: its stage.
    pub stage: Vec<usize>,
    /// Per phrase: the share of its decision that moves on to the next stage (0 in the
    /// last stage of its topic).
    pub advance: Vec<f64>,
    /// Per phrase: the EOS hazard of its tokens.
    pub hazard: Vec<f64>,
}

/// The stages of `phrases`, whose topic is `topic_of(i)` (topics are runs of the list).
pub fn staging(
    params: &PhraseParams,
    phrases: &[Vec<usize>],
    topics: usize,
    topic_of: impl Fn(usize) -> usize,
    has_eos: bool,
) -> Staging {
    let n = phrases.len();
    if params.output_length <= 0.0 {
        return Staging {
            group: (0..n).map(&topic_of).collect(),
            stage: vec![0; n],
            advance: vec![0.0; n],
            hazard: vec![params.eos_hazard; n],
        };
    }
    let big = params.stages.max(1);
    let length = params.output_length;
    let mut out = Staging {
        group: vec![0; n],
        stage: vec![0; n],
        advance: vec![0.0; n],
        hazard: vec![0.0; n],
    };
    for t in 0..topics {
        let members: Vec<usize> = (0..n).filter(|&i| topic_of(i) == t).collect();
        // A topic with fewer phrases than stages gets one stage per phrase: the mean length
        // stays `output_length`, only less concentrated.
        let s = big.min(members.len()).max(1);
        for (k, &i) in members.iter().enumerate() {
            out.stage[i] = k * s / members.len();
            out.group[i] = t * big + out.stage[i];
        }
        for stage in 0..s {
            let cell: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| out.stage[i] == stage)
                .collect();
            let mean =
                cell.iter().map(|&i| phrases[i].len()).sum::<usize>() as f64 / cell.len() as f64;
            for &i in &cell {
                if stage + 1 < s {
                    // One decision per phrase: moving on with probability p after each
                    // phrase of mean length l, a stage lasts l / p = length / s tokens.
                    out.advance[i] = (s as f64 * mean / length).min(1.0);
                } else if has_eos {
                    out.hazard[i] = (s as f64 / length).min(1.0);
                }
            }
        }
    }
    out
}

/// The tokens a staged world's prompts start with (its first stages' phrases), or None when
/// the world has one stage and prompts start anywhere.
pub fn first_stage(params: &PhraseParams, seed: u64) -> Option<Vec<Token>> {
    if params.stages <= 1 || params.output_length <= 0.0 {
        return None;
    }
    let v = params.vocab_size;
    let eos = params.eos_token.map(|e| e as usize).filter(|&e| e < v);
    let words: Vec<usize> = (0..v).filter(|&j| Some(j) != eos).collect();
    // The generator's first draws, repeated.
    let phrases = phrases(params, &words, &mut phrase_rng(seed));
    if phrases.is_empty() {
        return None;
    }
    let topics = params.topics.clamp(1, (phrases.len() / 2).max(1));
    let topic = |i: usize| i * topics / phrases.len();
    let staged = staging(params, &phrases, topics, topic, eos.is_some());
    Some(first_stage_tokens(&phrases, &staged))
}

/// The tokens a prompt may start with: those of the first stage's phrases, ascending.
pub fn first_stage_tokens(phrases: &[Vec<usize>], staging: &Staging) -> Vec<Token> {
    let mut out: Vec<Token> = phrases
        .iter()
        .zip(&staging.stage)
        .filter(|(_, &s)| s == 0)
        .flat_map(|(ph, _)| ph.iter().map(|&a| a as Token))
        .collect();
    out.sort_unstable();
    out
}

/// A staged phrase world's oracle: the exact Markov oracle, with prompts that start in the
/// first stage (uniform over its tokens) instead of anywhere in the vocabulary.
pub struct StagedStart {
    inner: Arc<MarkovOracle>,
    starts: Vec<Token>,
}

impl StagedStart {
    /// Wraps `inner`; `starts` (non-empty) are the first stage's tokens.
    pub fn new(inner: Arc<MarkovOracle>, starts: Vec<Token>) -> Self {
        assert!(!starts.is_empty(), "a first stage has tokens");
        StagedStart { inner, starts }
    }
}

impl ConfidenceModel for StagedStart {
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    fn eos_token(&self) -> Option<Token> {
        self.inner.eos_token()
    }

    fn begin_sequence(&self, info: &SequenceInfo<'_>, scratch: &mut Scratch) {
        self.inner.begin_sequence(info, scratch)
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
        self.inner
            .predict(branch, positions, kind, round, out, scratch)
    }

    fn local_predictions(&self) -> bool {
        self.inner.local_predictions()
    }

    fn distributions(
        &self,
        branch: &Branch,
        positions: &[usize],
        round: u64,
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(usize, &[f64]),
    ) -> bool {
        self.inner
            .distributions(branch, positions, round, scratch, sink)
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
        let mut out = vec![self.starts[rng.random_range(0..self.starts.len())]];
        continue_chain(self.inner.transitions(), &mut out, len, rng);
        out
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::super::phrase_gen::generate;
    use super::*;

    fn params(stages: usize, topics: usize) -> PhraseParams {
        PhraseParams {
            vocab_size: 64,
            phrase_length: 4.5,
            short_share: 0.3,
            short_length: 2,
            successors: 3,
            peakedness: 1.0,
            determinism: 1.0,
            eos_token: Some(0),
            eos_hazard: 0.0,
            topics,
            topic_spread: 0.0,
            exact_share: 0.0,
            stages,
            output_length: 60.0,
            fork: false,
        }
    }

    /// The generator's phrases and stages for `p` at seed 5.
    fn layout(p: &PhraseParams) -> (Vec<Vec<usize>>, Staging) {
        let words: Vec<usize> = (1..p.vocab_size).collect();
        let cut = phrases(p, &words, &mut phrase_rng(5));
        let topics = p.topics.clamp(1, (cut.len() / 2).max(1));
        let n = cut.len();
        let staged = staging(p, &cut, topics, |i| i * topics / n, true);
        (cut, staged)
    }

    #[test]
    fn rows_stay_stochastic_and_eos_leaves_only_the_last_stage() {
        for (stages, topics) in [(3, 1), (3, 2), (5, 1)] {
            let p = params(stages, topics);
            let t = generate(&p, 5);
            for row in t.rows() {
                assert!((row.sum() - 1.0).abs() < 1e-12, "{row}");
                assert!(row.iter().all(|&x| x >= 0.0));
            }
            let (cut, staged) = layout(&p);
            let last = *staged.stage.iter().max().unwrap();
            assert_eq!(last, stages - 1, "every stage has phrases");
            for (i, ph) in cut.iter().enumerate() {
                for &a in ph {
                    let into_eos = t[[a, 0]];
                    if staged.stage[i] == last {
                        assert!((into_eos - stages as f64 / 60.0).abs() < 1e-12);
                    } else {
                        assert_eq!(into_eos, 0.0, "EOS from stage {}", staged.stage[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn text_only_moves_on_to_the_next_stage_of_its_topic() {
        let p = params(3, 2);
        let t = generate(&p, 5);
        let (cut, staged) = layout(&p);
        let of = |tok: usize| cut.iter().position(|ph| ph.contains(&tok)).unwrap();
        let mut onward = 0;
        for ph in &cut {
            let a = *ph.last().unwrap();
            for (j, &x) in t.row(a).iter().enumerate() {
                if x > 0.0 && j != 0 {
                    let (from, to) = (staged.group[of(a)], staged.group[of(j)]);
                    assert!(to == from || to == from + 1, "group {from} to {to}");
                    assert!(staged.stage[of(j)] >= staged.stage[of(a)]);
                    onward += usize::from(to == from + 1);
                }
            }
        }
        assert!(onward > 0, "stages are joined");
        // Prompts start in the first stage.
        let starts = first_stage(&p, 5).unwrap();
        assert!(starts.iter().all(|&a| staged.stage[of(a as usize)] == 0));
        assert!(first_stage(&params(1, 1), 5).is_none());
    }

    #[test]
    fn sampled_lengths_average_the_output_length() {
        // Sample the chain from the first stage to EOS; the mean length is near 60, and
        // with more stages it is more concentrated (a sum of stages, not one geometric).
        let mut spread = Vec::new();
        for stages in [1, 4] {
            let p = params(stages, 1);
            let t = generate(&p, 5);
            let starts: Vec<Token> = if stages == 1 {
                (1..64).collect()
            } else {
                first_stage(&p, 5).unwrap()
            };
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let mut lengths = Vec::new();
            for _ in 0..4000 {
                let mut a = starts[rng.random_range(0..starts.len())] as usize;
                let mut n = 1.0;
                while a != 0 {
                    let u: f64 = rng.random();
                    let mut acc = 0.0;
                    a = (0..64)
                        .find(|&j| {
                            acc += t[[a, j]];
                            u < acc
                        })
                        .unwrap_or(63);
                    n += 1.0;
                }
                lengths.push(n);
            }
            let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
            let var = lengths.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4000.0;
            assert!(
                (mean - 61.0).abs() < 61.0 * 0.15,
                "{stages} stages: mean {mean}"
            );
            spread.push(var.sqrt() / mean);
        }
        assert!(
            spread[1] < 0.75 * spread[0],
            "coefficients of variation {spread:?}"
        );
    }

    #[test]
    fn staged_prompts_start_in_the_first_stage_and_follow_the_chain() {
        let p = params(3, 2);
        let t = generate(&p, 5);
        let starts = first_stage(&p, 5).unwrap();
        let oracle = Arc::new(MarkovOracle::new(
            t.clone(),
            Some(0),
            crate::state::Attention::Full,
            8,
        ));
        let staged = StagedStart::new(oracle, starts.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..50 {
            let prompt = staged.sample_prompt(6, &mut rng);
            assert_eq!(prompt.len(), 6);
            assert!(starts.contains(&prompt[0]), "{prompt:?}");
            for w in prompt.windows(2) {
                assert!(t[[w[0] as usize, w[1] as usize]] > 0.0, "{prompt:?}");
            }
        }
    }

    #[test]
    fn without_an_output_length_every_token_sends_the_flat_hazard() {
        let p = PhraseParams {
            output_length: 0.0,
            eos_hazard: 0.01,
            ..params(1, 1)
        };
        let (cut, staged) = layout(&p);
        assert!(staged.hazard.iter().all(|&h| h == 0.01));
        assert!(staged.advance.iter().all(|&a| a == 0.0));
        assert_eq!(staged.group, vec![0; cut.len()]);
        // One stage with an output length is the flat hazard 1 / length.
        let flat = PhraseParams {
            eos_hazard: 1.0 / 60.0,
            ..p.clone()
        };
        assert_eq!(generate(&params(1, 1), 5), generate(&flat, 5));
    }
}
