//! Criterion benchmarks of the hot loop (docs/performance.md has the numbers and the
//! commands). Each point decodes fresh sequences (the sequence number runs on, so memos
//! warm up as in a sweep rather than replaying one decode), and criterion's time per
//! iteration is the time per round of the decodes timed (see [`point`]).
//!
//! - `round_vs_k/<family>/<k>`: k = 0..32 lookahead branches, L = 512, V = 32.
//! - `round_vs_L/<family>/<L>`: L = 256..8192, k = 4, V = 32.
//! - `round_vs_V/<family>/<V>`: V = 16..1024, k = 4, L = 512 (the chain families stop at
//!   V = 256, where the matrix-power cache of V x V x L doubles is 256 MiB).
//! - `round_vs_window/<family>/<B>`: d2f block size B = 8..128, k = 4, L = 512, V = 32. The
//!   window (every masked position of every generated block) grows with B. These worlds
//!   have no EOS hazard, so every B decodes all L tokens.
//! - `sweep/paper-gsm8k`: the whole k sweep of scenarios/paper-gsm8k.toml, 16 sequences
//!   per configuration, on every thread.
//!
//! Beside each point's criterion output, `lopa.json` records the rounds per decode and the
//! positions processed per round (all branches) of every decode the point timed, so that
//! `examples/perf_plot.rs` can print the cost per branch and per position.
//!
//! Run: `cargo bench --bench decode` (about three minutes); one group: `-- round_vs_k`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use lopa_sim::cli::prepare;
use lopa_sim::engine::{Setup, Workspace};

const FAMILIES: [&str; 4] = ["markov", "hmm", "plan", "field"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// One configuration of benches/families.toml.
fn family(kind: &str, k: usize, l: usize, v: usize) -> Setup {
    family_eos(kind, k, l, v, 32, true)
}

/// Like [`family`], with d2f block size `block`, and no EOS hazard when `!eos`.
fn family_eos(kind: &str, k: usize, l: usize, v: usize, block: usize, eos: bool) -> Setup {
    let mut sets = vec![
        format!("model.kind=\"{kind}\""),
        format!("decoder.block_size={block}"),
        format!("search.branches={k}"),
        format!("gen_length={l}"),
        format!("model.vocab_size={v}"),
        "model.cache_budget_mb=4096".to_string(),
    ];
    if !eos {
        sets.push("model.eos_hazard=0.0".to_string());
    }
    let (s, resolved) = prepare(&root().join("benches/families.toml"), &sets).expect("loads");
    s.setups(&resolved).expect("setup builds").remove(0)
}

/// Benchmarks `setup` under `id`: each iteration decodes the next sequence, and criterion's
/// time per iteration is the time per round of the decodes it timed.
///
/// Sequences differ in their rounds by a factor of several (the EOS hazard ends some
/// early), so the rounds must be counted on the very decodes that are timed: a count from
/// 8 other sequences made plan's per-round cost at k = 16 look 1.5 times too high and at
/// k = 4 too low. Each batch of `iters` decodes reports its elapsed time scaled by
/// `iters / rounds`, its own rounds.
fn point(g: &mut BenchmarkGroup<'_, WallTime>, group: &str, id: String, setup: &Setup) {
    let mut ws = Workspace::default();
    // Warms the shared matrix-power cache, outside the measurement.
    for seq in 1000..1008 {
        setup.decode(seq, &mut ws).expect("decodes");
    }
    g.throughput(Throughput::Elements(1));
    let (mut seq, mut decodes, mut rounds, mut positions) = (0usize, 0u64, 0u64, 0u64);
    g.bench_function(&id, |b| {
        b.iter_custom(|iters| {
            let (mut batch_rounds, start) = (0u64, Instant::now());
            for _ in 0..iters {
                seq += 1;
                let r = black_box(setup.decode(seq, &mut ws).expect("decodes"));
                batch_rounds += r.rounds;
                positions += r.branch_tokens;
            }
            let elapsed = start.elapsed();
            decodes += iters;
            rounds += batch_rounds;
            elapsed.mul_f64(iters as f64 / batch_rounds.max(1) as f64)
        })
    });
    if decodes == 0 {
        // Filtered out on the command line: keep the side file of the last run that timed it.
        return;
    }
    // Criterion names the folder after the id with '/' replaced.
    let dir = root()
        .join("target/criterion")
        .join(group)
        .join(id.replace('/', "_"));
    let side = serde_json::json!({
        "decodes": decodes,
        "rounds_per_decode": rounds as f64 / decodes.max(1) as f64,
        "positions_per_round": positions as f64 / rounds.max(1) as f64,
    });
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("lopa.json"), side.to_string());
    }
}

fn round_vs_k(c: &mut Criterion) {
    let mut g = c.benchmark_group("round_vs_k");
    for kind in FAMILIES {
        for k in [0usize, 1, 2, 4, 8, 16, 32] {
            point(
                &mut g,
                "round_vs_k",
                format!("{kind}/{k}"),
                &family(kind, k, 512, 32),
            );
        }
    }
    g.finish();
}

fn round_vs_l(c: &mut Criterion) {
    let mut g = c.benchmark_group("round_vs_L");
    for kind in FAMILIES {
        for l in [256usize, 1024, 4096, 8192] {
            point(
                &mut g,
                "round_vs_L",
                format!("{kind}/{l}"),
                &family(kind, 4, l, 32),
            );
        }
    }
    g.finish();
}

fn round_vs_v(c: &mut Criterion) {
    let mut g = c.benchmark_group("round_vs_V");
    for kind in FAMILIES {
        let chain = kind == "markov" || kind == "plan";
        for v in [16usize, 64, 256, 1024] {
            if chain && v > 256 {
                continue;
            }
            point(
                &mut g,
                "round_vs_V",
                format!("{kind}/{v}"),
                &family(kind, 4, 512, v),
            );
        }
    }
    g.finish();
}

fn round_vs_window(c: &mut Criterion) {
    let mut g = c.benchmark_group("round_vs_window");
    for kind in FAMILIES {
        for block in [8usize, 16, 32, 64, 128] {
            // Without the EOS hazard: with it, the chain worlds at B = 128 commit EOS
            // within the first block and most of the window's positions are EOS padding
            // (plan: 131 content tokens of 2,688), so the series would compare two regimes
            // of the world instead of two window sizes.
            let setup = family_eos(kind, 4, 512, 32, block, false);
            point(&mut g, "round_vs_window", format!("{kind}/{block}"), &setup);
        }
    }
    g.finish();
}

fn sweep(c: &mut Criterion) {
    let sets = ["sequences=16".to_string()];
    let (s, resolved) = prepare(&root().join("scenarios/paper-gsm8k.toml"), &sets).expect("loads");
    let setups = s.setups(&resolved).expect("setups build");
    let labels: Vec<_> = resolved.iter().map(|r| r.label.clone()).collect();
    let decodes: usize = setups.iter().map(|s| s.decodes()).sum();
    let mut g = c.benchmark_group("sweep");
    g.throughput(Throughput::Elements(decodes as u64));
    g.bench_function("paper-gsm8k", |b| {
        b.iter(|| black_box(lopa_sim::sweep::run(&setups, &labels, &|| {}).expect("runs")))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = round_vs_k, round_vs_l, round_vs_v, round_vs_window, sweep
}
criterion_main!(benches);
