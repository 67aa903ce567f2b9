//! The time of one round: a roofline per branch group, the slowest group, the collectives
//! around it, and the fixed overhead.

use serde::{Deserialize, Serialize};

use super::profile::{Hardware, ModelShape};
use crate::record::{BranchLoad, Latency};

/// The widest a parameter or an activation value may be, in bytes.
pub const MAX_BYTES_PER_VALUE: f64 = 16.0;

/// How K/V of the blocks being cached reach every branch group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvProtocol {
    /// LoPA-Dist-NV: full attention makes cached K/V depend on the branch, so every group
    /// pre-writes its own and the winner's is broadcast afterwards (2 x layers broadcasts).
    TwoPhase,
    /// LoPA-Dist-Ascend: block-causal attention makes cached K/V branch-independent, so the
    /// pre-write is final and nothing is broadcast.
    OnePhase,
}

impl KvProtocol {
    /// The scenario spelling.
    pub fn name(self) -> &'static str {
        match self {
            KvProtocol::TwoPhase => "two_phase",
            KvProtocol::OnePhase => "one_phase",
        }
    }
}

/// Collectives of a round with more than one active rank, besides the logits: a broadcast of
/// token lengths, scatters of token ids and of the metadata payload, three small all-gathers
/// and one object all-gather (the public LoPA-Dist-NV code).
const SMALL_COLLECTIVES: f64 = 7.0;

/// Bytes of one token id on the wire (int64).
const TOKEN_ID_BYTES: f64 = 8.0;

/// A validated placement of a model on hardware.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SystemModel {
    /// The devices.
    pub hardware: Hardware,
    /// The network.
    pub model: ModelShape,
    /// Tensor parallelism inside a branch group.
    pub tp: usize,
    /// Branch groups; branch i runs on group i mod BP.
    pub bp: usize,
    /// The K/V commit.
    pub protocol: KvProtocol,
}

/// One round's time, by part, in seconds, with the slowest group's counts per device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RoundCost {
    /// Roofline time when the slowest group is compute-bound, else 0.
    pub compute: f64,
    /// Roofline time when the slowest group is memory-bound, else 0.
    pub memory: f64,
    /// Collectives.
    pub comm: f64,
    /// Fixed overhead.
    pub overhead: f64,
    /// FLOPs one device of the slowest group does.
    pub flops: f64,
    /// Bytes one device of the slowest group reads.
    pub bytes: f64,
}

impl RoundCost {
    /// The round's time.
    pub fn total(&self) -> f64 {
        self.compute + self.memory + self.comm + self.overhead
    }
}

