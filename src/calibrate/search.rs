//! The one-knob searches: bracketing plus bisection for one target, least squares for a
//! table of TPFs over `decoder.fill_threshold`.

use anyhow::Result;

use super::{cell, Calibration};
use crate::report::float_cell;

/// One decode of the configuration at a key value.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The key's value.
    pub value: f64,
    /// The statistic there (for a table: the RMS TPF error over the table).
    pub tpf: f64,
}

/// Stop when the bracket is narrower than this.
const NARROWEST: f64 = 1e-6;

/// The statistic `stat` to reach: its name, value and tolerance (a share of the value).
#[derive(Clone, Copy, Debug)]
pub struct Aim<'a> {
    /// The statistic's name, for the progress lines.
    pub stat: &'a str,
    /// The value to reach.
    pub value: f64,
    /// Stop when within this share of `value`.
    pub tolerance: f64,
}

/// Finds x in [lo, hi] with f(x) within the tolerance of the aim, or else the closest x
/// seen. `f_lo` is f(lo), already known. Without a bracket (the target is outside what the
/// range reaches, or inside a step) it returns the closest evaluation.
pub fn bisect(
    lo: f64,
    hi: f64,
    integer: bool,
    aim: Aim,
    f_lo: f64,
    f: &mut dyn FnMut(f64) -> Result<f64>,
    progress: &mut dyn FnMut(&str),
) -> Result<Calibration> {
    let Aim {
        stat,
        value: target,
        tolerance,
    } = aim;
    progress(&format!(
        "  {} -> {stat} {f_lo:.4} (target {target})",
        cell(lo, integer)
    ));
    let mut evals = vec![Evaluation {
        value: lo,
        tpf: f_lo,
    }];
    let mut run = |x: f64, evals: &mut Vec<Evaluation>| -> Result<f64> {
        if let Some(e) = evals.iter().find(|e| e.value == x) {
            return Ok(e.tpf);
        }
        let y = f(x)?;
        progress(&format!(
            "  {} -> {stat} {y:.4} (target {target})",
            cell(x, integer)
        ));
        evals.push(Evaluation { value: x, tpf: y });
        Ok(y)
    };
    let close = |y: f64| (y - target).abs() <= tolerance * target.abs();
    if close(f_lo) {
        return Ok(done(lo, f_lo, evals));
    }
    run(hi, &mut evals)?;
    // A coarse grid finds a bracket even when TPF is not monotone in the key.
    let mut grid: Vec<f64> = (0..=8)
        .map(|i| lo + (hi - lo) * f64::from(i) / 8.0)
        .collect();
    if integer {
        grid = grid.into_iter().map(f64::round).collect();
        grid.dedup();
    }
    let mut bracket = None;
    let mut prev: Option<(f64, f64)> = None;
    for &x in &grid {
        let y = run(x, &mut evals)?;
        if close(y) {
            return Ok(done(x, y, evals));
        }
        if let Some((px, py)) = prev {
            if (py - target) * (y - target) < 0.0 {
                bracket = Some((px, py, x));
                break;
            }
        }
        prev = Some((x, y));
    }
    let Some((mut a, mut fa, mut b)) = bracket else {
        return Ok(closest(evals, target));
    };
    loop {
        let width = b - a;
        if (integer && width <= 1.0) || (!integer && width < NARROWEST) {
            break;
        }
        let mid = if integer {
            ((a + b) / 2.0).floor()
        } else {
            (a + b) / 2.0
        };
        let y = run(mid, &mut evals)?;
        if close(y) {
            return Ok(done(mid, y, evals));
        }
        if (fa - target) * (y - target) < 0.0 {
            b = mid;
        } else {
            a = mid;
            fa = y;
        }
    }
    Ok(closest(evals, target))
}

fn closest(evals: Vec<Evaluation>, target: f64) -> Calibration {
    let best = evals
        .iter()
        .min_by(|x, y| (x.tpf - target).abs().total_cmp(&(y.tpf - target).abs()))
        .cloned()
        .expect("evaluated");
    done(best.value, best.tpf, evals)
}

fn done(value: f64, achieved: f64, evaluations: Vec<Evaluation>) -> Calibration {
    Calibration {
        value,
        achieved,
        evaluations,
    }
}

