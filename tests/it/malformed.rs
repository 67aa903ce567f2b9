//! Malformed inputs, generated: scenarios, model CSVs and results folders with huge numbers,
//! NaN and inf, truncation, invalid UTF-8, deep nesting, missing columns, mismatched shapes,
//! BOMs and CRLF line ends. Each goes through the library loaders (fast, no binary) and
//! must end in `Ok` or an error naming the file or key. The minimised fuzz findings are
//! replayed as regression tests; `refusals` holds the binary-level checks.

use std::fs;
use std::path::Path;

use lopa_sim::engine::Workspace;
use lopa_sim::{budget, results, scenario};
use proptest::prelude::*;

pub(crate) const BASE: &str = "name = \"m\"\nseed = 3\nsequences = 2\ngen_length = 8\n\n[model]\nkind = \"markov\"\nvocab_size = 6\neos_token = 0\neos_hazard = 0.05\nprompt_length = 2\n\n[decoder]\nkind = \"d2f\"\nblock_size = 4\nfill_threshold = 0.7\n\n[search]\nkind = \"lopa\"\nbranches = 2\n\n[sweep]\n\"search.branches\" = [0, 2]\n";

/// Values that break naive loaders.
const NASTY: &[&str] = &[
    "99999999999999999999999",
    "-9223372036854775809",
    "18446744073709551615",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-inf",
    "-0.0",
    "0",
    "-1",
    "4294967296",
    "\"\"",
    "\"\u{feff}x\"",
    "[]",
    "[[]]",
    "{}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "{a={b={c={d={e={f={g={h=1}}}}}}}",
    "true",
    "1979-05-27T07:32:00Z",
    "'''\n'''",
];

/// Loads, resolves, checks the budget and builds; decodes one small sequence when all of that
/// succeeds. Returns the error message, if any.
fn pipeline(path: &Path, sets: &[String]) -> Option<String> {
    let s = match scenario::load(path, sets) {
        Ok(s) => s,
        Err(e) => return Some(e.to_string()),
    };
    let resolved = match s.configurations() {
        Ok(r) => r,
        Err(e) => return Some(e.to_string()),
    };
    if let Err(e) = budget::check(&resolved, 2, 256 << 20) {
        return Some(e.to_string());
    }
    let setups = match s.setups(&resolved) {
        Ok(s) => s,
        Err(e) => return Some(e.to_string()),
    };
    let setup = &setups[0];
    if setup.gen_length <= 64 && setup.model.vocab_size() <= 64 {
        if let Ok(r) = setup.decode(0, &mut Workspace::default()) {
            assert!(r.tokens >= r.rounds);
        }
    }
    None
}

/// The message names the file (or the `--set` argument, or the budget).
fn assert_named(message: &str, file: &Path) {
    let shown = file.display().to_string();
    assert!(
        message.contains(&shown) || message.contains("--set") || message.contains("budget"),
        "names neither the file nor the argument: {message}"
    );
    assert!(message.len() < 2000, "a long error: {message}");
}

/// Ways to damage a text.
#[derive(Debug, Clone)]
enum Damage {
    /// Replace the value on line `n` (mod the line count) by a nasty one.
    Value(usize, usize),
    /// Cut the file at this fraction of its bytes.
    Truncate(f64),
    /// Drop line `n`.
    DropLine(usize),
    /// Put a byte that is not UTF-8 at this fraction.
    Invalid(f64),
    /// A BOM in front.
    Bom,
    /// CRLF line ends.
    Crlf,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        4 => (any::<usize>(), 0..NASTY.len()).prop_map(|(n, v)| Damage::Value(n, v)),
        1 => (0.0f64..1.0).prop_map(Damage::Truncate),
        1 => any::<usize>().prop_map(Damage::DropLine),
        1 => (0.0f64..1.0).prop_map(Damage::Invalid),
        1 => Just(Damage::Bom),
        1 => Just(Damage::Crlf),
    ]
}

fn apply(text: &[u8], d: &Damage) -> Vec<u8> {
    let lines = || text.split(|&b| b == b'\n').collect::<Vec<_>>();
    match d {
        Damage::Value(n, v) => {
            let mut ls = lines();
            let i = n % ls.len();
            let line = ls[i];
            let replaced;
            if let Some(eq) = line.iter().position(|&b| b == b'=') {
                replaced = [&line[..=eq], b" ", NASTY[*v].as_bytes()].concat();
                ls[i] = &replaced;
                ls.join(&b'\n')
            } else {
                // A value's place in a CSV: replace the line's first cell.
                let rest = line
                    .iter()
                    .position(|&b| b == b',')
                    .map_or(&[][..], |c| &line[c..]);
                replaced = [NASTY[*v].as_bytes(), rest].concat();
                ls[i] = &replaced;
                ls.join(&b'\n')
            }
        }
        Damage::Truncate(f) => text[..(text.len() as f64 * f) as usize].to_vec(),
        Damage::DropLine(n) => {
            let mut ls = lines();
            let i = n % ls.len();
            ls.remove(i);
            ls.join(&b'\n')
        }
        Damage::Invalid(f) => {
            let mut t = text.to_vec();
            t.insert((t.len() as f64 * f) as usize, 0xff);
            t
        }
        Damage::Bom => [&b"\xef\xbb\xbf"[..], text].concat(),
        Damage::Crlf => String::from_utf8_lossy(text)
            .replace('\n', "\r\n")
            .into_bytes(),
    }
}

