//! Messages that used to mislead: Rust debug text, a key that does not exist, a type name
//! instead of a range, a value nobody wrote, two identical hashes; and a CRLF journal that
//! was refused.

use std::fs;
use std::path::Path;

use crate::malformed::BASE;
use crate::util::{lopa, lopa_env, run_in, run_ok, stderr};

const QUICK: &str = "scenarios/quickstart.toml";
const SMALL: [&str; 4] = ["--set", "sequences=4", "--set", "gen_length=64"];

/// Exit 2, no panic, every needle in the message and none of `not`.
fn says(o: &std::process::Output, needles: &[&str], not: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from: {err}");
    }
    for n in not {
        assert!(!err.contains(n), "`{n}` in: {err}");
    }
}

/// `run SCENARIO-TEXT --out TMP EXTRA...`.
fn run_base(text: String, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("s.toml"), text).unwrap();
    run_in(dir.path(), extra)
}

#[test]
fn an_unknown_via_is_printed_plainly_with_the_valid_ones() {
    let out = run_ok(QUICK, &SMALL);
    let path = out.path().join("trace.csv");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replacen(",anchor,", ",bogus,", 1)).unwrap();
    let o = lopa(&["plot", out.path().to_str().unwrap()]);
    says(
        &o,
        &[
            "trace.csv:2: column `via`: `bogus` is not valid",
            "anchor, lookahead or completion",
        ],
        &["Some("],
    );
}

#[test]
fn a_table_set_whole_lists_its_real_keys() {
    let o = run_base(BASE.into(), &["--set", "system={}"]);
    says(
        &o,
        &["`system` is a table", "system.hardware, system.model"],
        &["system.kind"],
    );
    let o = run_base(BASE.into(), &["--set", "decoder={}"]);
    says(&o, &["decoder.kind, decoder.block_size"], &[]);
}

#[test]
fn a_seed_beyond_toml_integers_names_the_valid_range() {
    let max = "18446744073709551615";
    let range = "0..=9223372036854775807";
    let o = run_base(BASE.into(), &["--set", &format!("seed={max}")]);
    says(
        &o,
        &["--set seed=", "key `seed`", range],
        &["invalid type: string"],
    );
    let o = run_base(BASE.replace("seed = 3", &format!("seed = {max}")), &[]);
    says(&o, &["s.toml:2: key `seed`", range], &["u64 value"]);
    let o = run_base(BASE.into(), &["--set", "seed=-1"]);
    says(&o, &["key `seed`", range], &["expected u64"]);
    // The largest seed a scenario can hold is accepted.
    let o = run_base(
        BASE.into(),
        &["--set", "seed=9223372036854775807", "--set", "sweep={}"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A number TOML refuses for its form is not called out of range.
    let o = run_base(BASE.into(), &["--set", "seed=007"]);
    says(
        &o,
        &["key `seed`", "not a TOML integer", "e.g. 7"],
        &["outside"],
    );
    // Text keys take digits as they are: the check is only the number keys' message.
    let o = run_base(BASE.into(), &["--set", "name=007", "--set", "sweep={}"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_huge_profile_override_reports_the_value_given() {
    let system = ["--set", "system.hardware=h200", "--set", "sweep={}"];
    let o = run_base(
        BASE.into(),
        &[&system[..], &["--set", "system.bf16_tflops=1e308"]].concat(),
    );
    says(
        &o,
        &["key `system.bf16_tflops`", "up to 1e15", "got 1e308"],
        &["got inf"],
    );
    let o = run_base(
        BASE.into(),
        &[&system[..], &["--set", "system.overhead_ms=inf"]].concat(),
    );
    says(
        &o,
        &["key `system.overhead_ms`", "from 0 up to 1e15", "got inf"],
        &[],
    );
}

/// Shards 1/2 and 2/2 of the small quickstart in `t`.
fn shards(t: &Path) -> [String; 2] {
    [1, 2].map(|i| {
        let dir = t.join(format!("s{i}"));
        let d = dir.to_str().unwrap().to_string();
        let shard = format!("{i}/2");
        let mut args = vec!["run", QUICK, "--out", &d, "-q", "--shard", &shard];
        args.extend_from_slice(&SMALL);
        let o = lopa(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        d
    })
}

#[test]
fn a_damaged_shard_json_says_what_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let [a, b] = shards(t);
    let out = t.join("m");
    let merge = || lopa(&["merge", &a, &b, "--out", out.to_str().unwrap(), "-q"]);
    let desc = Path::new(&b).join("shard.json");
    let original = fs::read_to_string(&desc).unwrap();
    // The header's work-item count edited: the hashes agree, the counts do not.
    let edited = original.replacen("\"tasks\": 20", "\"tasks\": 21", 1);
    assert_ne!(edited, original);
    fs::write(&desc, &edited).unwrap();
    let o = merge();
    says(
        &o,
        &[&b, "21 work items, not 20", "header is damaged"],
        &["other settings"],
    );
    // The description edited under an intact header.
    let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
    v["meta"]["seed"] = 8.into();
    fs::write(&desc, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let o = merge();
    says(
        &o,
        &["shard.json is damaged", "hashes to", "header records"],
        &[],
    );
    fs::write(&desc, &original).unwrap();
    let o = merge();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_crlf_journal_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let single = run_ok(QUICK, &SMALL);
    let out = tmp.path().join("crashed");
    let mut args = vec!["run", QUICK, "--out", out.to_str().unwrap(), "-q"];
    args.extend_from_slice(&SMALL);
    let o = lopa_env(&args, &[("LOPA_SIM_CRASH_AFTER", "5")]);
    assert!(!o.status.success());
    let journal = out.join("journal.txt");
    let text = fs::read_to_string(&journal).unwrap();
    assert_eq!(text.lines().count(), 6);
    fs::write(&journal, text.replace('\n', "\r\n")).unwrap();
    args.push("--resume");
    let o = lopa_env(&args, &[("LOPA_SIM_CRASH_AFTER", "")]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["runs.csv", "summary.csv", "summary.json"] {
        let (a, b) = (single.path().join(f), out.join(f));
        let strip = |p: &Path| {
            fs::read_to_string(p)
                .unwrap()
                .replace(&p.display().to_string(), "")
        };
        assert!(strip(&a) == strip(&b), "{f} differs");
    }
}