/// Why a layout is not valid: the scenario key at fault and the problem.
#[derive(Clone, Debug, PartialEq)]
pub struct LayoutError {
    /// The `system.*` key to fix.
    pub key: &'static str,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl SystemModel {
    /// Checks every figure and the layout.
    pub fn new(
        hardware: Hardware,
        model: ModelShape,
        tp: usize,
        bp: usize,
        protocol: KvProtocol,
    ) -> Result<Self, LayoutError> {
        let bad = |key: &'static str, message: String| Err(LayoutError { key, message });
        // Each figure is held in SI units; the message gives it back in its key's unit
        // (the key's suffix), as the user wrote it.
        let positive = [
            ("system.bf16_tflops", hardware.bf16_flops, 1e12),
            ("system.int8_tops", hardware.int8_flops, 1e12),
            ("system.mem_bandwidth_gbs", hardware.mem_bandwidth, 1e9),
            ("system.link_bandwidth_gbs", hardware.link_bandwidth, 1e9),
            ("system.params_b", model.params, 1e9),
            ("system.bytes_per_param", model.bytes_per_param, 1.0),
            (
                "system.bytes_per_activation",
                model.bytes_per_activation,
                1.0,
            ),
        ];
        for (key, x, unit) in positive {
            if !(x.is_finite() && x > 0.0) {
                return bad(key, format!("must be a positive number, got {}", x / unit));
            }
        }
        // No number format is wider than 8 bytes; past 16 the round's byte counts can
        // overflow to infinity, and an infinite round time has no meaning.
        for (key, x) in [
            ("system.bytes_per_param", model.bytes_per_param),
            ("system.bytes_per_activation", model.bytes_per_activation),
        ] {
            if x > MAX_BYTES_PER_VALUE {
                return bad(
                    key,
                    format!(
                        "must be at most {MAX_BYTES_PER_VALUE} (bf16 is 2, int8 1), got {}",
                        readable(x)
                    ),
                );
            }
        }
        for (key, x, unit) in [
            (
                "system.collective_latency_us",
                hardware.collective_latency,
                1e-6,
            ),
            ("system.overhead_ms", hardware.overhead, 1e-3),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return bad(key, format!("must be a number >= 0, got {}", x / unit));
            }
        }
        let counts = [
            ("system.devices", hardware.devices),
            ("system.layers", model.layers),
            ("system.hidden", model.hidden),
            ("system.heads", model.heads),
            ("system.kv_heads", model.kv_heads),
            ("system.head_dim", model.head_dim),
            ("system.vocab", model.vocab),
        ];
        for (key, n) in counts {
            if n == 0 {
                return bad(key, "must be at least 1".into());
            }
        }
        if bp == 0 {
            return bad("system.bp", "must be at least 1 (one branch group)".into());
        }
        if tp == 0 || !model.heads.is_multiple_of(tp) {
            return bad(
                "system.tp",
                format!(
                    "TP {tp} does not divide the {} attention heads of {}; valid: {}",
                    model.heads,
                    model.name,
                    (1..=model.heads)
                        .filter(|d| model.heads.is_multiple_of(*d))
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if bp * tp > hardware.devices {
            return bad(
                "system.bp",
                format!(
                    "BP {bp} x TP {tp} needs {} devices, but {} has {} (system.devices)",
                    bp * tp,
                    hardware.name,
                    hardware.devices
                ),
            );
        }
        Ok(SystemModel {
            hardware,
            model,
            tp,
            bp,
            protocol,
        })
    }

    /// A short name for tables and legends, e.g. `h200 TP1 BP8 two_phase`.
    pub fn label(&self) -> String {
        format!(
            "{} TP{} BP{} {}",
            self.hardware.name,
            self.tp,
            self.bp,
            self.protocol.name()
        )
    }

    /// The tensor throughput the weights' precision runs at: int8 for 1-byte weights.
    pub fn peak_flops(&self) -> f64 {
        if self.model.bytes_per_param <= 1.0 {
            self.hardware.int8_flops
        } else {
            self.hardware.bf16_flops
        }
    }

    /// K and V bytes of one position over all layers, on one device of a group. KV heads
    /// split over TP; with fewer KV heads than TP ranks each rank keeps a copy of one.
    fn kv_bytes_per_position(&self) -> f64 {
        let m = &self.model;
        let heads = m.kv_heads.div_ceil(self.tp);
        (2 * m.layers * heads * m.head_dim) as f64 * m.bytes_per_activation
    }

    /// One device's (FLOPs, bytes) for a group's batched branches: every matmul weight once
    /// per processed position (the input embedding is a lookup), attention of each processed
    /// position over its context, the weights read once and each branch's K/V read once.
    pub fn group_work(&self, branches: impl Iterator<Item = BranchLoad>) -> (f64, f64) {
        let m = &self.model;
        let matmul_params = m.params - (m.vocab * m.hidden) as f64;
        let attn_per_pair = (4 * m.layers * m.heads * m.head_dim) as f64;
        let (mut flops, mut kv_bytes) = (0.0, 0.0);
        for b in branches {
            let (n, c) = (f64::from(b.processed), f64::from(b.context));
            flops += 2.0 * matmul_params * n + attn_per_pair * n * c;
            kv_bytes += self.kv_bytes_per_position() * c;
        }
        let tp = self.tp as f64;
        (flops / tp, m.params * m.bytes_per_param / tp + kv_bytes)
    }

    /// Time of `count` collectives moving `bytes` in all over one link.
    fn collectives(&self, count: f64, bytes: f64) -> f64 {
        count * self.hardware.collective_latency + bytes / self.hardware.link_bandwidth
    }

    /// The time of one round whose branches (in branch order) carry `loads`, and whose
    /// winner's cache write covered `committed` positions.
    pub fn round(&self, loads: &[BranchLoad], committed: usize) -> RoundCost {
        let m = &self.model;
        let peak = self.peak_flops();
        let bw = self.hardware.mem_bandwidth;
        let act = m.bytes_per_activation;
        let ranks = loads.len().min(self.bp);
        let mut slowest = RoundCost::default();
        let mut widest = 0.0f64;
        for g in 0..ranks {
            let group = loads.iter().skip(g).step_by(self.bp).copied();
            let positions: f64 = group.clone().map(|b| f64::from(b.processed)).sum();
            widest = widest.max(positions);
            let (flops, bytes) = self.group_work(group);
            let (t_compute, t_memory) = (flops / peak, bytes / bw);
            // Megatron TP: two ring all-reduces of the activations per layer.
            let tp_comm = if self.tp > 1 {
                let tp = self.tp as f64;
                let size = positions * m.hidden as f64 * act;
                self.collectives(
                    2.0 * m.layers as f64,
                    2.0 * m.layers as f64 * 2.0 * (tp - 1.0) / tp * size,
                )
            } else {
                0.0
            };
            let part = RoundCost {
                compute: if t_compute > t_memory { t_compute } else { 0.0 },
                memory: if t_compute > t_memory { 0.0 } else { t_memory },
                comm: tp_comm,
                overhead: 0.0,
                flops,
                bytes,
            };
            if part.total() > slowest.total() {
                slowest = part;
            }
        }
        if ranks > 1 {
            // Token ids padded to the widest rank, then every position's full-vocabulary
            // logits gathered to every rank; a ring all-gather brings (R - 1) shares to each.
            // R is every rank, busy or not: the published code pads the payload list with
            // no-op tasks to the world size and its collectives span the whole world, so an
            // idle rank still receives the token scatter and sends a zero-padded logits share.
            let others = (self.bp - 1) as f64;
            let ids = others * widest * TOKEN_ID_BYTES;
            let logits = others * widest * m.vocab as f64 * act;
            slowest.comm += self.collectives(SMALL_COLLECTIVES + 1.0, ids + logits);
        }
        if self.protocol == KvProtocol::TwoPhase && self.bp > 1 && committed > 0 {
            // Commit-Winner-Cache: K and V of each layer broadcast from the winner's rank.
            let bytes = committed as f64 * self.kv_bytes_per_position();
            slowest.comm += self.collectives(2.0 * m.layers as f64, bytes);
        }
        slowest.overhead = self.hardware.overhead;
        slowest
    }
}

/// Adds up a decode's rounds as the engine reports them. The positions a round commits to
/// the cache show as the growth of the cached prefix at the next round, so each commit is
/// charged one round late; the sum is the same.
#[derive(Clone, Debug, Default)]
pub struct LatencyMeter {
    rounds: u64,
    cached: Option<u32>,
    total: Latency,
}

impl LatencyMeter {
    /// Forgets the previous decode.
    pub fn reset(&mut self) {
        *self = LatencyMeter::default();
    }

    /// Adds one round; the first (the prefill) is not timed.
    pub fn round(&mut self, system: &SystemModel, loads: &[BranchLoad]) {
        self.rounds += 1;
        // Every branch is a copy of the last winner, so they share one cached prefix.
        let cached = loads.last().map_or(0, |b| b.context - b.processed);
        let committed = self.cached.map_or(0, |c| cached.saturating_sub(c));
        self.cached = Some(cached);
        if self.rounds == 1 {
            return;
        }
        let c = system.round(loads, committed as usize);
        self.total.add(&Latency {
            timed_rounds: 1,
            compute_s: c.compute,
            memory_s: c.memory,
            comm_s: c.comm,
            overhead_s: c.overhead,
        });
    }

    /// The decode's latency so far.
    pub fn latency(&self) -> Latency {
        self.total
    }
}

/// `x` as written by hand: plain, or in e-notation when it is too long to read.
pub fn readable(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}
