//! The LoPA-Dist cost model: from rounds to seconds.
//!
//! A round's branches go round-robin to BP branch groups of TP devices each; the branches of
//! one group run as one batch, so the weights are read once per group and round. Each group
//! is a roofline, max(FLOPs / peak, bytes / bandwidth); the round takes the slowest group,
//! plus its collectives (tensor-parallel all-reduces, the branch scatter and logits gather,
//! and under the two-phase protocol the winner's K/V broadcasts), plus a fixed overhead.
//!
//! This module reads records only ([`BranchLoad`], [`Latency`]): the engine reports each
//! round's loads to a [`LatencyMeter`], and reports and figures read the [`Latency`] back.

mod cost;
pub mod profile;
#[cfg(test)]
mod tests;

pub use cost::{readable, KvProtocol, LatencyMeter, LayoutError, RoundCost, SystemModel};

use std::fmt::Write;

use crate::record::BranchLoad;

/// Tokens per second of a decode: content tokens over the timed latency, 0.0 when no round
/// was timed.
pub fn tokens_per_s(tokens: u64, latency_s: f64) -> f64 {
    if latency_s > 0.0 {
        tokens as f64 / latency_s
    } else {
        0.0
    }
}

/// The roofline of one round with `branches` lookahead branches (k + 1 in the batch), each
/// processing `window` positions over `context` earlier ones, as text for `lopa-sim system`.
pub fn describe_round(system: &SystemModel, window: u32, branches: usize, context: u32) -> String {
    let load = BranchLoad {
        processed: window,
        context: context + window,
    };
    let loads = vec![load; branches + 1];
    let c = system.round(&loads, 0);
    let groups = (branches + 1).min(system.bp);
    let per_group = (branches + 1).div_ceil(system.bp);
    let peak = system.peak_flops();
    let bw = system.hardware.mem_bandwidth;
    let ms = |s: f64| format!("{:8.3} ms", s * 1e3);
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "{} with {}: k = {branches} ({} branches) x {window} positions, context {context}",
        system.label(),
        system.model.name,
        branches + 1
    );
    let _ = writeln!(
        w,
        "  groups         {groups} busy of {} (at most {per_group} branch(es) each), TP {} each",
        system.bp, system.tp
    );
    let _ = writeln!(
        w,
        "  per device     {:.3e} FLOP, {:.3e} bytes: {:.1} FLOP/byte (ridge {:.1})",
        c.flops,
        c.bytes,
        c.flops / c.bytes,
        peak / bw
    );
    let bound = if c.compute > 0.0 { "compute" } else { "memory" };
    let _ = writeln!(w, "  compute        {}", ms(c.flops / peak));
    let _ = writeln!(w, "  memory         {}", ms(c.bytes / bw));
    let _ = writeln!(w, "  bound          {bound}");
    let _ = writeln!(w, "  communication  {}", ms(c.comm));
    let _ = writeln!(w, "  overhead       {}", ms(c.overhead));
    let _ = writeln!(w, "  round          {}", ms(c.total()));
    let _ = writeln!(
        w,
        "  (no K/V commit counted; a two-phase commit of one {window}-position block would add {})",
        ms(system.round(&loads, window as usize).comm - c.comm)
    );
    out
}

/// `lopa-sim system`: one round's roofline on built-in profiles.
#[derive(Clone, Debug, clap::Args)]
pub struct WhatIf {
    /// Hardware profile: h200, h100, a100 or ascend910c.
    #[arg(long)]
    pub profile: String,
    /// Model profile.
    #[arg(long, default_value = "dream-7b")]
    pub model: String,
    /// Tensor parallelism inside each branch group.
    #[arg(long, default_value_t = 1)]
    pub tp: usize,
    /// Branch groups (default: one per branch, at most the devices / TP).
    #[arg(long)]
    pub bp: Option<usize>,
    /// K/V commit protocol: two_phase or one_phase.
    #[arg(long, default_value = "two_phase", value_parser = ["two_phase", "one_phase"])]
    pub kv_protocol: String,
    /// Positions each branch processes (its window, recomputed blocks included; at least 1).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub window: u32,
    /// Lookahead branches k (k + 1 branches in the round; at most 4096, as `search.branches`).
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u16).range(0..=i64::from(crate::state::MAX_BRANCHES)))]
    pub branches: u16,
    /// Cached positions the window attends to (prompt and finished blocks).
    #[arg(long, default_value_t = 512)]
    pub context: u32,
}

impl WhatIf {
    /// The roofline text, or an error naming the bad option.
    pub fn run(&self) -> anyhow::Result<String> {
        let option = |key: &str| key.trim_start_matches("system.").replace('_', "-");
        let hw = profile::hardware(&self.profile).ok_or_else(|| {
            anyhow::anyhow!(
                "--profile: unknown hardware profile `{}`; built-in: {}",
                self.profile,
                profile::HARDWARE.join(", ")
            )
        })?;
        let model = profile::model(&self.model).ok_or_else(|| {
            anyhow::anyhow!(
                "--model: unknown model profile `{}`; built-in: {}",
                self.model,
                profile::MODELS.join(", ")
            )
        })?;
        let protocol = if self.kv_protocol == "one_phase" {
            KvProtocol::OnePhase
        } else {
            KvProtocol::TwoPhase
        };
        let bp = self.bp.unwrap_or_else(|| {
            (self.branches as usize + 1)
                .min(hw.devices / self.tp.max(1))
                .max(1)
        });
        // The processed positions attend to the cached ones and to themselves.
        if self.context.checked_add(self.window).is_none() {
            anyhow::bail!(
                "--context {} with --window {}: together they must stay below 2^32 positions",
                self.context,
                self.window
            );
        }
        let system = SystemModel::new(hw, model, self.tp, bp, protocol)
            .map_err(|e| anyhow::anyhow!("--{}: {}", option(e.key), e.message))?;
        Ok(describe_round(
            &system,
            self.window,
            self.branches as usize,
            self.context,
        ))
    }
}
