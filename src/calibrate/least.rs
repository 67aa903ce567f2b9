//! Several knobs against several targets: least squares in the log of each statistic, by a
//! coarse grid over the box of ranges and Nelder-Mead (argmin) from its best point.
//!
//! Why this method: a statistic such as TPF moves in steps with some knobs (a Markov
//! chain's argmax cycles) and is a sample mean, so it has no useful derivative. The grid
//! keeps the search from settling in the first local dip; Nelder-Mead needs only values.
//! Both are deterministic, and every evaluation decodes the same sequences.

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::{anyhow, Result};
use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;

use super::eval::Knob;

/// Decodes at knob values, giving one statistic per target.
pub type EvalFn<'e> = dyn FnMut(&[f64]) -> Result<Vec<f64>> + 'e;

/// Told of every new evaluation: knob values, statistics, residual.
pub type ProgressFn<'e> = dyn FnMut(&[f64], &[f64], f64) + 'e;

/// The best point a least-squares search found.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// One value per knob.
    pub values: Vec<f64>,
    /// One statistic per target there.
    pub reached: Vec<f64>,
    /// Root mean square of the log errors there.
    pub residual: f64,
    /// Whether every target is within the tolerance there.
    pub within: bool,
    /// Distinct knob settings decoded.
    pub evaluations: usize,
}

/// A target's error: the log ratio for a positive target (so a 5% miss weighs the same at
/// TPF 2 as at TPF 10), the relative difference otherwise.
pub fn log_error(reached: f64, wanted: f64) -> f64 {
    if wanted > 0.0 {
        (reached.max(1e-12) / wanted).ln()
    } else {
        (reached - wanted) / wanted.abs().max(1e-12)
    }
}

/// Whether `reached` is within `tolerance` (a share of the target) of `wanted`.
pub fn within(reached: f64, wanted: f64, tolerance: f64) -> bool {
    (reached - wanted).abs() <= tolerance * wanted.abs()
}

/// A search stops early once every target is within this share of the tolerance, so the
/// fit it accepts is closer than the tolerance when the statistic allows.
pub const AIM: f64 = 0.25;

/// Grid points per knob: about 25 to 80 evaluations in all.
fn grid_points(knobs: usize) -> usize {
    match knobs {
        0 | 1 => 9,
        2 => 5,
        3 => 4,
        _ => 3,
    }
}

/// The Nelder-Mead runs: simplex size (in half grid spacings) and the side its vertices
/// lie on (+1 above the start, -1 below, where the box allows).
const SIMPLICES: [(f64, f64); 4] = [(1.0, 1.0), (1.0, -1.0), (0.25, 1.0), (0.25, -1.0)];

/// Finds knob values whose statistics are closest to `wanted` in log least squares. It
/// stops early once every target is within [`AIM`] of `tolerance`, and otherwise when its
/// Nelder-Mead runs end; the fit is `within` when every target is inside `tolerance`.
/// `eval` gives one statistic per target.
pub fn least_squares(
    knobs: &[Knob],
    wanted: &[f64],
    tolerance: f64,
    eval: &mut EvalFn,
    progress: &mut ProgressFn,
) -> Result<Fit> {
    let search = Search {
        knobs,
        wanted,
        tolerance,
        eval: RefCell::new(eval),
        progress: RefCell::new(progress),
        seen: RefCell::new(Vec::new()),
        index: RefCell::new(HashMap::new()),
    };
    let d = knobs.len();
    let g = grid_points(d);
    let mut best_u = vec![0.5; d];
    let mut best_cost = f64::INFINITY;
    for cell in 0..g.pow(d as u32) {
        // Mixed radix, first knob slowest.
        let mut rest = cell;
        let mut u = vec![0.0; d];
        for slot in u.iter_mut().rev() {
            *slot = (rest % g) as f64 / (g - 1) as f64;
            rest /= g;
        }
        let cost = search.cost_at(&u)?;
        if cost < best_cost {
            (best_cost, best_u) = (cost, u);
        }
        if search.hit() {
            return Ok(search.best());
        }
    }
    // Each run starts from the best point so far with its own simplex: the grid's half
    // spacing, then the other side, then finer. A simplex collapsed on a plateau of a
    // stepped statistic is thus re-opened in other directions.
    let spacing = 0.5 / (g - 1) as f64;
    for (scale, side) in SIMPLICES {
        let simplex: Vec<Vec<f64>> = std::iter::once(best_u.clone())
            .chain(knobs.iter().enumerate().map(|(j, k)| {
                let mut v = best_u.clone();
                let mut step = spacing * scale;
                if k.integer {
                    // At least one whole step of the key, or every vertex rounds alike.
                    step = step.max(1.0 / (k.hi - k.lo));
                }
                let up = if side > 0.0 {
                    v[j] + step <= 1.0
                } else {
                    v[j] - step < 0.0
                };
                v[j] += if up { step } else { -step };
                v
            }))
            .collect();
        let solver = NelderMead::new(simplex)
            .with_sd_tolerance(1e-12)
            .map_err(|e| anyhow!("Nelder-Mead: {e}"))?;
        let target_cost = (1.0 + AIM * tolerance).ln().powi(2);
        let result = Executor::new(&search, solver)
            .configure(|s| s.max_iters(30 * d as u64 + 20).target_cost(target_cost))
            .run()
            .map_err(|e| match e.downcast::<Stop>() {
                Ok(stop) => stop.0,
                Err(e) => e,
            })?;
        if let Some(p) = result.state().get_best_param() {
            best_u = p.iter().map(|u| u.clamp(0.0, 1.0)).collect();
        }
        if search.hit() {
            break;
        }
    }
    Ok(search.best())
}

