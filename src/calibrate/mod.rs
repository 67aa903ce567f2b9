//! `lopa-sim calibrate`: tie a scenario to measured numbers by adjusting numeric keys.
//!
//! One knob against one target brackets and bisects; one knob against a table of TPFs
//! measured at several `decoder.fill_threshold` values is fitted by least squares; several
//! knobs or several targets are fitted by least squares in the log of each statistic
//! ([`least`]). Every evaluation decodes the same sequences, so the search is deterministic.
//! A search that ends outside its tolerance writes nothing unless asked to.

mod check;
mod command;
mod eval;
mod least;
mod parse;
mod search;
mod target;
mod variant;
mod write;

use std::path::PathBuf;

use anyhow::{Context, Result};
use toml::Value;

use crate::report::float_cell;
use check::{check, knobs};

pub use command::command;
pub use eval::{Evaluator, Knob};
pub use least::{least_squares, log_error, within, Fit, AIM};
pub use parse::{parse_range, parse_table, parse_tolerance};
pub use search::{bisect, fit_table, Aim, Evaluation};
pub use target::{parse_target, statistic, statistic_names, tpf_steps, Target};
pub use variant::{parse_variant, Variant};
pub use write::{check_writable, write_scenario, NAME_SUFFIX};

/// The share of each target a fit must come within, unless `--tolerance` says otherwise.
pub const DEFAULT_TOLERANCE: f64 = 0.02;

/// Options of `lopa-sim calibrate`.
#[derive(Clone, Debug, Default)]
pub struct CalibrateOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The dotted keys to adjust, in the order of `ranges`.
    pub params: Vec<String>,
    /// The statistics to reach.
    pub targets: Vec<Target>,
    /// (tau, TPF) pairs to fit by least squares over `decoder.fill_threshold`.
    pub table: Vec<(f64, f64)>,
    /// Search bounds, one per param in order; a missing one defaults to [0, 1] for keys that
    /// live there.
    pub ranges: Vec<(f64, f64)>,
    /// Where the calibrated scenario goes.
    pub write: PathBuf,
    /// `KEY=VALUE` overrides.
    pub sets: Vec<String>,
    /// `--case` names or globs: the configurations the targets may name.
    pub cases: Vec<String>,
    /// `--config N`: the one configuration the targets may name.
    pub config: Option<usize>,
    /// The share of each target to come within (default [`DEFAULT_TOLERANCE`]; a table fit
    /// checks its rows only when this is given).
    pub tolerance: Option<f64>,
    /// Write the closest setting even when it misses the tolerance.
    pub accept_closest: bool,
    /// `--variant` settings that targets may name; their overrides are never written.
    pub variants: Vec<Variant>,
}

/// What a calibration found.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The value of the key.
    pub value: f64,
    /// The statistic (or, for a table, the root-mean-square TPF error) it gives.
    pub achieved: f64,
    /// Every evaluation, in order.
    pub evaluations: Vec<Evaluation>,
}

/// How the values were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One knob, one target: bracket and bisection.
    Bisection,
    /// One knob, a table over `decoder.fill_threshold`: least squares in TPF.
    Table,
    /// Several knobs or targets: least squares in log statistic.
    LeastSquares,
}

/// One target and what the chosen values reach.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetFit {
    /// `CASE:STAT`, `STAT`, or for a table row `tpf at fill_threshold = TAU`.
    pub name: String,
    /// The value aimed at.
    pub target: f64,
    /// The value reached.
    pub reached: f64,
}

impl TargetFit {
    /// reached / target - 1.
    pub fn gap(&self) -> f64 {
        if self.target != 0.0 {
            self.reached / self.target - 1.0
        } else {
            self.reached
        }
    }
}

/// The result of a calibration, reached or not.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The adjusted keys.
    pub knobs: Vec<Knob>,
    /// The best value of each.
    pub values: Vec<f64>,
    /// Every target there.
    pub fits: Vec<TargetFit>,
    /// RMS of the log errors (for a table: the RMS TPF error).
    pub residual: f64,
    /// The search used.
    pub method: Method,
    /// The tolerance checked, if any.
    pub tolerance: Option<f64>,
    /// Whether every target is within the tolerance.
    pub within: bool,
    /// Distinct settings decoded.
    pub evaluations: usize,
    /// The lowest and highest statistic seen, for a one-knob, one-target search.
    pub seen: Option<(f64, f64)>,
    /// Whether the scenario was written.
    pub written: bool,
}

/// The TOML text of `x` for `key`.
fn cell(x: f64, integer: bool) -> String {
    if integer {
        format!("{}", x.round() as i64)
    } else {
        float_cell(x)
    }
}

/// Runs a calibration, reporting each evaluation to `progress`, and writes the scenario
/// when every target is within tolerance (or `accept_closest` is set).
pub fn calibrate(opts: &CalibrateOptions, progress: &mut dyn FnMut(&str)) -> Result<Outcome> {
    calibrate_observed(opts, progress, &|_| ())
}

