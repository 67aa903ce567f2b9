//! From a loaded scenario to validated configurations: cases in file order, the sweep's
//! cartesian product inside each (last key fastest), defaults, required keys and ranges.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::{Table, Value};

use super::doc::{DecoderDoc, DecoderKind, FileDoc, SearchKind};
use super::load::{Entry, Origin, Scenario};
use super::models::ModelSpec;
use super::ScenarioError;
use crate::decoder::{D2f, SemiAr, SemiArRule};
use crate::engine::Prompts;
use crate::record::ConfigLabel;
use crate::report::float_cell;
use crate::search::{Knobs, Search};
use crate::state::{Attention, ConfidenceKind, Token};

/// Longest generation a scenario may ask for.
const MAX_GEN_LENGTH: u64 = 1 << 16;

/// Most configurations a scenario may expand to: each is resolved and held up front.
const MAX_CONFIGURATIONS: usize = 100_000;

/// Most sequences per configuration: every record is kept until the files are written.
const MAX_SEQUENCES: u64 = 100_000_000;

/// Most generated worlds per configuration: each one holds its own model in memory.
const MAX_WORLDS: u64 = 1024;

/// The anchor decoder of a configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum DecoderSpec {
    /// SPEC 3.1.
    D2f(D2f),
    /// SPEC 3.2 and 3.3.
    SemiAr(SemiAr),
}

/// One validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Scenario name.
    pub name: String,
    /// Root seed.
    pub seed: u64,
    /// The seed of every generated model: `model.seed`, else `seed` (SPEC 6).
    pub model_seed: u64,
    /// Sequences decoded in each world.
    pub sequences: usize,
    /// Generated worlds each sequence is decoded in (`worlds`, default 1).
    pub worlds: usize,
    /// L.
    pub gen_length: usize,
    /// The confidence model.
    pub model: ModelSpec,
    /// The miscalibration wrapper's (temperature, logit noise), when it is on.
    pub miscalibration: Option<(f64, f64)>,
    /// EOS.
    pub eos_token: Option<Token>,
    /// Visibility.
    pub attention: Attention,
    /// Prompt source.
    pub prompts: Prompts,
    /// Largest matrix-power cache allowed, in MiB.
    pub cache_budget_mb: u64,
    /// The anchor decoder.
    pub decoder: DecoderSpec,
    /// The order search.
    pub search: Search,
    /// LoPA's options beyond k.
    pub knobs: Knobs,
    /// conf_i's kind.
    pub confidence: ConfidenceKind,
    /// `output.dir`.
    pub output_dir: Option<String>,
    /// `output.trace_seq`.
    pub trace_seq: usize,
    /// The `[system]` cost model, when the scenario has one.
    pub system: Option<crate::system::SystemModel>,
    /// `output.trace_config`: the configuration of `tfo_map`'s right panel.
    pub trace_config: Option<usize>,
}

/// A configuration with its label, its fully resolved keys and where each came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// Index, case and swept values.
    pub label: ConfigLabel,
    /// The validated configuration.
    pub config: Config,
    /// Every key after defaults, for `summary.json`.
    pub doc: FileDoc,
    /// Where every explicitly given key came from.
    pub origins: IndexMap<String, Origin>,
}

/// A swept value as TOML would read it: strings unquoted, floats with a decimal point.
pub fn value_cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Float(f) => float_cell(*f),
        other => other.to_string(),
    }
}