/// An evaluation error carried through argmin untouched.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Stop(anyhow::Error);

struct Search<'a, 'e> {
    knobs: &'a [Knob],
    wanted: &'a [f64],
    tolerance: f64,
    eval: RefCell<&'e mut EvalFn<'e>>,
    progress: RefCell<&'e mut ProgressFn<'e>>,
    /// Every distinct knob setting decoded, with its statistics, in order.
    seen: RefCell<Vec<(Vec<f64>, Vec<f64>)>>,
    index: RefCell<HashMap<Vec<u64>, usize>>,
}

impl Search<'_, '_> {
    /// Sum of squared log errors at unit coordinates `u`. Outside [0, 1] the point is
    /// clamped into the box and a penalty pulls the simplex back in.
    fn cost_at(&self, u: &[f64]) -> Result<f64> {
        let mut penalty = 0.0;
        let xs: Vec<f64> = self
            .knobs
            .iter()
            .zip(u)
            .map(|(k, &u)| {
                let c = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
                penalty += (u - c).powi(2);
                k.snap(k.lo + c * (k.hi - k.lo))
            })
            .collect();
        let key: Vec<u64> = xs.iter().map(|x| x.to_bits()).collect();
        let known = self.index.borrow().get(&key).copied();
        let reached = match known {
            Some(i) => self.seen.borrow()[i].1.clone(),
            None => {
                let reached = (self.eval.borrow_mut())(&xs)?;
                let residual = rms(&reached, self.wanted);
                (self.progress.borrow_mut())(&xs, &reached, residual);
                let mut seen = self.seen.borrow_mut();
                self.index.borrow_mut().insert(key, seen.len());
                seen.push((xs, reached.clone()));
                reached
            }
        };
        Ok(sum_sq(&reached, self.wanted) + 10.0 * penalty)
    }

    fn ok(&self, reached: &[f64]) -> bool {
        reached
            .iter()
            .zip(self.wanted)
            .all(|(&r, &w)| within(r, w, self.tolerance))
    }

    /// Whether some setting is within the aim, a share of the tolerance.
    fn hit(&self) -> bool {
        self.seen.borrow().iter().any(|(_, r)| {
            r.iter()
                .zip(self.wanted)
                .all(|(&r, &w)| within(r, w, AIM * self.tolerance))
        })
    }

    /// The best setting seen: within tolerance first, then the smallest residual.
    fn best(&self) -> Fit {
        let seen = self.seen.borrow();
        let (xs, reached) = seen
            .iter()
            .min_by(|a, b| {
                let key = |r: &[f64]| (!self.ok(r), sum_sq(r, self.wanted));
                let (ka, kb) = (key(&a.1), key(&b.1));
                ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
            })
            .cloned()
            .unwrap_or_default();
        Fit {
            residual: rms(&reached, self.wanted),
            within: !reached.is_empty() && self.ok(&reached),
            values: xs,
            reached,
            evaluations: seen.len(),
        }
    }
}