/// Like [`calibrate`], also telling `decodes` about the work items of each evaluation:
/// `Some(n)` when an evaluation of n work items starts, `None` when one is decoded.
pub fn calibrate_observed(
    opts: &CalibrateOptions,
    progress: &mut dyn FnMut(&str),
    decodes: &(dyn Fn(Option<u64>) + Sync),
) -> Result<Outcome> {
    let knobs = knobs(opts)?;
    let tolerance = check(opts, &knobs)?;
    let table_target = [Target {
        case: None,
        stat: "tpf".into(),
        value: f64::NAN,
    }];
    let targets = if opts.table.is_empty() {
        &opts.targets[..]
    } else {
        &table_target[..]
    };
    let ev = Evaluator {
        opts,
        knobs: &knobs,
        targets,
        decodes,
    };
    let at = |xs: &[f64]| {
        knobs
            .iter()
            .zip(xs)
            .map(|(k, &x)| format!("{} = {}", k.key, cell(x, k.integer)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut outcome = if !opts.table.is_empty() {
        let k = &knobs[0];
        let mut eval = |x: f64, extra: &[String]| -> Result<f64> {
            Ok(ev
                .eval(&[x], extra)
                .with_context(|| format!("evaluating {}", at(&[x])))?[0])
        };
        let c = fit_table(k.lo, k.hi, k.integer, &opts.table, &mut eval, progress)?;
        let mut fits = Vec::with_capacity(opts.table.len());
        for &(tau, want) in &opts.table {
            let extra = [format!("decoder.fill_threshold={}", float_cell(tau))];
            fits.push(TargetFit {
                name: format!("tpf at fill_threshold = {}", float_cell(tau)),
                target: want,
                reached: eval(c.value, &extra)?,
            });
        }
        let within = opts
            .tolerance
            .is_none_or(|tol| fits.iter().all(|f| least::within(f.reached, f.target, tol)));
        Outcome {
            values: vec![k.snap(c.value)],
            fits,
            residual: c.achieved,
            method: Method::Table,
            tolerance: opts.tolerance,
            within,
            evaluations: c.evaluations.len(),
            seen: None,
            written: false,
            knobs: knobs.clone(),
        }
    } else if knobs.len() == 1 && targets.len() == 1 {
        let (k, t) = (&knobs[0], &targets[0]);
        let mut f = |x: f64| -> Result<f64> {
            Ok(ev
                .eval(&[x], &[])
                .with_context(|| format!("evaluating {}", at(&[x])))?[0])
        };
        let f_lo = f(k.lo)?;
        let aim = Aim {
            stat: &t.stat,
            value: t.value,
            tolerance: AIM * tolerance,
        };
        let c = bisect(k.lo, k.hi, k.integer, aim, f_lo, &mut f, progress)?;
        let seen = c
            .evaluations
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| {
                (lo.min(e.tpf), hi.max(e.tpf))
            });
        Outcome {
            values: vec![k.snap(c.value)],
            fits: vec![TargetFit {
                name: t.name(),
                target: t.value,
                reached: c.achieved,
            }],
            residual: log_error(c.achieved, t.value).abs(),
            method: Method::Bisection,
            tolerance: Some(tolerance),
            within: least::within(c.achieved, t.value, tolerance),
            evaluations: c.evaluations.len(),
            seen: Some(seen),
            written: false,
            knobs: knobs.clone(),
        }
    } else {
        let wanted: Vec<f64> = targets.iter().map(|t| t.value).collect();
        let mut count = 0usize;
        let mut eval = |xs: &[f64]| {
            ev.eval(xs, &[])
                .with_context(|| format!("evaluating {}", at(xs)))
        };
        let mut report = |xs: &[f64], reached: &[f64], residual: f64| {
            count += 1;
            let stats: Vec<String> = targets
                .iter()
                .zip(reached)
                .map(|(t, &r)| {
                    format!("{} {r:.4} ({:+.2}%)", t.name(), 100.0 * (r / t.value - 1.0))
                })
                .collect();
            progress(&format!(
                "  [{count}] {} -> {}; residual {residual:.4}",
                at(xs),
                stats.join(", ")
            ));
        };
        let fit = least_squares(&knobs, &wanted, tolerance, &mut eval, &mut report)?;
        Outcome {
            fits: targets
                .iter()
                .zip(&fit.reached)
                .map(|(t, &r)| TargetFit {
                    name: t.name(),
                    target: t.value,
                    reached: r,
                })
                .collect(),
            values: fit.values,
            residual: fit.residual,
            method: Method::LeastSquares,
            tolerance: Some(tolerance),
            within: fit.within,
            evaluations: fit.evaluations,
            seen: None,
            written: false,
            knobs: knobs.clone(),
        }
    };
    if outcome.within || opts.accept_closest {
        let values: Vec<(String, Value)> = knobs
            .iter()
            .zip(&outcome.values)
            .map(|(k, &x)| {
                let v = if k.integer {
                    Value::Integer(x.round() as i64)
                } else {
                    Value::Float(x)
                };
                (k.key.clone(), v)
            })
            .collect();
        write_scenario(&opts.scenario, &opts.write, &opts.sets, &values)?;
        outcome.written = true;
    }
    Ok(outcome)
}
