//! From a loaded scenario to validated configurations: cases in file order, the sweep's
//! cartesian product inside each (last key fastest), defaults, required keys and ranges.
//!
//! `expand` makes each configuration's flat keys; `Scenario::resolve` then checks them in
//! named steps, one per table (`decoder`, `search`, the `[model]` table in `models`), in a
//! fixed order, so the first problem reported is always the same one; `partners` pairs the
//! resolved configurations with the oracle ones.

mod decoder;
mod expand;
mod partners;
mod search;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::{Table, Value};

use super::doc::{FileDoc, ModelDoc};
use super::load::{Entry, Origin, Scenario};
use super::models::ModelSpec;
use super::ScenarioError;
use crate::engine::Prompts;
use crate::record::ConfigLabel;
use crate::search::{Knobs, Search};
use crate::state::{Attention, ConfidenceKind, Token};

pub use decoder::DecoderSpec;
pub use expand::value_cell;
pub use partners::oracle_partners;

/// Longest generation a scenario may ask for.
const MAX_GEN_LENGTH: u64 = 1 << 16;

/// Most sequences per configuration: every record is kept until the files are written.
const MAX_SEQUENCES: u64 = 100_000_000;

/// Most generated worlds per configuration: each one holds its own model in memory.
const MAX_WORLDS: u64 = 1024;

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

/// One configuration's keys as its checks see them: where each came from, so that an error
/// names the file and line (or the `--set`) of the value at fault.
struct Keys<'a> {
    scenario: &'a Scenario,
    origins: &'a IndexMap<String, Origin>,
}

impl Keys<'_> {
    fn at(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }

    /// A problem with `key`, where it was given.
    fn err(&self, key: &str, problem: String) -> ScenarioError {
        self.scenario.error(&self.at(key), key, problem)
    }

    /// Where `key` was given, for a problem reported at another key.
    fn locate(&self, key: &str) -> String {
        self.scenario.locate(&self.at(key))
    }

    /// A required key that no file, case, sweep or `--set` gives.
    fn missing(&self, key: &str) -> ScenarioError {
        ScenarioError(format!(
            "{}: missing required key `{key}`",
            self.scenario.path.display()
        ))
    }
}

/// The top-level keys every configuration needs.
struct Header {
    name: String,
    seed: u64,
    sequences: u64,
    gen_length: u64,
}

