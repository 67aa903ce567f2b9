//! Built-in hardware and model profiles. Every figure is a public peak number (datasheet or
//! press), not a measurement of LoPA: what a round really costs above these limits lives in
//! the per-round overhead, which a scenario calibrates per platform.

use serde::Serialize;

/// One accelerator and the box it sits in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hardware {
    /// Profile name.
    pub name: String,
    /// Peak dense bf16 tensor throughput per device, FLOP/s.
    pub bf16_flops: f64,
    /// Peak dense int8 tensor throughput per device, OP/s (used when weights are 1 byte).
    pub int8_flops: f64,
    /// Device memory bandwidth, bytes/s.
    pub mem_bandwidth: f64,
    /// Device-to-device bandwidth per direction, bytes/s.
    pub link_bandwidth: f64,
    /// Time of one collective before any byte moves (launch and synchronisation), s.
    pub collective_latency: f64,
    /// Fixed cost of one round outside the roofline (host loop, sampling, launches), s.
    pub overhead: f64,
    /// Devices in one box.
    pub devices: usize,
}

/// A transformer's shape, enough to count a forward pass's FLOPs and bytes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelShape {
    /// Profile name.
    pub name: String,
    /// Decoder layers.
    pub layers: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Attention (query) heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// Dimension of one head.
    pub head_dim: usize,
    /// Vocabulary size: the width of every position's logits.
    pub vocab: usize,
    /// Parameters, embeddings included.
    pub params: f64,
    /// Bytes per weight (2 for bf16, 1 for W8A8).
    pub bytes_per_param: f64,
    /// Bytes per cached K or V element, and per logit on the wire (bf16).
    pub bytes_per_activation: f64,
}

// H100 and H200 SXM: NVIDIA H100 Tensor Core GPU datasheet and NVIDIA H200 product page
// (nvidia.com): 989 TFLOPS bf16 dense (1,979 with sparsity), 1,979 TOPS int8 dense,
// 3.35 TB/s (H100 SXM, 80 GB HBM3) or 4.8 TB/s (H200, 141 GB HBM3e), NVLink 900 GB/s per GPU
// (both directions, so 450 GB/s each way), 8 GPUs per HGX board.
// A100 80 GB SXM: NVIDIA A100 datasheet: 312 TFLOPS bf16 dense, 624 TOPS int8 dense,
// 2,039 GB/s HBM2e, NVLink 600 GB/s per GPU (300 GB/s each way), 8 per HGX board.
// Ascend 910C: no Huawei datasheet; TechPowerUp/DigiTimes (April 2025): 780 TFLOPS bf16,
// 3.2 TB/s (eight HBM2E stacks), 400 GB/s chip-to-chip, per package. A 910C is two dies and
// software sees each die as one NPU, so 8 packages give the 16 devices that the paper's
// TP4 x BP4 needs: the profile is one die (390 TFLOPS, 1.6 TB/s, 200 GB/s; halves of the
// package figures, inferred). Int8 is taken as twice bf16, the ratio of the Da Vinci cube
// on the 910 (256 TFLOPS fp16 / 512 TOPS int8); inferred.
// Collective latency: nccl-tests report 10-30 us for small all-gathers and broadcasts over
// NVLink/NVSwitch at 8 GPUs; 15 us is used. HCCL on Ascend is taken as 20 us (assumed).
// Overhead: 1 ms by default, a kernel-launch-bound floor; scenarios calibrate their own.
const TB: f64 = 1e12;
const GB: f64 = 1e9;

/// Names of the built-in hardware profiles.
pub const HARDWARE: [&str; 4] = ["h200", "h100", "a100", "ascend910c"];

/// Names of the built-in model profiles.
pub const MODELS: [&str; 1] = ["dream-7b"];

/// The built-in hardware profile `name`.
pub fn hardware(name: &str) -> Option<Hardware> {
    let nv = |bf16: f64, mem: f64, link: f64| Hardware {
        name: name.to_string(),
        bf16_flops: bf16,
        int8_flops: 2.0 * bf16,
        mem_bandwidth: mem,
        link_bandwidth: link,
        collective_latency: 15e-6,
        overhead: 1e-3,
        devices: 8,
    };
    Some(match name {
        "h200" => nv(989.0 * TB, 4.8 * TB, 450.0 * GB),
        "h100" => nv(989.0 * TB, 3.35 * TB, 450.0 * GB),
        "a100" => nv(312.0 * TB, 2.039 * TB, 300.0 * GB),
        "ascend910c" => Hardware {
            collective_latency: 20e-6,
            devices: 16,
            ..nv(390.0 * TB, 1.6 * TB, 200.0 * GB)
        },
        _ => return None,
    })
}

/// The built-in model profile `name`.
pub fn model(name: &str) -> Option<ModelShape> {
    match name {
        // Dream-v0-7B is initialised from Qwen2.5-7B and keeps its shape (Qwen2.5-7B
        // config.json on Hugging Face): 28 layers, hidden 3584, 28 query heads, 4 KV heads,
        // head dim 128, vocabulary 152,064, 7.61 B parameters (Qwen2.5 technical report).
        "dream-7b" => Some(ModelShape {
            name: name.to_string(),
            layers: 28,
            hidden: 3584,
            heads: 28,
            kv_heads: 4,
            head_dim: 128,
            vocab: 152_064,
            params: 7.61e9,
            bytes_per_param: 2.0,
            bytes_per_activation: 2.0,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_profile_exists() {
        for h in HARDWARE {
            let p = hardware(h).unwrap();
            assert!(p.bf16_flops > 0.0 && p.mem_bandwidth > 0.0 && p.devices >= 8);
        }
        for m in MODELS {
            assert!(model(m).is_some());
        }
        assert!(hardware("tpu").is_none() && model("llama").is_none());
    }

    #[test]
    fn dream_wire_sizes_match_the_code_review() {
        // About 297 KiB of bf16 logits per position, 56 KiB of K/V per token.
        let m = model("dream-7b").unwrap();
        let logits = m.vocab as f64 * m.bytes_per_activation / 1024.0;
        assert!((logits - 297.0).abs() < 0.1, "{logits}");
        let kv = (2 * m.layers * m.kv_heads * m.head_dim) as f64 * m.bytes_per_activation;
        assert_eq!(kv / 1024.0, 56.0);
    }
}
