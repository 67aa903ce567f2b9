//! The scenario file's shape, as serde reads it. Every field is optional here so that the
//! same types check a whole file, a `--set` override, a sweep value and a case override;
//! required keys and defaults are applied when a configuration is resolved.

use serde::{Deserialize, Serialize};

use crate::state::{Attention, ConfidenceKind};

/// `model.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// The Markov oracle (SPEC 2).
    Markov,
    /// The hidden Markov oracle (SPEC 2b.1).
    Hmm,
    /// The latent-plan mixture (SPEC 2b.2).
    Plan,
    /// The phenomenological confidence field.
    Field,
    /// The Markov oracle over a generated phrase world.
    Phrase,
}

/// `decoder.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecoderKind {
    /// D2F pipelined blocks.
    D2f,
    /// Fast-dLLM threshold.
    Threshold,
    /// Fixed k per round.
    Topk,
    /// Fast-dLLM's factor rule (SPEC 3.4).
    Factor,
    /// EB-sampler (SPEC 3.4).
    Eb,
    /// dParallel's entropy threshold (SPEC 3.4).
    EntropyThreshold,
    /// One position per round, leftmost first (SPEC 3.4).
    LeftToRight,
    /// k uniformly random positions per round.
    Random,
    /// The most confident position of each masked run (dInfer-style).
    PerRun,
}

impl DecoderKind {
    /// The name a scenario file uses.
    pub fn name(self) -> &'static str {
        match self {
            DecoderKind::D2f => "d2f",
            DecoderKind::Threshold => "threshold",
            DecoderKind::Topk => "topk",
            DecoderKind::Factor => "factor",
            DecoderKind::Eb => "eb",
            DecoderKind::EntropyThreshold => "entropy_threshold",
            DecoderKind::LeftToRight => "left_to_right",
            DecoderKind::Random => "random",
            DecoderKind::PerRun => "per_run",
        }
    }
}

/// `search.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// One branch.
    None,
    /// Lookahead parallel decoding.
    Lopa,
    /// The fewest rounds over LoPA's moves (SPEC 4.5).
    Oracle,
}

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
    pub stages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_length: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logit_noise: Option<f64>,
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

/// Every dotted key a configuration may set, for error messages and `--set` checks.
pub const KEYS: &[&str] = &[
    "name",
    "seed",
    "worlds",
    "sequences",
    "gen_length",
    "model.kind",
    "model.seed",
    "model.transitions",
    "model.hmm_transitions",
    "model.emissions",
    "model.initial",
    "model.plans",
    "model.plan_prior",
    "model.eos_token",
    "model.attention",
    "model.prompts",
    "model.prompt_length",
    "model.vocab_size",
    "model.peakedness",
    "model.deterministic_share",
    "model.deterministic_mass",
    "model.support",
    "model.eos_hazard",
    "model.cache_budget_mb",
    "model.states",
    "model.stickiness",
    "model.emission_sharpness",
    "model.state_flow",
    "model.plan_count",
    "model.prior_entropy",
    "model.overlap",
    "model.base_logit",
    "model.difficulty_sd",
    "model.left_strength",
    "model.right_strength",
    "model.kernel_scale",
    "model.noise_sd",
    "model.persistence",
    "model.gamma",
    "model.phrase_length",
    "model.short_share",
    "model.short_length",
    "model.successors",
    "model.phrase_determinism",
    "model.topics",
    "model.topic_spread",
    "model.exact_share",
    "model.stages",
    "model.output_length",
    "model.temperature",
    "model.logit_noise",
    "decoder.kind",
    "decoder.block_size",
    "decoder.add_threshold",
    "decoder.activate_threshold",
    "decoder.fill_threshold",
    "decoder.k",
    "decoder.factor",
    "decoder.gamma",
    "decoder.eta",
    "decoder.fill_rule",
    "decoder.confidence",
    "search.kind",
    "search.branches",
    "search.spawn_completion",
    "search.branch_topp",
    "search.alpha",
    "search.force_base",
    "search.extra_tokens",
    "search.depth",
    "search.width",
    "search.state_budget_mb",
    "search.max_rounds",
    "output.dir",
    "output.trace_seq",
    "system.hardware",
    "system.model",
    "system.tp",
    "system.bp",
    "system.kv_protocol",
    "system.bf16_tflops",
    "system.int8_tops",
    "system.mem_bandwidth_gbs",
    "system.link_bandwidth_gbs",
    "system.collective_latency_us",
    "system.overhead_ms",
    "system.devices",
    "system.layers",
    "system.hidden",
    "system.heads",
    "system.kv_heads",
    "system.head_dim",
    "system.vocab",
    "system.params_b",
    "system.bytes_per_param",
    "system.bytes_per_activation",
    "output.trace_config",
    "plot.k_axis",
];
