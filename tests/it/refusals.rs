//! The binary on malformed inputs and arguments: a non-zero exit, no panic, a short message
//! naming the file or argument; and Ctrl-C.

use std::fs;

use crate::malformed::BASE;
use crate::util::{lopa, stderr};

/// The binary on malformed inputs and arguments: exit 2, no panic, a short message that
/// names the file or argument.
#[test]
fn commands_refuse_malformed_inputs_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("bad.toml"), b"\xff\xfe name = 1").unwrap();
    fs::write(d.join("trunc.toml"), &BASE[..BASE.len() / 2]).unwrap();
    fs::write(d.join("ok.toml"), BASE).unwrap();
    fs::create_dir(d.join("empty")).unwrap();
    let p = |n: &str| d.join(n).display().to_string();
    let (bad, trunc, ok, empty) = (p("bad.toml"), p("trunc.toml"), p("ok.toml"), p("empty"));
    let missing = p("missing");
    let out = p("out");
    let seeds: Vec<String> = (1..=40).map(|s| s.to_string()).collect();
    let seed_sweep = format!("sweep={{seed=[{}]}}", seeds.join(","));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", &bad, "--out", &out], "bad.toml"),
        (vec!["run", &trunc, "--out", &out], "trunc.toml"),
        (
            vec!["run", &ok, "--out", &out, "--set", "gen_length=1e400"],
            "gen_length",
        ),
        (
            vec!["run", &ok, "--out", &out, "--memory-budget", "1K"],
            "memory budget",
        ),
        (
            vec!["run", &ok, "--memory-budget", "lots"],
            "--memory-budget",
        ),
        // 10^8 records would take ~10 GiB: refused under a 4 GiB budget before allocating.
        (
            vec![
                "run",
                &ok,
                "--out",
                &out,
                "--memory-budget",
                "4G",
                "--set",
                "sequences=100000000",
            ],
            "memory budget of 4.0 GiB",
        ),
        // Each seed of a generated world is a model of its own: 40 phrase worlds at V = 128,
        // L = 256 are counted 40 times (one of them alone is about 33 MiB).
        (
            vec![
                "run",
                "scenarios/quickstart.toml",
                "--out",
                &out,
                "--memory-budget",
                "1G",
                "--set",
                "sequences=1",
                "--set",
                &seed_sweep,
            ],
            "40 model(s)",
        ),
        // 10^11 records (~80 TiB) exceed the default budget on any machine.
        (
            vec![
                "run",
                "scenarios/quickstart.toml",
                "--out",
                &out,
                "--set",
                "sequences=100000000",
                "--set",
                "worlds=1000",
            ],
            "memory budget of",
        ),
        (vec!["trace", &bad], "bad.toml"),
        (vec!["trace", &ok, "--seq=-1"], "--seq"),
        (
            vec![
                "trace",
                &ok,
                "--set",
                "sweep={}",
                "--set",
                "model.prompts=[[99]]",
            ],
            "model.prompts",
        ),
        (
            vec![
                "calibrate",
                &trunc,
                "--param",
                "decoder.fill_threshold",
                "--target",
                "tpf=2",
                "--write",
                &out,
            ],
            "trunc.toml",
        ),
        (
            vec![
                "calibrate",
                &ok,
                "--param",
                "nope",
                "--target",
                "tpf=2",
                "--write",
                &out,
                "--set",
                "sweep={}",
            ],
            "nope",
        ),
        (
            vec![
                "calibrate",
                &ok,
                "--param",
                "decoder.fill_threshold",
                "--target",
                "tpf=nan",
                "--write",
                &out,
                "--set",
                "sweep={}",
            ],
            "tpf",
        ),
        (vec!["plot", &empty], "summary.json"),
        (vec!["plot", &missing], "missing"),
    ];
    for (args, needle) in cases {
        let o = lopa(&args);
        let err = stderr(&o);
        assert_ne!(o.status.code(), Some(0), "{args:?} succeeded");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.lines().count() <= 8, "{args:?}: a long error: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: `{needle}` missing from: {err}"
        );
    }
}

/// Ctrl-C, and SIGTERM (timeout, Slurm preemption): exit status 130, a message that says so, and no temporary file left behind.
#[cfg(unix)]
#[test]
fn an_interrupted_run_exits_130_and_says_so() {
    for signal in ["-INT", "-TERM"] {
        interrupt_with(signal);
    }
}

#[cfg(unix)]
fn interrupt_with(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.toml");
    fs::write(&s, BASE.replace("sequences = 2", "sequences = 10000000")).unwrap();
    let out = dir.path().join("out");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lopa-sim"))
        .args([
            "run",
            s.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The folder appears after the handler is installed and before decoding starts.
    while !out.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{signal}: {err}");
    assert!(
        err.contains("interrupted: stopped before `run` finished") && err.contains("--resume"),
        "{err}"
    );
    let left: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "manifest.json" && n != "journal.txt")
        .collect();
    // Only the manifest, written whole before any decoding, and the journal of finished
    // work items (for --resume) may stay: no temporary file.
    assert!(left.is_empty(), "{left:?}");
}
