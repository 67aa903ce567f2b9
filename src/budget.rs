//! Resource limits checked before a run allocates: an upper estimate of the peak memory of
//! a sweep, from the configurations alone (and the sizes of the model files), refused with
//! a clear message when it exceeds `--memory-budget`. Being killed by the OS after an hour
//! loses the hour; being refused up front loses nothing.
//!
//! The estimate is deliberately pessimistic where the code is lazy: the Markov power cache
//! is counted as if every distance up to L were filled, since a long decode can fill it.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::Prompts;
use crate::record::{DecodeRecord, ProgressBins};
use crate::scenario::{ModelSpec, Resolved};

/// `--memory-budget` when none is given and the machine's memory is unknown: 4 GiB.
pub const DEFAULT_BUDGET: u64 = 4 << 30;

/// The default `--memory-budget`: three quarters of the machine's physical memory (Linux's
/// `MemTotal`), so that the pessimistic estimate refuses what cannot fit on this machine and
/// nothing else; [`DEFAULT_BUDGET`] where that is unknown.
pub fn machine_default() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .as_deref()
        .and_then(mem_total_bytes)
        .map_or(DEFAULT_BUDGET, |total| total / 4 * 3)
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(kib.checked_mul(1024)?)
}

/// Decodes one sweep chunk holds at once (see `sweep`).
const SWEEP_CHUNK: u128 = 1 << 14;

/// The process's budget in bytes, set once by the binary from `--memory-budget`; a global,
/// like rayon's pool, so every command that prepares a scenario checks the same limit.
static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_BUDGET);

/// Sets the budget [`limit`] returns.
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The budget `cli::prepare` checks against: [`DEFAULT_BUDGET`] unless set.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// A run that would not fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BudgetError(pub String);

/// Parses a byte count: a plain number of bytes, or one with a unit K, M, G or T (powers of
/// 1024; `KB`, `KiB`, `MB`, `MiB`, ... read the same; case does not matter).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || {
        format!(
            "--memory-budget: `{text}` is not a size; use bytes or a unit, e.g. 512M, 4G, 1.5GiB"
        )
    };
    let x: f64 = number.parse().map_err(|_| bad())?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad()),
    };
    let bytes = x * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes >= u64::MAX as f64 {
        return Err(format!(
            "--memory-budget: `{text}` is out of range; give at least one byte and below 16 EiB"
        ));
    }
    Ok(bytes as u64)
}

/// A byte count for people: `1.5 GiB`.
pub fn show_bytes(bytes: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut x = bytes as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < units.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{x:.1} {}", units[u])
    }
}

/// The estimate, by part, largest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimate {
    /// (what, bytes).
    pub parts: Vec<(String, u128)>,
}

impl Estimate {
    /// The whole estimate.
    pub fn total(&self) -> u128 {
        self.parts.iter().map(|(_, b)| b).sum()
    }
}

/// An upper bound on the entries of a CSV matrix from its size: each entry takes at least
/// one digit and one separator. A missing file counts as empty (the loader reports it).
fn csv_entries(path: &Path) -> u128 {
    std::fs::metadata(path).map_or(0, |m| u128::from(m.len()) / 2 + 1)
}

/// V and the model's resident bytes (matrices, their transposes and the power cache at its
/// fullest), for a model decoding up to `max_len` positions.
fn model_bytes(spec: &ModelSpec, max_len: usize) -> (u128, u128) {
    let l = max_len.max(1) as u128;
    // t, its transpose, powers[1], and the CSV rows while reading: four V x V copies.
    let markov = |v: u128| (4 + l) * v * v * 8;
    // M chains, plus the transposed powers the mixture reads its right columns from
    // (`plan::marginal`): at most 16 MiB, and never more than the powers themselves.
    let plan = |m: u128, v: u128| m * markov(v) + (m * (l + 1) * v * v * 8).min(16 << 20);
    match spec {
        ModelSpec::MarkovCsv(path) => {
            let v = csv_entries(path).isqrt();
            (v, markov(v))
        }
        ModelSpec::MarkovGenerated(p) => {
            let v = p.vocab_size as u128;
            (v, markov(v))
        }
        ModelSpec::HmmCsv(a, e, pi) => {
            let (k2, ke) = (csv_entries(a), csv_entries(e));
            let k = k2.isqrt().max(1);
            ((ke / k).max(1), 3 * (k2 + ke + csv_entries(pi)) * 8)
        }
        ModelSpec::HmmGenerated(p) => {
            let (k, v) = (p.states as u128, p.vocab_size as u128);
            (v, 3 * (k * k + k * v + k) * 8)
        }
        ModelSpec::PlanCsv(paths, _) => {
            let v = paths.first().map_or(0, |p| csv_entries(p).isqrt());
            (v, plan(paths.len() as u128, v))
        }
        ModelSpec::PlanGenerated(p) => {
            let v = p.chain.vocab_size as u128;
            (v, plan(p.plans as u128, v))
        }
        ModelSpec::PhraseGenerated(p) => {
            let v = p.vocab_size as u128;
            (v, markov(v))
        }
        ModelSpec::Field(p) => (p.vocab_size as u128, 0),
    }
}

