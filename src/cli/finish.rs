//! What a run writes once its work items are done, shared by `run` and `merge`: both
//! rebuild every configuration's records from journals and write the same files with the
//! same code, so a merge of shards and a resumed run give the bytes of one plain run.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::Setup;
use crate::journal::{self, Identity};
use crate::record::{ConfigLabel, ConfigRuns, DecodeRecord, ProgressBins};
use crate::report::{self, write_atomic};
use crate::scenario::{self, Resolved};
use crate::sweep::{self, Shard};

/// A finished shard's description, beside its journal.
pub const SHARD_FILE: &str = "shard.json";

/// Everything the result files need besides the records, so that `merge` needs only the
/// shard folders, not the scenario or its CSVs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The scenario's name.
    pub name: String,
    /// The scenario path as given on the command line (the manifest records it).
    pub file: String,
    /// The scenario after `--set`, before expansion (`summary.json`'s `scenario`).
    pub scenario: Value,
    /// Each configuration's resolved tables.
    pub resolved: Vec<Value>,
    /// Each configuration's label.
    pub labels: Vec<ConfigLabel>,
    /// Each configuration's world count.
    pub worlds: Vec<usize>,
    /// Each configuration's work items (worlds x sequences).
    pub decodes: Vec<usize>,
    /// Each configuration's oracle partner, for the oracle gap.
    pub partners: Vec<Option<usize>>,
    /// The root seed.
    pub seed: u64,
}

impl RunMeta {
    /// The description of a run of `resolved`, from scenario file `file`; `scenario_json`
    /// is the scenario after `--set`.
    pub fn new(
        file: &Path,
        scenario_json: Value,
        resolved: &[Resolved],
        setups: &[Setup],
    ) -> Result<Self> {
        Ok(RunMeta {
            name: resolved[0].config.name.clone(),
            file: file.display().to_string(),
            scenario: scenario_json,
            resolved: resolved
                .iter()
                .map(|r| serde_json::to_value(&r.doc))
                .collect::<Result<_, _>>()?,
            labels: resolved.iter().map(|r| r.label.clone()).collect(),
            worlds: setups.iter().map(Setup::world_count).collect(),
            decodes: setups.iter().map(Setup::decodes).collect(),
            partners: scenario::oracle_partners(resolved),
            seed: resolved[0].config.seed,
        })
    }

    /// Work items of the whole sweep.
    pub fn tasks(&self) -> usize {
        self.decodes.iter().sum()
    }

    /// A hash of what decides the results, leaving out where the scenario file was (the
    /// same scenario reached by another path is the same sweep).
    pub fn hash(&self) -> String {
        let mut bare = self.clone();
        bare.file.clear();
        if let Some(file) = bare.scenario.get_mut("file") {
            *file = Value::Null;
        }
        let bytes = serde_json::to_vec(&bare).expect("plain JSON values serialise");
        format!("{:016x}", journal::fnv1a(&bytes))
    }

    /// The journal header of shard `shard` of this run.
    pub fn identity(&self, shard: Shard) -> Identity {
        Identity {
            version: env!("LOPA_SIM_VERSION").to_string(),
            scenario: self.name.clone(),
            hash: self.hash(),
            seed: self.seed,
            shard: (shard.index, shard.count),
            tasks: self.tasks(),
        }
    }
}

/// `shard.json`: written when a shard's last work item is journalled.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardFile {
    /// The journal's identity.
    pub identity: Identity,
    /// The run's description.
    pub meta: RunMeta,
    /// `trace.csv`: its two decodes are cheap, so every shard traces them.
    pub trace_csv: String,
}

/// Rebuilds every configuration's records from journal items arriving in any order.
pub struct Collector {
    offsets: Vec<usize>,
    runs: Vec<ConfigRuns>,
    seen: Vec<bool>,
    /// Distinct work items collected.
    pub count: usize,
}

impl Collector {
    /// Room for every work item of `meta`.
    pub fn new(meta: &RunMeta) -> Self {
        let offsets = meta
            .decodes
            .iter()
            .scan(0, |acc, d| {
                let start = *acc;
                *acc += d;
                Some(start)
            })
            .collect();
        let runs = meta
            .labels
            .iter()
            .zip(&meta.worlds)
            .zip(&meta.decodes)
            .map(|((label, &worlds), &decodes)| ConfigRuns {
                label: label.clone(),
                worlds,
                records: vec![DecodeRecord::default(); decodes],
                bins: ProgressBins::default(),
            })
            .collect();
        Collector {
            offsets,
            runs,
            seen: vec![false; meta.tasks()],
            count: 0,
        }
    }

    /// Adds one work item; a repeat of a collected one is ignored (a journal may hold an
    /// item twice if a run was killed between writing it and the next start).
    pub fn add(&mut self, task: usize, record: DecodeRecord, bins: &ProgressBins) -> Result<()> {
        if task >= self.seen.len() {
            bail!(
                "work item {task} is outside the sweep's {}",
                self.seen.len()
            );
        }
        if std::mem::replace(&mut self.seen[task], true) {
            return Ok(());
        }
        let (config, i) = sweep::locate(&self.offsets, task);
        self.runs[config].records[i] = record;
        self.runs[config].bins.add(bins);
        self.count += 1;
        Ok(())
    }

