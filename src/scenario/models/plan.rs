//! The latent-plan mixture's `[model]` keys: one CSV per plan with a prior, or the
//! generator's plans over shared chain parameters.

use super::{both, counted, ranged, Err, ModelSpec};
use crate::model::plan::PlanParams;
use crate::scenario::doc::{ModelDoc, ModelKind};
use crate::scenario::load::Scenario;
use crate::scenario::ScenarioError;

impl Scenario {
    /// `model.kind = "plan"`.
    pub(super) fn plan_spec(
        &self,
        m: &mut ModelDoc,
        err: Err<'_>,
    ) -> Result<ModelSpec, ScenarioError> {
        Ok(match (&m.plans, m.vocab_size) {
            (Some(_), Some(_)) => return Err(both(err, "model.plans")),
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
                return Err(self.need(
                    ModelKind::Plan,
                    "`model.plans` (one CSV per plan) or the generator's `model.vocab_size`",
                ))
            }
        })
    }
}
