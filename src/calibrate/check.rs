//! What `calibrate` checks before it decodes anything: the knobs (`--param` with its
//! `--range`, integer or float by the scenario key's type, [0, 1] by default for shares),
//! and the targets, variants, table and `--write` that go with them. A calibration can run
//! for minutes, so every mistake in its arguments is an error before the first decode.

use anyhow::{bail, Result};
use toml::Value;

use super::{check_writable, CalibrateOptions, Knob, DEFAULT_TOLERANCE};
use crate::scenario::check_key;

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

/// The knobs of `opts`, with their ranges and kinds checked.
pub(super) fn knobs(opts: &CalibrateOptions) -> Result<Vec<Knob>> {
    if opts.params.is_empty() {
        bail!("give at least one --param KEY to adjust");
    }
    if opts.ranges.len() > opts.params.len() {
        bail!(
            "{} --range given for {} --param; give one --range per --param, in the same order",
            opts.ranges.len(),
            opts.params.len()
        );
    }
    let mut knobs: Vec<Knob> = Vec::with_capacity(opts.params.len());
    for (i, key) in opts.params.iter().enumerate() {
        if knobs.iter().any(|k| &k.key == key) {
            bail!("--param {key} is given twice");
        }
        let integer = integer_key(key)?;
        let (lo, hi) = match opts.ranges.get(i) {
            Some(&r) => r,
            None if unit_interval(key) => (0.0, 1.0),
            None if opts.params.len() == 1 => {
                bail!("--param {key}: this key has no natural bounds; give --range LO,HI")
            }
            None => bail!(
                "--param {key}: this key has no natural bounds; give --range LO,HI for it \
                 (the {}. --range belongs to the {}. --param)",
                i + 1,
                i + 1
            ),
        };
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            bail!("--range {lo},{hi}: needs finite LO < HI");
        }
        knobs.push(Knob {
            key: key.clone(),
            lo,
            hi,
            integer,
        });
    }
    Ok(knobs)
}

/// Checks what can be checked before decoding: knobs, targets, tolerance and `--write`.
pub(super) fn check(opts: &CalibrateOptions, knobs: &[Knob]) -> Result<f64> {
    let tolerance = opts.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    if !(tolerance > 0.0 && tolerance < 1.0) {
        bail!("--tolerance {tolerance}: needs a share in (0, 1), e.g. 0.01 or 1%");
    }
    if opts.table.is_empty() {
        if opts.targets.is_empty() {
            bail!("give --target STAT=X (e.g. --target tpf=3.1) or --target-table \"TAU:TPF,...\"");
        }
        for (i, v) in opts.variants.iter().enumerate() {
            if opts.variants[..i].iter().any(|u| u.name == v.name) {
                bail!("--variant {}: given twice", v.name);
            }
            if !opts
                .targets
                .iter()
                .any(|t| t.case.as_deref() == Some(&v.name))
            {
                bail!(
                    "--variant {}: no --target names it; write --target '{}:STAT=X'",
                    v.name,
                    v.name
                );
            }
        }
        for (i, t) in opts.targets.iter().enumerate() {
            if opts.targets[..i]
                .iter()
                .any(|u| u.case == t.case && u.stat == t.stat)
            {
                bail!("--target {}: given twice", t.name());
            }
        }
    } else {
        if !opts.targets.is_empty() {
            bail!("--target and --target-table exclude each other");
        }
        if !opts.variants.is_empty() {
            bail!("--variant names settings for --target; --target-table sets its own");
        }
        if knobs.len() != 1 {
            bail!("--target-table fits one --param; for several knobs give one --target per case");
        }
        if knobs[0].key == "decoder.fill_threshold" {
            bail!(
                "--target-table sets decoder.fill_threshold to each TAU of the table in turn, so \
                 --param decoder.fill_threshold would be overwritten in every evaluation and the \
                 fit could not move. Calibrate a model key instead (e.g. model.deterministic_mass \
                 or model.base_logit), or hit one TPF with --target tpf=X"
            );
        }
    }
    check_writable(&opts.scenario, &opts.write)?;
    Ok(tolerance)
}
