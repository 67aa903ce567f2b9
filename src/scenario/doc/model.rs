//! The `[model]` table's shape: every model kind's keys in one table, since a sweep or a
//! case may change the kind and keep the rest.

use serde::{Deserialize, Serialize};

use super::ModelKind;
use crate::state::Attention;

/// `[model]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ModelDoc {
    pub kind: Option<ModelKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transitions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hmm_transitions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emissions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plans: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_prior: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eos_token: Option<u32>,
    pub attention: Option<Attention>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts: Option<Vec<Vec<u32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocab_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peakedness: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deterministic_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deterministic_mass: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eos_hazard: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_budget_mb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub states: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emission_sharpness: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_flow: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_entropy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_logit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difficulty_sd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_strength: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right_strength: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_scale: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_sd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistence: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phrase_length: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub successors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phrase_determinism: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_spread: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phrase_fork: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_length: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logit_noise: Option<f64>,
}
