//! Picking part of a scenario's work: `--case NAME` (exact names or globs) and `--config N`,
//! shared by the commands that take them. Selection keeps each configuration's own index, so
//! the numbers in the output files still match the full scenario's.

use super::resolve::Resolved;
use super::ScenarioError;

/// The configurations whose case matches one of `names`, in scenario order. A name matches
/// a case exactly, or else as a glob (`*`, `?`, `[...]`). No names keeps every
/// configuration. A name that matches no case is an error that lists the valid ones.
pub fn select_cases(
    configs: Vec<Resolved>,
    names: &[String],
) -> Result<Vec<Resolved>, ScenarioError> {
    if names.is_empty() {
        return Ok(configs);
    }
    let cases = case_names(&configs);
    if cases.is_empty() {
        return Err(ScenarioError(format!(
            "--case {}: this scenario has no [[case]] tables; select a configuration with --config N instead",
            names[0]
        )));
    }
    let mut matchers = Vec::with_capacity(names.len());
    for name in names {
        let matcher = CaseMatcher::new(name)?;
        if !cases.iter().any(|c| matcher.matches(c)) {
            return Err(ScenarioError(format!(
                "--case {name}: no such case; valid cases are: {}",
                cases.join(", ")
            )));
        }
        matchers.push(matcher);
    }
    Ok(configs
        .into_iter()
        .filter(|r| {
            r.label
                .case
                .as_deref()
                .is_some_and(|c| matchers.iter().any(|m| m.matches(c)))
        })
        .collect())
}

/// The one configuration numbered `index` (the `config` column of `summary.csv`), if it is
/// among `configs`; an error that gives the valid numbers otherwise.
pub fn select_config(configs: Vec<Resolved>, index: usize) -> Result<Vec<Resolved>, ScenarioError> {
    let valid: Vec<String> = configs.iter().map(|r| r.label.index.to_string()).collect();
    let picked: Vec<Resolved> = configs
        .into_iter()
        .filter(|r| r.label.index == index)
        .collect();
    if picked.is_empty() {
        return Err(ScenarioError(format!(
            "--config {index}: no such configuration{}; valid: {}",
            if valid.len() > 1 {
                " among those selected"
            } else {
                ""
            },
            compact(&valid)
        )));
    }
    Ok(picked)
}

/// The distinct case names of `configs`, in order.
pub fn case_names(configs: &[Resolved]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in configs.iter().filter_map(|r| r.label.case.as_ref()) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// Whether `name` selects `case`: exactly, or else as a glob.
pub fn case_matches(name: &str, case: &str) -> bool {
    CaseMatcher::new(name).is_ok_and(|m| m.matches(case))
}

struct CaseMatcher<'a> {
    name: &'a str,
    glob: Option<glob::Pattern>,
}

impl<'a> CaseMatcher<'a> {
    fn new(name: &'a str) -> Result<Self, ScenarioError> {
        let globby = name.contains(['*', '?', '[']);
        let glob = if globby {
            Some(glob::Pattern::new(name).map_err(|e| {
                ScenarioError(format!("--case {name}: not a valid glob pattern: {e}"))
            })?)
        } else {
            None
        };
        Ok(CaseMatcher { name, glob })
    }

    fn matches(&self, case: &str) -> bool {
        case == self.name || self.glob.as_ref().is_some_and(|g| g.matches(case))
    }
}

/// `0, 1, 2, ..., 31` shortened when long.
fn compact(items: &[String]) -> String {
    if items.len() <= 12 {
        items.join(", ")
    } else {
        format!(
            "{}, ..., {}",
            items[..6].join(", "),
            items[items.len() - 3..].join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load;

    fn configs(text: &str) -> Vec<Resolved> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        load(&path, &[]).unwrap().configurations().unwrap()
    }

    const CASES: &str = "name = \"s\"\nsequences = 1\ngen_length = 8\n\
        [model]\nkind = \"field\"\n[decoder]\nkind = \"threshold\"\nblock_size = 4\n\
        [sweep]\n\"search.branches\" = [0, 2]\n\
        [[case]]\nname = \"GSM8K/markov\"\n\"decoder.fill_threshold\" = 0.8\n\
        [[case]]\nname = \"GSM8K/hmm\"\n\"decoder.fill_threshold\" = 0.7\n\
        [[case]]\nname = \"MBPP/markov\"\n\"decoder.fill_threshold\" = 0.6\n";

    fn picked(r: &[Resolved]) -> Vec<usize> {
        r.iter().map(|c| c.label.index).collect()
    }

    #[test]
    fn exact_names_and_globs_keep_scenario_order_and_indices() {
        let all = configs(CASES);
        assert_eq!(all.len(), 6);
        let names = vec!["MBPP/markov".to_string(), "GSM8K/markov".to_string()];
        assert_eq!(
            picked(&select_cases(all.clone(), &names).unwrap()),
            [0, 1, 4, 5]
        );
        let glob = vec!["*/markov".to_string()];
        assert_eq!(
            picked(&select_cases(all.clone(), &glob).unwrap()),
            [0, 1, 4, 5]
        );
        assert_eq!(
            picked(&select_cases(all.clone(), &[]).unwrap()),
            [0, 1, 2, 3, 4, 5]
        );
        let one = select_cases(all, &["GSM8K/hmm".to_string()]).unwrap();
        assert_eq!(picked(&select_config(one, 3).unwrap()), [3]);
    }

    #[test]
    fn unknown_names_and_numbers_list_the_valid_ones() {
        let all = configs(CASES);
        let e = select_cases(all.clone(), &["GSM8k/markov".to_string()]).unwrap_err();
        assert!(
            e.0.contains("valid cases are: GSM8K/markov, GSM8K/hmm, MBPP/markov"),
            "{e}"
        );
        let e = select_cases(all.clone(), &["HumanEval*".to_string()]).unwrap_err();
        assert!(e.0.contains("no such case"), "{e}");
        let e = select_config(all, 9).unwrap_err();
        assert!(e.0.contains("valid: 0, 1, 2, 3, 4, 5"), "{e}");
        let plain = configs(&CASES[..CASES.find("[[case]]").unwrap()]);
        let e = select_cases(plain, &["x".to_string()]).unwrap_err();
        assert!(e.0.contains("no [[case]] tables"), "{e}");
    }

    #[test]
    fn matching_is_exact_first() {
        assert!(case_matches("a[1]", "a[1]"));
        assert!(case_matches("a*", "abc"));
        assert!(!case_matches("a", "ab"));
    }
}
