//! One evaluation: the scenario with the knobs set, the configurations the targets name
//! decoded, and each target's statistic read from their summaries.

use anyhow::{bail, Context, Result};

use super::target::{statistic, Target};
use super::{cell, CalibrateOptions};
use crate::cli::prepare;
use crate::scenario::{
    case_matches, case_names, select_case_configs, select_config, Origin, Resolved,
};
use crate::sweep;

/// A key being adjusted, with its search bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Knob {
    /// The dotted scenario key.
    pub key: String,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Whether the key takes integers.
    pub integer: bool,
}

impl Knob {
    /// The `--set` argument that puts the knob at `x`.
    pub fn set(&self, x: f64) -> String {
        format!("{}={}", self.key, cell(x, self.integer))
    }

    /// `x` as the scenario will hold it.
    pub fn snap(&self, x: f64) -> f64 {
        let x = x.clamp(self.lo, self.hi);
        if self.integer {
            x.round()
        } else {
            x
        }
    }
}

/// Decodes what the targets need at given knob values. Every evaluation reloads the
/// scenario, so a knob reaches whatever the model generator derives from it.
pub struct Evaluator<'a> {
    pub(super) opts: &'a CalibrateOptions,
    pub(super) knobs: &'a [Knob],
    pub(super) targets: &'a [Target],
    /// Told each evaluation's work items (`Some(n)`) and each decode (`None`).
    pub(super) decodes: &'a (dyn Fn(Option<u64>) + Sync),
}

