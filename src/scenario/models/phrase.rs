//! A phrase world's `[model]` keys: its phrases, topics and stages, over the chain
//! generator's parameters.

use super::{counted, ranged, Err, ModelSpec};
use crate::model::phrase_gen::PhraseParams;
use crate::scenario::doc::{ModelDoc, ModelKind};
use crate::scenario::load::Scenario;
use crate::scenario::ScenarioError;
use crate::state::Token;

impl Scenario {
    /// `model.kind = "phrase"`.
    pub(super) fn phrase_spec(
        &self,
        m: &mut ModelDoc,
        err: Err<'_>,
    ) -> Result<ModelSpec, ScenarioError> {
        if m.transitions.is_some() {
            return Err(err(
                "model.transitions",
                "a phrase world is generated; for a chain from a CSV use `model.kind = \"markov\"`"
                    .into(),
            ));
        }
        if m.vocab_size.is_none() {
            return Err(self.need(ModelKind::Phrase, "the generator's `model.vocab_size`"));
        }
        let explicit_hazard = m.eos_hazard.is_some();
        let chain = self.chain_params(m, err)?;
        let (stages, output_length) = staging(m, err, explicit_hazard, chain.eos_token)?;
        let long = ranged(
            err,
            "model.phrase_length",
            &mut m.phrase_length,
            4.0,
            1.0,
            4096.0,
        )?;
        if long > chain.vocab_size as f64 {
            return Err(err(
                "model.phrase_length",
                format!(
                    "{long} is longer than the vocabulary ({} tokens)",
                    chain.vocab_size
                ),
            ));
        }
        let determinism = ranged(
            err,
            "model.phrase_determinism",
            &mut m.phrase_determinism,
            1.0,
            0.0,
            1.0,
        )?;
        if determinism <= 0.0 {
            return Err(err(
                "model.phrase_determinism",
                "must be above 0 (1.0 is an exact phrase; 0 would cut every phrase to one token)"
                    .into(),
            ));
        }
        // Read without writing the default back, as `topics` below.
        let fork = m.phrase_fork.unwrap_or(false);
        if fork && determinism >= 1.0 {
            return Err(err(
                "model.phrase_fork",
                "forks loose phrases: set `model.phrase_determinism` below 1 too (at 1.0 every phrase is exact and nothing forks)".into(),
            ));
        }
        Ok(ModelSpec::PhraseGenerated(PhraseParams {
            vocab_size: chain.vocab_size,
            phrase_length: long,
            short_share: ranged(err, "model.short_share", &mut m.short_share, 0.0, 0.0, 1.0)?,
            short_length: counted(err, "model.short_length", &mut m.short_length, 2, 1, 4096)?,
            successors: counted(err, "model.successors", &mut m.successors, 4, 1, 4096)?,
            peakedness: chain.peakedness,
            determinism,
            eos_token: chain.eos_token,
            eos_hazard: chain.eos_hazard,
            // Read without writing the defaults back, so the resolved document of
            // a world without topics stays what it was.
            topics: counted(err, "model.topics", &mut m.topics.clone(), 1, 1, 4096)?,
            topic_spread: ranged(
                err,
                "model.topic_spread",
                &mut m.topic_spread.clone(),
                0.0,
                0.0,
                10.0,
            )?,
            exact_share: ranged(
                err,
                "model.exact_share",
                &mut m.exact_share.clone(),
                0.0,
                0.0,
                1.0,
            )?,
            stages,
            output_length,
            fork,
        }))
    }
}

/// A phrase world's (`model.stages`, `model.output_length`), read without writing defaults
/// back. The output length replaces the flat EOS hazard, so the two are not set together.
fn staging(
    m: &ModelDoc,
    err: Err<'_>,
    explicit_hazard: bool,
    eos: Option<Token>,
) -> Result<(usize, f64), ScenarioError> {
    let stages = counted(err, "model.stages", &mut m.stages.clone(), 1, 1, 64)?;
    let Some(length) = m.output_length else {
        if stages > 1 {
            return Err(err("model.stages", "stages need `model.output_length`, the mean length they split (the last stage's EOS hazard comes from it)".into()));
        }
        return Ok((1, 0.0));
    };
    if !(length.is_finite() && length >= stages as f64 && length <= 1e6) {
        return Err(err("model.output_length", format!("{length} is not a mean length in tokens: it must be at least `model.stages` ({stages}, one token per stage) and at most 1e6")));
    }
    if explicit_hazard {
        return Err(err("model.output_length", "sets the EOS hazard itself; remove `model.eos_hazard` (the flat hazard of every token) or this key".into()));
    }
    if eos.is_none() {
        return Err(err(
            "model.output_length",
            "a length ends at EOS: set `model.eos_token`".into(),
        ));
    }
    Ok((stages, length))
}
