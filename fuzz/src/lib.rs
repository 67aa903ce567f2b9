//! The fuzz targets' bodies. Each takes the fuzzer's bytes, writes them where `lopa-sim`
//! reads its inputs, and drives the library the way the binary does. Every input must end in
//! `Ok` or a typed error whose message names the file or the `--set` argument; a panic, an
//! abort or a hang is a finding. A finding, once fixed, is kept as a stable regression test
//! in `tests/it/malformed.rs`, which mirrors `pipeline` below.

use std::path::Path;

use lopa_sim::engine::{Setup, Workspace};
use lopa_sim::scenario;

/// The memory budget under fuzzing: far below libFuzzer's 2 GiB malloc limit.
const FUZZ_BUDGET: u64 = 256 << 20;

/// Splits the fuzzer's bytes into at most `n` files at NUL bytes.
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = data.splitn(n, |&b| b == 0).collect();
    parts.resize(n, &[]);
    parts
}

/// Loads, resolves, checks the budget and builds `path` with `sets`; on success decodes a
/// sequence when the decode is small. Panics (a finding) when an error does not name where
/// it came from.
pub fn pipeline(path: &Path, sets: &[String]) {
    let shown = path.display().to_string();
    let named = |m: &str| {
        assert!(
            m.contains(&shown) || m.contains("--set") || m.contains("budget"),
            "the error names neither the file nor the argument: {m}"
        );
    };
    let s = match scenario::load(path, sets) {
        Ok(s) => s,
        Err(e) => return named(&e.to_string()),
    };
    let resolved = match s.configurations() {
        Ok(r) => r,
        Err(e) => return named(&e.to_string()),
    };
    if let Err(e) = lopa_sim::budget::check(&resolved, 2, FUZZ_BUDGET) {
        return named(&e.to_string());
    }
    let setups = match s.setups(&resolved) {
        Ok(setups) => setups,
        Err(e) => return named(&e.to_string()),
    };
    if let Some(setup) = setups.first() {
        decode_small(setup);
    }
}

/// Decodes sequence 0 when that is cheap, and checks the record.
pub fn decode_small(setup: &Setup) {
    let v = setup.model.vocab_size();
    // Small enough to stay well under the timeout with the sanitizer on a busy machine.
    if setup.gen_length > 64 || v > 64 {
        return;
    }
    if let lopa_sim::engine::Prompts::Sampled(len) = setup.prompts {
        if len > 4096 {
            return;
        }
    }
    if let Ok(r) = setup.decode(0, &mut Workspace::default()) {
        assert!(r.tokens >= r.rounds, "TPF below 1: {r:?}");
        if let Some(ll) = r.quality.log_likelihood {
            assert!(!ll.is_nan(), "NaN log-likelihood: {r:?}");
        }
    }
}

/// Writes `bytes` to `dir/name` and returns the path.
fn put(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp folder is writable");
    path
}

/// A scenario file: the bytes as they are.
pub fn scenario(data: &[u8]) {
    let dir = tempfile::tempdir().expect("temp folder");
    let path = put(dir.path(), "scenario.toml", data);
    pipeline(&path, &[]);
}

/// A small valid scenario the `--set` and prompt targets start from.
const BASE: &str = r#"name = "fuzz"
seed = 1
sequences = 2
gen_length = 8

[model]
kind = "markov"
vocab_size = 6
eos_token = 0
eos_hazard = 0.05
prompt_length = 2

[decoder]
kind = "d2f"
block_size = 4

[search]
kind = "lopa"
branches = 2
"#;

/// `--set` arguments: one per line of the bytes (lossy UTF-8, as a shell would pass them).
pub fn set(data: &[u8]) {
    let dir = tempfile::tempdir().expect("temp folder");
    let path = put(dir.path(), "scenario.toml", BASE.as_bytes());
    let text = String::from_utf8_lossy(data);
    let sets: Vec<String> = text.lines().take(16).map(str::to_string).collect();
    for s in &sets {
        if let Some((k, v)) = s.split_once('=') {
            let _ = scenario::parse_set_key(k);
            let _ = scenario::parse_set_value(v);
        }
    }
    pipeline(&path, &sets);
}

/// The model CSVs: the first byte picks the family, the rest are the files, split at NULs.
pub fn csv(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp folder");
    let head = "name = \"fuzz\"\nseed = 1\nsequences = 1\ngen_length = 8\n\n[decoder]\nkind = \"d2f\"\nblock_size = 4\n\n[search]\nkind = \"lopa\"\nbranches = 2\n\n[model]\nprompts = [[1]]\n";
    let eos = if pick & 0x80 != 0 {
        "eos_token = 0\n"
    } else {
        ""
    };
    let model = match (pick & 0x7f) % 3 {
        0 => {
            put(dir.path(), "t.csv", split(rest, 1)[0]);
            "kind = \"markov\"\ntransitions = \"t.csv\"\n".to_string()
        }
        1 => {
            let f = split(rest, 3);
            put(dir.path(), "a.csv", f[0]);
            put(dir.path(), "e.csv", f[1]);
            put(dir.path(), "pi.csv", f[2]);
            "kind = \"hmm\"\nhmm_transitions = \"a.csv\"\nemissions = \"e.csv\"\ninitial = \"pi.csv\"\n"
                .to_string()
        }
        _ => {
            let f = split(rest, 2);
            put(dir.path(), "p0.csv", f[0]);
            put(dir.path(), "p1.csv", f[1]);
            "kind = \"plan\"\nplans = [\"p0.csv\", \"p1.csv\"]\nplan_prior = [0.5, 0.5]\n"
                .to_string()
        }
    };
    let path = put(
        dir.path(),
        "scenario.toml",
        format!("{head}{model}{eos}").as_bytes(),
    );
    pipeline(&path, &[]);
}

/// Prompts: odd first byte, the rest is the TOML value of `model.prompts`; even, the rest
/// are token ids (two bytes each, a zero pair ends a prompt).
pub fn prompts(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let value = if pick % 2 == 1 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let mut prompts: Vec<Vec<u16>> = vec![Vec::new()];
        for pair in rest.chunks(2) {
            let id = u16::from_le_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            match id {
                0xffff => prompts.push(Vec::new()),
                id => prompts.last_mut().expect("one").push(id % 16),
            }
        }
        format!("{prompts:?}")
    };
    let dir = tempfile::tempdir().expect("temp folder");
    let text = BASE.replace("prompt_length = 2\n", &format!("prompts = {value}\n"));
    let path = put(dir.path(), "scenario.toml", text.as_bytes());
    pipeline(&path, &[]);
}

/// A results folder read back by `plot`: summary.json, summary.csv, rounds.csv and
/// trace.csv, split at NULs.
pub fn results(data: &[u8]) {
    let dir = tempfile::tempdir().expect("temp folder");
    let f = split(data, 4);
    for (name, bytes) in ["summary.json", "summary.csv", "rounds.csv", "trace.csv"]
        .iter()
        .zip(f)
    {
        put(dir.path(), name, bytes);
    }
    if let Err(e) = lopa_sim::results::render(dir.path()) {
        let m = format!("{e:#}");
        assert!(
            m.contains(&dir.path().display().to_string()),
            "the error names no file: {m}"
        );
    }
}
