//! `lopa-sim run`: decode every configuration, write the result files and figures.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde_json::json;

use crate::engine::{Setup, Workspace};
use crate::journal::{self, Appender};
use crate::record::{ConfigLabel, ConfigRuns};
use crate::report::{self, write_atomic};
use crate::scenario::{self, Resolved, Scenario};
use crate::sweep::{self, Shard};

use super::finish::{self, Collector, RunMeta};
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
    /// Decode only this shard's work items, for `merge` (None: all of them).
    pub shard: Option<Shard>,
    /// Continue the run whose journal is in the results folder.
    pub resume: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The results folder.
    pub dir: PathBuf,
    /// Every configuration's decodes.
    pub runs: Vec<ConfigRuns>,
}

/// Loads, expands and validates a scenario with its overrides, every case included (a
/// `--set` a case overrules is left for the caller to refuse, as `calibrate` does).
pub fn prepare(path: &Path, sets: &[String]) -> Result<(Scenario, Vec<Resolved>)> {
    let scenario = scenario::load(path, sets)?;
    expand(scenario)
}

/// Like [`prepare`], keeping only the cases that `cases` names (all when empty), and
/// refusing a `--set` that one of them overrules.
pub fn prepare_cases(
    path: &Path,
    sets: &[String],
    cases: &[String],
) -> Result<(Scenario, Vec<Resolved>)> {
    let mut scenario = scenario::load(path, sets)?;
    scenario::select_cases(&mut scenario, cases)?;
    scenario.check_sets_reach_cases()?;
    expand(scenario)
}

fn expand(scenario: Scenario) -> Result<(Scenario, Vec<Resolved>)> {
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
        super::stdout(&super::list::list(&resolved)?)?;
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
        let inputs = super::outputs::inputs(&opts.scenario, &resolved);
        super::outputs::check_export("--export-markdown", md, &inputs, Some(&dir))?;
    }
    super::outputs::claim(&dir, &first.name, &opts.scenario, opts.force)?;
    let shard = opts.shard.unwrap_or(Shard::WHOLE);
    if opts.verbose > 0 {
        eprintln!(
            "{}: {} configurations x {} sequences into {} (shard {shard})",
            opts.scenario.display(),
            resolved.len(),
            first.sequences,
            dir.display()
        );
    }
    super::interrupt::watch(&dir);

    let meta = RunMeta::new(
        &opts.scenario,
        scenario_json(&scenario, &opts.sets)?,
        &resolved,
        &setups,
    )?;
    // A stale description would let `merge` take this folder for a finished shard.
    let shard_file = dir.join(finish::SHARD_FILE);
    if shard_file.exists() {
        std::fs::remove_file(&shard_file)
            .with_context(|| format!("cannot remove {}", shard_file.display()))?;
    }
    let (resumed, done) = resume_journal(&dir, &meta, shard, opts)?;
    let share = shard.share(meta.tasks());
    let pending = (0..meta.tasks())
        .filter(|&t| shard.owns(t) && !done[t])
        .count();
    let bar = Progress::new(share as u64, !opts.quiet && std::io::stderr().is_terminal());
    bar.resume_at((share - pending) as u64);
    // A new journal's header is synced to the disk, which can take tens of milliseconds:
    // that happens on a thread of its own while the first decodes run, and a decode that
    // ends before it waits for it, so the journal's lines are as they were.
    let journal: OnceLock<Result<Appender>> = OnceLock::new();
    if let Some(appender) = resumed {
        let _ = journal.set(Ok(appender));
    }
    let identity = meta.identity(shard);
    let (swept, trace_csv) = std::thread::scope(|scope| {
        if journal.get().is_none() {
            scope.spawn(|| {
                let path = dir.join(journal::FILE);
                let created = std::panic::catch_unwind(|| Appender::create(&path, &identity))
                    .unwrap_or_else(|_| bail!("cannot create the journal {}", path.display()));
                let _ = journal.set(created);
            });
        }
        rayon::join(
            || {
                sweep::run_items(&setups, &|t| shard.owns(t) && !done[t], &|t, r, b| {
                    // A journal that could not be created is reported after the sweep.
                    if let Ok(journal) = journal.wait() {
                        journal.append(t, r, b);
                    }
                    bar.tick();
                })
            },
            || traces(opts, &resolved, &setups),
        )
    });
    let journal = journal.into_inner().expect("set before the scope ends")?;
    swept.with_context(|| format!("scenario {}", opts.scenario.display()))?;
    journal.finish()?;
    bar.finish();
    let trace_csv = trace_csv?;

    if shard.count > 1 {
        let description = finish::ShardFile {
            identity: meta.identity(shard),
            meta,
            trace_csv: String::from_utf8(trace_csv)?,
        };
        let mut bytes = serde_json::to_vec_pretty(&description)?;
        bytes.push(b'\n');
        write_atomic(&shard_file, &bytes)
            .with_context(|| format!("cannot write {}", shard_file.display()))?;
        if !opts.quiet {
            super::stdout(&format!(
                "shard {shard}: {share} of {} work items in {}; combine the shards with \
                 lopa-sim merge DIR... --out DIR\n",
                description.meta.tasks(),
                dir.display()
            ))?;
        }
        return Ok(RunOutput {
            dir,
            runs: Vec::new(),
        });
    }
    let journal_path = dir.join(journal::FILE);
    let mut collector = Collector::new(&meta);
    journal::read(&journal_path, &mut |t, r, b| collector.add(t, r, &b))?;
    let runs = collector
        .finish()
        .with_context(|| format!("{}", journal_path.display()))?;
    let (summaries, written) = finish::write_results(&dir, &meta, &runs, &trace_csv)?;
    // Everything is in the result files now; a later --resume starts over.
    std::fs::remove_file(&journal_path)
        .with_context(|| format!("cannot remove {}", journal_path.display()))?;
    if let Some(md) = &opts.export_markdown {
        write_atomic(md, report::markdown(&runs, &summaries).as_bytes())
            .with_context(|| format!("cannot write {}", md.display()))?;
    }
    if opts.verbose > 0 {
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
    }
    // A warning, so it is printed even with --quiet.
    if let Some(w) = report::repetitive_text(&runs, &summaries) {
        eprint!("{w}");
    }
    if !opts.quiet {
        super::stdout(&report::table(&runs, &summaries))?;
        super::stdout(&format!("results in {}\n", dir.display()))?;
    }
    Ok(RunOutput { dir, runs })
}

