//! The `[system]` table's shape: the cost model's profiles, layout and overrides.

use serde::{Deserialize, Serialize};

/// `[system]`: built-in profiles by name, the layout, and any profile figure overridden.
/// Units are the ones datasheets use (TFLOP/s, GB/s, us, ms, billions of parameters).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SystemDoc {
    pub hardware: Option<String>,
    pub model: Option<String>,
    pub tp: Option<u64>,
    pub bp: Option<u64>,
    pub kv_protocol: Option<crate::system::KvProtocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bf16_tflops: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub int8_tops: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_bandwidth_gbs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_bandwidth_gbs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collective_latency_us: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overhead_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heads: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_heads: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocab: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params_b: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_param: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_activation: Option<f64>,
}
