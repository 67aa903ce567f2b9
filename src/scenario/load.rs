//! Reading a scenario file and its `--set` overrides into flat dotted keys, each with the
//! place it came from, and expanding cases and the sweep into configurations.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use toml::{Table, Value};

use super::doc::{FileDoc, KEYS};
use super::parse_error::{file_error, integer_out_of_range, plain};
use super::spans::Spans;
use super::ScenarioError;

/// Where a key's value came from, for error messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A line of the scenario file.
    File(usize),
    /// A `--set` argument.
    Set(String),
    /// Nowhere: the default.
    Default,
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The TOML value.
    pub value: Value,
    /// Its source.
    pub origin: Origin,
}

/// A `[[case]]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The case's `name`.
    pub name: String,
    /// Line of the case table.
    pub origin: Origin,
    /// Its dotted-key overrides.
    pub overrides: IndexMap<String, Entry>,
}

/// One swept key.
#[derive(Clone, Debug, PartialEq)]
pub struct Swept {
    /// The values, in file order.
    pub values: Vec<Value>,
    /// Where the list came from.
    pub origin: Origin,
}

/// A scenario file after `--set`, before expansion.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file.
    pub path: PathBuf,
    /// Relative paths inside the file start here.
    pub dir: PathBuf,
    /// Every plain key.
    pub base: IndexMap<String, Entry>,
    /// `[sweep]`, in file order.
    pub sweep: IndexMap<String, Swept>,
    /// `[[case]]` tables, in file order.
    pub cases: Vec<Case>,
}

impl Scenario {
    /// Where `origin` is, as an error prefix.
    pub fn locate(&self, origin: &Origin) -> String {
        match origin {
            Origin::File(line) => format!("{}:{line}", self.path.display()),
            Origin::Set(arg) => format!("--set {arg}"),
            Origin::Default => self.path.display().to_string(),
        }
    }

    /// An error about `key` at `origin`.
    pub fn error(
        &self,
        origin: &Origin,
        key: &str,
        problem: impl std::fmt::Display,
    ) -> ScenarioError {
        ScenarioError(format!("{}: key `{key}`: {problem}", self.locate(origin)))
    }
}

/// Reads `path` and applies `sets` (each `KEY=VALUE`) in order.
pub fn load(path: &Path, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let text = crate::input::read_to_string(path, crate::input::SMALL)
        .map_err(|e| ScenarioError(format!("cannot read scenario file {}: {e}", path.display())))?;
    let spans = Spans::new(&text);
    if let Err(e) = toml::from_str::<FileDoc>(&text) {
        return Err(file_error(path, &spans, &e));
    }
    let root: Table = toml::from_str(&text).map_err(|e| file_error(path, &spans, &e))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut scenario = Scenario {
        path: path.to_path_buf(),
        dir,
        base: IndexMap::new(),
        sweep: IndexMap::new(),
        cases: Vec::new(),
    };
    let file_origin = |key: &str| spans.line(key).map_or(Origin::Default, Origin::File);
    for (key, value) in root {
        match (key.as_str(), value) {
            ("sweep", Value::Table(t)) => {
                for (k, v) in flatten(t) {
                    let origin = file_origin(&format!("sweep.{k}"));
                    add_sweep(&mut scenario, k, v, origin)?;
                }
            }
            ("case", Value::Array(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    let Value::Table(t) = item else {
                        unreachable!("checked by FileDoc")
                    };
                    let case = read_case(&scenario, t, i, &file_origin)?;
                    scenario.cases.push(case);
                }
                let name_at = |i| file_origin(&format!("case[{i}].name"));
                super::names::check_case_names(&scenario, &name_at)?;
            }
            (_, value) => {
                let leaves = match value {
                    Value::Table(t) => flatten(t)
                        .into_iter()
                        .map(|(k, v)| (format!("{key}.{k}"), v))
                        .collect(),
                    v => vec![(key.clone(), v)],
                };
                for (k, v) in leaves {
                    let origin = file_origin(&k);
                    scenario.base.insert(k, Entry { value: v, origin });
                }
            }
        }
    }
    for set in sets {
        apply_set(&mut scenario, set)?;
    }
    check_set_not_swept(&scenario)?;
    Ok(scenario)
}

/// Dotted leaves of a table; arrays and scalars are leaves.
pub fn flatten(table: Table) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in table {
        match v {
            Value::Table(t) if !t.is_empty() => out.extend(
                flatten(t)
                    .into_iter()
                    .map(|(sub, v)| (format!("{k}.{sub}"), v)),
            ),
            v => out.push((k, v)),
        }
    }
    out
}

/// Checks that `key = value` is a known key of the right type.
pub fn check_key(key: &str, value: &Value) -> Result<(), String> {
    if ["model", "decoder", "search", "output", "system", "plot"].contains(&key) {
        let inner: Vec<&str> = KEYS
            .iter()
            .copied()
            .filter(|k| k.split_once('.').is_some_and(|(t, _)| t == key))
            .collect();
        return Err(format!(
            "`{key}` is a table; set one of its keys instead: {}",
            inner.join(", ")
        ));
    }
    if !KEYS.contains(&key) {
        let section = key.split_once('.').map(|(s, _)| s);
        let siblings: Vec<&str> = KEYS
            .iter()
            .copied()
            .filter(|k| k.split_once('.').map(|(s, _)| s) == section)
            .collect();
        return Err(format!(
            "unknown key; valid keys here are: {}",
            if siblings.is_empty() {
                KEYS.join(", ")
            } else {
                siblings.join(", ")
            }
        ));
    }
    let mut nested = value.clone();
    for part in key.rsplit('.') {
        let mut t = Table::new();
        t.insert(part.to_string(), nested);
        nested = Value::Table(t);
    }
    FileDoc::deserialize(nested)
        .map(|_| ())
        .map_err(|e| plain(e.message().trim_end()))
}

