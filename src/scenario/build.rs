//! Turns validated configurations into engine setups: loads or generates each distinct
//! model once, checks what needs the vocabulary, and shares one model (and its power
//! cache) between every configuration that uses the same one.

use std::sync::Arc;

use ndarray::Array2;

use super::load::{Origin, Scenario};
use super::matrix::{read_square, read_stochastic, ROW_SUM_TOLERANCE};
use super::models::ModelSpec;
use super::resolve::{DecoderSpec, Resolved};
use super::ScenarioError;
use crate::decoder::AnchorDecoder;
use crate::engine::{self, Prompts, Setup};
use crate::model::field::ConfidenceField;
use crate::model::hmm::{self, HmmOracle};
use crate::model::miscalibrated::Miscalibrated;
use crate::model::plan::{self, PlanMixture};
use crate::model::stages::{self, StagedStart};
use crate::model::{chain_gen, phrase_gen, ConfidenceModel, MarkovOracle};
use crate::state::{Attention, Token};

/// What makes two configurations share a model.
#[derive(PartialEq)]
struct ModelKey {
    spec: ModelSpec,
    seed: Option<u64>,
    eos: Option<Token>,
    attention: Attention,
    miscalibration: Option<(f64, f64)>,
}

/// Checks that `eos` is in the vocabulary and, where `absorbing`, that its row stays put.
fn check_eos(t: &Array2<f64>, eos: Option<Token>, absorbing: bool) -> Result<(), String> {
    let Some(e) = eos else { return Ok(()) };
    let v = t.ncols();
    if e as usize >= v {
        return Err(format!("token {e} is outside the vocabulary 0..{v}"));
    }
    let stay = t[[e as usize, e as usize]];
    if absorbing && (stay - 1.0).abs() > ROW_SUM_TOLERANCE {
        return Err(format!(
            "the EOS row must be absorbing (T[{e}, {e}] = 1), but T[{e}, {e}] = {stay}"
        ));
    }
    Ok(())
}

/// A model to build: its key, the longest gen_length decoded on it, and the first
/// configuration that uses it.
type ModelSlot = (ModelKey, usize, usize);

/// The distinct models of `resolved`, each with the longest gen_length that decodes on it
/// and the first configuration that uses it, and per configuration the model of each of its
/// worlds. Every world of a generated model is a model of its own.
fn model_slots(resolved: &[Resolved]) -> (Vec<ModelSlot>, Vec<Vec<usize>>) {
    let mut models: Vec<ModelSlot> = Vec::new();
    let mut slots: Vec<Vec<usize>> = Vec::with_capacity(resolved.len());
    for (i, r) in resolved.iter().enumerate() {
        let c = &r.config;
        let mut worlds = Vec::with_capacity(c.worlds);
        for w in 0..c.worlds {
            let key = ModelKey {
                spec: c.model.clone(),
                seed: c
                    .model
                    .generated()
                    .then(|| engine::world_seed(c.model_seed, w)),
                eos: c.eos_token,
                attention: c.attention,
                miscalibration: c.miscalibration,
            };
            match models.iter().position(|(k, _, _)| *k == key) {
                Some(m) => {
                    models[m].1 = models[m].1.max(c.gen_length);
                    worlds.push(m);
                }
                None => {
                    models.push((key, c.gen_length, i));
                    worlds.push(models.len() - 1);
                }
            }
        }
        slots.push(worlds);
    }
    (models, slots)
}

/// The models [`Scenario::setups`] would build for `resolved`, each with the longest
/// gen_length decoded on it: what the memory estimate counts.
pub fn distinct_models(resolved: &[Resolved]) -> Vec<(ModelSpec, usize)> {
    model_slots(resolved)
        .0
        .into_iter()
        .map(|(key, max_len, _)| (key.spec, max_len))
        .collect()
}

