//! Names that end up in paths or pick configurations: the scenario's `name` (the default
//! results folder is `results/<name>`), `output.dir`, and the `[[case]]` names (`--case`
//! selects by them, and the result files label rows with them).

use super::load::{Origin, Scenario};
use super::ScenarioError;

/// Why `name` cannot be one folder inside `results/`, if it cannot: `..` would put the
/// results beside `results/` (into the working directory), `.` into `results/` itself,
/// and a separator into a folder of another name.
pub fn folder_name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("it must not be empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` would put the results folder outside results/")
    } else if name.contains(['/', '\\']) {
        Some("it cannot hold a path separator (`/` or `\\`)")
    } else if name.contains('\0') {
        Some("it cannot hold a NUL character")
    } else {
        None
    }
}

/// The `name` check, phrased with the value given and what is valid.
pub fn check_folder_name(name: &str) -> Result<(), String> {
    match folder_name_problem(name) {
        Some(problem) => Err(format!(
            "got {name:?}, but {problem}; the default results folder is results/<name>, so \
             give one plain folder name, e.g. name = \"quickstart\""
        )),
        None => Ok(()),
    }
}

/// `output.dir`, which is a path and may hold separators, but not nothing.
pub fn check_output_dir(dir: &str) -> Result<(), String> {
    if dir.trim().is_empty() {
        return Err(
            "the results folder must not be empty; drop the key for results/<name>, or give \
             a folder, e.g. output.dir = \"results/mine\""
                .into(),
        );
    }
    if dir.contains('\0') {
        return Err("the results folder cannot hold a NUL character".into());
    }
    Ok(())
}

/// Refuses an empty case name, and a name that two `[[case]]` tables share (`--case NAME`
/// could not tell them apart, nor could the rows of the result files), naming both places.
/// `name_at(i)` is where case `i`'s name was given, if the file says.
pub fn check_case_names(
    s: &Scenario,
    name_at: &dyn Fn(usize) -> Origin,
) -> Result<(), ScenarioError> {
    let name_origin = |i: usize| match name_at(i) {
        Origin::Default => s.cases[i].origin.clone(),
        at => at,
    };
    for (i, case) in s.cases.iter().enumerate() {
        let key = format!("case[{i}].name");
        let at = name_origin(i);
        if case.name.trim().is_empty() {
            return Err(s.error(
                &at,
                &key,
                "a case name must not be empty, e.g. name = \"wide\"",
            ));
        }
        if let Some(j) = s.cases[..i].iter().position(|c| c.name == case.name) {
            return Err(s.error(
                &at,
                &key,
                format!(
                    "the case name {:?} is already used by the case at {} (case[{j}]); \
                     every [[case]] needs a name of its own",
                    case.name,
                    s.locate(&name_origin(j))
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_that_would_leave_results_are_refused() {
        for bad in ["", " ", ".", "..", "a/b", "../x", "a\\b", "a\0b"] {
            assert!(folder_name_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["quickstart", "a.b", "...", ".hidden", "paper-gsm8k"] {
            assert_eq!(folder_name_problem(good), None, "{good:?}");
        }
        let m = check_folder_name("..").unwrap_err();
        assert!(m.contains("\"..\"") && m.contains("results/<name>"), "{m}");
    }

    #[test]
    fn an_empty_output_dir_is_refused() {
        assert!(check_output_dir("").is_err());
        assert!(check_output_dir("  ").is_err());
        assert!(check_output_dir("results/x").is_ok());
    }
}