impl Evaluator<'_> {
    /// The statistic of every target with the knobs at `xs` and the `extra` overrides. A
    /// target that names a `--variant` is measured with the variant's overrides added.
    pub fn eval(&self, xs: &[f64], extra: &[String]) -> Result<Vec<f64>> {
        if self.opts.variants.is_empty() {
            return self.eval_targets(xs, extra, self.targets);
        }
        let variant_of = |t: &Target| {
            t.case
                .as_deref()
                .and_then(|c| self.opts.variants.iter().position(|v| v.name == c))
        };
        let mut out = vec![f64::NAN; self.targets.len()];
        // The scenario as written (no variant), then each variant in the order given.
        for group in std::iter::once(None).chain((0..self.opts.variants.len()).map(Some)) {
            let members: Vec<usize> = (0..self.targets.len())
                .filter(|&i| variant_of(&self.targets[i]) == group)
                .collect();
            if members.is_empty() {
                continue;
            }
            let mut sets = extra.to_vec();
            let mut targets: Vec<Target> =
                members.iter().map(|&i| self.targets[i].clone()).collect();
            if let Some(v) = group {
                sets.extend(self.opts.variants[v].sets.iter().cloned());
                // The variant stands for the configuration the selection leaves.
                for t in &mut targets {
                    t.case = None;
                }
            }
            let got = self
                .eval_targets(xs, &sets, &targets)
                .with_context(|| match group {
                    Some(v) => format!("variant {}", self.opts.variants[v].name),
                    None => "the scenario without variants".to_string(),
                })?;
            for (&i, g) in members.iter().zip(got) {
                out[i] = g;
            }
        }
        Ok(out)
    }

    fn eval_targets(&self, xs: &[f64], extra: &[String], targets: &[Target]) -> Result<Vec<f64>> {
        let knob_sets: Vec<String> = self.knobs.iter().zip(xs).map(|(k, &x)| k.set(x)).collect();
        let sets: Vec<String> = self
            .opts
            .sets
            .iter()
            .chain(&knob_sets)
            .chain(extra)
            .cloned()
            .collect();
        let (scenario, resolved) = prepare(&self.opts.scenario, &sets)?;
        let mut selected = select_case_configs(resolved, &self.opts.cases)?;
        if let Some(n) = self.opts.config {
            selected = select_config(selected, n)?;
        }
        // Each target's configuration, decoded once however many targets share it.
        let mut needed: Vec<Resolved> = Vec::new();
        let mut slot = Vec::with_capacity(targets.len());
        for t in targets {
            let r = self.pick(&scenario, &selected, t)?;
            let at = match needed.iter().position(|n| n.label.index == r.label.index) {
                Some(i) => i,
                None => {
                    let keys = self.knobs.iter().map(|k| k.key.as_str());
                    for (key, set) in keys
                        .chain(extra.iter().map(|e| set_key(e)))
                        .zip(knob_sets.iter().chain(extra))
                    {
                        reaches(&scenario, r, key, set, false)?;
                    }
                    // The user's own --set must reach the configurations the targets pick,
                    // as `run` requires of its cases; a knob's key is calibrate's to set.
                    for set in &self.opts.sets {
                        let key = set_key(set);
                        if !self.knobs.iter().any(|k| k.key == key) && r.origins.contains_key(key) {
                            reaches(&scenario, r, key, set, true)?;
                        }
                    }
                    needed.push(r.clone());
                    needed.len() - 1
                }
            };
            slot.push(at);
        }
        let setups = scenario.setups(&needed)?;
        let labels: Vec<_> = needed.iter().map(|r| r.label.clone()).collect();
        (self.decodes)(Some(setups.iter().map(|s| s.decodes() as u64).sum()));
        let runs = sweep::run(&setups, &labels, &|| (self.decodes)(None))?;
        targets
            .iter()
            .zip(slot)
            .map(|(t, i)| {
                statistic(&runs[i], &t.stat).with_context(|| format!("target {}", t.name()))
            })
            .collect()
    }

    fn pick<'r>(
        &self,
        scenario: &crate::scenario::Scenario,
        selected: &'r [Resolved],
        t: &Target,
    ) -> Result<&'r Resolved> {
        let swept: Vec<&str> = scenario.sweep.keys().map(String::as_str).collect();
        let drop_sweep = if swept.is_empty() {
            String::new()
        } else {
            format!(
                " The sweep over [{}] multiplies each case; drop it with --set 'sweep={{}}' or pick one with --config N.",
                swept.join(", ")
            )
        };
        match &t.case {
            Some(case) => {
                let matching: Vec<&Resolved> = selected
                    .iter()
                    .filter(|r| {
                        r.label
                            .case
                            .as_deref()
                            .is_some_and(|c| case_matches(case, c))
                    })
                    .collect();
                match matching.as_slice() {
                    [one] => Ok(one),
                    [] => {
                        let valid = case_names(selected);
                        if valid.is_empty() {
                            bail!(
                                "--target {}: this scenario has no [[case]] tables; write the target as {}=X",
                                t.name(),
                                t.stat
                            )
                        }
                        bail!(
                            "--target {}: no case `{case}` among the selected configurations; valid cases are: {}",
                            t.name(),
                            valid.join(", ")
                        )
                    }
                    many => bail!(
                        "--target {}: `{case}` names {} configurations, a target needs exactly one configuration.{drop_sweep}",
                        t.name(),
                        many.len()
                    ),
                }
            }
            None => match selected {
                [one] => Ok(one),
                many => {
                    let cases = case_names(many);
                    let hint = if cases.len() < 2 {
                        String::new()
                    } else {
                        format!(
                            " Name a case in the target (--target 'CASE:{}=X') or select one with --case; cases: {}.",
                            t.stat,
                            cases.join(", ")
                        )
                    };
                    bail!(
                        "{}: --target {} needs exactly one configuration, but the selection has {}.{hint}{drop_sweep}",
                        self.opts.scenario.display(),
                        t.name(),
                        many.len()
                    )
                }
            },
        }
    }
}

/// Refuses a knob that a case override, the sweep or a later `--set` would overrule: the
/// search would run at constant error and write a value that changes nothing.
/// `by_user`: the override is the user's own --set rather than a knob's value.
fn reaches(
    scenario: &crate::scenario::Scenario,
    r: &Resolved,
    key: &str,
    set: &str,
    by_user: bool,
) -> Result<()> {
    match r.origins.get(key) {
        Some(Origin::Set(arg)) if arg == set => Ok(()),
        Some(origin) => {
            let owner = match (&r.label.case, origin) {
                (Some(case), Origin::File(_)) if !scenario.sweep.contains_key(key) => {
                    format!("case `{case}` sets it itself")
                }
                (_, Origin::File(_)) => "the sweep sets it".to_string(),
                (_, _) => "a later --set overrides it".to_string(),
            };
            let what = if by_user {
                format!("--set {set}")
            } else {
                "the value calibrate sets".to_string()
            };
            bail!(
                "{key}: {what} never reaches configuration {}: {owner} ({}). \
                 Remove that override, or {} a key it does not set",
                r.label.index,
                scenario.locate(origin),
                if by_user { "--set" } else { "calibrate" }
            )
        }
        None => bail!(
            "{key}: configuration {} does not read this key",
            r.label.index
        ),
    }
}

/// The key of a `KEY=VALUE` override.
fn set_key(set: &str) -> &str {
    set.split_once('=').map_or(set, |(k, _)| k.trim())
}
