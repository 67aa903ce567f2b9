//! What a calibration aims at: `--target [CASE:]STAT=X`, and the summary statistics a
//! target may name.

use anyhow::{anyhow, bail, Result};
use serde_json::Value;

use crate::record::ConfigRuns;
use crate::report::summarize;

/// One `--target`: a summary statistic of one case (or of the only configuration).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The `[[case]]` it belongs to; `None` for the scenario's only configuration.
    pub case: Option<String>,
    /// A numeric column of `summary.csv`, e.g. `tpf` or `tpf_steps`.
    pub stat: String,
    /// The value to reach.
    pub value: f64,
}

impl Target {
    /// `CASE:STAT` or `STAT`, as the user wrote it.
    pub fn name(&self) -> String {
        match &self.case {
            Some(c) => format!("{c}:{}", self.stat),
            None => self.stat.clone(),
        }
    }
}

/// Summary columns that describe the run rather than measure it.
const NOT_STATISTICS: &[&str] = &["sequences"];

/// The published code's step count (SPEC 6): its counter stands one past the last forward
/// pass, so every sequence adds one step. Used while the summary does not carry the column.
const TPF_STEPS: &str = "tpf_steps";

/// The statistics a target may name: every numeric column of `summary.csv`.
pub fn statistic_names() -> Vec<String> {
    let mut names: Vec<String> = summary_fields(&ConfigRuns::default())
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !NOT_STATISTICS.contains(&k.as_str()))
        .collect();
    if !names.iter().any(|n| n == TPF_STEPS) {
        let after = names.iter().position(|n| n == "tpf").map_or(0, |i| i + 1);
        names.insert(after, TPF_STEPS.to_string());
    }
    names
}

/// The statistic `name` of one configuration's decodes, as `summary.csv` reports it.
pub fn statistic(runs: &ConfigRuns, name: &str) -> Result<f64> {
    let fields = summary_fields(runs);
    match fields.iter().find(|(k, _)| k == name) {
        Some((_, Value::Number(n))) => n
            .as_f64()
            .ok_or_else(|| anyhow!("statistic {name} is not a number")),
        Some((_, Value::Null)) => bail!(
            "statistic {name} is not defined by this configuration's model; choose one it defines, e.g. tpf"
        ),
        Some((_, other)) => bail!("statistic {name} is not a number: {other}"),
        None if name == TPF_STEPS => Ok(tpf_steps(runs)),
        None => bail!("{}", unknown(name)),
    }
}

/// sum(tokens) / (sum(rounds) + sequences).
pub fn tpf_steps(runs: &ConfigRuns) -> f64 {
    let tokens: f64 = runs.records.iter().map(|r| r.tokens as f64).sum();
    let steps: f64 = runs.records.iter().map(|r| r.rounds as f64 + 1.0).sum();
    if steps > 0.0 {
        tokens / steps
    } else {
        0.0
    }
}

fn summary_fields(runs: &ConfigRuns) -> Vec<(String, Value)> {
    match serde_json::to_value(summarize(runs)) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        _ => Vec::new(),
    }
}

fn unknown(name: &str) -> String {
    format!(
        "unknown statistic `{name}`; a target names a numeric column of summary.csv: {}",
        statistic_names().join(", ")
    )
}

/// Parses `--target STAT=X` or `--target CASE:STAT=X`.
pub fn parse_target(raw: &str) -> Result<Target> {
    let (lhs, value) = raw.rsplit_once('=').ok_or_else(|| {
        anyhow!("--target {raw}: expected STAT=X or CASE:STAT=X, e.g. --target tpf=3.1 or --target 'GSM8K:tpf_steps=3.1'")
    })?;
    let (case, stat) = match lhs.rsplit_once(':') {
        Some((c, s)) => (Some(c.trim().to_string()), s.trim()),
        None => (None, lhs.trim()),
    };
    if case.as_deref() == Some("") {
        bail!("--target {raw}: the case name before `:` is empty");
    }
    if !statistic_names().iter().any(|n| n == stat) {
        bail!("--target {raw}: {}", unknown(stat));
    }
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| anyhow!("--target {raw}: `{}` is not a number", value.trim()))?;
    if !value.is_finite() {
        bail!("--target {raw}: needs a finite value");
    }
    Ok(Target {
        case,
        stat: stat.to_string(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::DecodeRecord;

    #[test]
    fn targets_parse_with_and_without_a_case() {
        let t = parse_target("tpf_steps=3.1").unwrap();
        assert_eq!((t.case, t.stat.as_str(), t.value), (None, "tpf_steps", 3.1));
        let t = parse_target("GSM8K/low:content_tpf=4.01").unwrap();
        assert_eq!(t.case.as_deref(), Some("GSM8K/low"));
        assert_eq!(t.name(), "GSM8K/low:content_tpf");
        let e = parse_target("speed=3").unwrap_err().to_string();
        assert!(
            e.contains("unknown statistic `speed`") && e.contains("tpf_steps"),
            "{e}"
        );
        assert!(!e.contains("sequences,"), "{e}");
        assert!(parse_target("tpf=fast")
            .unwrap_err()
            .to_string()
            .contains("not a number"));
        assert!(parse_target("3.1")
            .unwrap_err()
            .to_string()
            .contains("STAT=X"));
    }

    #[test]
    fn statistics_read_the_summary_and_count_published_steps() {
        let rec = |rounds, tokens| DecodeRecord {
            rounds,
            tokens,
            content_tokens: tokens,
            ..Default::default()
        };
        let runs = ConfigRuns {
            records: vec![rec(4, 12), rec(2, 8)],
            ..Default::default()
        };
        assert!((statistic(&runs, "tpf").unwrap() - 20.0 / 6.0).abs() < 1e-12);
        assert!((statistic(&runs, "tpf_steps").unwrap() - 20.0 / 8.0).abs() < 1e-12);
        let e = statistic(&runs, "log_likelihood_mean")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not defined"), "{e}");
    }
}
