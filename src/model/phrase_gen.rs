//! A seeded generator of phrase worlds: Markov chains whose text is made of phrases.
//!
//! The non-EOS vocabulary is shuffled and cut into phrases. Inside a phrase each token
//! leads to the next one with probability `determinism` (one-to-one, so one revealed token
//! fixes its whole phrase in both directions when `determinism` is 1); a phrase's last
//! token is a decision point that branches to the first tokens of `successors` random
//! phrases with softmax(`peakedness` z) weights; the heaviest is the next phrase on one
//! random cycle through all phrases, so greedy text does not loop over a few phrases. With `determinism` below 1, the rest of a
//! within-phrase token's mass leaves the phrase early, through the same decision as the
//! phrase's end. Every non-EOS token sends `eos_hazard` to the absorbing EOS token.
//!
//! Phrase lengths mix two kinds: a `short_share` of the phrases has `short_length` tokens;
//! the others have floor or ceil of `phrase_length`, drawn so that their mean is
//! `phrase_length`. With `topics` above 1 the phrases fall into closed groups, each with its
//! own decision peakedness, so the sequences of one world differ in difficulty as the
//! prompts of a benchmark do. With `output_length`, the phrases of each topic are also cut
//! into ordered stages and only the last one ends at EOS (see [`super::stages`]). The chain
//! goes to the exact Markov oracle like any other, so the
//! miscalibration wrapper and every decoder apply unchanged.

use ndarray::Array2;
use rand::seq::index::sample;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::chain_gen::one_cycle;
use super::stages;
use crate::state::Token;

/// Parameters of a phrase world. Together with the seed they fix the matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhraseParams {
    /// V.
    pub vocab_size: usize,
    /// Mean length of the long phrases (>= 1).
    pub phrase_length: f64,
    /// Share of the phrases that are short.
    pub short_share: f64,
    /// Length of a short phrase (>= 1).
    pub short_length: usize,
    /// Phrases a decision point can go on to.
    pub successors: usize,
    /// Inverse temperature of a decision's softmax weights; 0 gives uniform decisions.
    pub peakedness: f64,
    /// Probability that a within-phrase token is followed by the next token of its phrase.
    pub determinism: f64,
    /// Absorbing EOS token.
    pub eos_token: Option<Token>,
    /// Probability that a non-EOS token is followed by EOS.
    pub eos_hazard: f64,
    /// Closed groups of phrases (1 = one open world): a decision only goes on to phrases of
    /// its own topic, so a sequence stays in the topic its prompt starts in.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub topics: usize,
    /// Spread of the decision peakedness across topics: topic t of T decides with
    /// `peakedness * exp(topic_spread * (2 (t + 0.5) / T - 1))`, log-uniform over
    /// `peakedness * e^(+-topic_spread)`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub topic_spread: f64,
    /// Share of the phrases that are fixed idioms, exact whatever `determinism` says; the
    /// others are looser collocations that keep `determinism`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exact_share: f64,
    /// Ordered sections of an answer inside each topic (see [`super::stages`]); used with
    /// `output_length` only.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub stages: usize,
    /// Mean length of the text from the prompt's start to EOS (0: every token sends
    /// `eos_hazard` instead). Split evenly over the stages.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub output_length: f64,
}

fn one() -> usize {
    1
}

fn is_one(x: &usize) -> bool {
    *x == 1
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl PhraseParams {
    /// The decision peakedness of topic `t` of `topics`.
    pub fn topic_peakedness(&self, t: usize, topics: usize) -> f64 {
        let at = 2.0 * (t as f64 + 0.5) / topics as f64 - 1.0;
        self.peakedness * (self.topic_spread * at).exp()
    }
}

/// The world's stream, kept apart from the chain generator's and the sequences'.
pub(crate) fn phrase_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x7068_7261_7365_5f77)
}

