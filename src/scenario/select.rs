//! `--case NAME`: keeping only some of a scenario's cases before it expands.

use super::{Scenario, ScenarioError};

/// Keeps the cases of `scenario` whose name matches one of `patterns` (exact names, or
/// globs with `*`, `?` and `[...]`), in file order. No patterns keep every case. A pattern
/// that matches no case is an error that lists the valid names, and so is any pattern on a
/// scenario without cases.
pub fn select_cases(scenario: &mut Scenario, patterns: &[String]) -> Result<(), ScenarioError> {
    if patterns.is_empty() {
        return Ok(());
    }
    let file = scenario.path.display();
    if scenario.cases.is_empty() {
        return Err(ScenarioError(format!(
            "{file}: --case {}: this scenario has no [[case]] tables",
            patterns[0]
        )));
    }
    let names: Vec<String> = scenario.cases.iter().map(|c| c.name.clone()).collect();
    let mut matchers = Vec::new();
    for p in patterns {
        let glob = glob::Pattern::new(p).map_err(|e| {
            ScenarioError(format!("--case {p}: not a valid name or glob pattern: {e}"))
        })?;
        if !names.iter().any(|n| n == p || glob.matches(n)) {
            return Err(ScenarioError(format!(
                "{file}: --case {p}: no such case; valid cases are: {}",
                names.join(", ")
            )));
        }
        matchers.push((p.as_str(), glob));
    }
    scenario.cases.retain(|c| {
        matchers
            .iter()
            .any(|(p, g)| c.name == *p || g.matches(&c.name))
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Case, Origin};

    fn scenario(names: &[&str]) -> Scenario {
        let mut s = Scenario {
            path: "s.toml".into(),
            dir: Default::default(),
            base: Default::default(),
            sweep: Default::default(),
            cases: Vec::new(),
        };
        s.cases = names
            .iter()
            .map(|n| Case {
                name: n.to_string(),
                origin: Origin::Default,
                overrides: Default::default(),
            })
            .collect();
        s
    }

    fn kept(s: &Scenario) -> Vec<&str> {
        s.cases.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn exact_names_and_globs_keep_file_order() {
        let mut s = scenario(&["GSM8K/markov", "GSM8K/hmm", "MATH/markov", "a[1]"]);
        select_cases(&mut s, &["MATH/markov".into(), "GSM8K/h*".into()]).unwrap();
        assert_eq!(kept(&s), ["GSM8K/hmm", "MATH/markov"]);
        // A name that is not a valid glob still matches exactly.
        let mut s = scenario(&["x", "a[1]"]);
        select_cases(&mut s, &["a[1]".into()]).unwrap();
        assert_eq!(kept(&s), ["a[1]"]);
        let mut s = scenario(&["*/markov", "*/hmm"]);
        select_cases(&mut s, &[]).unwrap();
        assert_eq!(s.cases.len(), 2);
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let mut s = scenario(&["easy", "hard"]);
        let e = select_cases(&mut s, &["medium".into()]).unwrap_err();
        assert!(
            e.0.contains("--case medium") && e.0.contains("easy, hard"),
            "{e}"
        );
        let mut none = scenario(&[]);
        let e = select_cases(&mut none, &["easy".into()]).unwrap_err();
        assert!(e.0.contains("no [[case]]"), "{e}");
    }
}