/// A row-stochastic CSV, `rows` x `cols`.
fn matrix(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|i| {
            (0..cols)
                .map(|j| if i % cols == j { "1" } else { "0" }.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn damaged_scenarios_end_in_ok_or_a_named_error(
        ds in prop::collection::vec(damage(), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        let mut text = BASE.as_bytes().to_vec();
        for d in &ds {
            text = apply(&text, d);
        }
        fs::write(&path, &text).unwrap();
        if let Some(m) = pipeline(&path, &[]) {
            assert_named(&m, &path);
        }
    }

    #[test]
    fn nasty_set_values_end_in_ok_or_a_named_error(
        key in prop::sample::select(vec![
            "seed", "sequences", "gen_length", "model.vocab_size", "model.prompts",
            "model.eos_token", "decoder.block_size", "decoder.fill_threshold",
            "search.branches", "sweep.\"search.branches\"", "sweep", "model", "nope.x", "",
        ]),
        v in 0..NASTY.len(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        fs::write(&path, BASE.replace("[sweep]\n\"search.branches\" = [0, 2]\n", "")).unwrap();
        let set = format!("{key}={}", NASTY[v]);
        if let Some(m) = pipeline(&path, &[set]) {
            assert_named(&m, &path);
        }
    }

    #[test]
    fn damaged_model_csvs_end_in_ok_or_a_named_error(
        family in 0u8..3,
        which in 0usize..3,
        (rows, cols) in (1usize..6, 1usize..6),
        ds in prop::collection::vec(damage(), 0..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let head = BASE
            .replace("vocab_size = 6\neos_token = 0\neos_hazard = 0.05\nprompt_length = 2\n", "prompts = [[1]]\n");
        let (model, files): (&str, Vec<(&str, String)>) = match family {
            0 => ("kind = \"markov\"\ntransitions = \"t.csv\"\n", vec![("t.csv", matrix(rows, cols))]),
            1 => (
                "kind = \"hmm\"\nhmm_transitions = \"a.csv\"\nemissions = \"e.csv\"\ninitial = \"pi.csv\"\n",
                vec![("a.csv", matrix(rows, rows)), ("e.csv", matrix(rows, cols + 1)), ("pi.csv", matrix(1, cols))],
            ),
            _ => (
                "kind = \"plan\"\nplans = [\"p0.csv\", \"p1.csv\"]\n",
                vec![("p0.csv", matrix(rows + 1, rows + 1)), ("p1.csv", matrix(cols + 1, cols + 1))],
            ),
        };
        let which = which % files.len();
        for (i, (name, text)) in files.iter().enumerate() {
            let mut bytes = text.as_bytes().to_vec();
            if i == which {
                for dmg in &ds {
                    bytes = apply(&bytes, dmg);
                }
            }
            fs::write(d.join(name), bytes).unwrap();
        }
        let path = d.join("s.toml");
        fs::write(&path, head.replace("kind = \"markov\"\n", model)).unwrap();
        if let Some(m) = pipeline(&path, &[]) {
            assert_named(&m, &path);
            if !ds.is_empty() && m.contains(".csv") {
                let named = files.iter().any(|(n, _)| m.contains(&d.join(n).display().to_string()));
                prop_assert!(named, "a CSV error without its file: {}", m);
            }
        }
    }
}

/// A small results folder, written once per test process by the library.
fn results_folder() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("s.toml");
        fs::write(&s, BASE).unwrap();
        lopa_sim::cli::run(&lopa_sim::cli::RunOptions {
            scenario: s,
            out: Some(dir.path().join("out")),
            sets: vec![],
            quiet: true,
            verbose: 0,
            cases: vec![],
            list: false,
            export_markdown: None,
            force: false,
            ..Default::default()
        })
        .unwrap();
        dir
    })
    .path()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn damaged_results_folders_end_in_ok_or_a_named_error(
        file in prop::sample::select(vec!["summary.json", "summary.csv", "rounds.csv", "trace.csv"]),
        ds in prop::collection::vec(damage(), 1..3),
    ) {
        let src = results_folder().join("out");
        let dir = tempfile::tempdir().unwrap();
        for f in ["summary.json", "summary.csv", "rounds.csv", "trace.csv"] {
            let mut bytes = fs::read(src.join(f)).unwrap();
            if f == file {
                for d in &ds {
                    bytes = apply(&bytes, d);
                }
            }
            fs::write(dir.path().join(f), bytes).unwrap();
        }
        if let Err(e) = results::load(dir.path()) {
            let m = format!("{e:#}");
            prop_assert!(m.contains(&dir.path().join(file).display().to_string()), "{}", m);
        }
    }
}

#[test]
fn bom_and_crlf_are_accepted_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = BASE
        .replace(
            "vocab_size = 6\neos_token = 0\neos_hazard = 0.05\nprompt_length = 2\n",
            "transitions = \"t.csv\"\nprompts = [[1]]\n",
        )
        .replace('\n', "\r\n");
    fs::write(d.join("s.toml"), format!("\u{feff}{text}")).unwrap();
    fs::write(d.join("t.csv"), "\u{feff}0.5,0.5\r\n0.25,0.75\r\n").unwrap();
    assert_eq!(pipeline(&d.join("s.toml"), &[]), None);
    // A results folder saved by an editor that adds BOMs and CRLFs still plots.
    let src = results_folder().join("out");
    for f in ["summary.json", "summary.csv", "rounds.csv", "trace.csv"] {
        let t = fs::read_to_string(src.join(f)).unwrap();
        let t = if f.ends_with(".csv") {
            format!("\u{feff}{}", t.replace('\n', "\r\n"))
        } else {
            t.replace('\n', "\r\n")
        };
        fs::write(d.join(f), t).unwrap();
    }
    let data = results::load(d).unwrap();
    assert_eq!(data.configs.len(), 2);
    assert!(data.configs[0].tpf >= 1.0);
}

/// Regression: each was a panic or a hang before it was fixed.
#[test]
fn fuzz_findings_stay_fixed() {
    // `plot` on a summary.csv whose first column is `sequences` sliced headers[1..0].
    let dir = tempfile::tempdir().unwrap();
    let src = results_folder().join("out");
    for f in ["summary.json", "rounds.csv", "trace.csv"] {
        fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    fs::write(dir.path().join("summary.csv"), "sequences,config\n1,0\n").unwrap();
    let e = format!("{:#}", results::load(dir.path()).unwrap_err());
    assert!(e.contains("summary.csv: no column"), "{e}");
    // A TPF of 1e308 made the figures spin for minutes; NaN drew blank axes.
    let summary = fs::read_to_string(src.join("summary.csv")).unwrap();
    let tpf = summary
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(3)
        .unwrap()
        .to_string();
    for bad in ["1e308", "NaN", "inf", "-3"] {
        let damaged = summary.replacen(&format!(",{tpf},"), &format!(",{bad},"), 1);
        fs::write(dir.path().join("summary.csv"), damaged).unwrap();
        let e = format!("{:#}", results::load(dir.path()).unwrap_err());
        assert!(e.contains("summary.csv:2: column `tpf`"), "{bad}: {e}");
    }
}

/// Six swept keys of 100 values each expand to 10^12 configurations: refused at once
/// (it used to spin in the expansion, and the count could overflow).
#[test]
fn a_sweep_too_large_to_expand_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let ints: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let floats: Vec<String> = (0..100)
        .map(|i| format!("{}", f64::from(i) / 100.0))
        .collect();
    let (ints, floats) = (ints.join(","), floats.join(","));
    let sweep = format!(
        "\"search.branches\" = [{ints}]\nseed = [{ints}]\n\"decoder.fill_threshold\" = [{floats}]\n\"decoder.add_threshold\" = [{floats}]\n\"decoder.activate_threshold\" = [{floats}]\n\"model.peakedness\" = [{floats}]\n"
    );
    let text = BASE.replace("\"search.branches\" = [0, 2]\n", &sweep);
    fs::write(&path, text).unwrap();
    let m = pipeline(&path, &[]).expect("refused");
    assert!(m.contains("more than 100000 configurations"), "{m}");
    assert_named(&m, &path);
}

/// A megabyte on one line (deep nesting, one huge CSV field) gives a short error: the
/// parsers quote the offending line, which is cut.
#[test]
fn a_huge_line_gives_a_short_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let deep = format!("name = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(&path, deep).unwrap();
    let m = pipeline(&path, &[]).expect("refused");
    assert_named(&m, &path);
    let text = BASE.replace(
        "vocab_size = 6\neos_token = 0\neos_hazard = 0.05\nprompt_length = 2\n",
        "transitions = \"t.csv\"\nprompts = [[1]]\n",
    );
    fs::write(&path, text).unwrap();
    fs::write(
        dir.path().join("t.csv"),
        format!("1,{}\n", "x".repeat(1 << 20)),
    )
    .unwrap();
    let m = pipeline(&path, &[]).expect("refused");
    assert!(m.contains("t.csv:1: entry 2 `xxx"), "{m}");
    assert_named(&m, &path);
}
