//! The `[model]` table resolved: which confidence model, from which files or generator
//! parameters, with every range checked. The Markov and HMM oracles are resolved here,
//! the plan mixture, the phrase world and the field in modules of their own.

use std::path::{Path, PathBuf};

mod field;
mod phrase;
mod plan;

use super::doc::{ModelDoc, ModelKind};
use super::load::Scenario;
use super::ScenarioError;
use crate::model::chain_gen::ChainParams;
use crate::model::field::FieldParams;
use crate::model::hmm::HmmParams;
use crate::model::phrase_gen::PhraseParams;
use crate::model::plan::PlanParams;

/// Where a model comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelSpec {
    /// The Markov oracle from a CSV.
    MarkovCsv(PathBuf),
    /// The Markov oracle from the chain generator.
    MarkovGenerated(ChainParams),
    /// The hidden Markov oracle from CSVs: transitions, emissions, initial.
    HmmCsv(PathBuf, PathBuf, PathBuf),
    /// The hidden Markov oracle from its generator.
    HmmGenerated(HmmParams),
    /// The plan mixture from one CSV per plan and a prior.
    PlanCsv(Vec<PathBuf>, Vec<f64>),
    /// The plan mixture from its generator.
    PlanGenerated(PlanParams),
    /// The phenomenological field.
    Field(FieldParams),
    /// The Markov oracle over a generated phrase world.
    PhraseGenerated(PhraseParams),
}

impl ModelSpec {
    /// Whether the model is drawn from a seed (generated matrices, or the field's
    /// per-sequence draws), so that `worlds` can replicate it.
    pub fn generated(&self) -> bool {
        matches!(
            self,
            ModelSpec::MarkovGenerated(_)
                | ModelSpec::HmmGenerated(_)
                | ModelSpec::PlanGenerated(_)
                | ModelSpec::PhraseGenerated(_)
                | ModelSpec::Field(_)
        )
    }

    /// The files the model is read from, so that no output is written over one of them.
    pub fn input_files(&self) -> Vec<&Path> {
        match self {
            ModelSpec::MarkovCsv(p) => vec![p],
            ModelSpec::HmmCsv(a, b, c) => vec![a, b, c],
            ModelSpec::PlanCsv(plans, _) => plans.iter().map(PathBuf::as_path).collect(),
            _ => Vec::new(),
        }
    }
}

type Err<'a> = &'a dyn Fn(&str, String) -> ScenarioError;

/// A float key in a range, with its default.
fn ranged(
    err: Err<'_>,
    key: &str,
    v: &mut Option<f64>,
    default: f64,
    lo: f64,
    hi: f64,
) -> Result<f64, ScenarioError> {
    let x = *v.get_or_insert(default);
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(err(
            key,
            format!("must be a finite number in [{lo}, {hi}], got {x}"),
        ))
    }
}

/// An integer key in a range, with its default.
fn counted(
    err: Err<'_>,
    key: &str,
    v: &mut Option<u64>,
    default: u64,
    lo: u64,
    hi: u64,
) -> Result<usize, ScenarioError> {
    let x = *v.get_or_insert(default);
    if (lo..=hi).contains(&x) {
        Ok(x as usize)
    } else {
        Err(err(
            key,
            format!("must be an integer in {lo}..={hi}, got {x}"),
        ))
    }
}

/// Files and the generator's `model.vocab_size` given together.
fn both(err: Err<'_>, file_key: &str) -> ScenarioError {
    err(
        "model.vocab_size",
        format!("give either `{file_key}` (files) or the generator's `model.vocab_size`, not both"),
    )
}