fn sum_sq(reached: &[f64], wanted: &[f64]) -> f64 {
    reached
        .iter()
        .zip(wanted)
        .map(|(&r, &w)| log_error(r, w).powi(2))
        .sum()
}

/// Root mean square of the log errors.
pub fn rms(reached: &[f64], wanted: &[f64]) -> f64 {
    (sum_sq(reached, wanted) / wanted.len().max(1) as f64).sqrt()
}

impl CostFunction for &Search<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        self.cost_at(u).map_err(|e| Stop(e).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knob(key: &str, lo: f64, hi: f64, integer: bool) -> Knob {
        Knob {
            key: key.into(),
            lo,
            hi,
            integer,
        }
    }

    #[test]
    fn two_knobs_two_targets_are_recovered() {
        // A smooth map with a unique solution at (0.3, 7.0).
        let f = |x: &[f64]| vec![1.0 + 4.0 * x[0] + 0.1 * x[1], 2.0 + x[0] * x[1]];
        let wanted = f(&[0.3, 7.0]);
        let knobs = [knob("a", 0.0, 1.0, false), knob("b", 1.0, 10.0, false)];
        let mut calls = 0;
        let mut eval = |x: &[f64]| {
            calls += 1;
            Ok(f(x))
        };
        let fit = least_squares(&knobs, &wanted, 0.002, &mut eval, &mut |_, _, _| {}).unwrap();
        assert!(fit.within, "{fit:?}");
        for (r, w) in fit.reached.iter().zip(&wanted) {
            assert!((r / w - 1.0).abs() <= 0.002, "{fit:?}");
        }
        assert_eq!(fit.evaluations, calls);
    }

    #[test]
    fn a_staircase_is_approached_and_the_miss_is_reported() {
        // Steps of 0.5: 3.3 can only be approached to within 0.2 (3.5 or 3.0 ... 3.5).
        let knobs = [knob("a", 0.0, 1.0, false), knob("n", 0.0, 10.0, true)];
        let mut eval = |x: &[f64]| Ok(vec![(2.0 * (x[0] + x[1])).floor() / 2.0 + 1.0]);
        let fit = least_squares(&knobs, &[3.3], 0.01, &mut eval, &mut |_, _, _| {}).unwrap();
        assert!(!fit.within);
        assert!(
            (fit.reached[0] - 3.5).abs() < 1e-12 || (fit.reached[0] - 3.0).abs() < 1e-12,
            "{fit:?}"
        );
        assert!(fit.values[1].fract() == 0.0);
        let fit = least_squares(&knobs, &[4.5], 0.01, &mut eval, &mut |_, _, _| {}).unwrap();
        assert!(fit.within, "{fit:?}");
    }

    #[test]
    fn the_search_is_deterministic_and_stays_in_range() {
        let knobs = [knob("a", 0.2, 0.4, false), knob("b", -3.0, 3.0, false)];
        let run = || {
            let mut xs = Vec::new();
            let mut eval = |x: &[f64]| {
                xs.push(x.to_vec());
                Ok(vec![(x[0] * 10.0).exp(), 5.0 + x[1]])
            };
            let fit =
                least_squares(&knobs, &[100.0, 9.0], 0.001, &mut eval, &mut |_, _, _| {}).unwrap();
            (fit, xs)
        };
        let (a, xs) = run();
        assert_eq!(a, run().0);
        assert!(xs
            .iter()
            .all(|x| (0.2..=0.4).contains(&x[0]) && (-3.0..=3.0).contains(&x[1])));
        // Both targets are beyond the box: the fit ends at its corner and says it missed.
        assert!(!a.within);
        assert!(
            (a.values[0] - 0.4).abs() < 1e-6 && (a.values[1] - 3.0).abs() < 1e-6,
            "{a:?}"
        );
    }

    #[test]
    fn errors_from_an_evaluation_come_back_as_they_were() {
        let knobs = [knob("a", 0.0, 1.0, false)];
        let mut n = 0;
        let mut eval = |_: &[f64]| {
            n += 1;
            if n > 12 {
                anyhow::bail!("decode failed at evaluation {n}")
            }
            Ok(vec![f64::from(n)])
        };
        let e = least_squares(&knobs, &[100.0], 0.01, &mut eval, &mut |_, _, _| {}).unwrap_err();
        assert_eq!(e.to_string(), "decode failed at evaluation 13");
    }
}
