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
    /// `-v` count: say what is done on stderr.
    pub verbose: u8,
    /// `--case` patterns: run only these cases.
    pub cases: Vec<String>,
    /// Print the configurations and decode nothing.
    pub list: bool,
    /// Also write the summary table as Markdown here.
    pub export_markdown: Option<PathBuf>,
    /// Write into a folder that holds another scenario's results.
    pub force: bool,
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
    prepare_cases(path, sets, &[])
}

/// Like [`prepare`], keeping only the cases that `cases` names (all when empty).
pub fn prepare_cases(
    path: &Path,
    sets: &[String],
    cases: &[String],
) -> Result<(Scenario, Vec<Resolved>)> {
    let mut scenario = scenario::load(path, sets)?;
    scenario::select_cases(&mut scenario, cases)?;
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
    let (scenario, resolved) = prepare_cases(&opts.scenario, &opts.sets, &opts.cases)?;
    if opts.list {
        super::stdout(&super::list::list(&resolved)?);
        return Ok(RunOutput {
            dir: PathBuf::new(),
            runs: Vec::new(),
        });
    }
    let setups = scenario.setups(&resolved)?;
    let first = &resolved[0].config;
    if let Some(c) = first.trace_config.filter(|&c| c >= resolved.len()) {
        let at = match resolved[0].origins.get("output.trace_config") {
            Some(scenario::Origin::File(line)) => format!("{}:{line}", opts.scenario.display()),
            Some(scenario::Origin::Set(arg)) => format!("--set {arg}"),
            _ => opts.scenario.display().to_string(),
        };
        anyhow::bail!(
            "{at}: output.trace_config: must be in 0..{} (the configurations), got {c}",
            resolved.len()
        );
    }
    let dir = match (&opts.out, &first.output_dir) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) => PathBuf::from(d),
        (None, None) => Path::new("results").join(&first.name),
    };
    // Every output is checked before any decoding, so a mistake costs nothing.
    if let Some(md) = &opts.export_markdown {
        super::outputs::check_writable_file(md)?;
    }
    super::outputs::claim(&dir, &first.name, &opts.scenario, opts.force)?;
    if opts.verbose > 0 {
        eprintln!(
            "{}: {} configurations x {} sequences into {}",
            opts.scenario.display(),
            resolved.len(),
            first.sequences,
            dir.display()
        );
    }
    super::interrupt::watch(&dir);

    let total: usize = setups.iter().map(|s| s.decodes()).sum();
    let bar = Progress::new(total as u64, !opts.quiet && std::io::stderr().is_terminal());
    let labels: Vec<_> = resolved.iter().map(|r| r.label.clone()).collect();
    let runs = sweep::run(&setups, &labels, &|| bar.tick())
        .with_context(|| format!("scenario {}", opts.scenario.display()))?;
    bar.finish();

    let mut summaries: Vec<_> = runs.iter().map(report::summarize).collect();
    report::set_oracle_gaps(&mut summaries, &scenario::oracle_partners(&resolved));
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
    for config in traced_configs(&runs, first.trace_config) {
        let seq = resolved[config].config.trace_seq;
        let (_, trace) = setups[config]
            .trace(seq, config, &mut ws)
            .with_context(|| {
                format!(
                    "scenario {}: tracing configuration {config}, sequence {seq}",
                    opts.scenario.display()
                )
            })?;
        traces.push(trace);
    }
    write("trace.csv", &report::trace_csv(&traces)?)?;
    let written = results::render(&dir)?;
    if let Some(md) = &opts.export_markdown {
        write_atomic(md, report::markdown(&runs, &summaries).as_bytes())
            .with_context(|| format!("cannot write {}", md.display()))?;
    }
    if opts.verbose > 0 {
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
    }
    if !opts.quiet {
        super::stdout(&report::table(&runs, &summaries));
        super::stdout(&format!("results in {}\n", dir.display()));
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

/// The `tfo_map` panels: the first configuration with k = 0, and `output.trace_config` if
/// given, else the configuration with the largest k among those whose case and other swept
/// keys (those that do not set k) sit at their first values.
fn traced_configs(runs: &[ConfigRuns], chosen: Option<usize>) -> Vec<usize> {
    let first = &runs[0].label;
    let baseline = runs.iter().position(|r| r.label.branches == 0).unwrap_or(0);
    let sets_k = |k: &str| k == "search.branches" || k == "search.kind";
    let others_first = |l: &crate::record::ConfigLabel| {
        l.case == first.case
            && l.swept
                .iter()
                .zip(&first.swept)
                .all(|((k, v), (_, v0))| sets_k(k) || v == v0)
    };
    if let Some(c) = chosen.filter(|&c| c < runs.len()) {
        // The left panel is the k = 0 decode of the chosen configuration's own case and
        // swept values, when there is one.
        let own = &runs[c].label;
        let baseline = runs
            .iter()
            .position(|r| {
                r.label.branches == 0
                    && r.label.case == own.case
                    && r.label
                        .swept
                        .iter()
                        .zip(&own.swept)
                        .all(|((k, v), (_, v0))| sets_k(k) || v == v0)
            })
            .unwrap_or(baseline);
        return if c == baseline {
            vec![baseline]
        } else {
            vec![baseline, c]
        };
    }
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
