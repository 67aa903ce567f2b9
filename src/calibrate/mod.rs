//! `lopa-sim calibrate`: tie a scenario to a measured TPF by adjusting one numeric key.
//!
//! Against a single target it brackets and bisects; against a table of TPFs measured at
//! several `decoder.fill_threshold` values it fits the key by least squares. Every
//! evaluation decodes the whole configuration, so the search is deterministic.

mod search;
mod write;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use toml::Value;

use crate::cli::prepare;
use crate::report::{float_cell, summarize};
use crate::scenario::check_key;
use crate::sweep;

pub use search::{bisect, fit_table, Evaluation};
pub use write::write_scenario;

/// Options of `lopa-sim calibrate`.
#[derive(Clone, Debug, Default)]
pub struct CalibrateOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The dotted key to adjust.
    pub param: String,
    /// The TPF to hit.
    pub target: Option<f64>,
    /// (tau, TPF) pairs to fit by least squares over `decoder.fill_threshold`.
    pub table: Vec<(f64, f64)>,
    /// Search bounds.
    pub range: Option<(f64, f64)>,
    /// Where the calibrated scenario goes.
    pub write: PathBuf,
    /// `KEY=VALUE` overrides.
    pub sets: Vec<String>,
}

/// What a calibration found.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The value of the key.
    pub value: f64,
    /// The TPF (or, for a table, the root-mean-square TPF error) it gives.
    pub achieved: f64,
    /// Every evaluation, in order.
    pub evaluations: Vec<Evaluation>,
}

/// Keys that live in [0, 1], whose range may be left out.
fn unit_interval(key: &str) -> bool {
    key.ends_with("_threshold")
        || [
            "model.deterministic_share",
            "model.deterministic_mass",
            "model.eos_hazard",
            "model.stickiness",
            "model.prior_entropy",
            "model.overlap",
            "model.persistence",
        ]
        .contains(&key)
}

/// Whether `key` takes integers (true) or floats (false); an error for other keys.
fn integer_key(key: &str) -> Result<bool> {
    if check_key(key, &Value::Float(0.5)).is_ok() {
        return Ok(false);
    }
    if check_key(key, &Value::Integer(1)).is_ok() {
        return Ok(true);
    }
    bail!("--param {key}: not a numeric scenario key; calibrate adjusts a number such as model.deterministic_share or decoder.fill_threshold")
}

/// The TOML text of `x` for `key`.
fn cell(x: f64, integer: bool) -> String {
    if integer {
        format!("{}", x.round() as i64)
    } else {
        float_cell(x)
    }
}

/// Summary TPF of the scenario's one configuration with `extra` overrides.
pub fn tpf_with(scenario: &Path, sets: &[String], extra: &[String]) -> Result<f64> {
    let all: Vec<String> = sets.iter().chain(extra).cloned().collect();
    let (s, resolved) = prepare(scenario, &all)?;
    if resolved.len() != 1 {
        bail!(
            "{}: calibrate needs exactly one configuration, but this scenario has {} \
             (swept keys: [{}], cases: {}). Pick one with --set, e.g. --set 'sweep={{}}'",
            scenario.display(),
            resolved.len(),
            s.sweep.keys().cloned().collect::<Vec<_>>().join(", "),
            s.cases.len()
        );
    }
    let setups = s.setups(&resolved)?;
    let labels = [resolved[0].label.clone()];
    let runs = sweep::run(&setups, &labels, &|| ())?;
    Ok(summarize(&runs[0]).tpf)
}

/// Runs a calibration, reporting each evaluation to `progress`, and writes the scenario.
pub fn calibrate(opts: &CalibrateOptions, progress: &mut dyn FnMut(&str)) -> Result<Calibration> {
    let key = opts.param.as_str();
    let integer = integer_key(key)?;
    let (lo, hi) = match opts.range {
        Some(r) => r,
        None if unit_interval(key) => (0.0, 1.0),
        None => bail!("--param {key}: this key has no natural bounds; give --range LO,HI"),
    };
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        bail!("--range {lo},{hi}: needs finite LO < HI");
    }
    // Fail early, with the scenario's own message, if it cannot run at all.
    let first = tpf_with(
        &opts.scenario,
        &opts.sets,
        &[format!("{key}={}", cell(lo, integer))],
    )
    .with_context(|| format!("evaluating {key} = {}", cell(lo, integer)))?;
    let mut eval = |x: f64, extra: &[String]| -> Result<f64> {
        let mut sets = vec![format!("{key}={}", cell(x, integer))];
        sets.extend_from_slice(extra);
        tpf_with(&opts.scenario, &opts.sets, &sets)
    };
    let result = if opts.table.is_empty() {
        let Some(target) = opts.target else {
            bail!("give --target tpf=X or --target-table \"TAU:TPF,...\"");
        };
        if !(target.is_finite() && target > 0.0) {
            bail!("--target tpf={target}: needs a positive TPF");
        }
        bisect(
            lo,
            hi,
            integer,
            target,
            first,
            &mut |x| eval(x, &[]),
            progress,
        )?
    } else {
        fit_table(lo, hi, integer, &opts.table, &mut eval, progress)?
    };
    let value = toml::Value::from(result.value);
    let value = if integer {
        Value::Integer(result.value.round() as i64)
    } else {
        value
    };
    write_scenario(&opts.scenario, &opts.write, &opts.sets, key, &value)?;
    Ok(result)
}

/// Parses `--target tpf=X`.
pub fn parse_target(raw: &str) -> Result<f64> {
    let value = raw
        .strip_prefix("tpf=")
        .ok_or_else(|| anyhow::anyhow!("--target {raw}: expected tpf=X, e.g. --target tpf=3.1"))?;
    value
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--target {raw}: `{value}` is not a number"))
}

/// Parses `--range LO,HI`.
pub fn parse_range(raw: &str) -> Result<(f64, f64)> {
    let bad = || anyhow::anyhow!("--range {raw}: expected LO,HI with LO < HI, e.g. --range 0,1");
    let (lo, hi) = raw.split_once(',').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if lo.is_finite() && hi.is_finite() && lo < hi {
        Ok((lo, hi))
    } else {
        Err(bad())
    }
}

/// Parses `--target-table "TAU:TPF,TAU:TPF,..."`.
pub fn parse_table(raw: &str) -> Result<Vec<(f64, f64)>> {
    let bad = |part: &str| {
        anyhow::anyhow!(
            "--target-table: `{part}` is not TAU:TPF with TAU in [0, 1] and TPF > 0, \
             e.g. \"0.5:7.01,0.7:5.12,0.9:3.25\""
        )
    };
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (t, y) = part.split_once(':').ok_or_else(|| bad(part))?;
        let (t, y): (f64, f64) = (
            t.trim().parse().map_err(|_| bad(part))?,
            y.trim().parse().map_err(|_| bad(part))?,
        );
        if !((0.0..=1.0).contains(&t) && y.is_finite() && y > 0.0) {
            return Err(bad(part));
        }
        out.push((t, y));
    }
    if out.len() < 2 {
        bail!("--target-table needs at least two TAU:TPF pairs");
    }
    Ok(out)
}