fn add_sweep(
    s: &mut Scenario,
    key: String,
    value: Value,
    origin: Origin,
) -> Result<(), ScenarioError> {
    let full = format!("sweep.{key}");
    let Value::Array(values) = value else {
        return Err(s.error(
            &origin,
            &full,
            "a sweep takes a non-empty list of values, e.g. [0, 1, 2]",
        ));
    };
    if values.is_empty() {
        return Err(s.error(
            &origin,
            &full,
            "a sweep takes a non-empty list of values, e.g. [0, 1, 2]",
        ));
    }
    if key == "name" {
        return Err(s.error(
            &origin,
            &full,
            "the scenario name cannot be swept; use [[case]] tables",
        ));
    }
    for v in &values {
        check_key(&key, v).map_err(|m| s.error(&origin, &full, m))?;
    }
    s.sweep.insert(key, Swept { values, origin });
    Ok(())
}

fn read_case(
    s: &Scenario,
    table: Table,
    index: usize,
    file_origin: &dyn Fn(&str) -> Origin,
) -> Result<Case, ScenarioError> {
    let prefix = format!("case[{index}]");
    let origin = file_origin(&prefix);
    let mut name = None;
    let mut overrides = IndexMap::new();
    for (k, v) in flatten(table) {
        let at = file_origin(&format!("{prefix}.{k}"));
        if k == "name" {
            match v {
                Value::String(n) => name = Some(n),
                _ => {
                    return Err(s.error(
                        &at,
                        &format!("{prefix}.name"),
                        "a case name must be a string",
                    ))
                }
            }
            continue;
        }
        if k == "sweep" || k.starts_with("sweep.") || k == "case" {
            return Err(s.error(&at, &format!("{prefix}.{k}"), "a case cannot hold a sweep or cases; the scenario's [sweep] expands inside every case"));
        }
        check_key(&k, &v).map_err(|m| s.error(&at, &format!("{prefix}.{k}"), m))?;
        overrides.insert(
            k,
            Entry {
                value: v,
                origin: at,
            },
        );
    }
    let name = name.ok_or_else(|| {
        s.error(
            &origin,
            &format!("{prefix}.name"),
            "every [[case]] needs a name",
        )
    })?;
    Ok(Case {
        name,
        origin,
        overrides,
    })
}

/// Parses the key of a `--set` into its dotted path, following TOML's key rules.
pub fn parse_set_key(key: &str) -> Option<Vec<String>> {
    let mut table: Table = toml::from_str(&format!("{key} = 0")).ok()?;
    let mut path = Vec::new();
    loop {
        let (k, v) = table.into_iter().next()?;
        path.push(k);
        match v {
            Value::Table(t) => table = t,
            _ => return Some(path),
        }
    }
}

/// A `--set` value: TOML if it parses, else a bare string.
pub fn parse_set_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

fn apply_set(s: &mut Scenario, arg: &str) -> Result<(), ScenarioError> {
    let origin = Origin::Set(arg.to_string());
    let bad = |m: &str| ScenarioError(format!("--set {arg}: {m}"));
    let (raw_key, raw_value) = arg
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=VALUE, e.g. --set search.branches=4"))?;
    let path =
        parse_set_key(raw_key.trim()).ok_or_else(|| bad("the key is not a valid TOML key"))?;
    let value = parse_set_value(raw_value.trim());
    match path[0].as_str() {
        "sweep" if path.len() == 1 => {
            let Value::Table(t) = value else {
                return Err(bad(
                    "`sweep` takes a table, e.g. --set 'sweep={}' to drop the sweep",
                ));
            };
            s.sweep.clear();
            for (k, v) in flatten(t) {
                add_sweep(s, k, v, origin.clone())?;
            }
        }
        "sweep" => add_sweep(s, path[1..].join("."), value, origin.clone())?,
        "case" => return Err(bad("[[case]] tables cannot be set from the command line")),
        _ => {
            let key = path.join(".");
            let leaves = match value {
                Value::Table(t) if !t.is_empty() => flatten(t)
                    .into_iter()
                    .map(|(k, v)| (format!("{key}.{k}"), v))
                    .collect(),
                v => vec![(key, v)],
            };
            for (k, v) in leaves {
                check_key(&k, &v).map_err(|m| {
                    // A whole number TOML could not read came through as text: say why,
                    // rather than that a number was expected. Text keys take it as it is.
                    let m = match &v {
                        Value::String(_) => integer_out_of_range(raw_value).unwrap_or(m),
                        _ => m,
                    };
                    s.error(&origin, &k, m)
                })?;
                s.base.insert(
                    k,
                    Entry {
                        value: v,
                        origin: origin.clone(),
                    },
                );
            }
        }
    }
    Ok(())
}

fn check_set_not_swept(s: &Scenario) -> Result<(), ScenarioError> {
    // A key both set and swept: the --set would have no effect.
    for (key, entry) in &s.base {
        if let (Origin::Set(_), Some(swept)) = (&entry.origin, s.sweep.get(key)) {
            return Err(s.error(
                &entry.origin,
                key,
                format!(
                    "this key is also swept ({}); the --set would have no effect. Drop the sweep with --set 'sweep.\"{key}\"=[...]' or --set 'sweep={{}}'",
                    s.locate(&swept.origin)
                ),
            ));
        }
    }
    Ok(())
}
