//! Where `trace --json` and `run --export-markdown` may write: never over the scenario or a
//! model CSV, never into the results folder being written, never onto a folder, FIFO or
//! device; and through a symlink rather than over it.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::malformed::BASE;
use crate::util::{lopa, stderr};

/// A folder with `s.toml` (BASE, its Markov chain read from `t.csv`, one configuration)
/// and `t.csv`.
fn scenario() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = BASE
        .replace(
            "vocab_size = 6\neos_token = 0\neos_hazard = 0.05\nprompt_length = 2\n",
            "transitions = \"t.csv\"\nprompts = [[1]]\n",
        )
        .replace("[sweep]\n\"search.branches\" = [0, 2]\n", "");
    fs::write(dir.path().join("s.toml"), text).unwrap();
    fs::write(dir.path().join("t.csv"), "0.5,0.5\n0.25,0.75\n").unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Exit 2 within a few seconds (a FIFO opened for writing would block), every needle in the
/// message, and the inputs untouched.
fn refused(d: &Path, args: &[&str], needles: &[&str]) {
    let before = (
        fs::read(d.join("s.toml")).unwrap(),
        fs::read(d.join("t.csv")).unwrap(),
    );
    let start = Instant::now();
    let o = lopa(args);
    assert!(start.elapsed() < Duration::from_secs(20), "{args:?}: slow");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` missing from: {err}");
    }
    let after = (
        fs::read(d.join("s.toml")).unwrap(),
        fs::read(d.join("t.csv")).unwrap(),
    );
    assert!(before == after, "{args:?}: an input was changed");
}

#[test]
fn trace_json_refuses_the_scenario_and_its_csv() {
    let dir = scenario();
    let d = dir.path();
    let toml = d.join("s.toml");
    // Another spelling of the same file.
    let dotted = d.join(".").join("s.toml");
    for target in [&toml, &dotted] {
        refused(
            d,
            &["trace", s(&toml), "--json", s(target)],
            &["--json", "an input of this command", "s.toml"],
        );
    }
    refused(
        d,
        &["trace", s(&toml), "--json", s(&d.join("t.csv"))],
        &["--json", "t.csv", "an input of this command"],
    );
    refused(
        d,
        &["trace", s(&toml), "--json", s(d)],
        &["--json", "is a folder"],
    );
    let o = lopa(&["trace", s(&toml), "--json", s(&d.join("t.jsonl"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fs::read_to_string(d.join("t.jsonl"))
        .unwrap()
        .contains("round"));
}

#[test]
fn export_markdown_refuses_inputs_and_the_results_folder() {
    let dir = scenario();
    let d = dir.path();
    let toml = d.join("s.toml");
    let out = d.join("out");
    let run = |md: &Path, needles: &[&str]| {
        let args = [
            "run",
            s(&toml),
            "--out",
            s(&out),
            "-q",
            "--export-markdown",
            s(md),
        ];
        refused(d, &args, needles);
    };
    run(&toml, &["--export-markdown", "an input"]);
    run(&d.join("t.csv"), &["t.csv", "an input"]);
    // The folder does not exist yet: equal to it, and inside it.
    for md in [
        out.clone(),
        out.join("summary.md"),
        out.join("sub/../runs.csv"),
    ] {
        run(&md, &["lies in the results folder"]);
        assert!(!out.join("runs.csv").exists());
    }
    fs::create_dir(&out).unwrap();
    run(&out, &["is a folder"]);
    run(&out.join("x.md"), &["lies in the results folder"]);
    assert!(!out.join("runs.csv").exists(), "decoded after a refusal");
}

#[cfg(unix)]
#[test]
fn export_markdown_refuses_a_fifo_and_a_device_and_writes_through_a_symlink() {
    let dir = scenario();
    let d = dir.path();
    let toml = d.join("s.toml");
    let out = d.join("out");
    let fifo = d.join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let base = ["run", s(&toml), "--out", s(&out), "-q", "--export-markdown"];
    refused(d, &[&base[..], &[s(&fifo)]].concat(), &["pipe is a FIFO"]);
    refused(d, &[&base[..], &["/dev/null"]].concat(), &["is a device"]);
    fs::write(d.join("table.md"), "old").unwrap();
    std::os::unix::fs::symlink("table.md", d.join("link.md")).unwrap();
    let o = lopa(&[&base[..], &[s(&d.join("link.md"))]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let meta = fs::symlink_metadata(d.join("link.md")).unwrap();
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    assert!(fs::read_to_string(d.join("table.md"))
        .unwrap()
        .contains("TPF"));
    // A symlink to the scenario is the scenario.
    std::os::unix::fs::symlink("s.toml", d.join("alias.toml")).unwrap();
    refused(
        d,
        &[&base[..], &[s(&d.join("alias.toml"))]].concat(),
        &["an input"],
    );
}

/// A results folder that is a file or a device: said in those words, not as the system's
/// "File exists" or "Not a directory", by `run --out` and `plot` (`merge --out` claims its
/// folder the same way, once its shards are read).
#[test]
fn a_results_folder_that_is_a_file_or_device_is_named_as_such() {
    let d = scenario();
    let file = d.path().join("taken");
    fs::write(&file, "x").unwrap();
    let sc = d.path().join("s.toml");
    refused(
        d.path(),
        &["run", s(&sc), "--out", s(&file), "-q"],
        &["taken is a file, not a folder", "give a folder"],
    );
    refused(
        d.path(),
        &["run", s(&sc), "--out", "/dev/null", "-q"],
        &["/dev/null is a device, not a folder"],
    );
    refused(
        d.path(),
        &["plot", s(&file)],
        &[
            "taken is a file, not a folder",
            "results folder a run wrote",
        ],
    );
    assert_eq!(fs::read(&file).unwrap(), b"x");
}
