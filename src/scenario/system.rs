//! The `[system]` table: built-in profiles by name, the layout, and per-key overrides, checked
//! with the file, line and key of the value at fault.

use super::doc::SystemDoc;
use super::ScenarioError;
use crate::system::profile::{self, HARDWARE, MODELS};
use crate::system::{KvProtocol, SystemModel};

/// The cost model of a configuration, or `None` without `[system]`. Fills the defaults into
/// `doc` so `summary.json` shows every figure used.
pub(super) fn system_model(
    doc: &mut Option<SystemDoc>,
    err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<Option<SystemModel>, ScenarioError> {
    let Some(d) = doc.as_mut() else {
        return Ok(None);
    };
    let hw_name = d.hardware.get_or_insert_with(|| "h200".into()).clone();
    let mut hw = profile::hardware(&hw_name).ok_or_else(|| {
        err(
            "system.hardware",
            format!(
                "unknown hardware profile `{hw_name}`; built-in: {}",
                HARDWARE.join(", ")
            ),
        )
    })?;
    let model_name = d.model.get_or_insert_with(|| "dream-7b".into()).clone();
    let mut m = profile::model(&model_name).ok_or_else(|| {
        err(
            "system.model",
            format!(
                "unknown model profile `{model_name}`; built-in: {}",
                MODELS.join(", ")
            ),
        )
    })?;
    let tp = *d.tp.get_or_insert(1) as usize;
    let bp = *d.bp.get_or_insert(1) as usize;
    let protocol = *d.kv_protocol.get_or_insert(KvProtocol::TwoPhase);
    // Overrides in datasheet units; each profile figure has exactly one key.
    let scaled = |x: Option<f64>, unit: f64, into: &mut f64| {
        if let Some(x) = x {
            *into = x * unit;
        }
    };
    scaled(d.bf16_tflops, 1e12, &mut hw.bf16_flops);
    scaled(d.int8_tops, 1e12, &mut hw.int8_flops);
    scaled(d.mem_bandwidth_gbs, 1e9, &mut hw.mem_bandwidth);
    scaled(d.link_bandwidth_gbs, 1e9, &mut hw.link_bandwidth);
    scaled(d.collective_latency_us, 1e-6, &mut hw.collective_latency);
    scaled(d.overhead_ms, 1e-3, &mut hw.overhead);
    scaled(d.params_b, 1e9, &mut m.params);
    scaled(d.bytes_per_param, 1.0, &mut m.bytes_per_param);
    scaled(d.bytes_per_activation, 1.0, &mut m.bytes_per_activation);
    let count = |x: Option<u64>, into: &mut usize| {
        if let Some(x) = x {
            *into = x as usize;
        }
    };
    count(d.devices, &mut hw.devices);
    count(d.layers, &mut m.layers);
    count(d.hidden, &mut m.hidden);
    count(d.heads, &mut m.heads);
    count(d.kv_heads, &mut m.kv_heads);
    count(d.head_dim, &mut m.head_dim);
    count(d.vocab, &mut m.vocab);
    SystemModel::new(hw, m, tp, bp, protocol)
        .map(Some)
        .map_err(|e| err(e.key, e.message))
}