impl Scenario {
    /// One engine setup per configuration.
    pub fn setups(&self, resolved: &[Resolved]) -> Result<Vec<Setup>, ScenarioError> {
        let (models, slots) = model_slots(resolved);
        let mut built: Vec<(Arc<dyn ConfidenceModel>, usize)> = Vec::with_capacity(models.len());
        for (key, max_len, first) in &models {
            built.push(self.build_model(key, *max_len, &resolved[*first])?);
        }
        let mut setups = Vec::with_capacity(resolved.len());
        for (r, worlds) in resolved.iter().zip(slots) {
            let c = &r.config;
            let (model, v) = built[worlds[0]].clone();
            let other_worlds = worlds[1..].iter().map(|&w| built[w].0.clone()).collect();
            if let Prompts::Explicit(list) = &c.prompts {
                for (i, p) in list.iter().enumerate() {
                    if let Some(&bad) = p.iter().find(|&&x| x as usize >= v) {
                        return Err(self.error(
                            &at(r, "model.prompts"),
                            "model.prompts",
                            format!("prompt {i} holds token {bad}, outside the vocabulary 0..{v}"),
                        ));
                    }
                }
            }
            let decoder: Arc<dyn AnchorDecoder> = match &c.decoder {
                DecoderSpec::D2f(d) => Arc::new(d.clone()),
                DecoderSpec::SemiAr(d) => Arc::new(d.clone()),
            };
            setups.push(Setup {
                model,
                other_worlds,
                decoder,
                search: c.search,
                knobs: c.knobs,
                confidence: c.confidence,
                gen_length: c.gen_length,
                prompts: c.prompts.clone(),
                seed: c.seed,
                sequences: c.sequences,
                system: c.system.clone().map(Arc::new),
            });
        }
        Ok(setups)
    }

