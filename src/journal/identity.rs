//! A journal's header: which run it belongs to, and how another run differs from it.

use serde::{Deserialize, Serialize};

/// What a journal belongs to: a resumed run or a merge refuses a journal whose identity
/// differs from its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `lopa-sim --version` of the writer.
    pub version: String,
    /// The scenario's name.
    pub scenario: String,
    /// Hash of everything that decides the records: the expanded configurations after
    /// `--set` and `--case`, and the seed.
    pub hash: String,
    /// The root seed.
    pub seed: u64,
    /// This shard, from 1, and the shard count (1/1 for an unsharded run).
    pub shard: (usize, usize),
    /// Work items of the whole sweep, every shard together.
    pub tasks: usize,
}

impl Identity {
    /// How `self` (a journal found on disk) differs from `want`, in words; None if it is
    /// the same run.
    pub fn differs(&self, want: &Identity) -> Option<String> {
        let shard = |s: (usize, usize)| format!("{}/{}", s.0, s.1);
        if self.scenario != want.scenario {
            Some(format!(
                "scenario `{}`, not `{}`",
                self.scenario, want.scenario
            ))
        } else if self.version != want.version {
            Some(format!(
                "lopa-sim {}, not this lopa-sim {}",
                self.version, want.version
            ))
        } else if self.seed != want.seed {
            Some(format!("seed {}, not {}", self.seed, want.seed))
        } else if self.hash != want.hash {
            Some(format!(
                "scenario `{}` with other settings (other --set or --case values, or an \
                 edited scenario: content hash {}, not {})",
                self.scenario, self.hash, want.hash
            ))
        } else if self.tasks != want.tasks {
            // The hash covers the work items, so equal hashes with other counts mean that a
            // header was edited or damaged; the hashes would read as the same.
            Some(format!(
                "scenario `{}` with {} work items, not {} (the same content hash {}, so the \
                 header is damaged)",
                self.scenario, self.tasks, want.tasks, self.hash
            ))
        } else if self.shard != want.shard {
            Some(format!(
                "shard {}, not {}",
                shard(self.shard),
                shard(want.shard)
            ))
        } else {
            None
        }
    }
}