/// Fits the key by least squares to TPFs measured at several `decoder.fill_threshold`
/// values: a grid over [lo, hi], then golden-section refinement around the best point.
pub fn fit_table(
    lo: f64,
    hi: f64,
    integer: bool,
    table: &[(f64, f64)],
    eval: &mut dyn FnMut(f64, &[String]) -> Result<f64>,
    progress: &mut dyn FnMut(&str),
) -> Result<Calibration> {
    let mut evals: Vec<Evaluation> = Vec::new();
    let mut rms = |x: f64, evals: &mut Vec<Evaluation>| -> Result<f64> {
        if let Some(e) = evals.iter().find(|e| e.value == x) {
            return Ok(e.tpf);
        }
        let mut sse = 0.0;
        let mut fitted = Vec::new();
        for &(tau, want) in table {
            let got = eval(x, &[format!("decoder.fill_threshold={}", float_cell(tau))])?;
            sse += (got - want) * (got - want);
            fitted.push(format!("{tau}:{got:.2}"));
        }
        let err = (sse / table.len() as f64).sqrt();
        progress(&format!(
            "  {} -> RMS error {err:.4} ({})",
            cell(x, integer),
            fitted.join(" ")
        ));
        evals.push(Evaluation { value: x, tpf: err });
        Ok(err)
    };
    let steps = 10;
    let mut grid: Vec<f64> = (0..=steps)
        .map(|i| lo + (hi - lo) * f64::from(i) / f64::from(steps))
        .collect();
    if integer {
        grid = grid.into_iter().map(f64::round).collect();
        grid.dedup();
    }
    let mut best = 0;
    let mut best_err = f64::INFINITY;
    for (i, &x) in grid.iter().enumerate() {
        let e = rms(x, &mut evals)?;
        if e < best_err {
            best = i;
            best_err = e;
        }
    }
    let (mut a, mut b) = (
        grid[best.saturating_sub(1)],
        grid[(best + 1).min(grid.len() - 1)],
    );
    if integer {
        for x in (a as i64)..=(b as i64) {
            rms(x as f64, &mut evals)?;
        }
    } else {
        let phi = (5f64.sqrt() - 1.0) / 2.0;
        while b - a > NARROWEST.max((hi - lo) * 1e-4) {
            let (c, d) = (b - phi * (b - a), a + phi * (b - a));
            if rms(c, &mut evals)? <= rms(d, &mut evals)? {
                b = d;
            } else {
                a = c;
            }
        }
    }
    let best = evals
        .iter()
        .min_by(|x, y| x.tpf.total_cmp(&y.tpf))
        .cloned()
        .expect("evaluated");
    Ok(done(best.value, best.tpf, evals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aim(value: f64) -> Aim<'static> {
        Aim {
            stat: "tpf",
            value,
            tolerance: 0.005,
        }
    }

    #[test]
    fn bisection_hits_a_monotone_target() {
        let mut f = |x: f64| Ok(1.0 + 9.0 * x);
        let c = bisect(0.0, 1.0, false, aim(4.2), 1.0, &mut f, &mut |_| {}).unwrap();
        assert!((c.achieved - 4.2).abs() <= 0.005 * 4.2);
        assert!((c.value - 3.2 / 9.0).abs() < 0.01);
    }

    #[test]
    fn bisection_over_integers_and_decreasing_functions() {
        let mut f = |x: f64| Ok(100.0 / (1.0 + x));
        let c = bisect(0.0, 50.0, true, aim(10.0), 100.0, &mut f, &mut |_| {}).unwrap();
        assert_eq!(c.value, 9.0);
        assert!(c.evaluations.iter().all(|e| e.value.fract() == 0.0));
    }

    #[test]
    fn an_unreachable_target_gives_the_closest_value() {
        let mut f = |x: f64| Ok(2.0 + x);
        let c = bisect(0.0, 1.0, false, aim(10.0), 2.0, &mut f, &mut |_| {}).unwrap();
        assert_eq!((c.value, c.achieved), (1.0, 3.0));
    }

    #[test]
    fn least_squares_recovers_the_generating_value() {
        // TPF = (1 - tau) * 10 * x; the table was made with x = 0.7.
        let table: Vec<(f64, f64)> = [0.5, 0.7, 0.9]
            .iter()
            .map(|&t| (t, (1.0 - t) * 7.0))
            .collect();
        let mut eval = |x: f64, sets: &[String]| -> Result<f64> {
            let tau: f64 = sets[0].split('=').nth(1).unwrap().parse().unwrap();
            Ok((1.0 - tau) * 10.0 * x)
        };
        let c = fit_table(0.0, 1.0, false, &table, &mut eval, &mut |_| {}).unwrap();
        assert!((c.value - 0.7).abs() < 1e-3, "{}", c.value);
        assert!(c.achieved < 1e-3);
    }
}