impl Scenario {
    /// One configuration from its flat keys. Each step checks its keys and writes the
    /// defaults it used back into the document, so `summary.json` shows every value used.
    fn resolve(
        &self,
        label: ConfigLabel,
        flat: &IndexMap<String, Entry>,
    ) -> Result<Resolved, ScenarioError> {
        let mut doc = self.file_doc(flat)?;
        let origins: IndexMap<String, Origin> = flat
            .iter()
            .map(|(k, e)| (k.clone(), e.origin.clone()))
            .collect();
        let keys = Keys {
            scenario: self,
            origins: &origins,
        };
        let err = |key: &str, problem: String| keys.err(key, problem);

        let header = header(&mut doc, &keys)?;
        let model = doc.model.get_or_insert_with(Default::default);
        let decoder_doc = doc.decoder.get_or_insert_with(Default::default);
        let decoding = decoder::decoding(decoder_doc, header.gen_length, &keys)?;
        let search_doc = doc.search.get_or_insert_with(Default::default);
        let (search, knobs) = search::search(search_doc, &keys)?;
        let attention = *model.attention.get_or_insert(Attention::Full);
        let model_spec = self.model_spec(model, &err)?;
        let miscalibration = self.miscalibration(model, &err)?;
        let prompts = prompts(model, &keys)?;
        search::check_state_budget(
            &search,
            &knobs,
            &prompts,
            &decoding,
            header.gen_length,
            &keys,
        )?;
        let cache_budget_mb = *model.cache_budget_mb.get_or_insert(2048);
        let model_seed = model.seed.unwrap_or(header.seed);
        let worlds = worlds(&mut doc.worlds, &model_spec, &keys)?;
        let eos_token = model.eos_token;
        let output = doc.output.get_or_insert_with(Default::default);
        let trace_seq = *output.trace_seq.get_or_insert(0);
        if let Some(dir) = &output.dir {
            super::names::check_output_dir(dir).map_err(|m| keys.err("output.dir", m))?;
        }
        let system = super::system::system_model(&mut doc.system, &err)?;
        if trace_seq >= header.sequences {
            return Err(keys.err(
                "output.trace_seq",
                format!(
                    "must be in 0..{} (the sequences decoded), got {trace_seq}",
                    header.sequences
                ),
            ));
        }
        let config = Config {
            name: header.name,
            seed: header.seed,
            model_seed,
            sequences: header.sequences as usize,
            worlds: worlds as usize,
            gen_length: header.gen_length as usize,
            model: model_spec,
            miscalibration,
            eos_token,
            attention,
            prompts,
            cache_budget_mb,
            decoder: decoding.spec,
            search,
            knobs,
            confidence: decoding.confidence,
            output_dir: output.dir.clone(),
            trace_seq: trace_seq as usize,
            system,
            trace_config: output.trace_config.map(|c| c as usize),
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

    /// The flat keys as one document, read by serde as a whole file would be.
    fn file_doc(&self, flat: &IndexMap<String, Entry>) -> Result<FileDoc, ScenarioError> {
        let mut root = Table::new();
        for (key, entry) in flat {
            insert_dotted(&mut root, key, entry.value.clone());
        }
        FileDoc::deserialize(Value::Table(root)).map_err(|e| {
            ScenarioError(format!(
                "{}: {}",
                self.path.display(),
                super::parse_error::plain(e.message())
            ))
        })
    }
}

/// `name`, `seed`, `sequences` and `gen_length`.
fn header(doc: &mut FileDoc, keys: &Keys) -> Result<Header, ScenarioError> {
    let name = doc.name.clone().ok_or_else(|| keys.missing("name"))?;
    super::names::check_folder_name(&name).map_err(|m| keys.err("name", m))?;
    let seed = *doc.seed.get_or_insert(0);
    let sequences = doc.sequences.ok_or_else(|| keys.missing("sequences"))?;
    if sequences == 0 || sequences > MAX_SEQUENCES {
        return Err(keys.err(
            "sequences",
            format!("must be in 1..={MAX_SEQUENCES}, got {sequences}"),
        ));
    }
    let gen_length = doc.gen_length.ok_or_else(|| keys.missing("gen_length"))?;
    if gen_length == 0 || gen_length > MAX_GEN_LENGTH {
        return Err(keys.err(
            "gen_length",
            format!("must be in 1..={MAX_GEN_LENGTH}, got {gen_length}"),
        ));
    }
    Ok(Header {
        name,
        seed,
        sequences,
        gen_length,
    })
}

/// `model.prompts`, else prompts of `model.prompt_length` sampled from the model.
fn prompts(model: &mut ModelDoc, keys: &Keys) -> Result<Prompts, ScenarioError> {
    Ok(match &model.prompts {
        Some(list) if list.is_empty() || list.iter().any(Vec::is_empty) => {
            return Err(keys.err(
                "model.prompts",
                "must be a non-empty list of non-empty token lists, e.g. [[1, 2], [3]]".into(),
            ))
        }
        Some(list) => Prompts::Explicit(list.clone()),
        None => {
            let len = *model.prompt_length.get_or_insert(1);
            if len == 0 || len > MAX_GEN_LENGTH {
                return Err(keys.err(
                    "model.prompt_length",
                    format!("must be in 1..={MAX_GEN_LENGTH}, got {len}"),
                ));
            }
            Prompts::Sampled(len as usize)
        }
    })
}

/// `worlds`, which only a generated model can replicate.
fn worlds(worlds: &mut Option<u64>, model: &ModelSpec, keys: &Keys) -> Result<u64, ScenarioError> {
    let worlds = *worlds.get_or_insert(1);
    if worlds == 0 || worlds > MAX_WORLDS {
        return Err(keys.err(
            "worlds",
            format!("must be in 1..={MAX_WORLDS}, got {worlds}"),
        ));
    }
    if worlds > 1 && !model.generated() {
        let why = "this model is read from CSV files, which give one world; drop the key, or generate the model from `model.vocab_size` and the generator's knobs";
        return Err(keys.err(
            "worlds",
            format!("worlds = {worlds} needs a generated model, but {why}"),
        ));
    }
    Ok(worlds)
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
