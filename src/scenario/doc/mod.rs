//! The scenario file's shape, as serde reads it. Every field is optional here so that the
//! same types check a whole file, a `--set` override, a sweep value and a case override;
//! required keys and defaults are applied when a configuration is resolved.
//!
//! The `kind` values are in `kinds`, the `[model]` and `[system]` tables in `model` and
//! `system`, and the list of every dotted key in `keys`.

mod keys;
mod kinds;
mod model;
mod system;

use serde::{Deserialize, Serialize};

use crate::state::ConfidenceKind;

pub use keys::KEYS;
pub use kinds::{DecoderKind, ModelKind, SearchKind};
pub use model::ModelDoc;
pub use system::SystemDoc;

/// A whole scenario file, or any part of one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDoc {
    /// Names the results folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Root of every random stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Generated worlds each configuration is decoded in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worlds: Option<u64>,
    /// Sequences per configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequences: Option<u64>,
    /// L.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gen_length: Option<u64>,
    /// `[model]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelDoc>,
    /// `[decoder]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoder: Option<DecoderDoc>,
    /// `[search]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchDoc>,
    /// `[output]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputDoc>,
    /// `[system]`: the cost model, when the scenario asks for times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemDoc>,
    /// `[plot]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plot: Option<PlotDoc>,
    /// `[sweep]`: dotted key -> list of values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<toml::Table>,
    /// `[[case]]` tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<Vec<toml::Table>>,
}

/// `[decoder]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DecoderDoc {
    pub kind: Option<DecoderKind>,
    pub block_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activate_threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fill_threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    /// d2f only: another decoder's rule as the fill of each fully activated block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fill_rule: Option<DecoderKind>,
    pub confidence: Option<ConfidenceKind>,
}

/// `[search]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SearchDoc {
    pub kind: Option<SearchKind>,
    pub branches: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spawn_completion: Option<crate::search::SpawnCompletion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_topp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_base: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_budget_mb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rounds: Option<u64>,
}

/// `[output]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct OutputDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_config: Option<u64>,
}

/// `plot.k_axis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KAxisDoc {
    /// Log2 when the swept k are mostly powers of two.
    Auto,
    /// Linear.
    Linear,
    /// Log2.
    Log2,
}

/// `[plot]`: how the figures are drawn; no effect on any decode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PlotDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_axis: Option<KAxisDoc>,
}