impl Scenario {
    /// Every configuration, numbered from 0.
    pub fn configurations(&self) -> Result<Vec<Resolved>, ScenarioError> {
        let cases: Vec<Option<usize>> = if self.cases.is_empty() {
            vec![None]
        } else {
            (0..self.cases.len()).map(Some).collect()
        };
        let combos = self
            .sweep
            .values()
            .try_fold(cases.len(), |n, s| n.checked_mul(s.values.len()))
            .filter(|&n| n <= MAX_CONFIGURATIONS)
            .ok_or_else(|| {
                ScenarioError(format!(
                    "{}: the cases and sweep expand to more than {MAX_CONFIGURATIONS} configurations; split the scenario or sweep fewer values",
                    self.path.display()
                ))
            })?
            / cases.len();
        let mut out = Vec::new();
        for case in cases {
            let mut flat = self.base.clone();
            if let Some(c) = case {
                for (key, entry) in &self.cases[c].overrides {
                    if let Some(swept) = self.sweep.get(key) {
                        return Err(self.error(
                            &entry.origin,
                            key,
                            format!(
                                "this key is also swept ({}); a case override would have no effect",
                                self.locate(&swept.origin)
                            ),
                        ));
                    }
                    flat.insert(key.clone(), entry.clone());
                }
            }
            for combo in 0..combos {
                let mut flat = flat.clone();
                let mut swept = Vec::new();
                // Mixed radix with the last key fastest.
                let mut rest = combo;
                let mut picks = vec![0; self.sweep.len()];
                for (i, s) in self.sweep.values().enumerate().rev() {
                    picks[i] = rest % s.values.len();
                    rest /= s.values.len();
                }
                for ((key, s), &pick) in self.sweep.iter().zip(&picks) {
                    let value = s.values[pick].clone();
                    swept.push((key.clone(), value_cell(&value)));
                    flat.insert(
                        key.clone(),
                        Entry {
                            value,
                            origin: s.origin.clone(),
                        },
                    );
                }
                let label = ConfigLabel {
                    index: out.len(),
                    case: case.map(|c| self.cases[c].name.clone()),
                    swept,
                    branches: 0,
                    system: None,
                };
                out.push(self.resolve(label, &flat)?);
            }
        }
        Ok(out)
    }

