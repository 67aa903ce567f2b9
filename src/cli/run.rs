//! `lopa-sim run`: decode every configuration, write the result files and figures.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;

use crate::engine::Workspace;
use crate::record::ConfigRuns;
use crate::report::{self, write_atomic};
use crate::scenario::{self, Resolved, Scenario};
use crate::{results, sweep};

use super::progress::Progress;

/// Options of `lopa-sim run`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Results folder; default `output.dir`, else `results/<name>`.
    pub out: Option<PathBuf>,
    /// `KEY=VALUE` overrides, in order.
    pub sets: Vec<String>,
    /// Never show a progress bar or the table.
    pub quiet: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The results folder.
    pub dir: PathBuf,
    /// Every configuration's decodes.
    pub runs: Vec<ConfigRuns>,
}

/// Loads, expands and validates a scenario with its overrides.
pub fn prepare(path: &Path, sets: &[String]) -> Result<(Scenario, Vec<Resolved>)> {
    let scenario = scenario::load(path, sets)?;
    let resolved = scenario.configurations()?;
    crate::budget::check(
        &resolved,
        rayon::current_num_threads(),
        crate::budget::limit(),
    )?;
    Ok((scenario, resolved))
}

/// `lopa-sim run`: decode every configuration, write the result files, print the table.
pub fn run(opts: &RunOptions) -> Result<RunOutput> {
    let (scenario, resolved) = prepare(&opts.scenario, &opts.sets)?;
    let setups = scenario.setups(&resolved)?;
    let first = &resolved[0].config;
    let dir = match (&opts.out, &first.output_dir) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => PathBuf::from(d),
        (None, None) => Path::new("results").join(&first.name),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create results folder {}", dir.display()))?;
    super::interrupt::watch(&dir);

    let total: usize = setups.iter().map(|s| s.sequences).sum();
    let bar = Progress::new(total as u64, !opts.quiet && std::io::stderr().is_terminal());
    let labels: Vec<_> = resolved.iter().map(|r| r.label.clone()).collect();
    let runs = sweep::run(&setups, &labels, &|| bar.tick())?;
    bar.finish();

    let summaries: Vec<_> = runs.iter().map(report::summarize).collect();
    let resolved_json: Vec<_> = resolved
        .iter()
        .map(|r| serde_json::to_value(&r.doc))
        .collect::<Result<_, _>>()?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        write_atomic(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    let runs_path = dir.join("runs.csv");
    report::write_atomic_with(&runs_path, |file| {
        report::write_runs_csv(&runs, file).map_err(std::io::Error::other)
    })
    .with_context(|| format!("cannot write {}", runs_path.display()))?;
    write("summary.csv", &report::summary_csv(&runs, &summaries)?)?;
    let json = report::summary_json(
        &scenario_json(&scenario, &opts.sets)?,
        first.seed,
        &runs,
        &summaries,
        &resolved_json,
    )?;
    write("summary.json", &json)?;
    write("rounds.csv", &report::rounds_csv(&runs)?)?;
    let mut traces = Vec::new();
    let mut ws = Workspace::default();
    for config in traced_configs(&runs) {
        let seq = resolved[config].config.trace_seq;
        let (_, trace) = setups[config]
            .trace(seq, config, &mut ws)
            .with_context(|| format!("tracing configuration {config}, sequence {seq}"))?;
        traces.push(trace);
    }
    write("trace.csv", &report::trace_csv(&traces)?)?;
    results::render(&dir)?;
    if !opts.quiet {
        print!("{}", report::table(&runs, &summaries));
        println!("results in {}", dir.display());
    }
    Ok(RunOutput { dir, runs })
}

/// The scenario after `--set`, before expansion, for `summary.json`.
fn scenario_json(s: &Scenario, sets: &[String]) -> Result<serde_json::Value> {
    let base: serde_json::Map<_, _> = s
        .base
        .iter()
        .map(|(k, e)| Ok((k.clone(), serde_json::to_value(&e.value)?)))
        .collect::<Result<_>>()?;
    let sweep: serde_json::Map<_, _> = s
        .sweep
        .iter()
        .map(|(k, sw)| Ok((k.clone(), serde_json::to_value(&sw.values)?)))
        .collect::<Result<_>>()?;
    let cases = s
        .cases
        .iter()
        .map(|c| {
            let overrides: serde_json::Map<_, _> = c
                .overrides
                .iter()
                .map(|(k, e)| Ok((k.clone(), serde_json::to_value(&e.value)?)))
                .collect::<Result<_>>()?;
            Ok(json!({ "name": c.name, "overrides": overrides }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "file": s.path.display().to_string(),
        "set": sets,
        "keys": base,
        "sweep": sweep,
        "cases": cases,
    }))
}

/// The `tfo_map` panels: the first configuration with k = 0, and the configuration with the
/// largest k among those whose case and other swept keys sit at their first values.
fn traced_configs(runs: &[ConfigRuns]) -> Vec<usize> {
    let first = &runs[0].label;
    let baseline = runs.iter().position(|r| r.label.branches == 0).unwrap_or(0);
    let others_first = |l: &crate::record::ConfigLabel| {
        l.case == first.case
            && l.swept
                .iter()
                .zip(&first.swept)
                .all(|((k, v), (_, v0))| k == "search.branches" || v == v0)
    };
    let widest = runs
        .iter()
        .filter(|r| others_first(&r.label))
        .fold(None::<&ConfigRuns>, |best, r| match best {
            Some(b) if b.label.branches >= r.label.branches => Some(b),
            _ => Some(r),
        })
        .map_or(0, |r| r.label.index);
    if widest == baseline {
        vec![baseline]
    } else {
        vec![baseline, widest]
    }
}
