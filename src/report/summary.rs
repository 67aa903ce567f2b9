//! One configuration's runs reduced to the numbers `summary.csv`, `summary.json` and the
//! terminal table report (SPEC 6, "Results").

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::record::{ConfigRuns, DecodeRecord, Quality};

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

/// The 95% confidence interval of the pooled TPF R = sum(tokens) / sum(rounds) when the
/// worlds are the sampled units: the ratio estimator's cluster (delta-method) standard
/// error, se = sqrt(sum_w (T_w - R N_w)^2 / (n (n - 1))) / mean_w N_w, over the n worlds'
/// token totals T_w and round totals N_w, times Student's t quantile with n - 1 degrees of
/// freedom. It is centred on R, so it contains R by construction, and it carries the
/// sequence noise inside each world as well as the spread between worlds. It is the
/// uncertainty of the reported TPF, not the range of single worlds (see `tpf_world_sd`).
/// Degenerate inputs give the point (R, R).
pub fn world_interval(totals: &[(f64, f64)], r: f64) -> (f64, f64) {
    let n = totals.len();
    let rounds_mean = totals.iter().map(|&(_, n)| n).sum::<f64>() / n as f64;
    if n < 2 || rounds_mean.is_nan() || rounds_mean <= 0.0 {
        return (r, r);
    }
    let ss: f64 = totals.iter().map(|&(t, m)| (t - r * m).powi(2)).sum();
    let se = (ss / (n * (n - 1)) as f64).sqrt() / rounds_mean;
    let t = match StudentsT::new(0.0, 1.0, (n - 1) as f64) {
        Ok(dist) => dist.inverse_cdf(0.975),
        Err(_) => return (r, r),
    };
    let half = t * se;
    if half.is_finite() && half >= 0.0 {
        (r - half, r + half)
    } else {
        (r, r)
    }
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

fn ci95_half_width(xs: &[f64], mean: f64) -> f64 {
    let n = xs.len();
    if n < 2 {
        return 0.0;
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    t_half_width(var.sqrt(), n)
}

/// `t_{0.975, n-1} * se`, where `se` is already divided by sqrt(n) or not: the caller
/// passes the standard deviation `sd` of the n terms and this divides.
fn t_half_width(sd: f64, n: usize) -> f64 {
    // `!(sd > 0.0)` also rejects NaN, which a non-finite per-sequence TPF would produce.
    if n < 2 || !(sd > 0.0 && sd.is_finite()) {
        return 0.0;
    }
    let t = match StudentsT::new(0.0, 1.0, (n - 1) as f64) {
        Ok(dist) => dist.inverse_cdf(0.975),
        Err(_) => return 0.0,
    };
    let half = t * sd / (n as f64).sqrt();
    if half.is_finite() {
        half
    } else {
        0.0
    }
}

/// 95% half-width of the ratio of sums `tpf = sum(tokens) / sum(rounds)` by the delta
/// method: the ratio's linearisation over sequences is `(tokens_i - tpf * rounds_i) /
/// mean(rounds)`, whose sample standard deviation, over sqrt(n), is the standard error.
/// The residuals sum to zero and all vanish only when every sequence has TPF equal to
/// `tpf`, so the interval is wider than zero exactly when the sequences' TPFs differ.
/// Student's t with n - 1 degrees of freedom, like `tpf_ci95`; deterministic.
fn ratio_ci95_half_width(recs: &[DecodeRecord], tpf: f64) -> f64 {
    let n = recs.len();
    let rounds_mean = mean(&recs.iter().map(|r| r.rounds as f64).collect::<Vec<_>>());
    if n < 2 || rounds_mean.is_nan() || rounds_mean <= 0.0 {
        return 0.0;
    }
    let ss: f64 = recs
        .iter()
        .map(|r| (r.tokens as f64 - tpf * r.rounds as f64).powi(2))
        .sum();
    let sd = (ss / (n - 1) as f64).sqrt() / rounds_mean;
    t_half_width(sd, n)
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

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    fn seqs(rounds_tokens: &[(u64, u64)]) -> ConfigRuns {
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
    fn ci_with_three_sequences() {
        // Per-sequence TPF 1, 2, 3: mean 2, sample sd 1, so the half-width is
        // t_{0.975,2} / sqrt(3) = 4.302652729911275 / 1.7320508075688772.
        let s = summarize(&seqs(&[(1, 1), (1, 2), (2, 6)]));
        assert_eq!(s.tpf_mean, 2.0);
        assert!(close(s.tpf_ci95, 2.484137711843753), "{}", s.tpf_ci95);
        // Pooled TPF differs from the mean: 9 tokens over 4 rounds.
        assert_eq!(s.tpf, 2.25);
        // Delta method: residuals 1 - 2.25, 2 - 2.25, 6 - 4.5 = -1.25, -0.25, 1.5; their
        // sum of squares 3.875, over n - 1 = 2, square-rooted, over mean rounds 4/3, gives
        // sd 1.0439...; times t_{0.975,2} / sqrt(3).
        let sd = (3.875f64 / 2.0).sqrt() / (4.0 / 3.0);
        let half = 4.302652729911275 * sd / 3f64.sqrt();
        assert!(close(s.tpf_lo, 2.25 - half), "{}", s.tpf_lo);
        assert!(close(s.tpf_hi, 2.25 + half), "{}", s.tpf_hi);
    }

    #[test]
    fn ratio_interval_brackets_tpf_and_is_wide_when_tpfs_differ() {
        for data in [
            vec![(4, 8), (5, 8)],
            vec![(1, 1), (1, 2), (2, 6), (7, 7)],
            vec![(100, 101), (100, 100)],
            vec![(3, 30), (40, 50), (2, 2), (9, 90)],
        ] {
            let s = summarize(&seqs(&data));
            assert!(s.tpf_lo < s.tpf && s.tpf < s.tpf_hi, "{data:?}: {s:?}");
        }
        // Equal per-sequence TPFs: a point.
        let s = summarize(&seqs(&[(2, 4), (3, 6), (1, 2)]));
        assert_eq!((s.tpf_lo, s.tpf, s.tpf_hi), (2.0, 2.0, 2.0));
        let s = summarize(&seqs(&[(2, 5)]));
        assert_eq!((s.tpf_lo, s.tpf_hi), (2.5, 2.5));
    }

    #[test]
    fn world_interval_by_hand() {
        // Two worlds of two sequences: tokens 8 + 8 over rounds 4 + 4 (TPF 2), and 12 + 12
        // over 3 + 3 (TPF 4). Pooled R = 40 / 14.
        let mut runs = seqs(&[(4, 8), (4, 8), (3, 12), (3, 12)]);
        runs.worlds = 2;
        let s = summarize(&runs);
        let r = 40.0 / 14.0;
        assert_eq!(s.tpf, r);
        // se = sqrt(((16 - 8 r)^2 + (24 - 6 r)^2) / 2) / 7; t_{0.975,1} = 12.7062...
        let se = (((16.0 - 8.0 * r).powi(2) + (24.0 - 6.0 * r).powi(2)) / 2.0).sqrt() / 7.0;
        let (lo, hi) = (s.tpf_world_lo.unwrap(), s.tpf_world_hi.unwrap());
        assert!(close(hi - r, 12.706204736174705 * se), "{hi}");
        assert!(close(r - lo, hi - r));
        assert!(lo <= s.tpf && s.tpf <= hi);
        // Per-world TPF 2 and 4: sd sqrt(2).
        assert!(close(s.tpf_world_sd.unwrap(), 2f64.sqrt()));
        // One world: no interval at all.
        runs.worlds = 1;
        let one = summarize(&runs);
        assert_eq!(
            (one.tpf_world_lo, one.tpf_world_hi, one.tpf_world_sd),
            (None, None, None)
        );
        // Identical worlds: the interval is the point.
        let mut same = seqs(&[(4, 8), (4, 8)]);
        same.worlds = 2;
        let s = summarize(&same);
        assert_eq!((s.tpf_world_lo, s.tpf_world_hi), (Some(2.0), Some(2.0)));
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
    fn no_spread_gives_zero_ci() {
        let s = summarize(&seqs(&[(2, 4), (3, 6), (1, 2)]));
        assert_eq!((s.tpf_mean, s.tpf_ci95), (2.0, 0.0));
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
