//! `run --shard I/N` + `merge`, and `run --resume` after a crash: the result folders must
//! hold the bytes of one uninterrupted run, file for file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{lopa, lopa_env, root, stderr};

const SCENARIO: &str = "scenarios/quickstart.toml";
const SMALL: [&str; 4] = ["--set", "sequences=4", "--set", "gen_length=64"];

/// Every file under `dir` (recursively), by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn assert_same_folders(want: &Path, got: &Path) {
    let (a, b) = (files(want), files(got));
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same files");
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{} differs", name.display());
    }
    assert!(a.contains_key(Path::new("runs.csv")) && a.contains_key(Path::new("report.html")));
}

fn run(out: &Path, extra: &[&str]) -> std::process::Output {
    run_env(out, extra, &[])
}

fn run_env(out: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut args = vec!["run", SCENARIO, "--out", out.to_str().unwrap(), "-q"];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(extra);
    lopa_env(&args, env)
}

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

/// Exit 2 with every needle in the message.
fn refused(o: &std::process::Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from: {err}");
    }
}

#[test]
fn three_shards_merge_to_the_bytes_of_one_run_and_bad_sets_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let single = t.join("single");
    ok(&run(&single, &[]));
    let shard = |i: usize| t.join(format!("s{i}"));
    for i in 1..=3 {
        ok(&run(&shard(i), &["--shard", &format!("{i}/3")]));
        assert!(shard(i).join("journal.txt").exists() && shard(i).join("shard.json").exists());
        assert!(!shard(i).join("runs.csv").exists());
    }
    let s = |i: usize| shard(i).to_str().unwrap().to_string();
    let merged = t.join("merged");
    let m = merged.to_str().unwrap();
    ok(&lopa(&["merge", &s(3), &s(1), &s(2), "--out", m, "-q"]));
    assert_same_folders(&single, &merged);

    refused(
        &lopa(&["merge", &s(1), &s(2), "--out", m]),
        &["shard 3/3", "missing"],
    );
    refused(
        &lopa(&["merge", &s(1), &s(1), &s(2), &s(3), "--out", m]),
        &["both shard 1/3"],
    );
    // The merged run needs a folder of its own, not one of the shards'.
    refused(
        &lopa(&["merge", &s(1), &s(2), &s(3), "--out", &s(2), "--force"]),
        &["is the shard folder", "a folder of its own"],
    );
    assert!(
        !shard(2).join("runs.csv").exists(),
        "the shard is left as it was"
    );
    let single_s = single.to_str().unwrap();
    refused(
        &lopa(&["merge", &s(1), single_s, "--out", m]),
        &["not a finished shard", "shard.json"],
    );
    // Another seed, other settings, another version, another shard count.
    let other = t.join("other");
    let o = other.to_str().unwrap();
    ok(&run(&other, &["--shard", "3/3", "--set", "seed=8"]));
    refused(
        &lopa(&["merge", &s(1), &s(2), o, "--out", m]),
        &[o, "seed 8, not 7"],
    );
    ok(&run(&other, &["--shard", "3/3", "--set", "sequences=5"]));
    refused(
        &lopa(&["merge", &s(1), &s(2), o, "--out", m]),
        &[o, "other settings"],
    );
    ok(&run(&other, &["--shard", "2/2"]));
    refused(
        &lopa(&["merge", &s(1), &s(2), o, "--out", m]),
        &[o, "shard 2/2"],
    );
    ok(&run(&other, &["--shard", "3/3"]));
    let desc = other.join("shard.json");
    let text = fs::read_to_string(&desc).unwrap();
    let v = env!("LOPA_SIM_VERSION");
    fs::write(&desc, text.replace(v, "0.0.1 (git 000000000000)")).unwrap();
    refused(
        &lopa(&["merge", &s(1), &s(2), o, "--out", m]),
        &[o, "lopa-sim 0.0.1"],
    );

    for bad in ["0/3", "4/3", "1/0", "junk", "2"] {
        let o = run(&t.join("bad"), &["--shard", bad]);
        refused(&o, &["--shard", bad, "I/N"]);
    }
    // A shard count past the cap: merge would hold a slot per shard.
    let o = run(&t.join("bad"), &["--shard", "1/18446744073709551615"]);
    refused(&o, &["--shard", "at most 100000 shards"]);
}

