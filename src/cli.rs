//! The commands behind the binary: everything that touches files and the terminal.
//! `main.rs` only parses arguments into these options and reports errors.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::record::ConfigRuns;
use crate::report::{self, write_atomic};
use crate::scenario::{self, Resolved, Scenario};
use crate::sweep;

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

    let total: usize = setups.iter().map(|s| s.sequences).sum();
    let bar = Progress::new(total as u64, !opts.quiet && std::io::stderr().is_terminal());
    let records = sweep::run(&setups, &|| bar.tick())?;
    bar.finish();

    let runs: Vec<ConfigRuns> = resolved
        .iter()
        .zip(records)
        .map(|(r, records)| ConfigRuns {
            label: r.label.clone(),
            records,
        })
        .collect();
    let summaries: Vec<_> = runs.iter().map(report::summarize).collect();
    let resolved_json: Vec<_> = resolved
        .iter()
        .map(|r| serde_json::to_value(&r.doc))
        .collect::<Result<_, _>>()?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        write_atomic(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    write("runs.csv", &report::runs_csv(&runs)?)?;
    write("summary.csv", &report::summary_csv(&runs, &summaries)?)?;
    let json = report::summary_json(
        &scenario_json(&scenario, &opts.sets)?,
        first.seed,
        &runs,
        &summaries,
        &resolved_json,
    )?;
    write("summary.json", &json)?;
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

/// A progress bar that appears only on a terminal, and only once a run has lasted a second.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: AtomicBool,
}

impl Progress {
    fn new(total: u64, enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} sequences, {elapsed} (eta {eta})")
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            start: Instant::now(),
            enabled,
            shown: AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        self.bar.inc(1);
        if self.enabled
            && self.start.elapsed() > Duration::from_secs(1)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        if self.shown.load(Ordering::Relaxed) {
            self.bar.finish_and_clear();
        }
    }
}
