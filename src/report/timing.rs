//! The `[system]` columns: predicted time and throughput, from the records' [`Latency`].
//! A decode's latency leaves out its first round (the prefill), as the LoPA paper does, and
//! its throughput counts content tokens (up to and including EOS) over that latency. A decode
//! that ended in its first round (an EOS prompt fills its block at once) has no timed round
//! and no throughput; the throughput statistics leave it out.

use crate::record::{ConfigRuns, DecodeRecord, Latency};
use crate::report::runs_csv::float_cell;
use crate::system::tokens_per_s;

/// Sequences the paper's "top-10" throughput averages.
const TOP: usize = 10;

/// `runs.csv` columns added when a configuration has a cost model.
pub const RUN_COLUMNS: [&str; 2] = ["latency_s", "tokens_per_s"];

/// `summary.csv` columns added when a configuration has a cost model.
pub const SUMMARY_COLUMNS: [&str; 10] = [
    "system",
    "round_ms",
    "compute_ms",
    "memory_ms",
    "comm_ms",
    "overhead_ms",
    "tps_avg",
    "tps_max",
    "tps_top10",
    "paper_round_ms",
];

/// Whether any configuration was timed, so the columns exist.
pub fn timed(runs: &[ConfigRuns]) -> bool {
    runs.iter().any(|r| r.label.system.is_some())
}

/// One decode's tokens per second, 0.0 without timed rounds.
pub fn record_tps(r: &DecodeRecord) -> f64 {
    r.latency
        .map_or(0.0, |l| tokens_per_s(r.content_tokens, l.total_s()))
}

/// The [`RUN_COLUMNS`] cells of one decode; empty without a cost model.
pub fn run_cells(r: &DecodeRecord) -> [String; 2] {
    match r.latency {
        Some(l) => [float_cell(l.total_s()), float_cell(record_tps(r))],
        None => Default::default(),
    }
}

/// One configuration's times: the round time and its parts per round (total predicted
/// latency over all rounds, in ms, as the paper's TPF / TPS), and the paper's three
/// throughput statistics over the sequences.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Timing {
    /// Total latency / total rounds, ms.
    pub round_ms: f64,
    /// Its compute-bound part.
    pub compute_ms: f64,
    /// Its memory-bound part.
    pub memory_ms: f64,
    /// Its collectives.
    pub comm_ms: f64,
    /// Its fixed overhead.
    pub overhead_ms: f64,
    /// Mean of per-sequence tokens per second over the decodes with a timed round.
    pub tps_avg: f64,
    /// The fastest sequence.
    pub tps_max: f64,
    /// Mean of the ten fastest sequences (all, when fewer).
    pub tps_top10: f64,
    /// Mean latency of a sequence, s.
    pub latency_mean_s: f64,
    /// The paper's TPF / TPS computed on these decodes as the published LoPA-Dist code
    /// counts: TPF = sum(tokens) / sum(rounds + 1) (`tpf_steps`), TPS = the mean over
    /// sequences of tokens (EOS padding included) over latency; in ms.
    pub paper_round_ms: f64,
}