#[test]
fn a_crashed_run_resumes_to_the_bytes_of_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let single = t.join("single");
    ok(&run(&single, &[]));
    let out = t.join("crashed");
    // The hook aborts the process (as a crash or SIGKILL would) after 7 work items.
    let o = run_env(&out, &[], &[("LOPA_SIM_CRASH_AFTER", "7")]);
    assert!(!o.status.success());
    let journal = out.join("journal.txt");
    let lines = fs::read_to_string(&journal).unwrap().lines().count();
    assert_eq!(lines, 1 + 7, "a header and 7 items");
    assert!(!out.join("runs.csv").exists() && !out.join("summary.csv").exists());
    // The crash also tore the line it was writing.
    let mut bytes = fs::read(&journal).unwrap();
    bytes.extend_from_slice(b"9 12 64 60 3");
    fs::write(&journal, &bytes).unwrap();

    refused(
        &run(&out, &["--resume", "--set", "decoder.fill_threshold=0.8"]),
        &["cannot resume", "other settings"],
    );
    refused(
        &run(&out, &["--resume", "--shard", "1/2"]),
        &["cannot resume", "shard 1/1"],
    );
    ok(&run(&out, &["--resume"]));
    assert_same_folders(&single, &out);

    // A shard resumes too, and merges like an uninterrupted one.
    let (a, b) = (t.join("a"), t.join("b"));
    let o = run_env(&a, &["--shard", "1/2"], &[("LOPA_SIM_CRASH_AFTER", "3")]);
    assert!(!o.status.success() && !a.join("shard.json").exists());
    ok(&run(&a, &["--shard", "1/2", "--resume"]));
    ok(&run(&b, &["--shard", "2/2"]));
    let merged = t.join("merged");
    ok(&lopa(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "-q",
    ]));
    assert_same_folders(&single, &merged);
}

#[test]
fn the_slurm_script_submits_an_array_and_a_dependent_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let bin = t.join("bin");
    fs::create_dir(&bin).unwrap();
    // A fake sbatch: records its arguments and environment, prints a job id.
    let log = t.join("sbatch.log");
    fs::write(
        bin.join("sbatch"),
        format!(
            "#!/bin/sh\necho \"STAGE=$LOPA_STAGE $*\" >> '{}'\necho 4242\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(bin.join("sbatch"), fs::Permissions::from_mode(0o755)).unwrap();
    let lopa_bin = env!("CARGO_BIN_EXE_lopa-sim");
    let script = root().join("scenarios/slurm-array.sh");
    let out = t.join("res");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let sh = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = std::process::Command::new("bash");
        c.current_dir(root()).arg(&script).args(args);
        c.env("PATH", &path).env("LOPA_SIM", lopa_bin);
        c.env("LOPA_SIM_ARGS", SMALL.join(" "));
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let o_s = out.to_str().unwrap();
    let o = sh(&[], &[SCENARIO, "3", o_s, "--time=10"]);
    ok(&o);
    let calls = fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].starts_with("STAGE=shard") && calls[0].contains("--array=1-3"));
    assert!(calls[0].contains("--time=10"), "{}", calls[0]);
    assert!(calls[1].starts_with("STAGE=merge") && calls[1].contains("--dependency=afterok:4242"));
    // What Slurm would then run: each array task, then the merge.
    for i in ["1", "2", "3"] {
        let env = [
            ("LOPA_STAGE", "shard"),
            ("SLURM_ARRAY_TASK_ID", i),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        ok(&sh(&env, &[SCENARIO, o_s]));
    }
    ok(&sh(&[("LOPA_STAGE", "merge")], &[SCENARIO, o_s, "3"]));
    let single = t.join("single");
    ok(&run(&single, &[]));
    assert_same_folders(&single, &out);
    let bad = sh(&[], &[SCENARIO, "zero", o_s]);
    assert_eq!(bad.status.code(), Some(2));
}