/// Which phrases are exact idioms: `exact_share` of them, rounded, picked from a stream of
/// their own so that worlds without the knob keep their matrix.
fn exact_phrases(params: &PhraseParams, count: usize, seed: u64) -> Vec<bool> {
    let mut exact = vec![params.determinism >= 1.0; count];
    if params.exact_share > 0.0 && params.determinism < 1.0 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6964_696f_6d5f_7368);
        let n = (params.exact_share * count as f64).round() as usize;
        for i in sample(&mut rng, count, n.min(count)).iter() {
            exact[i] = true;
        }
    }
    exact
}

/// The phrases: the shuffled non-EOS tokens, cut by the length mixture.
pub fn phrases(params: &PhraseParams, words: &[usize], rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut order = words.to_vec();
    order.shuffle(rng);
    let long = params.phrase_length.max(1.0);
    let (floor, frac) = (long.floor() as usize, long - long.floor());
    let mut out = Vec::new();
    let mut at = 0;
    while at < order.len() {
        let len = if rng.random::<f64>() < params.short_share {
            params.short_length.max(1)
        } else if rng.random::<f64>() < frac {
            floor + 1
        } else {
            floor
        };
        let end = (at + len).min(order.len());
        out.push(order[at..end].to_vec());
        at = end;
    }
    out
}

