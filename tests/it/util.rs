//! Helpers: run the binary, read CSVs by header.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `lopa-sim ARGS` run from the repository root.
pub fn lopa(args: &[&str]) -> Output {
    lopa_env(args, &[])
}

/// `lopa-sim ARGS` with extra environment variables.
pub fn lopa_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::cargo_bin("lopa-sim").expect("binary built");
    cmd.current_dir(root()).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("binary runs")
}

/// `lopa-sim ARGS` run from `dir`, so that a default `results/<name>` lands there and not
/// in the repository.
pub fn lopa_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("lopa-sim").expect("binary built");
    cmd.current_dir(dir).args(args);
    cmd.output().expect("binary runs")
}

/// `run DIR/s.toml --out DIR/out -q EXTRA...`.
pub fn run_in(dir: &Path, extra: &[&str]) -> Output {
    let s = dir.join("s.toml");
    let out = dir.join("out");
    let mut args = vec![
        "run",
        s.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    lopa(&args)
}

/// `lopa-sim ARGS` from the repository root, killed after `limit`: a hang fails the test
/// (with the arguments) instead of stalling the suite.
pub fn lopa_within(args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lopa-sim"))
        .current_dir(root())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("lopa-sim {args:?} still running after {limit:?}: a hang");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Rows of a CSV file as header -> cell maps.
pub fn read_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `lopa-sim run SCENARIO --out DIR -q EXTRA...` into a fresh folder, which it returns; the
/// run must succeed.
pub fn run_ok(scenario: &str, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["run", scenario, "--out", out.path().to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    let o = lopa(&args);
    assert!(o.status.success(), "{scenario} {extra:?}: {}", stderr(&o));
    out
}
