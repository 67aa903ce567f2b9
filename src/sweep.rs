//! Runs configurations times worlds times sequences over all cores. Results come back in
//! (configuration, world, sequence) order whatever the thread count, because each sequence's
//! stream depends on (seed, seq) alone and rayon's indexed collect keeps order.

use rayon::prelude::*;

use crate::engine::{Setup, Workspace};
use crate::record::{ConfigLabel, ConfigRuns, DecodeRecord, ProgressBins};
use crate::search::Stalled;

/// Decodes in flight at once: bounds the memory a sweep holds beyond its records.
const CHUNK: usize = 1 << 14;

/// A decode that failed inside a sweep.
#[derive(Debug, thiserror::Error)]
#[error("configuration {config}, world {world}, sequence {seq}: {cause}")]
pub struct SweepError {
    /// Configuration index.
    pub config: usize,
    /// World index.
    pub world: usize,
    /// Sequence index.
    pub seq: usize,
    /// What went wrong. Part of the message, not a `#[source]`, so that an error chain
    /// does not print it twice.
    pub cause: Stalled,
}

/// Decodes every sequence of every setup, labelled by `labels` (one per setup).
/// `progress` is called once per finished decode.
pub fn run(
    setups: &[Setup],
    labels: &[ConfigLabel],
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<ConfigRuns>, SweepError> {
    let mut runs: Vec<ConfigRuns> = labels
        .iter()
        .zip(setups)
        .map(|(label, s)| ConfigRuns {
            label: label.clone(),
            worlds: s.world_count(),
            records: Vec::with_capacity(s.decodes()),
            bins: ProgressBins::default(),
        })
        .collect();
    // Task i is (config, world, seq) in row-major order; the offsets avoid materialising
    // the list.
    let offsets: Vec<usize> = setups
        .iter()
        .scan(0, |acc, s| {
            let start = *acc;
            *acc += s.decodes();
            Some(start)
        })
        .collect();
    let locate = |task: usize| {
        let config = offsets.partition_point(|&o| o <= task) - 1;
        (config, task - offsets[config])
    };
    let total: usize = setups.iter().map(Setup::decodes).sum();
    for start in (0..total).step_by(CHUNK) {
        // Collected whole, then the first failure in task order is reported, so the error a
        // run prints does not depend on which thread reached a failing decode first.
        let chunk: Vec<Result<(DecodeRecord, ProgressBins), SweepError>> = (start
            ..(start + CHUNK).min(total))
            .into_par_iter()
            .map_init(Workspace::default, |ws, task| {
                let (config, i) = locate(task);
                let setup = &setups[config];
                let (world, seq) = (i / setup.sequences, i % setup.sequences);
                let decoded = setup
                    .decode_binned(world, seq, ws)
                    .map_err(|cause| SweepError {
                        config,
                        world,
                        seq,
                        cause,
                    });
                progress();
                decoded
            })
            .collect();
        let chunk: Vec<(DecodeRecord, ProgressBins)> =
            chunk.into_iter().collect::<Result<_, _>>()?;
        for (i, (record, bins)) in chunk.into_iter().enumerate() {
            let (config, _) = locate(start + i);
            runs[config].bins.add(&bins);
            runs[config].records.push(record);
        }
    }
    Ok(runs)
}

/// The most shards a sweep may be split into: merge holds one slot per shard, and a shard
/// count read from a damaged shard.json must not make it allocate without bound.
pub const MAX_SHARDS: usize = 100_000;

/// Which work items one process of a sharded sweep decodes: shard `index` of `count`
/// (from 1) owns the tasks t with t mod count = index - 1. Round-robin rather than
/// contiguous blocks, because configurations differ in cost (k = 0 is cheap, k = 16 is
/// not) and consecutive tasks are sequences of one configuration: every shard gets every
/// count-th sequence of every configuration, so shards finish together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 1.
    pub index: usize,
    /// Shards in all.
    pub count: usize,
}

impl Shard {
    /// The whole sweep in one process.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether task `task` (row-major (configuration, world, sequence)) is this shard's.
    pub fn owns(&self, task: usize) -> bool {
        task % self.count == self.index - 1
    }

    /// Tasks of `total` this shard owns.
    pub fn share(&self, total: usize) -> usize {
        total / self.count + usize::from(total % self.count >= self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not I/N with 1 <= I <= N, e.g. 2/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        if count > MAX_SHARDS {
            return Err(format!(
                "`{s}`: at most {MAX_SHARDS} shards (N); a Slurm array rarely has more tasks"
            ));
        }
        Ok(Shard { index, count })
    }
}

/// Task numbers: where each configuration's tasks start.
fn task_offsets(setups: &[Setup]) -> Vec<usize> {
    setups
        .iter()
        .scan(0, |acc, s| {
            let start = *acc;
            *acc += s.decodes();
            Some(start)
        })
        .collect()
}

/// (configuration, index within it) of `task`.
pub fn locate(offsets: &[usize], task: usize) -> (usize, usize) {
    let config = offsets.partition_point(|&o| o <= task) - 1;
    (config, task - offsets[config])
}

/// Decodes the tasks `wanted` selects, chunk by chunk in task order, and hands each
/// finished one to `done` (from any thread, in no particular order): the journal's way in.
/// Stops after the first chunk with a failure and reports the failure first in task order.
pub fn run_items(
    setups: &[Setup],
    wanted: &(dyn Fn(usize) -> bool + Sync),
    done: &(dyn Fn(usize, &DecodeRecord, &ProgressBins) + Sync),
) -> Result<(), SweepError> {
    let offsets = task_offsets(setups);
    let total: usize = setups.iter().map(Setup::decodes).sum();
    for start in (0..total).step_by(CHUNK) {
        let tasks: Vec<usize> = (start..(start + CHUNK).min(total))
            .filter(|&t| wanted(t))
            .collect();
        let failures: Vec<SweepError> = tasks
            .into_par_iter()
            .map_init(Workspace::default, |ws, task| {
                let (config, i) = locate(&offsets, task);
                let setup = &setups[config];
                let (world, seq) = (i / setup.sequences, i % setup.sequences);
                match setup.decode_binned(world, seq, ws) {
                    Ok((record, bins)) => {
                        done(task, &record, &bins);
                        None
                    }
                    Err(cause) => Some(SweepError {
                        config,
                        world,
                        seq,
                        cause,
                    }),
                }
            })
            .flatten()
            .collect();
        if let Some(first) = failures.into_iter().next() {
            return Err(first);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_every_task_once_and_evenly() {
        for count in 1..6 {
            for total in [0, 1, 7, 10] {
                let mut owners = vec![0; total];
                for index in 1..=count {
                    let s = Shard { index, count };
                    let mine = (0..total).filter(|&t| s.owns(t)).count();
                    assert_eq!(mine, s.share(total));
                    assert!(mine.abs_diff(total / count) <= 1);
                    (0..total)
                        .filter(|&t| s.owns(t))
                        .for_each(|t| owners[t] += 1);
                }
                assert!(owners.iter().all(|&o| o == 1));
            }
        }
    }

    #[test]
    fn bad_shards_are_refused() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1/0", "junk", "1/", "/3", "-1/3", "1/3/4", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("I/N"), "{bad}: {e}");
        }
    }
}
