//! One configuration's runs reduced to the numbers `summary.csv`, `summary.json` and the
//! terminal table report (SPEC 6, "Results").

use serde::Serialize;

use crate::record::{ConfigRuns, DecodeRecord, Quality};

mod interval;

pub use interval::world_interval;
use interval::{ci95_half_width, ratio_ci95_half_width};

/// Aggregate statistics of one configuration. Every ratio is 0.0 when its denominator is
/// zero, so no field is ever NaN. Quality fields are `None` when no sequence's model
/// defines the underlying measure.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Sequences decoded.
    pub sequences: usize,
    /// Sum of tokens / sum of rounds, the convention of the LoPA code.
    pub tpf: f64,
    /// Mean of the per-sequence TPF.
    pub tpf_mean: f64,
    /// 95% half-width of `tpf_mean` (Student's t, n - 1 degrees of freedom); 0.0 for a
    /// single sequence or no spread.
    pub tpf_ci95: f64,
    /// Lower end of the 95% interval of `tpf` itself (delta method over sequences).
    pub tpf_lo: f64,
    /// Upper end of that interval.
    pub tpf_hi: f64,
    /// Sum of content tokens / sum of rounds.
    pub content_tpf: f64,
    /// Mean rounds per sequence.
    pub rounds_mean: f64,
    /// Lookahead wins / rounds.
    pub lookahead_win_rate: f64,
    /// Invalid transitions per 1000 tokens.
    pub invalid_per_1k: Option<f64>,
    /// Positions processed by all branches per generated token: the compute cost of a token.
    pub branch_tokens_per_token: f64,
    /// Share of sequences equal to the greedy continuation.
    pub greedy_match_rate: Option<f64>,
    /// Mean log-likelihood of a sequence.
    pub log_likelihood_mean: Option<f64>,
    /// Share of sequences consistent with a single plan.
    pub plan_consistent_rate: Option<f64>,
    /// Incorrectly drawn tokens per 1000 tokens.
    pub token_errors_per_1k: Option<f64>,
    /// Sum of tokens / (sum of rounds + sequences): the published Dream and LoPA-Dist
    /// code's count, whose step counter stands one past the last forward pass.
    pub tpf_steps: f64,
    /// Mean over sequences of `distinct2` (distinct adjacent pairs / pairs of the content
    /// tokens), over the sequences that have two content tokens or more.
    pub distinct2: Option<f64>,
    /// With several worlds: the 95% confidence interval of `tpf` over the draw of worlds
    /// (see [`world_interval`]). Always `tpf_world_lo <= tpf <= tpf_world_hi`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpf_world_lo: Option<f64>,
    /// Upper end of that interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpf_world_hi: Option<f64>,
    /// With several worlds: the sample standard deviation of the per-world TPF (each
    /// world's sum of tokens / sum of rounds), how far one world strays from another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpf_world_sd: Option<f64>,
    /// This configuration's TPF as a fraction of its paired oracle configuration's, on the
    /// same sequences; `None` without a partner. Set by [`set_oracle_gaps`].
    pub oracle_gap: Option<f64>,
}

/// Fills `oracle_gap` of every configuration that has a partner: `partners[i]` is the
/// oracle configuration paired with configuration i.
pub fn set_oracle_gaps(summaries: &mut [Summary], partners: &[Option<usize>]) {
    let tpfs: Vec<f64> = summaries.iter().map(|s| s.tpf).collect();
    for (s, p) in summaries.iter_mut().zip(partners) {
        s.oracle_gap = p.map(|o| ratio(s.tpf, tpfs[o]));
    }
}

