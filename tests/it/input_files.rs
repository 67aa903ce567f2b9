//! Inputs that are not regular files (a FIFO would block the open, `/dev/zero` never
//! ends, a folder is no file) or that are far too large: each is refused at once, naming
//! the path and what it is. Every run has a time limit, so a hang fails the test.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::malformed::BASE;
use crate::util::{lopa_env, lopa_within, stderr};

const LIMIT: Duration = Duration::from_secs(30);
const QUICK: [&str; 5] = [
    "scenarios/quickstart.toml",
    "--set",
    "sequences=2",
    "--set",
    "gen_length=64",
];

/// Exit 2, within the limit, with every needle in the message.
fn refused(args: &[&str], needles: &[&str]) {
    let o = lopa_within(args, LIMIT);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` missing from: {err}");
    }
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.unwrap().success());
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The three kinds of path that are no file, made at `path`.
fn no_files(dir: &Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let folder = dir.join("folder");
    fs::create_dir(&folder).unwrap();
    vec![
        (fifo, "it is a FIFO (named pipe), not a regular file"),
        ("/dev/zero".into(), "it is a device, not a regular file"),
        (folder, "it is a folder, not a regular file"),
    ]
}

#[cfg(unix)]
#[test]
fn a_scenario_or_model_csv_that_is_no_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    for (path, what) in no_files(d) {
        let shown = path.display().to_string();
        refused(&["run", s(&path), "--out", s(&out)], &[&shown, what]);
        refused(&["trace", s(&path)], &[&shown, what]);
        let text = BASE
            .replace(
                "vocab_size = 6\neos_token = 0\neos_hazard = 0.05\nprompt_length = 2\n",
                &format!("transitions = \"{shown}\"\nprompts = [[1]]\n"),
            )
            .replace("[sweep]\n\"search.branches\" = [0, 2]\n", "");
        let toml = d.join("s.toml");
        fs::write(&toml, text).unwrap();
        refused(
            &["run", s(&toml), "--out", s(&out)],
            &["s.toml:8: key `model.transitions`", &shown, what],
        );
    }
}

#[cfg(unix)]
#[test]
fn a_scenario_too_large_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    // Sparse: no disk space used, and reading it whole would take 300 MiB of memory.
    fs::File::create(&big).unwrap().set_len(300 << 20).unwrap();
    refused(
        &["run", s(&big), "--out", s(&dir.path().join("o"))],
        &["big.toml", "300 MiB, more than the 256 MiB"],
    );
}

#[cfg(unix)]
#[test]
fn a_journal_that_is_no_file_or_has_an_endless_line_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, (path, what)) in no_files(d).into_iter().enumerate() {
        let out = d.join(format!("r{i}"));
        fs::create_dir(&out).unwrap();
        let journal = out.join("journal.txt");
        if path.is_dir() {
            fs::create_dir(&journal).unwrap();
        } else {
            std::os::unix::fs::symlink(&path, &journal).unwrap();
        }
        let run = [&["run"], &QUICK[..], &["--out", s(&out), "-q"]].concat();
        let shown = journal.display().to_string();
        refused(
            &[&run[..], &["--resume"]].concat(),
            &["cannot read the journal", &shown, what],
        );
        // A fresh run would open the FIFO to write its journal, and wait.
        refused(&run, &["cannot create the journal", &shown]);
    }
    // A crashed run's journal with a megabyte of zeros after it (a disk error).
    let out = d.join("zeros");
    let run = [&["run"], &QUICK[..], &["--out", s(&out), "-q"]].concat();
    let o = lopa_env(&run, &[("LOPA_SIM_CRASH_AFTER", "2")]);
    assert!(!o.status.success());
    let journal = out.join("journal.txt");
    let mut bytes = fs::read(&journal).unwrap();
    bytes.resize(bytes.len() + (2 << 20), 0);
    fs::write(&journal, bytes).unwrap();
    refused(
        &[&run[..], &["--resume"]].concat(),
        &["journal.txt:4: a line longer than", "remove it"],
    );
}

#[cfg(unix)]
#[test]
fn results_and_shard_files_that_are_no_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("r");
    let o = lopa_within(
        &[&["run"], &QUICK[..], &["--out", s(&out), "-q"]].concat(),
        LIMIT,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["summary.json", "summary.csv", "trace.csv"] {
        let path = out.join(f);
        let kept = fs::read(&path).unwrap();
        fs::remove_file(&path).unwrap();
        mkfifo(&path);
        refused(&["plot", s(&out)], &[&path.display().to_string(), "FIFO"]);
        fs::remove_file(&path).unwrap();
        fs::write(&path, kept).unwrap();
    }
    let shards: Vec<_> = (1..=2).map(|i| d.join(format!("s{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = format!("{}/2", i + 1);
        let args = [
            &["run"],
            &QUICK[..],
            &["--out", s(dir), "-q", "--shard", &shard],
        ]
        .concat();
        assert!(lopa_within(&args, LIMIT).status.success());
    }
    let desc = shards[1].join("shard.json");
    fs::remove_file(&desc).unwrap();
    mkfifo(&desc);
    refused(
        &[
            "merge",
            s(&shards[0]),
            s(&shards[1]),
            "--out",
            s(&d.join("m")),
        ],
        &[&desc.display().to_string(), "FIFO"],
    );
}
