//! Runs configurations times sequences over all cores. Results come back in
//! (configuration, sequence) order whatever the thread count, because each sequence's
//! stream depends on (seed, seq) alone and rayon's indexed collect keeps order.

use rayon::prelude::*;

use crate::engine::{Setup, Workspace};
use crate::record::DecodeRecord;
use crate::search::Stalled;

/// A decode that failed inside a sweep.
#[derive(Debug, thiserror::Error)]
#[error("configuration {config}, sequence {seq}: {source}")]
pub struct SweepError {
    /// Configuration index.
    pub config: usize,
    /// Sequence index.
    pub seq: usize,
    /// What went wrong.
    #[source]
    pub source: Stalled,
}

/// Decodes every sequence of every setup. `progress` is called once per finished decode.
pub fn run(
    setups: &[Setup],
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<DecodeRecord>>, SweepError> {
    // Task i is (config, seq) in row-major order; the offsets avoid materialising the list.
    let offsets: Vec<usize> = setups
        .iter()
        .scan(0, |acc, s| {
            let start = *acc;
            *acc += s.sequences;
            Some(start)
        })
        .collect();
    let total: usize = setups.iter().map(|s| s.sequences).sum();
    let flat: Vec<DecodeRecord> = (0..total)
        .into_par_iter()
        .map_init(Workspace::default, |ws, task| {
            let config = offsets.partition_point(|&o| o <= task) - 1;
            let seq = task - offsets[config];
            let record = setups[config].decode(seq, ws).map_err(|source| SweepError {
                config,
                seq,
                source,
            });
            progress();
            record
        })
        .collect::<Result<_, _>>()?;
    let mut it = flat.into_iter();
    Ok(setups
        .iter()
        .map(|s| it.by_ref().take(s.sequences).collect())
        .collect())
}