/// The times of a configuration with a cost model.
pub fn timing(runs: &ConfigRuns) -> Option<Timing> {
    runs.label.system.as_ref()?;
    let mut total = Latency::default();
    for l in runs.records.iter().filter_map(|r| r.latency.as_ref()) {
        total.add(l);
    }
    let rounds: u64 = runs.records.iter().map(|r| r.rounds).sum();
    let per_round = |s: f64| {
        if rounds > 0 {
            s * 1e3 / rounds as f64
        } else {
            0.0
        }
    };
    let timed = || {
        runs.records
            .iter()
            .filter(|r| r.latency.is_some_and(|l| l.total_s() > 0.0))
    };
    let mut tps: Vec<f64> = timed().map(record_tps).collect();
    tps.sort_by(|a, b| b.total_cmp(a));
    let mean = |xs: &[f64]| {
        if xs.is_empty() {
            0.0
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    };
    let n = runs.records.len().max(1) as f64;
    let steps: u64 = rounds + runs.records.len() as u64;
    let tokens: u64 = runs.records.iter().map(|r| r.tokens).sum();
    let padded_tps = timed()
        .map(|r| {
            r.latency
                .map_or(0.0, |l| tokens_per_s(r.tokens, l.total_s()))
        })
        .sum::<f64>()
        / tps.len().max(1) as f64;
    let paper_round_ms = if steps > 0 && padded_tps > 0.0 {
        tokens as f64 / steps as f64 / padded_tps * 1e3
    } else {
        0.0
    };
    Some(Timing {
        round_ms: per_round(total.total_s()),
        compute_ms: per_round(total.compute_s),
        memory_ms: per_round(total.memory_s),
        comm_ms: per_round(total.comm_s),
        overhead_ms: per_round(total.overhead_s),
        tps_avg: mean(&tps),
        tps_max: tps.first().copied().unwrap_or(0.0),
        tps_top10: mean(&tps[..tps.len().min(TOP)]),
        latency_mean_s: total.total_s() / n,
        paper_round_ms,
    })
}

/// The [`SUMMARY_COLUMNS`] cells of one configuration; empty without a cost model.
pub fn summary_cells(runs: &ConfigRuns) -> Vec<String> {
    match (timing(runs), &runs.label.system) {
        (Some(t), Some(name)) => vec![
            name.clone(),
            float_cell(t.round_ms),
            float_cell(t.compute_ms),
            float_cell(t.memory_ms),
            float_cell(t.comm_ms),
            float_cell(t.overhead_ms),
            float_cell(t.tps_avg),
            float_cell(t.tps_max),
            float_cell(t.tps_top10),
            float_cell(t.paper_round_ms),
        ],
        _ => vec![String::new(); SUMMARY_COLUMNS.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ConfigLabel;

    fn timed_record(rounds: u64, content: u64, memory_s: f64) -> DecodeRecord {
        DecodeRecord {
            rounds,
            tokens: content,
            content_tokens: content,
            latency: Some(Latency {
                timed_rounds: rounds - 1,
                memory_s,
                overhead_s: 0.001 * (rounds - 1) as f64,
                ..Latency::default()
            }),
            ..DecodeRecord::default()
        }
    }

    #[test]
    fn round_time_and_the_three_throughputs_by_hand() {
        // 12 sequences: sequence i has 11 rounds, 100 tokens, 0.009 s memory + 0.010 s
        // overhead... scaled so TPS = 100 / (0.019 + 0.001 i).
        let records: Vec<DecodeRecord> = (0..12)
            .map(|i| timed_record(11, 100, 0.009 + 0.001 * i as f64))
            .collect();
        let runs = ConfigRuns {
            label: ConfigLabel {
                system: Some("h200 TP1 BP8 two_phase".into()),
                ..ConfigLabel::default()
            },
            records,
            bins: Default::default(),
            worlds: 1,
        };
        let t = timing(&runs).unwrap();
        let lat: Vec<f64> = (0..12).map(|i| 0.019 + 0.001 * i as f64).collect();
        let total: f64 = lat.iter().sum();
        assert!((t.round_ms - total * 1e3 / 132.0).abs() < 1e-9);
        assert!((t.overhead_ms - 0.12 * 1e3 / 132.0).abs() < 1e-9);
        let sum = t.compute_ms + t.memory_ms + t.comm_ms + t.overhead_ms;
        assert!((sum - t.round_ms).abs() < 1e-9);
        let tps: Vec<f64> = lat.iter().map(|l| 100.0 / l).collect();
        assert!((t.tps_max - tps[0]).abs() < 1e-9);
        assert!((t.tps_avg - tps.iter().sum::<f64>() / 12.0).abs() < 1e-9);
        assert!((t.tps_top10 - tps[..10].iter().sum::<f64>() / 10.0).abs() < 1e-9);
        // The paper's TPF / TPS: 1200 tokens over 144 steps, over the mean TPS.
        let paper = 1200.0 / 144.0 / (tps.iter().sum::<f64>() / 12.0) * 1e3;
        assert!(
            (t.paper_round_ms - paper).abs() < 1e-9,
            "{}",
            t.paper_round_ms
        );
        assert_eq!(summary_cells(&runs)[0], "h200 TP1 BP8 two_phase");
    }

    #[test]
    fn a_decode_without_a_timed_round_has_no_throughput_in_the_statistics() {
        // Two decodes at 100 / 0.02 s = 5000 tokens/s, and one that ended in its (untimed)
        // first round: the mean and the paper's TPF / TPS see the two timed ones only.
        let mut records = vec![timed_record(11, 100, 0.01), timed_record(11, 100, 0.01)];
        records.push(DecodeRecord {
            rounds: 1,
            tokens: 32,
            content_tokens: 1,
            latency: Some(Latency::default()),
            ..DecodeRecord::default()
        });
        let runs = ConfigRuns {
            label: ConfigLabel {
                system: Some("h200 TP1 BP1 two_phase".into()),
                ..ConfigLabel::default()
            },
            records,
            bins: Default::default(),
            worlds: 1,
        };
        let t = timing(&runs).unwrap();
        assert!((t.tps_avg - 5000.0).abs() < 1e-9, "{}", t.tps_avg);
        assert!((t.tps_max - 5000.0).abs() < 1e-9);
        // TPF counts every decode: 232 tokens over 23 + 3 steps.
        let paper = 232.0 / 26.0 / 5000.0 * 1e3;
        assert!(
            (t.paper_round_ms - paper).abs() < 1e-9,
            "{}",
            t.paper_round_ms
        );
    }

    #[test]
    fn untimed_configurations_have_empty_cells() {
        let runs = ConfigRuns::default();
        assert!(timing(&runs).is_none());
        assert!(summary_cells(&runs).iter().all(String::is_empty));
        assert!(run_cells(&DecodeRecord::default())
            .iter()
            .all(String::is_empty));
        assert!(!timed(&[runs]));
    }
}