impl Scenario {
    /// Resolves the model of one configuration.
    pub(super) fn model_spec(
        &self,
        m: &mut ModelDoc,
        err: Err<'_>,
    ) -> Result<ModelSpec, ScenarioError> {
        let kind = m.kind.ok_or_else(|| {
            ScenarioError(format!(
                "{}: missing required key `model.kind`",
                self.path.display()
            ))
        })?;
        let need = |what: &str| self.need(kind, what);
        let both = |file_key: &str| both(err, file_key);
        Ok(match kind {
            ModelKind::Markov => {
                match (&m.transitions, m.vocab_size) {
                    (Some(_), Some(_)) => return Err(both("model.transitions")),
                    (Some(path), None) => ModelSpec::MarkovCsv(self.dir.join(path)),
                    (None, Some(_)) => ModelSpec::MarkovGenerated(self.chain_params(m, err)?),
                    (None, None) => return Err(need(
                        "`model.transitions` (a V x V CSV) or the generator's `model.vocab_size`",
                    )),
                }
            }
            ModelKind::Hmm => {
                let files = [&m.hmm_transitions, &m.emissions, &m.initial];
                match (files.iter().filter(|f| f.is_some()).count(), m.vocab_size) {
                    (3, None) => ModelSpec::HmmCsv(
                        self.dir.join(m.hmm_transitions.as_ref().expect("counted")),
                        self.dir.join(m.emissions.as_ref().expect("counted")),
                        self.dir.join(m.initial.as_ref().expect("counted")),
                    ),
                    (0, Some(_)) => {
                        let chain = self.chain_params(m, err)?;
                        ModelSpec::HmmGenerated(HmmParams {
                            states: counted(err, "model.states", &mut m.states, 32, 1, 256)?,
                            vocab_size: chain.vocab_size,
                            stickiness: ranged(err, "model.stickiness", &mut m.stickiness, 0.0, 0.0, 1.0)?,
                            emission_sharpness: ranged(err, "model.emission_sharpness", &mut m.emission_sharpness, 20.0, 0.0, 100.0)?,
                            state_flow: ranged(err, "model.state_flow", &mut m.state_flow, 0.98, 0.0, 1.0)?,
                            eos_token: chain.eos_token,
                            eos_hazard: chain.eos_hazard,
                        })
                    }
                    (_, Some(_)) => return Err(both("model.hmm_transitions")),
                    _ => return Err(need("all of `model.hmm_transitions`, `model.emissions` and `model.initial`, or the generator's `model.vocab_size`")),
                }
            }
            ModelKind::Plan => self.plan_spec(m, err)?,
            ModelKind::Phrase => self.phrase_spec(m, err)?,
            ModelKind::Field => field::field_spec(m, err)?,
        })
    }

    /// A model kind given without the keys it is built from.
    fn need(&self, kind: ModelKind, what: &str) -> ScenarioError {
        ScenarioError(format!(
            "{}: model kind {kind:?} needs {what}",
            self.path.display()
        ))
    }

    /// The chain generator's parameters (the Markov chain, and every plan's rows).
    pub(super) fn chain_params(
        &self,
        m: &mut ModelDoc,
        err: Err<'_>,
    ) -> Result<ChainParams, ScenarioError> {
        let vocab = counted(err, "model.vocab_size", &mut m.vocab_size, 0, 2, 4096)?;
        let hazard = ranged(err, "model.eos_hazard", &mut m.eos_hazard, 0.0, 0.0, 1.0)?;
        if hazard >= 1.0 {
            return Err(err(
                "model.eos_hazard",
                "must be below 1, or nothing but EOS is ever generated".into(),
            ));
        }
        if let Some(e) = m.eos_token.filter(|&e| e as usize >= vocab) {
            return Err(err(
                "model.eos_token",
                format!("token {e} is outside the vocabulary 0..{vocab}"),
            ));
        }
        Ok(ChainParams {
            vocab_size: vocab,
            peakedness: ranged(err, "model.peakedness", &mut m.peakedness, 1.0, 0.0, 100.0)?,
            deterministic_share: ranged(
                err,
                "model.deterministic_share",
                &mut m.deterministic_share,
                0.0,
                0.0,
                1.0,
            )?,
            deterministic_mass: ranged(
                err,
                "model.deterministic_mass",
                &mut m.deterministic_mass,
                0.99,
                0.0,
                1.0,
            )?,
            support: counted(err, "model.support", &mut m.support, vocab as u64, 1, 4096)?,
            eos_token: m.eos_token,
            eos_hazard: hazard,
        })
    }

    /// The miscalibration wrapper's (temperature, noise), if it is on.
    pub(super) fn miscalibration(
        &self,
        m: &mut ModelDoc,
        err: Err<'_>,
    ) -> Result<Option<(f64, f64)>, ScenarioError> {
        let t = ranged(err, "model.temperature", &mut m.temperature, 1.0, 0.0, 1e3)?;
        if t <= 0.0 {
            return Err(err(
                "model.temperature",
                format!("must be above 0, got {t}"),
            ));
        }
        let sigma = ranged(err, "model.logit_noise", &mut m.logit_noise, 0.0, 0.0, 1e3)?;
        if (t != 1.0 || sigma > 0.0) && m.kind == Some(ModelKind::Field) {
            return Err(err("model.temperature", "the miscalibration wrapper applies to the exact models (markov, hmm, plan); the field has its own noise".into()));
        }
        Ok((t != 1.0 || sigma > 0.0).then_some((t, sigma)))
    }
}
