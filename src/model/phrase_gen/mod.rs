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
//! A loose phrase can instead fork (`fork`): its first token goes on to its own second
//! token with `determinism` and to a variant's second token otherwise, and the rest of
//! either is exact, so its confidence stays at `determinism` instead of decaying.
//!
//! Phrase lengths mix two kinds: a `short_share` of the phrases has `short_length` tokens;
//! the others have floor or ceil of `phrase_length`, drawn so that their mean is
//! `phrase_length`. With `topics` above 1 the phrases fall into closed groups, each with its
//! own decision peakedness, so the sequences of one world differ in difficulty as the
//! prompts of a benchmark do. With `output_length`, the phrases of each topic are also cut
//! into ordered stages and only the last one ends at EOS (see [`super::stages`]). The chain
//! goes to the exact Markov oracle like any other, so the
//! miscalibration wrapper and every decoder apply unchanged.
//!
//! `layout` cuts the vocabulary into phrases; `transitions` draws each phrase's decision and
//! writes the matrix rows.

mod layout;
mod transitions;

use serde::{Deserialize, Serialize};

use crate::state::Token;

pub(crate) use layout::phrase_rng;
pub use layout::phrases;
pub use transitions::generate;

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
    /// How a loose phrase (`determinism` below 1) is unsure of itself. `false` (leak): at
    /// every token the rest of the mass leaves through its decision, so a neighbour's
    /// confidence falls as `determinism` to the power of the distance. `true` (fork): only
    /// its first token is unsure, going on to the second token of another phrase of its
    /// group (its variant) with the rest of the mass; past that the text is exact, so every
    /// later token has the same confidence, `determinism`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fork: bool,
}

fn is_false(x: &bool) -> bool {
    !*x
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

#[cfg(test)]
mod tests;