/// Which work items the folder's journal holds already, and the journal to continue: with
/// `--resume`, the folder's journal after checking that it is of this very run; None when
/// a new journal is to be started.
fn resume_journal(
    dir: &Path,
    meta: &RunMeta,
    shard: Shard,
    opts: &RunOptions,
) -> Result<(Option<Appender>, Vec<bool>)> {
    let path = dir.join(journal::FILE);
    let identity = meta.identity(shard);
    let mut done = vec![false; meta.tasks()];
    if opts.resume && path.exists() {
        let contents = journal::read(&path, &mut |t, _, _| {
            if let Some(d) = done.get_mut(t) {
                *d = true;
            }
            Ok(())
        })?;
        if let Some(diff) = contents.identity.differs(&identity) {
            bail!(
                "cannot resume in {}: its journal is of {diff}; start over without --resume, \
                 or write elsewhere with --out DIR",
                dir.display()
            );
        }
        if opts.verbose > 0 {
            let n = done.iter().filter(|&&d| d).count();
            let torn = if contents.torn {
                " (a torn last line was discarded)"
            } else {
                ""
            };
            eprintln!("resuming: {n} work items done{torn}");
        }
        return Ok((Some(Appender::resume(&path, contents.valid_len)?), done));
    }
    if opts.resume && !opts.quiet {
        eprintln!(
            "note: {} holds no journal to resume; starting from the beginning",
            dir.display()
        );
    }
    Ok((None, done))
}

/// `trace.csv`: the `tfo_map` decodes, traced round by round.
fn traces(opts: &RunOptions, resolved: &[Resolved], setups: &[Setup]) -> Result<Vec<u8>> {
    let labels: Vec<_> = resolved.iter().map(|r| r.label.clone()).collect();
    let configs = traced_configs(&labels, resolved[0].config.trace_config);
    // One decode each, on the pool: they run beside the sweep's last items instead of
    // after them. Collected in order, so the first error reported is the same for any
    // thread count.
    let traced: Vec<Result<_>> = configs
        .par_iter()
        .map_init(Workspace::default, |ws, &config| {
            let seq = resolved[config].config.trace_seq;
            let (_, trace) = setups[config].trace(seq, config, ws).with_context(|| {
                format!(
                    "scenario {}: tracing configuration {config}, sequence {seq}",
                    opts.scenario.display()
                )
            })?;
            Ok(trace)
        })
        .collect();
    let traces = traced.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(report::trace_csv(&traces)?)
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
fn traced_configs(labels: &[ConfigLabel], chosen: Option<usize>) -> Vec<usize> {
    let first = &labels[0];
    let baseline = labels.iter().position(|l| l.branches == 0).unwrap_or(0);
    let sets_k = |k: &str| k == "search.branches" || k == "search.kind";
    let others_first = |l: &ConfigLabel| {
        l.case == first.case
            && l.swept
                .iter()
                .zip(&first.swept)
                .all(|((k, v), (_, v0))| sets_k(k) || v == v0)
    };
    if let Some(c) = chosen.filter(|&c| c < labels.len()) {
        // The left panel is the k = 0 decode of the chosen configuration's own case and
        // swept values, when there is one.
        let own = &labels[c];
        let baseline = labels
            .iter()
            .position(|l| {
                l.branches == 0
                    && l.case == own.case
                    && l.swept
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
    let widest = labels
        .iter()
        .filter(|l| others_first(l))
        .fold(None::<&ConfigLabel>, |best, l| match best {
            Some(b) if b.branches >= l.branches => Some(b),
            _ => Some(l),
        })
        .map_or(0, |l| l.index);
    if widest == baseline {
        vec![baseline]
    } else {
        vec![baseline, widest]
    }
}
