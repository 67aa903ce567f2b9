//! The `[model]` table resolved: which confidence model, from which files or generator
//! parameters, with every range checked.

use std::path::PathBuf;

use super::doc::{ModelDoc, ModelKind};
use super::load::Scenario;
use super::ScenarioError;
use crate::model::chain_gen::ChainParams;
use crate::model::field::FieldParams;
use crate::model::hmm::HmmParams;
use crate::model::phrase_gen::PhraseParams;
use crate::model::plan::PlanParams;
use crate::state::Token;

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
        let need = |what: &str| {
            ScenarioError(format!(
                "{}: model kind {kind:?} needs {what}",
                self.path.display()
            ))
        };
        let both = |file_key: &str| {
            err("model.vocab_size", format!("give either `{file_key}` (files) or the generator's `model.vocab_size`, not both"))
        };
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
            ModelKind::Plan => match (&m.plans, m.vocab_size) {
                (Some(_), Some(_)) => return Err(both("model.plans")),
                (Some(paths), None) => {
                    if paths.is_empty() {
                        return Err(err("model.plans", "must list at least one plan CSV".into()));
                    }
                    let prior = match &m.plan_prior {
                        Some(p) => p.clone(),
                        None => vec![1.0 / paths.len() as f64; paths.len()],
                    };
                    if prior.len() != paths.len() {
                        return Err(err(
                            "model.plan_prior",
                            format!("has {} entries for {} plans", prior.len(), paths.len()),
                        ));
                    }
                    if prior.iter().any(|p| !p.is_finite() || *p < 0.0) {
                        return Err(err(
                            "model.plan_prior",
                            "entries must be finite and non-negative".into(),
                        ));
                    }
                    let sum: f64 = prior.iter().sum();
                    if (sum - 1.0).abs() > 1e-6 {
                        return Err(err("model.plan_prior", format!("sums to {sum}, not 1")));
                    }
                    ModelSpec::PlanCsv(paths.iter().map(|p| self.dir.join(p)).collect(), prior)
                }
                (None, Some(_)) => {
                    let chain = self.chain_params(m, err)?;
                    ModelSpec::PlanGenerated(PlanParams {
                        plans: counted(err, "model.plan_count", &mut m.plan_count, 2, 1, 64)?,
                        prior_entropy: ranged(
                            err,
                            "model.prior_entropy",
                            &mut m.prior_entropy,
                            1.0,
                            0.0,
                            1.0,
                        )?,
                        overlap: ranged(err, "model.overlap", &mut m.overlap, 0.5, 0.0, 1.0)?,
                        chain,
                    })
                }
                (None, None) => {
                    return Err(need(
                        "`model.plans` (one CSV per plan) or the generator's `model.vocab_size`",
                    ))
                }
            },
            ModelKind::Phrase => {
                if m.transitions.is_some() {
                    return Err(err("model.transitions", "a phrase world is generated; for a chain from a CSV use `model.kind = \"markov\"`".into()));
                }
                if m.vocab_size.is_none() {
                    return Err(need("the generator's `model.vocab_size`"));
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
                    return Err(err("model.phrase_determinism", "must be above 0 (1.0 is an exact phrase; 0 would cut every phrase to one token)".into()));
                }
                ModelSpec::PhraseGenerated(PhraseParams {
                    vocab_size: chain.vocab_size,
                    phrase_length: long,
                    short_share: ranged(
                        err,
                        "model.short_share",
                        &mut m.short_share,
                        0.0,
                        0.0,
                        1.0,
                    )?,
                    short_length: counted(
                        err,
                        "model.short_length",
                        &mut m.short_length,
                        2,
                        1,
                        4096,
                    )?,
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
                })
            }
            ModelKind::Field => {
                let vocab = counted(err, "model.vocab_size", &mut m.vocab_size, 1000, 2, 1 << 20)?;
                let scale = ranged(
                    err,
                    "model.kernel_scale",
                    &mut m.kernel_scale,
                    4.0,
                    0.0,
                    1e6,
                )?;
                if scale <= 0.0 {
                    return Err(err(
                        "model.kernel_scale",
                        "must be above 0: a zero-width kernel divides by zero".into(),
                    ));
                }
                ModelSpec::Field(FieldParams {
                    vocab_size: vocab,
                    base_logit: ranged(err, "model.base_logit", &mut m.base_logit, 0.0, -1e3, 1e3)?,
                    difficulty_sd: ranged(
                        err,
                        "model.difficulty_sd",
                        &mut m.difficulty_sd,
                        1.0,
                        0.0,
                        1e3,
                    )?,
                    left_strength: ranged(
                        err,
                        "model.left_strength",
                        &mut m.left_strength,
                        1.0,
                        0.0,
                        1e3,
                    )?,
                    right_strength: ranged(
                        err,
                        "model.right_strength",
                        &mut m.right_strength,
                        0.5,
                        0.0,
                        1e3,
                    )?,
                    kernel_scale: scale,
                    noise_sd: ranged(err, "model.noise_sd", &mut m.noise_sd, 0.5, 0.0, 1e3)?,
                    persistence: ranged(
                        err,
                        "model.persistence",
                        &mut m.persistence,
                        0.5,
                        0.0,
                        0.999_999,
                    )?,
                    gamma: {
                        let g = ranged(err, "model.gamma", &mut m.gamma, 1.0, 0.0, 1e3)?;
                        if g <= 0.0 {
                            return Err(err("model.gamma", "must be above 0".into()));
                        }
                        g
                    },
                })
            }
        })
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