    /// Every configuration's runs, or an error naming the first missing work item.
    pub fn finish(self) -> Result<Vec<ConfigRuns>> {
        if let Some(t) = self.seen.iter().position(|&s| !s) {
            let (config, i) = sweep::locate(&self.offsets, t);
            bail!(
                "work item {t} (configuration {config}, item {i}) is in no journal; {} of {} \
                 are",
                self.count,
                self.seen.len()
            );
        }
        Ok(self.runs)
    }
}

/// Writes `runs.csv`, `summary.csv`, `summary.json`, `rounds.csv`, `trace.csv`, the
/// figures and `report.html` into `dir`. Returns the summaries and the files written.
pub fn write_results(
    dir: &Path,
    meta: &RunMeta,
    runs: &[ConfigRuns],
    trace_csv: &[u8],
) -> Result<(Vec<report::Summary>, Vec<PathBuf>)> {
    let mut summaries: Vec<_> = runs.iter().map(report::summarize).collect();
    report::set_oracle_gaps(&mut summaries, &meta.partners);
    let summary_csv = report::summary_csv(runs, &summaries)?;
    let json = report::summary_json(&meta.scenario, meta.seed, runs, &summaries, &meta.resolved)?;
    let rounds_csv = report::rounds_csv(runs)?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        write_atomic(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    let write_runs = || -> Result<()> {
        let runs_path = dir.join("runs.csv");
        report::write_atomic_with(&runs_path, |file| {
            report::write_runs_csv(runs, file).map_err(std::io::Error::other)
        })
        .with_context(|| format!("cannot write {}", runs_path.display()))
    };
    // The figures are drawn from the bytes above, not from the files, so they need not
    // wait for each file's sync to the disk. Each file is written on a thread of its own
    // (mostly waiting on the disk, and the syncs overlap instead of queueing: five in a
    // row took 20 to 30 ms) while every thread of the pool draws.
    let inputs = crate::results::Inputs {
        summary_json: json.as_slice().into(),
        summary_csv: summary_csv.as_slice().into(),
        rounds_csv: rounds_csv.as_slice().into(),
        trace_csv: trace_csv.into(),
    };
    let (files, written) = std::thread::scope(|scope| {
        let files = [
            scope.spawn(write_runs),
            scope.spawn(|| write("summary.csv", &summary_csv)),
            scope.spawn(|| write("summary.json", &json)),
            scope.spawn(|| write("rounds.csv", &rounds_csv)),
            scope.spawn(|| write("trace.csv", trace_csv)),
        ];
        let written = crate::results::render_from(dir, &inputs);
        (files.map(|f| f.join()), written)
    });
    // A file's error first, in the order the files were once written one after another.
    for file in files {
        match file {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    Ok((summaries, written?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_ignores_the_path_but_not_the_content() {
        let meta = RunMeta {
            name: "s".into(),
            file: "a/s.toml".into(),
            scenario: serde_json::json!({"file": "a/s.toml", "keys": {"seed": 1}}),
            resolved: vec![serde_json::json!({"decoder": {"fill_threshold": 0.9}})],
            labels: vec![ConfigLabel::default()],
            worlds: vec![1],
            decodes: vec![3],
            partners: vec![None],
            seed: 1,
        };
        let mut moved = meta.clone();
        moved.file = "/elsewhere/s.toml".into();
        moved.scenario["file"] = "/elsewhere/s.toml".into();
        assert_eq!(meta.hash(), moved.hash());
        let mut other = meta.clone();
        other.resolved[0]["decoder"]["fill_threshold"] = 0.8.into();
        assert_ne!(meta.hash(), other.hash());
    }

    #[test]
    fn the_collector_wants_every_item_once() {
        let meta = RunMeta {
            name: "s".into(),
            file: String::new(),
            scenario: Value::Null,
            resolved: vec![Value::Null; 2],
            labels: vec![ConfigLabel::default(); 2],
            worlds: vec![1, 1],
            decodes: vec![2, 1],
            partners: vec![None; 2],
            seed: 1,
        };
        let mut c = Collector::new(&meta);
        let r = |rounds| DecodeRecord {
            rounds,
            ..DecodeRecord::default()
        };
        let b = ProgressBins::default();
        c.add(2, r(3), &b).unwrap();
        c.add(0, r(1), &b).unwrap();
        c.add(0, r(9), &b).unwrap();
        assert!(c.add(3, r(1), &b).is_err());
        let e = Collector::new(&meta).finish().unwrap_err();
        assert!(format!("{e}").contains("work item 0"));
        c.add(1, r(2), &b).unwrap();
        let runs = c.finish().unwrap();
        let rounds: Vec<u64> = runs
            .iter()
            .flat_map(|r| r.records.iter().map(|x| x.rounds))
            .collect();
        assert_eq!(rounds, vec![1, 2, 3]);
    }
}
