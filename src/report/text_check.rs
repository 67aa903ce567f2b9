//! The warning a run gives when its world writes degenerate text.
//!
//! TPF measured on text that loops through a few tokens says more about the loop than about
//! decoding, so a researcher must hear of it without opening `summary.csv`. The measure is
//! `distinct2` (distinct adjacent pairs over pairs of the content tokens, averaged over the
//! sequences): natural generations of a few hundred tokens score about 0.7 to 0.95, a text
//! that cycles through a handful of phrases well under 0.3.

use super::Summary;
use crate::record::ConfigRuns;

/// Below this mean `distinct2` a configuration's text is called repetitive. It is the bar
/// the project sets for its own worlds (the quickstart must stay above it).
pub const REPETITIVE_BELOW: f64 = 0.3;

/// Where natural text stands, and what a score below the bar does to TPF, in the words
/// both the terminal and `report.html` use.
pub(super) const NATURAL: &str = "natural text scores about 0.7 or more";
pub(super) const CONSEQUENCE: &str = "so TPF there partly measures loops";

/// A configuration's name in the warning: its number, then what sets it apart.
pub(super) fn named(index: impl std::fmt::Display, parts: &[String]) -> String {
    if parts.is_empty() {
        format!("configuration {index}")
    } else {
        format!("configuration {index} ({})", parts.join(", "))
    }
}

/// The (name, mean `distinct2`) of every configuration below [`REPETITIVE_BELOW`].
pub(super) fn below_bar(
    rows: impl IntoIterator<Item = (String, Option<f64>)>,
) -> Vec<(String, f64)> {
    rows.into_iter()
        .filter_map(|(name, d)| Some((name, d.filter(|&d| d < REPETITIVE_BELOW)?)))
        .collect()
}

/// A warning naming every configuration whose mean `distinct2` is below
/// [`REPETITIVE_BELOW`], or `None` when the text of every configuration passes (or no
/// configuration has text long enough to measure).
pub fn repetitive_text(runs: &[ConfigRuns], summaries: &[Summary]) -> Option<String> {
    let rows = runs.iter().zip(summaries).map(|(r, s)| {
        let l = &r.label;
        let parts: Vec<String> = l
            .case
            .iter()
            .map(|c| format!("case {c}"))
            .chain(l.swept.iter().map(|(k, v)| format!("{k}={v}")))
            .collect();
        (named(l.index, &parts), s.distinct2)
    });
    let low = below_bar(rows);
    if low.is_empty() {
        return None;
    }
    let lines: Vec<String> = low
        .iter()
        .map(|(name, d)| format!("  {name}: distinct2 {d:.2}"))
        .collect();
    Some(format!(
        "warning: the generated text is repetitive (mean distinct2 below {REPETITIVE_BELOW}; \
         {NATURAL}), {CONSEQUENCE}:\n{}\n",
        lines.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ConfigLabel;

    fn config(index: usize, k: &str) -> ConfigRuns {
        ConfigRuns {
            label: ConfigLabel {
                index,
                swept: vec![("search.branches".into(), k.into())],
                ..ConfigLabel::default()
            },
            ..ConfigRuns::default()
        }
    }

    fn summary(d: Option<f64>) -> Summary {
        Summary {
            distinct2: d,
            ..Summary::default()
        }
    }

    #[test]
    fn names_only_the_repetitive_configurations() {
        let runs = [config(0, "0"), config(1, "8"), config(2, "16")];
        let sums = [summary(Some(0.5)), summary(Some(0.21)), summary(None)];
        let w = repetitive_text(&runs, &sums).expect("configuration 1 is repetitive");
        assert!(
            w.contains("configuration 1 (search.branches=8): distinct2 0.21"),
            "{w}"
        );
        assert!(!w.contains("configuration 0"), "{w}");
        assert!(!w.contains("configuration 2"), "{w}");
    }

    #[test]
    fn silent_when_every_text_passes() {
        let runs = [config(0, "0")];
        assert_eq!(repetitive_text(&runs, &[summary(Some(0.3))]), None);
        assert_eq!(repetitive_text(&runs, &[summary(None)]), None);
    }
}
