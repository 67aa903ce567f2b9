//! The label columns every per-configuration format starts with, so `runs.csv`,
//! `summary.csv` and the table agree on which of them exist and in what order.

use crate::record::{ConfigLabel, ConfigRuns};

/// Which label columns a set of runs needs.
pub(crate) struct LabelColumns<'a> {
    /// A `case` column exists only when the scenario has cases.
    pub has_case: bool,
    /// Swept keys in sweep order.
    pub keys: Vec<&'a str>,
}

impl<'a> LabelColumns<'a> {
    /// Every configuration sweeps the same keys, so the first one names them.
    pub fn of(runs: &'a [ConfigRuns]) -> Self {
        LabelColumns {
            has_case: runs.iter().any(|r| r.label.case.is_some()),
            keys: runs
                .first()
                .map(|r| r.label.swept.iter().map(|(k, _)| k.as_str()).collect())
                .unwrap_or_default(),
        }
    }

    /// Header names after `config` (and `seq`): `case` when present, then the keys.
    pub fn headers(&self) -> Vec<String> {
        let case = self.has_case.then(|| "case".to_string());
        case.into_iter()
            .chain(self.keys.iter().map(|k| k.to_string()))
            .collect()
    }

    /// Cells matching [`Self::headers`]. Values are looked up by key rather than by
    /// position so a label built in another order still lands in the right column.
    pub fn cells(&self, label: &ConfigLabel) -> Vec<String> {
        let case = self
            .has_case
            .then(|| label.case.clone().unwrap_or_default());
        case.into_iter()
            .chain(self.keys.iter().map(|key| {
                label
                    .swept
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            }))
            .collect()
    }
}
