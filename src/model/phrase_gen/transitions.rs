//! A phrase world's transition matrix: each phrase's favourite successor on a cycle
//! through its group, its decision among a few phrases of its group (and of the next
//! stage), and the rows of its tokens.

use ndarray::Array2;
use rand::seq::index::sample;
use rand::{RngExt, SeedableRng};
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
    let variants = variants(params, &phrases, &exact, &staged, seed);
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
        let variant = variants.get(i).copied().flatten().map(|o| &phrases[o][..]);
        let rows = Rows {
            determinism,
            variant,
            hazard: staged.hazard[i],
            eos,
        };
        d.write_rows(&mut t, phrase, &phrases, &rows);
    }
    t
}

/// Under `fork`, each loose phrase of two or more tokens gets a variant: another phrase of
/// its group with a second token, drawn uniformly from a stream of its own, so worlds
/// without the knob keep their matrix. `None` for exact phrases, one-token phrases and
/// phrases alone in their group.
fn variants(
    params: &PhraseParams,
    phrases: &[Vec<usize>],
    exact: &[bool],
    staged: &Staging,
    seed: u64,
) -> Vec<Option<usize>> {
    if !params.fork || params.determinism >= 1.0 {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x666f_726b_5f76_6172);
    let group = &staged.group;
    (0..phrases.len())
        .map(|i| {
            if exact[i] || phrases[i].len() < 2 {
                return None;
            }
            let others: Vec<usize> = (0..phrases.len())
                .filter(|&o| o != i && group[o] == group[i] && phrases[o].len() >= 2)
                .collect();
            (!others.is_empty()).then(|| others[rng.random_range(0..others.len())])
        })
        .collect()
}

/// What one phrase's rows need besides its decision.
struct Rows<'a> {
    /// Probability that a within-phrase token goes on inside the phrase.
    determinism: f64,
    /// The phrase its first token forks to (`fork`); then the rest is exact.
    variant: Option<&'a [usize]>,
    hazard: f64,
    eos: Option<usize>,
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
    /// token sends `hazard` to EOS. With a variant, the first token's rest goes to the
    /// variant's second token instead, and the later tokens go on with certainty.
    fn write_rows(&self, t: &mut Array2<f64>, phrase: &[usize], phrases: &[Vec<usize>], r: &Rows) {
        let (determinism, hazard, eos) = (r.determinism, r.hazard, r.eos);
        let stay = 1.0 - self.advance;
        let keep = 1.0 - hazard;
        let last = phrase.len() - 1;
        for (k, &a) in phrase.iter().enumerate() {
            let leave = match r.variant {
                _ if k == last => 1.0,
                Some(v) => {
                    let on = if k == 0 { determinism } else { 1.0 };
                    t[[a, phrase[k + 1]]] += keep * on;
                    if k == 0 {
                        t[[a, v[1]]] += keep * (1.0 - determinism);
                    }
                    0.0
                }
                None => {
                    t[[a, phrase[k + 1]]] += keep * determinism;
                    1.0 - determinism
                }
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
