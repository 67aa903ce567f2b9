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