/// One thread's workspace for a configuration: k + 1 live and next branches with their
/// predictions, the model's per-position buffers, and V-sized distributions.
fn workspace_bytes(r: &Resolved, v: u128) -> u128 {
    let c = &r.config;
    let prompt = match &c.prompts {
        Prompts::Explicit(list) => list.iter().map(Vec::len).max().unwrap_or(0),
        Prompts::Sampled(len) => *len,
    } as u128;
    let n = prompt + c.gen_length as u128;
    let branches = c.search.lookahead_branches() as u128 + 1;
    let states = match &c.model {
        ModelSpec::HmmGenerated(p) => p.states as u128,
        ModelSpec::HmmCsv(a, ..) => csv_entries(a).isqrt(),
        ModelSpec::PlanGenerated(p) => p.plans as u128,
        ModelSpec::PlanCsv(paths, _) => paths.len() as u128,
        _ => 1,
    };
    // Per branch and position: tokens twice (live, next) and a 24-byte prediction twice.
    // Per position: the model's rows of K (or M) values, 8 bytes each: the HMM's alpha,
    // beta and a pending row, and its memo's ways, each a row, a hash, a use count and a
    // prediction (`hmm::memo`: 16 ways, fewer when 2048 positions of them would pass
    // 2^20 values).
    let hmm = matches!(c.model, ModelSpec::HmmGenerated(_) | ModelSpec::HmmCsv(..));
    let ways = if hmm {
        ((1u128 << 20) / (2048 * states.max(1))).clamp(2, 16)
    } else {
        1
    };
    let rows = states * 24 + ways * (states * 8 + 56);
    branches * n * (2 * 4 + 2 * 24) + n * (rows + 112) + 4 * v * 8
}

/// The estimated peak memory of decoding `resolved` on `threads` threads.
pub fn estimate(resolved: &[Resolved], threads: usize) -> Estimate {
    // One model per distinct model key, as `Scenario::setups` builds them (each seed and
    // each world of a generated model its own), at its longest L.
    let models = crate::scenario::distinct_models(resolved);
    let mut model_total = 0u128;
    let mut vocab = 0u128;
    for (spec, max_len) in &models {
        let (v, bytes) = model_bytes(spec, *max_len);
        model_total += bytes;
        vocab = vocab.max(v);
    }
    let sequences: u128 = resolved
        .iter()
        .map(|r| r.config.sequences as u128 * r.config.worlds.max(1) as u128)
        .sum();
    let record = (std::mem::size_of::<DecodeRecord>() + 8) as u128;
    let chunk = SWEEP_CHUNK.min(sequences) * (record + std::mem::size_of::<ProgressBins>() as u128);
    let workspace = resolved
        .iter()
        .map(|r| workspace_bytes(r, vocab))
        .max()
        .unwrap_or(0);
    // Two traced decodes keep every round: the filled tokens and k + 1 scores.
    let trace = resolved
        .iter()
        .map(|r| {
            let k = r.config.search.lookahead_branches() as u128 + 1;
            r.config.gen_length as u128 * (k * 8 + 2 * 40 + 64)
        })
        .max()
        .unwrap_or(0)
        * 2;
    let per_config = resolved.len() as u128 * 4096;
    let mut parts = vec![
        (format!("{} model(s)", models.len()), model_total),
        (
            format!("{sequences} decode records"),
            sequences * record + chunk,
        ),
        (
            format!("{threads} thread workspace(s)"),
            threads.max(1) as u128 * workspace,
        ),
        ("traces".to_string(), trace),
        (format!("{} configurations", resolved.len()), per_config),
    ];
    parts.sort_by_key(|p| std::cmp::Reverse(p.1));
    Estimate { parts }
}

/// Refuses the run when its estimate exceeds `budget` bytes.
pub fn check(resolved: &[Resolved], threads: usize, budget: u64) -> Result<Estimate, BudgetError> {
    let e = estimate(resolved, threads);
    if e.total() <= u128::from(budget) {
        return Ok(e);
    }
    let mut parts = String::new();
    for (what, bytes) in e.parts.iter().filter(|(_, b)| *b > 0).take(3) {
        let _ = write!(
            parts,
            "{}{what}: {}",
            if parts.is_empty() { "" } else { ", " },
            show_bytes(*bytes)
        );
    }
    Err(BudgetError(format!(
        "this run needs an estimated {} of memory, over the memory budget of {} ({parts}); shrink sequences, gen_length, the vocabulary or the sweep, or raise --memory-budget",
        show_bytes(e.total()),
        show_bytes(u128::from(budget)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_units() {
        assert_eq!(parse_bytes("4G"), Ok(4 << 30));
        assert_eq!(
            mem_total_bytes("MemTotal:       24570396 kB\nMemFree: 1 kB\n"),
            Some(24570396 * 1024)
        );
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
        assert_eq!(mem_total_bytes("MemTotal: lots kB\n"), None);
        assert_eq!(mem_total_bytes("MemTotal: 12 MB\n"), None);
        assert!(machine_default() > 0);
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("512mib"), Ok(512 << 20));
        assert_eq!(parse_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_bytes(" 1000 "), Ok(1000));
        for bad in ["", "G", "4X", "-1G", "1e400", "0", "nan", "4 G B"] {
            let e = parse_bytes(bad).unwrap_err();
            assert!(e.contains("--memory-budget"), "{bad}: {e}");
        }
    }

    #[test]
    fn bytes_show_in_binary_units() {
        assert_eq!(show_bytes(512), "512 B");
        assert_eq!(show_bytes(3 << 29), "1.5 GiB");
    }
}
