//! The k axis of the TPF figures: linear or log2 (k = 0 one step left of the smallest
//! positive k), or categorical, k = 0 beside LoPA for cases that each hold one k, with
//! category names that shrink, then break in two, rather than overlap.

use plotters::prelude::*;

use super::data::{ConfigPoint, KAxis};

/// Whether every series holds at most a k = 0 point and one lookahead k: such cases read
/// best as pairs on a categorical axis, not as one-point lines.
pub(crate) fn categorical(series: &[(String, Vec<&ConfigPoint>)]) -> bool {
    let pairs = series.iter().all(|(_, pts)| {
        let positive = pts.iter().filter(|p| p.branches > 0).count();
        let zero = pts.iter().filter(|p| p.branches == 0).count();
        positive <= 1 && zero <= 1
    });
    // A single series is a line however few its points.
    pairs && series.len() > 1
}

/// Where k sits on the x axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct KScale {
    /// Log2 positions, with k = 0 at `zero`.
    pub log2: bool,
    /// The position of k = 0 on a log2 axis: one step left of the smallest positive k.
    pub zero: f64,
}

impl KScale {
    /// The scale for the k values `ks` under `plot.k_axis`.
    pub(crate) fn new(ks: &[usize], axis: KAxis) -> Self {
        let mut positive: Vec<usize> = ks.iter().copied().filter(|&k| k > 0).collect();
        positive.sort_unstable();
        positive.dedup();
        let powers = positive.iter().filter(|k| k.is_power_of_two()).count();
        let auto = positive.len() >= 3
            && 3 * powers >= 2 * positive.len()
            && positive.last().is_some_and(|&k| k >= 8);
        let log2 = match axis {
            KAxis::Linear => false,
            KAxis::Log2 => !positive.is_empty(),
            KAxis::Auto => auto,
        };
        let zero = positive
            .first()
            .map_or(-1.0, |&k| (k as f64).log2().floor() - 1.0);
        KScale { log2, zero }
    }

    /// The x position of `k`.
    pub(crate) fn x(&self, k: usize) -> f64 {
        match (self.log2, k) {
            (false, k) => k as f64,
            (true, 0) => self.zero,
            (true, k) => (k as f64).log2(),
        }
    }

    /// The tick label at position `x`: k itself (whole numbers only).
    pub(crate) fn tick(&self, x: f64) -> String {
        if !x.is_finite() || (x - x.round()).abs() > 1e-6 {
            return String::new();
        }
        if !self.log2 {
            return format!("{}", x.round());
        }
        if (x - self.zero).abs() < 1e-6 {
            return "0".to_string();
        }
        if x < self.zero || x > 62.0 {
            return String::new();
        }
        format!("{}", 1u64 << x.round() as u32)
    }

    /// The x axis description.
    pub(crate) fn desc(&self) -> &'static str {
        if self.log2 {
            "lookahead branches k (count), log2 scale"
        } else {
            "lookahead branches k (count)"
        }
    }
}

/// The font size and lines of each category name so that every line fits `room` pixels:
/// one line at the tick size if all fit, else the largest size down to 16 px at which all
/// fit on one line, else two lines (split at the separator nearest the middle) at down to
/// 12 px. Past that the lines are left as they are at 12 px.
pub(crate) fn category_names(names: &[&str], room: f64) -> Result<(u32, Vec<Vec<String>>), String> {
    let width = |text: &str, px: u32| -> Result<f64, String> {
        Ok((super::common::FONT, px)
            .into_font()
            .box_size(text)
            .map_err(super::common::err)?
            .0 as f64)
    };
    let fits = |lines: &[Vec<String>], px: u32| -> Result<bool, String> {
        for l in lines.iter().flatten() {
            if width(l, px)? > room {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let one: Vec<Vec<String>> = names.iter().map(|s| vec![s.to_string()]).collect();
    for px in (16..=super::common::TICK_PX).rev().step_by(2) {
        if fits(&one, px)? {
            return Ok((px, one));
        }
    }
    let two: Vec<Vec<String>> = names.iter().map(|s| split_name(s)).collect();
    for px in (12..=18).rev().step_by(2) {
        if fits(&two, px)? {
            return Ok((px, two));
        }
    }
    Ok((12, two))
}

/// `name` in two lines at the separator (`-`, `/`, `_`, space) nearest its middle, the
/// separator kept at the end of the first line; one line when it has none.
pub(crate) fn split_name(name: &str) -> Vec<String> {
    let mid = name.len() / 2;
    let cut = name
        .char_indices()
        .filter(|&(_, ch)| matches!(ch, '-' | '/' | '_' | ' '))
        .map(|(i, ch)| i + ch.len_utf8())
        .filter(|&i| i < name.len())
        .min_by_key(|&i| i.abs_diff(mid));
    match cut {
        Some(i) => vec![name[..i].to_string(), name[i..].to_string()],
        None => vec![name.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::data::test_point as point;

    #[test]
    fn log2_axis_for_powers_of_two() {
        let s = KScale::new(&[0, 1, 2, 4, 8, 16, 32], KAxis::Auto);
        assert!(s.log2);
        assert_eq!((s.x(0), s.x(1), s.x(32)), (-1.0, 0.0, 5.0));
        assert_eq!(
            (s.tick(-1.0), s.tick(3.0), s.tick(2.5)),
            ("0".into(), "8".into(), "".into())
        );
        assert!(!KScale::new(&[0, 1, 2, 3, 4, 5, 6], KAxis::Auto).log2);
        assert!(!KScale::new(&[0, 1, 2, 4, 8], KAxis::Linear).log2);
        assert!(KScale::new(&[0, 3, 5], KAxis::Log2).log2);
        assert!(
            !KScale::new(&[0, 1, 2, 4], KAxis::Auto).log2,
            "too narrow to need it"
        );
    }

    #[test]
    fn pairs_of_cases_are_categorical() {
        let pts = vec![
            point(0, "a", 0),
            point(1, "a", 7),
            point(2, "b", 0),
            point(3, "b", 14),
        ];
        assert!(categorical(&super::super::common::series(&pts)));
        let sweep = vec![point(0, "a", 0), point(1, "a", 1), point(2, "a", 2)];
        assert!(!categorical(&super::super::common::series(&sweep)));
    }

    #[test]
    fn long_category_names_shrink_then_break_in_two() {
        crate::plot::register_font().unwrap();
        let (px, lines) = category_names(&["a", "bb"], 200.0).unwrap();
        assert_eq!(
            (px, lines),
            (
                super::super::common::TICK_PX,
                vec![vec!["a".to_string()], vec!["bb".to_string()]]
            )
        );
        let names = ["ascend-instruct-mbpp", "nv-base-gsm8k"];
        let (px, lines) = category_names(&names, 90.0).unwrap();
        assert!(px < super::super::common::TICK_PX);
        assert_eq!(lines[0], ["ascend-", "instruct-mbpp"]);
        for l in lines.iter().flatten() {
            let w = (super::super::common::FONT, px)
                .into_font()
                .box_size(l)
                .unwrap()
                .0;
            assert!(w as f64 <= 90.0, "{l} is {w} px at {px}");
        }
        assert_eq!(split_name("nosep"), ["nosep"]);
        assert_eq!(split_name("MATH/hmm"), ["MATH/", "hmm"]);
    }
}
