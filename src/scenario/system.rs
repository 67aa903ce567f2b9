//! The `[system]` table: built-in profiles by name, the layout, and per-key overrides, checked
//! with the file, line and key of the value at fault.

use super::doc::SystemDoc;
use super::ScenarioError;
use crate::system::profile::{self, HARDWARE, MODELS};
use crate::system::{KvProtocol, SystemModel};

/// The largest profile figure an override may give, in its key's unit: far beyond any
/// hardware, and small enough that no product of figures overflows.
const MAX_OVERRIDE: f64 = 1e15;

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
    // Overrides in datasheet units; each profile figure has exactly one key. Each is
    // checked as given: once scaled to SI units, 1e308 TFLOP/s is inf, and the error
    // would report a value nobody wrote.
    let scaled = |key: &str, x: Option<f64>, unit: f64, into: &mut f64| {
        let Some(x) = x else { return Ok(()) };
        // The lower bounds are checked with the profile's own figures, in SystemModel::new,
        // and so are unscaled figures, whose message already shows the value given.
        if unit != 1.0 && (x.is_nan() || x > MAX_OVERRIDE) {
            let zero_ok = matches!(key, "system.collective_latency_us" | "system.overhead_ms");
            let what = if zero_ok {
                "a number from 0"
            } else {
                "a positive number"
            };
            let given = crate::system::readable(x);
            return Err(err(
                key,
                format!("must be {what} up to {MAX_OVERRIDE:e}, got {given}"),
            ));
        }
        *into = x * unit;
        Ok(())
    };
    scaled(
        "system.bf16_tflops",
        d.bf16_tflops,
        1e12,
        &mut hw.bf16_flops,
    )?;
    scaled("system.int8_tops", d.int8_tops, 1e12, &mut hw.int8_flops)?;
    let (mem, link) = (&mut hw.mem_bandwidth, &mut hw.link_bandwidth);
    scaled("system.mem_bandwidth_gbs", d.mem_bandwidth_gbs, 1e9, mem)?;
    scaled("system.link_bandwidth_gbs", d.link_bandwidth_gbs, 1e9, link)?;
    let latency = &mut hw.collective_latency;
    scaled(
        "system.collective_latency_us",
        d.collective_latency_us,
        1e-6,
        latency,
    )?;
    scaled("system.overhead_ms", d.overhead_ms, 1e-3, &mut hw.overhead)?;
    scaled("system.params_b", d.params_b, 1e9, &mut m.params)?;
    let (bpp, bpa) = (&mut m.bytes_per_param, &mut m.bytes_per_activation);
    scaled("system.bytes_per_param", d.bytes_per_param, 1.0, bpp)?;
    scaled(
        "system.bytes_per_activation",
        d.bytes_per_activation,
        1.0,
        bpa,
    )?;
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
