//! Runs configurations times sequences over all cores. Results come back in
//! (configuration, sequence) order whatever the thread count, because each sequence's
//! stream depends on (seed, seq) alone and rayon's indexed collect keeps order.

use rayon::prelude::*;

use crate::engine::Setup;
use crate::record::DecodeRecord;
use crate::search::{Stalled, Workspace};

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
    let tasks: Vec<(usize, usize)> = setups
        .iter()
        .enumerate()
        .flat_map(|(c, s)| (0..s.sequences).map(move |q| (c, q)))
        .collect();
    let flat: Vec<DecodeRecord> = tasks
        .par_iter()
        .map_init(Workspace::default, |ws, &(config, seq)| {
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