/// Summarizes the decodes of one configuration.
pub fn summarize(runs: &ConfigRuns) -> Summary {
    let recs = &runs.records;
    // Summed as f64: counts stay far below 2^53, and f64 cannot overflow like u64 could.
    let sum = |f: fn(&DecodeRecord) -> u64| recs.iter().map(|r| f(r) as f64).sum::<f64>();
    let rounds = sum(|r| r.rounds);
    let tokens = sum(|r| r.tokens);
    let tpfs: Vec<f64> = recs.iter().map(DecodeRecord::tpf).collect();
    let tpf_mean = mean(&tpfs);
    let tpf = ratio(tokens, rounds);
    let half = ratio_ci95_half_width(recs, tpf);
    let mut summary = Summary {
        sequences: recs.len(),
        tpf,
        tpf_mean,
        tpf_ci95: ci95_half_width(&tpfs, tpf_mean),
        tpf_lo: tpf - half,
        tpf_hi: tpf + half,
        content_tpf: ratio(sum(|r| r.content_tokens), rounds),
        rounds_mean: ratio(rounds, recs.len() as f64),
        lookahead_win_rate: ratio(sum(|r| r.lookahead_wins), rounds),
        invalid_per_1k: per_1k_tokens(recs, |q| q.invalid_transitions),
        branch_tokens_per_token: ratio(sum(|r| r.branch_tokens), tokens),
        greedy_match_rate: true_share(recs, |q| q.matches_greedy),
        log_likelihood_mean: defined_mean(recs, |q| q.log_likelihood),
        plan_consistent_rate: true_share(recs, |q| q.plan_consistent),
        token_errors_per_1k: per_1k_tokens(recs, |q| q.token_errors),
        tpf_steps: ratio(tokens, rounds + recs.len() as f64),
        distinct2: {
            let defined: Vec<f64> = recs.iter().filter_map(|r| r.distinct2).collect();
            (!defined.is_empty()).then(|| mean(&defined))
        },
        tpf_world_lo: None,
        tpf_world_hi: None,
        tpf_world_sd: None,
        oracle_gap: None,
    };
    if runs.world_count() > 1 {
        let totals: Vec<(f64, f64)> = runs
            .by_world()
            .map(|w| {
                let t: f64 = w.iter().map(|r| r.tokens as f64).sum();
                let n: f64 = w.iter().map(|r| r.rounds as f64).sum();
                (t, n)
            })
            .collect();
        let (lo, hi) = world_interval(&totals, summary.tpf);
        let per_world: Vec<f64> = totals.iter().map(|&(t, n)| ratio(t, n)).collect();
        let m = mean(&per_world);
        let var =
            per_world.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (per_world.len() - 1) as f64;
        summary.tpf_world_lo = Some(lo);
        summary.tpf_world_hi = Some(hi);
        summary.tpf_world_sd = Some(if var.is_finite() { var.sqrt() } else { 0.0 });
    }
    summary
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

fn mean(xs: &[f64]) -> f64 {
    ratio(xs.iter().sum(), xs.len() as f64)
}

// The quality helpers below take numerator and denominator over the sequences that define
// the field, so a mix of models (which a single configuration never has) cannot dilute a
// rate with sequences that were never measured.

fn per_1k_tokens(recs: &[DecodeRecord], field: fn(&Quality) -> Option<u64>) -> Option<f64> {
    let (mut count, mut tokens, mut any) = (0.0, 0.0, false);
    for r in recs {
        if let Some(v) = field(&r.quality) {
            count += v as f64;
            tokens += r.tokens as f64;
            any = true;
        }
    }
    any.then(|| ratio(1000.0 * count, tokens))
}

fn true_share(recs: &[DecodeRecord], field: fn(&Quality) -> Option<bool>) -> Option<f64> {
    let defined: Vec<bool> = recs.iter().filter_map(|r| field(&r.quality)).collect();
    (!defined.is_empty()).then(|| {
        let yes = defined.iter().filter(|&&b| b).count();
        ratio(yes as f64, defined.len() as f64)
    })
}

fn defined_mean(recs: &[DecodeRecord], field: fn(&Quality) -> Option<f64>) -> Option<f64> {
    let defined: Vec<f64> = recs.iter().filter_map(|r| field(&r.quality)).collect();
    (!defined.is_empty()).then(|| mean(&defined))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ConfigLabel;
    use crate::report::test_data::two_configs;

    pub(super) fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    pub(super) fn seqs(rounds_tokens: &[(u64, u64)]) -> ConfigRuns {
        ConfigRuns {
            label: ConfigLabel::default(),
            bins: Default::default(),
            worlds: 1,
            records: rounds_tokens
                .iter()
                .map(|&(rounds, tokens)| DecodeRecord {
                    rounds,
                    tokens,
                    content_tokens: tokens,
                    ..DecodeRecord::default()
                })
                .collect(),
        }
    }

    #[test]
    fn markov_config_by_hand() {
        let s = summarize(&two_configs()[0]);
        // rounds 4 + 5 = 9, tokens 8 + 8 = 16, per-sequence TPF 2.0 and 1.6.
        assert_eq!(s.sequences, 2);
        assert_eq!(s.tpf, 16.0 / 9.0);
        assert!(close(s.tpf_mean, 1.8));
        // sd = sqrt(0.2^2 + 0.2^2) = sqrt(0.08); t_{0.975,1} = 12.706204736174705;
        // half-width = t * sqrt(0.08) / sqrt(2) = t * 0.2.
        assert!(
            close(s.tpf_ci95, 12.706204736174705 * 0.2),
            "{}",
            s.tpf_ci95
        );
        assert_eq!(s.content_tpf, 14.0 / 9.0);
        assert_eq!(s.rounds_mean, 4.5);
        assert_eq!(s.lookahead_win_rate, 3.0 / 9.0);
        assert_eq!(s.invalid_per_1k, Some(62.5));
        assert_eq!(s.branch_tokens_per_token, 5.5);
        assert_eq!(s.greedy_match_rate, Some(0.5));
        assert_eq!(
            s.log_likelihood_mean,
            Some((-4.286849186324321 - 7.5) / 2.0)
        );
        assert_eq!(s.plan_consistent_rate, None);
        assert_eq!(s.token_errors_per_1k, None);
        // 16 tokens over 9 rounds + 2 sequences.
        assert_eq!(s.tpf_steps, 16.0 / 11.0);
    }

    #[test]
    fn phenomenological_config_by_hand() {
        let s = summarize(&two_configs()[1]);
        assert_eq!(s.sequences, 1);
        assert_eq!((s.tpf, s.tpf_mean, s.tpf_ci95), (4.0, 4.0, 0.0));
        assert_eq!(s.content_tpf, 4.0);
        assert_eq!(s.rounds_mean, 3.0);
        assert_eq!(s.lookahead_win_rate, 1.0);
        assert_eq!(s.invalid_per_1k, None);
        assert_eq!(s.branch_tokens_per_token, 3.0);
        assert_eq!(s.greedy_match_rate, None);
        assert_eq!(s.log_likelihood_mean, None);
        assert_eq!(s.plan_consistent_rate, Some(1.0));
        assert!(close(s.token_errors_per_1k.unwrap(), 2000.0 / 12.0));
    }

    #[test]
    fn oracle_gap_is_tpf_over_the_partner_s() {
        let mut s = vec![
            summarize(&seqs(&[(4, 8)])),
            summarize(&seqs(&[(2, 8)])),
            summarize(&seqs(&[(8, 8)])),
        ];
        set_oracle_gaps(&mut s, &[Some(1), None, Some(1)]);
        assert_eq!(s[0].oracle_gap, Some(0.5));
        assert_eq!(s[1].oracle_gap, None);
        assert_eq!(s[2].oracle_gap, Some(0.25));
    }

    #[test]
    fn empty_and_zero_inputs_give_no_nan() {
        let empty = summarize(&ConfigRuns::default());
        let zeros = summarize(&seqs(&[(0, 0), (0, 0)]));
        for s in [&empty, &zeros] {
            let all = [
                s.tpf,
                s.tpf_mean,
                s.tpf_ci95,
                s.content_tpf,
                s.rounds_mean,
                s.lookahead_win_rate,
                s.branch_tokens_per_token,
                s.tpf_steps,
            ];
            assert!(all.iter().all(|x| *x == 0.0), "{s:?}");
            assert_eq!(s.invalid_per_1k, None);
        }
        assert_eq!(empty.sequences, 0);
        let mut zero_tokens = seqs(&[(0, 0)]);
        zero_tokens.records[0].quality.invalid_transitions = Some(0);
        assert_eq!(summarize(&zero_tokens).invalid_per_1k, Some(0.0));
    }
}
