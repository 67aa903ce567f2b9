//! Scenario files (SPEC 6): loading, `--set` overrides, validation with file, line and key,
//! expansion of cases and sweeps into configurations, and engine setups for them.

mod build;
pub mod doc;
mod load;
pub mod matrix;
mod models;
mod names;
pub(crate) mod parse_error;
mod resolve;
mod select;
mod spans;
mod system;

pub use build::distinct_models;
pub use load::{
    check_key, load, parse_set_key, parse_set_value, Case, Entry, Origin, Scenario, Swept,
};
pub use models::ModelSpec;
pub use resolve::{oracle_partners, value_cell, Config, DecoderSpec, Resolved};
pub use select::{case_matches, case_names, select_case_configs, select_cases, select_config};

/// A scenario problem, already phrased for the user: file, line, key and what is valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub String);
