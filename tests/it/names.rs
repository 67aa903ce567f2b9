//! Names that become paths or pick cases: the scenario `name`, `output.dir` and the
//! `[[case]]` names. Each bad one is refused before anything is written.

use std::fs;

use crate::malformed::BASE;
use crate::util::{lopa_in, stderr};

/// Runs `run s.toml` (no `--out`) in a fresh folder `work/sub`, with `text` as the scenario,
/// and expects exit 2 with every needle in the message and nothing written anywhere in
/// `work`, the folder `..` would have escaped to.
fn refused(text: &str, sets: &[&str], needles: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let sub = work.path().join("sub");
    fs::create_dir(&sub).unwrap();
    fs::write(sub.join("s.toml"), text).unwrap();
    let mut args = vec!["run", "s.toml", "-q"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = lopa_in(&sub, &args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{sets:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{sets:?}: `{n}` missing from: {err}");
    }
    let left: Vec<_> = walk(work.path());
    assert_eq!(left, vec![sub.join("s.toml")], "{sets:?}: files written");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn scenario_names_that_would_leave_results_are_refused() {
    for (name, why) in [
        ("..", "`.` and `..` would put"),
        (".", "`.` and `..` would put"),
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        ("a/b", "path separator"),
        ("..\\\\x", "path separator"),
    ] {
        let text = BASE.replace("name = \"m\"", &format!("name = \"{name}\""));
        refused(&text, &[], &["s.toml:1: key `name`", why]);
    }
    refused(
        BASE,
        &["name=.."],
        &["--set name=..", "`.` and `..` would put"],
    );
}

#[test]
fn an_empty_output_dir_is_refused() {
    let text = format!("{BASE}[output]\ndir = \"\"\n");
    refused(
        &text,
        &[],
        &["s.toml:25: key `output.dir`", "must not be empty"],
    );
    refused(
        BASE,
        &["output.dir="],
        &["key `output.dir`", "must not be empty"],
    );
}

#[test]
fn empty_and_repeated_case_names_are_refused_with_both_lines() {
    let case = |name: &str| format!("\n[[case]]\nname = \"{name}\"\nseed = 4\n");
    let text = format!("{BASE}{}{}", case("wide"), case(""));
    refused(
        &text,
        &[],
        &["s.toml:30: key `case[1].name`", "must not be empty"],
    );
    let text = format!("{BASE}{}{}{}", case("wide"), case("narrow"), case("wide"));
    refused(
        &text,
        &[],
        &[
            "s.toml:34: key `case[2].name`",
            "\"wide\" is already used by the case at",
            "s.toml:26 (case[0])",
        ],
    );
}
