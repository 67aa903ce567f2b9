//! A phrase world's transition matrix: each phrase's favourite successor on a cycle
//! through its group, its decision among a few phrases of its group (and of the next
//! stage), and the rows of its tokens.

use ndarray::Array2;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::layout::{exact_phrases, phrase_rng, phrases};
use super::PhraseParams;
use crate::model::chain_gen::one_cycle;
use crate::model::stages::{self, Staging};

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
    let next = favourites(&staged, phrases.len(), &mut rng);
    let mut others: Vec<usize> = Vec::with_capacity(phrases.len());
    for (i, phrase) in phrases.iter().enumerate() {
        let peakedness = if topics == 1 {
            params.peakedness
        } else {
            params.topic_peakedness(topic(i), topics)
        };
        let d = decision(
            params,
            &staged,
            i,
            next[i],
            peakedness,
            &mut others,
            &mut rng,
        );
        let determinism = if exact[i] { 1.0 } else { params.determinism };
        d.write_rows(&mut t, phrase, &phrases, determinism, staged.hazard[i], eos);
    }
    t
}

/// Each phrase's favourite successor: the next phrase on one random cycle through its
/// group, so greedy text runs through every phrase of the group before it repeats one
/// (see chain_gen).
fn favourites(staged: &Staging, count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let group = |i: usize| staged.group[i];
    let groups = staged.group.iter().max().map_or(1, |g| g + 1);
    if groups == 1 {
        return one_cycle(count, rng);
    }
    let mut next = vec![0; count];
    for t in 0..groups {
        let members: Vec<usize> = (0..count).filter(|&i| group(i) == t).collect();
        if members.is_empty() {
            continue;
        }
        let cycle = one_cycle(members.len(), rng);
        for (k, &i) in members.iter().enumerate() {
            next[i] = members[cycle[k]];
        }
    }
    next
}

/// One phrase's decision: the phrases of its group it goes on to, with softmax weights
/// (the favourite first and heaviest), and the next stage's phrases it moves on to with
/// the share `advance`.
struct Decision {
    picked: Vec<usize>,
    w: Vec<f64>,
    total: f64,
    onward: Vec<usize>,
    onward_w: Vec<f64>,
    advance: f64,
}

/// Draws phrase `i`'s decision; `others` is scratch space.
fn decision(
    params: &PhraseParams,
    staged: &Staging,
    i: usize,
    favourite: usize,
    peakedness: f64,
    others: &mut Vec<usize>,
    rng: &mut ChaCha8Rng,
) -> Decision {
    let group = |i: usize| staged.group[i];
    let count = staged.group.len();
    // Its favourite and m - 1 other phrases of its topic (not itself while there are
    // others), the favourite with the largest weight.
    others.clear();
    others.extend((0..count).filter(|&o| o != i && o != favourite && group(o) == group(i)));
    let m = params.successors.clamp(1, others.len() + 1);
    let extra = (m - 1).min(others.len());
    let picked: Vec<usize> = std::iter::once(favourite)
        .chain(sample(rng, others.len(), extra).iter().map(|k| others[k]))
        .collect();
    let mut z: Vec<f64> = (0..picked.len())
        .map(|_| StandardNormal.sample(rng))
        .collect();
    let top = (0..z.len()).fold(0, |b, k| if z[k] > z[b] { k } else { b });
    z.swap(0, top);
    let w: Vec<f64> = z.iter().map(|x| (peakedness * (x - z[0])).exp()).collect();
    let total: f64 = w.iter().sum();
    // Moving on: a decision among `successors` phrases of the next stage.
    let advance = staged.advance[i];
    let (onward, onward_w) = if advance > 0.0 {
        let cell: Vec<usize> = (0..count).filter(|&o| group(o) == group(i) + 1).collect();
        let m = params.successors.clamp(1, cell.len());
        let onward: Vec<usize> = sample(rng, cell.len(), m).iter().map(|k| cell[k]).collect();
        let z: Vec<f64> = (0..m).map(|_| StandardNormal.sample(rng)).collect();
        let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = z.iter().map(|x| (peakedness * (x - top)).exp()).collect();
        let total: f64 = w.iter().sum();
        (onward, w.iter().map(|x| advance * x / total).collect())
    } else {
        (Vec::new(), Vec::new())
    };
    Decision {
        picked,
        w,
        total,
        onward,
        onward_w,
        advance,
    }
}

impl Decision {
    /// The rows of `phrase`'s tokens: each goes on inside the phrase with `determinism`,
    /// and the rest (all of it at the phrase's end) goes through this decision; every
    /// token sends `hazard` to EOS.
    fn write_rows(
        &self,
        t: &mut Array2<f64>,
        phrase: &[usize],
        phrases: &[Vec<usize>],
        determinism: f64,
        hazard: f64,
        eos: Option<usize>,
    ) {
        let stay = 1.0 - self.advance;
        let keep = 1.0 - hazard;
        let last = phrase.len() - 1;
        for (k, &a) in phrase.iter().enumerate() {
            let leave = if k == last {
                1.0
            } else {
                t[[a, phrase[k + 1]]] += keep * determinism;
                1.0 - determinism
            };
            if leave > 0.0 {
                for (&p, wk) in self.picked.iter().zip(&self.w) {
                    t[[a, phrases[p][0]]] += keep * leave * stay * wk / self.total;
                }
                for (&p, wk) in self.onward.iter().zip(&self.onward_w) {
                    t[[a, phrases[p][0]]] += keep * leave * wk;
                }
            }
            if let Some(e) = eos {
                t[[a, e]] = hazard;
            }
        }
    }
}