/// Draws the transition matrix for `params` from `seed`.
pub fn generate(params: &PhraseParams, seed: u64) -> Array2<f64> {
    let v = params.vocab_size;
    let eos = params.eos_token.map(|e| e as usize).filter(|&e| e < v);
    let words: Vec<usize> = (0..v).filter(|&j| Some(j) != eos).collect();
    let mut t = Array2::zeros((v, v));
    if let Some(e) = eos {
        t[[e, e]] = 1.0;
    }
    if words.is_empty() {
        return t;
    }
    let mut rng = phrase_rng(seed);
    let phrases = phrases(params, &words, &mut rng);
    let exact = exact_phrases(params, phrases.len(), seed);
    // Topics are runs of the (shuffled) phrase list, at least two phrases each.
    let topics = params.topics.clamp(1, (phrases.len() / 2).max(1));
    let topic = |i: usize| i * topics / phrases.len();
    // A decision stays in its group (its topic, or its topic's stage) or moves on to the
    // next stage of its topic.
    let staged = stages::staging(params, &phrases, topics, topic, eos.is_some());
    let group = |i: usize| staged.group[i];
    let groups = staged.group.iter().max().map_or(1, |g| g + 1);
    // Each phrase's favourite successor is the next phrase on one random cycle through its
    // group, so greedy text runs through every phrase of the group before it repeats one
    // (see chain_gen).
    let next = if groups == 1 {
        one_cycle(phrases.len(), &mut rng)
    } else {
        let mut next = vec![0; phrases.len()];
        for t in 0..groups {
            let members: Vec<usize> = (0..phrases.len()).filter(|&i| group(i) == t).collect();
            if members.is_empty() {
                continue;
            }
            let cycle = one_cycle(members.len(), &mut rng);
            for (k, &i) in members.iter().enumerate() {
                next[i] = members[cycle[k]];
            }
        }
        next
    };
    let mut others: Vec<usize> = Vec::with_capacity(phrases.len());
    for (i, phrase) in phrases.iter().enumerate() {
        // This phrase's decision: its favourite and m - 1 other phrases of its topic (not
        // itself while there are others), the favourite with the largest weight.
        others.clear();
        others
            .extend((0..phrases.len()).filter(|&o| o != i && o != next[i] && group(o) == group(i)));
        let m = params.successors.clamp(1, others.len() + 1);
        let peakedness = if topics == 1 {
            params.peakedness
        } else {
            params.topic_peakedness(topic(i), topics)
        };
        let extra = (m - 1).min(others.len());
        let picked: Vec<usize> = std::iter::once(next[i])
            .chain(
                sample(&mut rng, others.len(), extra)
                    .iter()
                    .map(|k| others[k]),
            )
            .collect();
        let mut z: Vec<f64> = (0..picked.len())
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let top = (0..z.len()).fold(0, |b, k| if z[k] > z[b] { k } else { b });
        z.swap(0, top);
        let w: Vec<f64> = z.iter().map(|x| (peakedness * (x - z[0])).exp()).collect();
        let total: f64 = w.iter().sum();
        // Moving on: a decision among `successors` phrases of the next stage.
        let advance = staged.advance[i];
        let (onward, onward_w) = if advance > 0.0 {
            let cell: Vec<usize> = (0..phrases.len())
                .filter(|&o| group(o) == group(i) + 1)
                .collect();
            let m = params.successors.clamp(1, cell.len());
            let onward: Vec<usize> = sample(&mut rng, cell.len(), m)
                .iter()
                .map(|k| cell[k])
                .collect();
            let z: Vec<f64> = (0..m).map(|_| StandardNormal.sample(&mut rng)).collect();
            let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let w: Vec<f64> = z.iter().map(|x| (peakedness * (x - top)).exp()).collect();
            let total: f64 = w.iter().sum();
            (onward, w.iter().map(|x| advance * x / total).collect())
        } else {
            (Vec::new(), Vec::new())
        };
        let stay = 1.0 - advance;
        let hazard = staged.hazard[i];
        let keep = 1.0 - hazard;
        let last = phrase.len() - 1;
        let determinism = if exact[i] { 1.0 } else { params.determinism };
        for (k, &a) in phrase.iter().enumerate() {
            let leave = if k == last {
                1.0
            } else {
                t[[a, phrase[k + 1]]] += keep * determinism;
                1.0 - determinism
            };
            if leave > 0.0 {
                for (&p, wk) in picked.iter().zip(&w) {
                    t[[a, phrases[p][0]]] += keep * leave * stay * wk / total;
                }
                for (&p, wk) in onward.iter().zip(&onward_w) {
                    t[[a, phrases[p][0]]] += keep * leave * wk;
                }
            }
            if let Some(e) = eos {
                t[[a, e]] = hazard;
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> PhraseParams {
        PhraseParams {
            vocab_size: 40,
            phrase_length: 4.5,
            short_share: 0.3,
            short_length: 2,
            successors: 3,
            peakedness: 1.0,
            determinism: 1.0,
            eos_token: Some(0),
            eos_hazard: 0.01,
            topics: 1,
            topic_spread: 0.0,
            exact_share: 0.0,
            stages: 1,
            output_length: 0.0,
        }
    }

    #[test]
    fn rows_are_stochastic_and_eos_absorbs() {
        for det in [1.0, 0.8] {
            let t = generate(
                &PhraseParams {
                    determinism: det,
                    ..params()
                },
                5,
            );
            for row in t.rows() {
                assert!((row.sum() - 1.0).abs() < 1e-12, "{row}");
                assert!(row.iter().all(|&p| p >= 0.0));
            }
            assert_eq!(t[[0, 0]], 1.0);
        }
    }

    #[test]
    fn exact_phrases_are_one_to_one_inside() {
        let p = params();
        let words: Vec<usize> = (1..40).collect();
        let cut = phrases(&p, &words, &mut phrase_rng(5));
        let mut all: Vec<usize> = cut.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, words, "every non-EOS token in exactly one phrase");
        assert!(cut.iter().any(|ph| ph.len() == 2) && cut.iter().any(|ph| ph.len() >= 4));
        let t = generate(&p, 5);
        for ph in &cut {
            for w in ph.windows(2) {
                // The next token of the phrase takes all the non-EOS mass ...
                assert!((t[[w[0], w[1]]] - 0.99).abs() < 1e-12);
                // ... and nothing else leads into a within-phrase token.
                let into = t.column(w[1]).iter().filter(|&&x| x > 0.0).count();
                assert_eq!(into, 1);
            }
            // A decision point branches to at most 3 phrase starts, plus EOS.
            let last = *ph.last().unwrap();
            let out = t.row(last).iter().filter(|&&x| x > 0.0).count();
            assert!((2..=4).contains(&out), "{out}");
        }
    }

    #[test]
    fn leaky_phrases_leave_early_through_the_decision() {
        let t = generate(
            &PhraseParams {
                determinism: 0.8,
                ..params()
            },
            5,
        );
        let cut = phrases(&params(), &(1..40).collect::<Vec<_>>(), &mut phrase_rng(5));
        let long = cut.iter().find(|ph| ph.len() >= 3).unwrap();
        assert!((t[[long[0], long[1]]] - 0.99 * 0.8).abs() < 1e-12);
        let out = t.row(long[0]).iter().filter(|&&x| x > 0.0).count();
        assert!(
            out >= 3,
            "the leak goes to the decision's phrase starts: {out}"
        );
    }

    #[test]
    fn topics_are_closed_and_their_decisions_spread_in_peakedness() {
        let p = PhraseParams {
            topics: 3,
            topic_spread: 1.0,
            ..params()
        };
        let cut = phrases(&p, &(1..40).collect::<Vec<_>>(), &mut phrase_rng(5));
        let topic_of = |tok: usize| {
            let i = cut.iter().position(|ph| ph.contains(&tok)).unwrap();
            i * 3 / cut.len()
        };
        let t = generate(&p, 5);
        for ph in &cut {
            let last = *ph.last().unwrap();
            for (j, &x) in t.row(last).iter().enumerate() {
                if x > 0.0 && j != 0 {
                    assert_eq!(topic_of(j), topic_of(last), "a decision leaves its topic");
                }
            }
        }
        assert!(p.topic_peakedness(0, 3) < p.topic_peakedness(1, 3));
        assert!(
            (p.topic_peakedness(1, 3) - 1.0).abs() < 1e-12,
            "the middle topic"
        );
        assert!((p.topic_peakedness(2, 3) - (2.0_f64 / 3.0).exp()).abs() < 1e-12);
        // One topic is the open world, whatever the spread says.
        let one = PhraseParams {
            topic_spread: 1.0,
            ..params()
        };
        assert_eq!(generate(&one, 5), generate(&params(), 5));
    }

    #[test]
    fn an_exact_share_makes_that_share_of_the_phrases_idioms() {
        let loose = PhraseParams {
            determinism: 0.8,
            ..params()
        };
        let mixed = PhraseParams {
            exact_share: 0.5,
            ..loose.clone()
        };
        let cut = phrases(&loose, &(1..40).collect::<Vec<_>>(), &mut phrase_rng(5));
        let (a, b) = (generate(&loose, 5), generate(&mixed, 5));
        let long: Vec<&Vec<usize>> = cut.iter().filter(|ph| ph.len() >= 2).collect();
        let exact = long
            .iter()
            .filter(|ph| (b[[ph[0], ph[1]]] - 0.99).abs() < 1e-12)
            .count();
        let kept = long
            .iter()
            .filter(|ph| (b[[ph[0], ph[1]]] - 0.99 * 0.8).abs() < 1e-12)
            .count();
        assert_eq!(exact + kept, long.len());
        assert!(exact > 0 && kept > 0, "{exact} exact, {kept} loose");
        let n = (0.5 * cut.len() as f64).round() as usize;
        assert_eq!(
            exact_phrases(&mixed, cut.len(), 5)
                .iter()
                .filter(|&&e| e)
                .count(),
            n
        );
        // Without the knob the loose world is what it was.
        assert_ne!(a, b);
        assert_eq!(generate(&loose, 5), a);
        for row in b.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn the_seed_alone_fixes_the_matrix() {
        assert_eq!(generate(&params(), 7), generate(&params(), 7));
        assert_ne!(generate(&params(), 7), generate(&params(), 8));
    }
}
