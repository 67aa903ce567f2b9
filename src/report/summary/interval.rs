//! The uncertainty of a configuration's TPF: Student's t intervals of the mean of the
//! per-sequence TPF, of the pooled TPF over sequences (delta method), and of the pooled TPF
//! over the draw of worlds (cluster delta method). Every interval is deterministic and
//! collapses to a point, never NaN, on degenerate inputs.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::mean;
use crate::record::DecodeRecord;

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

pub(super) fn ci95_half_width(xs: &[f64], mean: f64) -> f64 {
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
pub(super) fn ratio_ci95_half_width(recs: &[DecodeRecord], tpf: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::super::summarize;
    use super::super::tests::{close, seqs};

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
    fn no_spread_gives_zero_ci() {
        let s = summarize(&seqs(&[(2, 4), (3, 6), (1, 2)]));
        assert_eq!((s.tpf_mean, s.tpf_ci95), (2.0, 0.0));
    }
}