    fn build_model(
        &self,
        key: &ModelKey,
        max_len: usize,
        r: &Resolved,
    ) -> Result<(Arc<dyn ConfidenceModel>, usize), ScenarioError> {
        let c = &r.config;
        let world_seed = key.seed.unwrap_or(c.model_seed);
        let fail = |k: &str, m: String| self.error(&at(r, k), k, m);
        let budget = |bytes: u128| {
            if bytes > u128::from(c.cache_budget_mb) << 20 {
                Err(fail("model.cache_budget_mb", format!(
                    "the matrix-power cache for gen_length = {max_len} needs up to {} MiB (plans x V x V x L x 8 bytes), over the budget of {} MiB; raise model.cache_budget_mb or shrink the vocabulary or gen_length",
                    bytes >> 20, c.cache_budget_mb
                )))
            } else {
                Ok(())
            }
        };
        let (model, v): (Arc<dyn ConfidenceModel>, usize) = match &key.spec {
            ModelSpec::MarkovCsv(_)
            | ModelSpec::MarkovGenerated(_)
            | ModelSpec::PhraseGenerated(_) => {
                let t = match &key.spec {
                    ModelSpec::MarkovCsv(path) => {
                        read_square(path).map_err(|m| fail("model.transitions", m))?
                    }
                    ModelSpec::MarkovGenerated(p) => chain_gen::generate(p, world_seed),
                    ModelSpec::PhraseGenerated(p) => phrase_gen::generate(p, world_seed),
                    _ => unreachable!("matched above"),
                };
                check_eos(&t, key.eos, true).map_err(|m| fail("model.eos_token", m))?;
                budget(MarkovOracle::cache_bytes(t.nrows(), max_len))?;
                let v = t.nrows();
                let oracle = MarkovOracle::new(t, key.eos, key.attention, max_len);
                let starts = match &key.spec {
                    ModelSpec::PhraseGenerated(p) => stages::first_stage(p, world_seed),
                    _ => None,
                };
                let model: Arc<dyn ConfidenceModel> = match starts {
                    Some(starts) => Arc::new(StagedStart::new(Arc::new(oracle), starts)),
                    None => Arc::new(oracle),
                };
                (model, v)
            }
            ModelSpec::HmmCsv(..) | ModelSpec::HmmGenerated(_) => {
                let (a, e, pi) = match &key.spec {
                    ModelSpec::HmmCsv(a, e, pi) => self.read_hmm(r, a, e, pi)?,
                    ModelSpec::HmmGenerated(p) => hmm::generate(p, world_seed),
                    _ => unreachable!("matched above"),
                };
                let v = e.ncols();
                if let Some(t) = key.eos.filter(|&t| t as usize >= v) {
                    return Err(fail(
                        "model.eos_token",
                        format!("token {t} is outside the vocabulary 0..{v}"),
                    ));
                }
                (
                    Arc::new(HmmOracle::new(a, e, pi, key.eos, key.attention)),
                    v,
                )
            }
            ModelSpec::PlanCsv(..) | ModelSpec::PlanGenerated(_) => {
                let (plans, prior) = match &key.spec {
                    ModelSpec::PlanCsv(paths, prior) => {
                        let mut plans = Vec::new();
                        for p in paths {
                            plans.push(read_square(p).map_err(|m| fail("model.plans", m))?);
                        }
                        (plans, prior.clone())
                    }
                    ModelSpec::PlanGenerated(p) => plan::generate(p, world_seed),
                    _ => unreachable!("matched above"),
                };
                let v = plans[0].nrows();
                if let Some((z, t)) = plans.iter().enumerate().find(|(_, t)| t.nrows() != v) {
                    return Err(fail("model.plans", format!(
                        "plan {z} is {0} x {0}, but plan 0 is {v} x {v}; plans share one vocabulary",
                        t.nrows()
                    )));
                }
                for (z, t) in plans.iter().enumerate() {
                    check_eos(t, key.eos, true)
                        .map_err(|m| fail("model.eos_token", format!("plan {z}: {m}")))?;
                }
                budget(MarkovOracle::cache_bytes(v, max_len) * plans.len() as u128)?;
                (
                    Arc::new(PlanMixture::new(
                        plans,
                        prior,
                        key.eos,
                        key.attention,
                        max_len,
                    )),
                    v,
                )
            }
            ModelSpec::Field(p) => (
                // World w's salt is its seed relative to world 0's, so world 0 is the
                // field without `worlds`.
                Arc::new(
                    ConfidenceField::new(p.clone(), key.attention)
                        .in_world(world_seed ^ c.model_seed),
                ),
                p.vocab_size,
            ),
        };
        let model = match key.miscalibration {
            Some((t, sigma)) => {
                Arc::new(Miscalibrated::new(model, t, sigma)) as Arc<dyn ConfidenceModel>
            }
            None => model,
        };
        Ok((model, v))
    }

    fn read_hmm(
        &self,
        r: &Resolved,
        a: &std::path::Path,
        e: &std::path::Path,
        pi: &std::path::Path,
    ) -> Result<hmm::HmmMatrices, ScenarioError> {
        let fail = |k: &str, m: String| self.error(&at(r, k), k, m);
        let a = read_square(a).map_err(|m| fail("model.hmm_transitions", m))?;
        let k = a.nrows();
        let em = read_stochastic(e, None).map_err(|m| fail("model.emissions", m))?;
        if em.nrows() != k {
            return Err(fail(
                "model.emissions",
                format!(
                    "{}: {} rows, but the transition matrix has K = {k} states",
                    e.display(),
                    em.nrows()
                ),
            ));
        }
        let init = read_stochastic(pi, Some(k)).map_err(|m| fail("model.initial", m))?;
        if init.nrows() != 1 {
            return Err(fail(
                "model.initial",
                format!(
                    "{}: must be one line of K = {k} entries, found {} lines",
                    pi.display(),
                    init.nrows()
                ),
            ));
        }
        Ok((a, em, init.row(0).to_owned()))
    }
}

fn at(r: &Resolved, key: &str) -> Origin {
    r.origins.get(key).cloned().unwrap_or(Origin::Default)
}
