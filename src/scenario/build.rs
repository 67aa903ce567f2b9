//! Turns validated configurations into engine setups: loads or generates each distinct
//! matrix once, checks what needs the vocabulary, and shares one oracle (and its power
//! cache) between every configuration that uses the same one.

use std::sync::Arc;

use ndarray::Array2;

use super::load::Scenario;
use super::matrix::{read_square, ROW_SUM_TOLERANCE};
use super::resolve::{DecoderSpec, MarkovSource, Resolved};
use super::ScenarioError;
use crate::decoder::AnchorDecoder;
use crate::engine::{Prompts, Setup};
use crate::model::{chain_gen, ConfidenceModel, MarkovOracle};
use crate::state::{Attention, Token};

#[derive(PartialEq)]
struct OracleKey {
    source: MarkovSource,
    seed: Option<u64>,
    eos: Option<Token>,
    attention: Attention,
}

impl Scenario {
    /// One engine setup per configuration.
    pub fn setups(&self, resolved: &[Resolved]) -> Result<Vec<Setup>, ScenarioError> {
        let mut matrices: Vec<(MarkovSource, Option<u64>, Arc<Array2<f64>>)> = Vec::new();
        let mut oracles: Vec<(OracleKey, usize, Option<Arc<MarkovOracle>>)> = Vec::new();
        let mut slots = Vec::with_capacity(resolved.len());
        for r in resolved {
            let c = &r.config;
            let at = |key: &str| {
                r.origins
                    .get(key)
                    .cloned()
                    .unwrap_or(super::Origin::Default)
            };
            let seed = matches!(c.source, MarkovSource::Generated(_)).then_some(c.seed);
            let t = match matrices
                .iter()
                .find(|(s, sd, _)| *s == c.source && *sd == seed)
            {
                Some((_, _, t)) => t.clone(),
                None => {
                    let t = Arc::new(match &c.source {
                        MarkovSource::Csv(path) => read_square(path).map_err(|m| {
                            self.error(&at("model.transitions"), "model.transitions", m)
                        })?,
                        MarkovSource::Generated(p) => chain_gen::generate(p, c.seed),
                    });
                    matrices.push((c.source.clone(), seed, t.clone()));
                    t
                }
            };
            let v = t.nrows();
            if let Some(e) = c.eos_token {
                let key = "model.eos_token";
                if e as usize >= v {
                    return Err(self.error(
                        &at(key),
                        key,
                        format!("token {e} is outside the vocabulary 0..{v}"),
                    ));
                }
                let stay = t[[e as usize, e as usize]];
                if (stay - 1.0).abs() > ROW_SUM_TOLERANCE {
                    return Err(self.error(
                        &at(key),
                        key,
                        format!(
                        "the EOS row must be absorbing (T[{e}, {e}] = 1), but T[{e}, {e}] = {stay}"
                    ),
                    ));
                }
            }
            if let Prompts::Explicit(list) = &c.prompts {
                for (i, p) in list.iter().enumerate() {
                    if let Some(&bad) = p.iter().find(|&&x| x as usize >= v) {
                        return Err(self.error(
                            &at("model.prompts"),
                            "model.prompts",
                            format!("prompt {i} holds token {bad}, outside the vocabulary 0..{v}"),
                        ));
                    }
                }
            }
            let bytes = MarkovOracle::cache_bytes(v, c.gen_length);
            if bytes > u128::from(c.cache_budget_mb) << 20 {
                return Err(self.error(&at("model.cache_budget_mb"), "model.cache_budget_mb", format!(
                    "the matrix-power cache for V = {v} and gen_length = {} needs up to {} MiB (V * V * L * 8 bytes), over the budget of {} MiB; raise model.cache_budget_mb or shrink the vocabulary or gen_length",
                    c.gen_length, bytes >> 20, c.cache_budget_mb
                )));
            }
            let key = OracleKey {
                source: c.source.clone(),
                seed,
                eos: c.eos_token,
                attention: c.attention,
            };
            let slot = match oracles.iter().position(|(k, _, _)| *k == key) {
                Some(i) => {
                    oracles[i].1 = oracles[i].1.max(c.gen_length);
                    i
                }
                None => {
                    oracles.push((key, c.gen_length, None));
                    oracles.len() - 1
                }
            };
            slots.push((slot, t));
        }
        let mut setups = Vec::with_capacity(resolved.len());
        for (r, (slot, t)) in resolved.iter().zip(slots) {
            let c = &r.config;
            let (key, max_len, oracle) = &mut oracles[slot];
            let oracle = oracle
                .get_or_insert_with(|| {
                    Arc::new(MarkovOracle::new(
                        (*t).clone(),
                        key.eos,
                        key.attention,
                        *max_len,
                    ))
                })
                .clone();
            let model: Arc<dyn ConfidenceModel> = oracle;
            let decoder: Arc<dyn AnchorDecoder> = match &c.decoder {
                DecoderSpec::D2f(d) => Arc::new(d.clone()),
                DecoderSpec::SemiAr(d) => Arc::new(d.clone()),
            };
            setups.push(Setup {
                model,
                decoder,
                search: c.search,
                confidence: c.confidence,
                gen_length: c.gen_length,
                prompts: c.prompts.clone(),
                seed: c.seed,
                sequences: c.sequences,
            });
        }
        Ok(setups)
    }
}