    fn resolve(
        &self,
        label: ConfigLabel,
        flat: &IndexMap<String, Entry>,
    ) -> Result<Resolved, ScenarioError> {
        let mut root = Table::new();
        for (key, entry) in flat {
            insert_dotted(&mut root, key, entry.value.clone());
        }
        let mut doc = FileDoc::deserialize(Value::Table(root))
            .map_err(|e| ScenarioError(format!("{}: {}", self.path.display(), e.message())))?;
        let origins: IndexMap<String, Origin> = flat
            .iter()
            .map(|(k, e)| (k.clone(), e.origin.clone()))
            .collect();
        let at = |key: &str| origins.get(key).cloned().unwrap_or(Origin::Default);
        let err = |key: &str, problem: String| self.error(&at(key), key, problem);
        let missing = |key: &str| {
            ScenarioError(format!(
                "{}: missing required key `{key}`",
                self.path.display()
            ))
        };

        let name = doc.name.clone().ok_or_else(|| missing("name"))?;
        if name.trim().is_empty() || name.contains(['/', '\\']) {
            return Err(err(
                "name",
                "a name must be non-empty and hold no path separator".into(),
            ));
        }
        let seed = *doc.seed.get_or_insert(0);
        let sequences = doc.sequences.ok_or_else(|| missing("sequences"))?;
        if sequences == 0 || sequences > MAX_SEQUENCES {
            return Err(err(
                "sequences",
                format!("must be in 1..={MAX_SEQUENCES}, got {sequences}"),
            ));
        }
        let gen_length = doc.gen_length.ok_or_else(|| missing("gen_length"))?;
        if gen_length == 0 || gen_length > MAX_GEN_LENGTH {
            return Err(err(
                "gen_length",
                format!("must be in 1..={MAX_GEN_LENGTH}, got {gen_length}"),
            ));
        }
        let model = doc.model.get_or_insert_with(Default::default);
        let decoder_doc = doc.decoder.get_or_insert_with(Default::default);
        let decoder_kind = decoder_doc.kind.ok_or_else(|| missing("decoder.kind"))?;
        let block = decoder_doc
            .block_size
            .ok_or_else(|| missing("decoder.block_size"))?;
        if block == 0 {
            return Err(err("decoder.block_size", "must be at least 1".into()));
        }
        if gen_length % block != 0 {
            let lo = gen_length / block * block;
            let hint = if lo > 0 {
                format!("{lo} or {}", lo + block)
            } else {
                format!("{block}")
            };
            return Err(err("gen_length", format!(
                "gen_length {gen_length} is not a multiple of decoder.block_size {block} ({}); try {hint}",
                self.locate(&at("decoder.block_size"))
            )));
        }
        let unit = |key: &str, v: Option<f64>, default: f64| -> Result<f64, ScenarioError> {
            let x = v.unwrap_or(default);
            if (0.0..=1.0).contains(&x) {
                Ok(x)
            } else {
                Err(err(key, format!("must be a number in [0, 1], got {x}")))
            }
        };
        let add = unit("decoder.add_threshold", decoder_doc.add_threshold, 0.1)?;
        let act = unit(
            "decoder.activate_threshold",
            decoder_doc.activate_threshold,
            0.95,
        )?;
        let fill = unit("decoder.fill_threshold", decoder_doc.fill_threshold, 0.9)?;
        let k = decoder_doc.k.unwrap_or(1);
        if k == 0 {
            return Err(err("decoder.k", "must be at least 1".into()));
        }
        let confidence = *decoder_doc.confidence.get_or_insert(ConfidenceKind::Prob);
        let (block, blocks) = (block as usize, (gen_length / block) as usize);
        let semi_ar = |rule| {
            DecoderSpec::SemiAr(SemiAr {
                block_size: block,
                blocks,
                rule,
            })
        };
        let non_negative = |key: &str, v: Option<f64>, default: f64| {
            let x = v.unwrap_or(default);
            if x >= 0.0 && x.is_finite() {
                Ok(x)
            } else {
                Err(err(key, format!("must be a finite number >= 0, got {x}")))
            }
        };
        // One block's fill under `kind`, shared by the semi-AR decoders and d2f's
        // `fill_rule`; records the values it used so the configuration shows them.
        let rule_of =
            |kind: DecoderKind, d: &mut DecoderDoc| -> Result<Option<SemiArRule>, ScenarioError> {
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
                            return Err(err(
                                "decoder.factor",
                                format!("must be a finite number > 0, got {f}"),
                            ));
                        }
                        d.factor = Some(f);
                        SemiArRule::Factor(f)
                    }
                    DecoderKind::Eb => {
                        let g = non_negative("decoder.gamma", d.gamma, 0.1)?;
                        d.gamma = Some(g);
                        SemiArRule::Eb(g)
                    }
                    DecoderKind::EntropyThreshold => {
                        let eta = non_negative("decoder.eta", d.eta, 0.5)?;
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
            };
        let decoder = match decoder_kind {
            DecoderKind::D2f => {
                decoder_doc.add_threshold = Some(add);
                decoder_doc.activate_threshold = Some(act);
                decoder_doc.fill_threshold = Some(fill);
                let fill_rule = match decoder_doc.fill_rule {
                    Some(rule) => rule_of(rule, decoder_doc)?,
                    None => None,
                };
                DecoderSpec::D2f(D2f {
                    block_size: block,
                    max_blocks: blocks,
                    add_threshold: add,
                    activate_threshold: act,
                    fill_threshold: fill,
                    fill_rule,
                })
            }
            other => {
                if let Some(rule) = decoder_doc.fill_rule {
                    return Err(err(
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
                semi_ar(rule_of(other, decoder_doc)?.expect("a semi-AR kind has a rule"))
            }
        };
        let search_doc = doc.search.get_or_insert_with(Default::default);
        let mut knobs = Knobs::default();
        if let Some(limit) = search_doc.max_rounds {
            if limit == 0 {
                return Err(err("search.max_rounds", "must be at least 1".into()));
            }
            knobs.max_rounds = Some(limit);
        }
        let search = match *search_doc.kind.get_or_insert(SearchKind::None) {
            SearchKind::None => Search::None,
            SearchKind::Lopa => {
                let branches = *search_doc.branches.get_or_insert(0);
                if branches > 4096 {
                    return Err(err(
                        "search.branches",
                        format!("must be at most 4096, got {branches}"),
                    ));
                }
                knobs.spawn_completion = *search_doc
                    .spawn_completion
                    .get_or_insert(knobs.spawn_completion);
                let topp = *search_doc.branch_topp.get_or_insert(1.0);
                if !(topp > 0.0 && topp <= 1.0) {
                    return Err(err(
                        "search.branch_topp",
                        format!("must be a number in (0, 1], got {topp}"),
                    ));
                }
                let alpha = *search_doc.alpha.get_or_insert(0.0);
                if !(0.0..=1.0).contains(&alpha) {
                    return Err(err(
                        "search.alpha",
                        format!("must be a number in [0, 1], got {alpha}"),
                    ));
                }
                let extra = *search_doc.extra_tokens.get_or_insert(1);
                if extra == 0 || extra > MAX_GEN_LENGTH {
                    return Err(err(
                        "search.extra_tokens",
                        format!("must be in 1..={MAX_GEN_LENGTH}, got {extra}"),
                    ));
                }
                knobs.branch_topp = topp;
                knobs.alpha = alpha;
                knobs.extra_tokens = extra as usize;
                knobs.force_base = *search_doc.force_base.get_or_insert(false);
                Search::Lopa {
                    branches: branches as usize,
                }
            }
            SearchKind::Oracle => {
                let depth = *search_doc.depth.get_or_insert(0);
                let width = *search_doc.width.get_or_insert(1);
                let branches = *search_doc.branches.get_or_insert(0);
                let budget = *search_doc.state_budget_mb.get_or_insert(1024);
                if depth > 1 << 10 {
                    return Err(err(
                        "search.depth",
                        format!("must be at most 1024, got {depth}"),
                    ));
                }
                if width == 0 || width > 1 << 20 {
                    return Err(err(
                        "search.width",
                        format!("must be in 1..=1048576, got {width}"),
                    ));
                }
                if branches > 4096 {
                    return Err(err(
                        "search.branches",
                        format!("must be at most 4096, got {branches}"),
                    ));
                }
                knobs.state_budget_mb = budget;
                Search::Oracle {
                    depth: depth as usize,
                    width: width as usize,
                    branches: branches as usize,
                }
            }
        };

        let attention = *model.attention.get_or_insert(Attention::Full);
        let model_spec = self.model_spec(model, &err)?;
        let miscalibration = self.miscalibration(model, &err)?;
        let prompts = match &model.prompts {
            Some(list) if list.is_empty() || list.iter().any(Vec::is_empty) => {
                return Err(err(
                    "model.prompts",
                    "must be a non-empty list of non-empty token lists, e.g. [[1, 2], [3]]".into(),
                ))
            }
            Some(list) => Prompts::Explicit(list.clone()),
            None => {
                let len = *model.prompt_length.get_or_insert(1);
                if len == 0 || len > MAX_GEN_LENGTH {
                    return Err(err(
                        "model.prompt_length",
                        format!("must be in 1..={MAX_GEN_LENGTH}, got {len}"),
                    ));
                }
                Prompts::Sampled(len as usize)
            }
        };
        if let Search::Oracle { depth: 0, .. } = search {
            let prompt_len = match &prompts {
                Prompts::Explicit(list) => list.iter().map(Vec::len).max().unwrap_or(1),
                Prompts::Sampled(len) => *len,
            };
            let pipelined = matches!(decoder, DecoderSpec::D2f(_));
            let (l, b) = (gen_length as usize, block);
            let states = crate::search::state_estimate(l, b, pipelined);
            let bytes =
                u128::from(states) * u128::from(crate::search::state_bytes(prompt_len, l, b));
            if bytes > u128::from(knobs.state_budget_mb) << 20 {
                return Err(err(
                    "search.kind",
                    format!(
                        "the exhaustive oracle (search.depth = 0) may meet up to {} states for gen_length = {l}, block_size = {b} (about {} MiB), over search.state_budget_mb = {}; shrink gen_length, raise the budget, or ask for a beam with search.depth > 0",
                        if states == u64::MAX { "2^64".to_string() } else { states.to_string() },
                        if bytes >> 20 > u128::from(u64::MAX) { "2^64".to_string() } else { (bytes >> 20).to_string() },
                        knobs.state_budget_mb
                    ),
                ));
            }
        }
        let cache_budget_mb = *model.cache_budget_mb.get_or_insert(2048);
        let model_seed = model.seed.unwrap_or(seed);
        let worlds = *doc.worlds.get_or_insert(1);
        if worlds == 0 || worlds > MAX_WORLDS {
            return Err(err(
                "worlds",
                format!("must be in 1..={MAX_WORLDS}, got {worlds}"),
            ));
        }
        if worlds > 1 && !model_spec.generated() {
            let why = "this model is read from CSV files, which give one world; drop the key, or generate the model from `model.vocab_size` and the generator's knobs";
            return Err(err(
                "worlds",
                format!("worlds = {worlds} needs a generated model, but {why}"),
            ));
        }
        let eos_token = model.eos_token;
        let output = doc.output.get_or_insert_with(Default::default);
        let trace_seq = *output.trace_seq.get_or_insert(0);
        let system = super::system::system_model(&mut doc.system, &err)?;
        if trace_seq >= sequences {
            return Err(err(
                "output.trace_seq",
                format!("must be in 0..{sequences} (the sequences decoded), got {trace_seq}"),
            ));
        }
        let trace_config = output.trace_config.map(|c| c as usize);
        let config = Config {
            name,
            seed,
            model_seed,
            sequences: sequences as usize,
            worlds: worlds as usize,
            gen_length: gen_length as usize,
            model: model_spec,
            miscalibration,
            eos_token,
            attention,
            prompts,
            cache_budget_mb,
            decoder,
            search,
            knobs,
            confidence,
            output_dir: output.dir.clone(),
            trace_seq: trace_seq as usize,
            system,
            trace_config,
        };
        let label = ConfigLabel {
            branches: config.search.lookahead_branches(),
            system: config
                .system
                .as_ref()
                .map(crate::system::SystemModel::label),
            ..label
        };
        Ok(Resolved {
            label,
            config,
            doc,
            origins,
        })
    }
}

/// Puts `value` at the dotted `key` of `root`, creating tables on the way.
fn insert_dotted(root: &mut Table, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut table = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            table.insert(part.to_string(), value);
            return;
        }
        let slot = table
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !slot.is_table() {
            *slot = Value::Table(Table::new());
        }
        table = slot.as_table_mut().expect("just made a table");
    }
}

/// Pairs each `none` or `lopa` configuration with an oracle configuration on the same
/// sequences: the first whose resolved keys equal its own outside `[search]` (the case
/// name aside), preferring the exhaustive oracle (depth 0) over a beam. Oracle
/// configurations themselves get no partner.
pub fn oracle_partners(resolved: &[Resolved]) -> Vec<Option<usize>> {
    let outside_search = |r: &Resolved| FileDoc {
        search: None,
        case: None,
        ..r.doc.clone()
    };
    let oracles: Vec<(usize, FileDoc, bool)> = resolved
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.config.search {
            Search::Oracle { depth, .. } => Some((i, outside_search(r), depth == 0)),
            _ => None,
        })
        .collect();
    resolved
        .iter()
        .map(|r| {
            if matches!(r.config.search, Search::Oracle { .. }) {
                return None;
            }
            let me = outside_search(r);
            let same = |o: &&(usize, FileDoc, bool)| o.1 == me;
            let exact = oracles.iter().filter(same).find(|o| o.2);
            exact.or_else(|| oracles.iter().find(same)).map(|o| o.0)
        })
        .collect()
}
