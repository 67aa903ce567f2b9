//! A scenario's configurations: its cases in file order, and inside each case the sweep's
//! cartesian product with the last key fastest, each resolved in turn.

use indexmap::IndexMap;
use toml::Value;

use crate::record::ConfigLabel;
use crate::report::float_cell;
use crate::scenario::load::{Entry, Origin, Scenario};
use crate::scenario::ScenarioError;

use super::Resolved;

/// Most configurations a scenario may expand to: each is resolved and held up front.
const MAX_CONFIGURATIONS: usize = 100_000;

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
        let combos = self.sweep_points(cases.len())?;
        let mut out = Vec::new();
        for case in cases {
            let flat = self.case_keys(case)?;
            for combo in 0..combos {
                let (flat, swept) = self.sweep_point(&flat, combo);
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

    /// The sweep's points per case, refused when `cases` of them would be too many.
    fn sweep_points(&self, cases: usize) -> Result<usize, ScenarioError> {
        let total = self
            .sweep
            .values()
            .try_fold(cases, |n, s| n.checked_mul(s.values.len()))
            .filter(|&n| n <= MAX_CONFIGURATIONS)
            .ok_or_else(|| {
                ScenarioError(format!(
                    "{}: the cases and sweep expand to more than {MAX_CONFIGURATIONS} configurations; split the scenario or sweep fewer values",
                    self.path.display()
                ))
            })?;
        Ok(total / cases)
    }

    /// Refuses a `--set` of a key that one of the cases sets itself. A case's own key wins
    /// over the file's, so such a --set would be dropped without a word, as a --set of a
    /// swept key would be; `run` refuses both. (`calibrate` selects its cases by target and
    /// refuses a knob a case overrules in its own words.)
    pub fn check_sets_reach_cases(&self) -> Result<(), ScenarioError> {
        for case in &self.cases {
            for (key, entry) in &case.overrides {
                if let Some(
                    set @ Entry {
                        origin: Origin::Set(_),
                        ..
                    },
                ) = self.base.get(key)
                {
                    return Err(self.error(
                        &set.origin,
                        key,
                        format!(
                            "case `{}` sets this key itself ({}), so the --set would have no effect on it. Edit the case, or pick cases that do not set it with --case",
                            case.name,
                            self.locate(&entry.origin)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The file's keys with `case`'s overrides, none of which may be swept.
    fn case_keys(&self, case: Option<usize>) -> Result<IndexMap<String, Entry>, ScenarioError> {
        let mut flat = self.base.clone();
        let Some(c) = case else {
            return Ok(flat);
        };
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
        Ok(flat)
    }

    /// `flat` at sweep point `combo` (mixed radix, the last key fastest), with the swept
    /// values as the label shows them.
    fn sweep_point(
        &self,
        flat: &IndexMap<String, Entry>,
        combo: usize,
    ) -> (IndexMap<String, Entry>, Vec<(String, String)>) {
        let mut flat = flat.clone();
        let mut swept = Vec::new();
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
        (flat, swept)
    }
}
