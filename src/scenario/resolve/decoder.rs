//! The `[decoder]` table of one configuration: the anchor decoder, its blocks and
//! thresholds, and the rule each kind fills a block's window by.

use super::Keys;
use crate::decoder::{D2f, SemiAr, SemiArRule};
use crate::scenario::doc::{DecoderDoc, DecoderKind};
use crate::scenario::ScenarioError;
use crate::state::ConfidenceKind;

/// The anchor decoder of a configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum DecoderSpec {
    /// SPEC 3.1.
    D2f(D2f),
    /// SPEC 3.2 and 3.3.
    SemiAr(SemiAr),
}

/// What the `[decoder]` table resolves to.
pub(super) struct Decoding {
    /// The anchor decoder.
    pub spec: DecoderSpec,
    /// `decoder.block_size`.
    pub block: usize,
    /// conf_i's kind.
    pub confidence: ConfidenceKind,
}

/// The thresholds a block's fill may use, checked once for every kind.
struct Thresholds {
    add: f64,
    activate: f64,
    fill: f64,
    k: u64,
}

/// Resolves `[decoder]` for a generation of `gen_length` tokens, writing back the values
/// the chosen kind uses.
pub(super) fn decoding(
    d: &mut DecoderDoc,
    gen_length: u64,
    keys: &Keys,
) -> Result<Decoding, ScenarioError> {
    let kind = d.kind.ok_or_else(|| keys.missing("decoder.kind"))?;
    let block = block_size(d, gen_length, keys)?;
    let t = thresholds(d, keys)?;
    let confidence = *d.confidence.get_or_insert(ConfidenceKind::Prob);
    let (block, blocks) = (block as usize, (gen_length / block) as usize);
    let spec = match kind {
        DecoderKind::D2f => {
            d.add_threshold = Some(t.add);
            d.activate_threshold = Some(t.activate);
            d.fill_threshold = Some(t.fill);
            let fill_rule = match d.fill_rule {
                Some(rule) => block_rule(rule, d, &t, keys)?,
                None => None,
            };
            DecoderSpec::D2f(D2f {
                block_size: block,
                max_blocks: blocks,
                add_threshold: t.add,
                activate_threshold: t.activate,
                fill_threshold: t.fill,
                fill_rule,
            })
        }
        other => {
            if let Some(rule) = d.fill_rule {
                return Err(keys.err(
                    "decoder.fill_rule",
                    format!(
                        "is the fill of d2f's blocks, but decoder.kind is \"{}\"; \
                         drop decoder.fill_rule, or set decoder.kind = \"d2f\" with \
                         decoder.fill_rule = \"{}\"",
                        other.name(),
                        rule.name()
                    ),
                ));
            }
            let rule = block_rule(other, d, &t, keys)?.expect("a semi-AR kind has a rule");
            DecoderSpec::SemiAr(SemiAr {
                block_size: block,
                blocks,
                rule,
            })
        }
    };
    Ok(Decoding {
        spec,
        block,
        confidence,
    })
}

/// `decoder.block_size`, which must divide `gen_length`.
fn block_size(d: &DecoderDoc, gen_length: u64, keys: &Keys) -> Result<u64, ScenarioError> {
    let block = d
        .block_size
        .ok_or_else(|| keys.missing("decoder.block_size"))?;
    if block == 0 {
        return Err(keys.err("decoder.block_size", "must be at least 1".into()));
    }
    if !gen_length.is_multiple_of(block) {
        let lo = gen_length / block * block;
        let hint = if lo > 0 {
            format!("{lo} or {}", lo + block)
        } else {
            format!("{block}")
        };
        return Err(keys.err("gen_length", format!(
            "gen_length {gen_length} is not a multiple of decoder.block_size {block} ({}); try {hint}",
            keys.locate("decoder.block_size")
        )));
    }
    Ok(block)
}

/// The add, activate and fill thresholds and `decoder.k`, with their defaults.
fn thresholds(d: &DecoderDoc, keys: &Keys) -> Result<Thresholds, ScenarioError> {
    let add = unit(keys, "decoder.add_threshold", d.add_threshold, 0.1)?;
    let activate = unit(
        keys,
        "decoder.activate_threshold",
        d.activate_threshold,
        0.95,
    )?;
    let fill = unit(keys, "decoder.fill_threshold", d.fill_threshold, 0.9)?;
    let k = d.k.unwrap_or(1);
    if k == 0 {
        return Err(keys.err("decoder.k", "must be at least 1".into()));
    }
    Ok(Thresholds {
        add,
        activate,
        fill,
        k,
    })
}

/// One block's fill under `kind` (`None` for d2f's own), shared by the semi-AR decoders
/// and d2f's `fill_rule`; records the values it used so the configuration shows them.
fn block_rule(
    kind: DecoderKind,
    d: &mut DecoderDoc,
    t: &Thresholds,
    keys: &Keys,
) -> Result<Option<SemiArRule>, ScenarioError> {
    let (fill, k) = (t.fill, t.k);
    Ok(Some(match kind {
        DecoderKind::D2f => return Ok(None),
        DecoderKind::Threshold => {
            d.fill_threshold = Some(fill);
            SemiArRule::Threshold(fill)
        }
        DecoderKind::Topk => {
            d.k = Some(k);
            SemiArRule::TopK(k as usize)
        }
        DecoderKind::Factor => {
            let f = d.factor.unwrap_or(1.0);
            if !(f > 0.0 && f.is_finite()) {
                return Err(keys.err(
                    "decoder.factor",
                    format!("must be a finite number > 0, got {f}"),
                ));
            }
            d.factor = Some(f);
            SemiArRule::Factor(f)
        }
        DecoderKind::Eb => {
            let g = non_negative(keys, "decoder.gamma", d.gamma, 0.1)?;
            d.gamma = Some(g);
            SemiArRule::Eb(g)
        }
        DecoderKind::EntropyThreshold => {
            let eta = non_negative(keys, "decoder.eta", d.eta, 0.5)?;
            d.eta = Some(eta);
            SemiArRule::EntropyThreshold(eta)
        }
        DecoderKind::LeftToRight => SemiArRule::LeftToRight,
        DecoderKind::Random => {
            d.k = Some(k);
            SemiArRule::Random(k as usize)
        }
        DecoderKind::PerRun => {
            d.fill_threshold = Some(fill);
            SemiArRule::PerRun(fill)
        }
    }))
}

/// A threshold in [0, 1], with its default.
fn unit(keys: &Keys, key: &str, v: Option<f64>, default: f64) -> Result<f64, ScenarioError> {
    let x = v.unwrap_or(default);
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(keys.err(key, format!("must be a number in [0, 1], got {x}")))
    }
}

/// A finite rule parameter >= 0, with its default.
fn non_negative(
    keys: &Keys,
    key: &str,
    v: Option<f64>,
    default: f64,
) -> Result<f64, ScenarioError> {
    let x = v.unwrap_or(default);
    if x >= 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err(keys.err(key, format!("must be a finite number >= 0, got {x}")))
    }
}
