//! Small multiples: a figure with more series than a panel can tell apart is split into
//! panels with shared axes (the k axis they share is laid out in `k_axis`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ConfigPoint;

/// The most series one panel draws.
pub(crate) const MAX_SERIES: usize = 8;

/// One line (or pair of points) of a panel.
pub(crate) struct Series<'a> {
    /// Its legend text, without what the panel title already says.
    pub label: String,
    /// Style number, the same for the same label in every panel: colour and dash together.
    pub style: usize,
    /// Its configurations, sorted by k.
    pub points: Vec<&'a ConfigPoint>,
}

/// One panel of a faceted figure.
pub(crate) struct Facet<'a> {
    /// What all its series share ("" when the figure has one panel).
    pub title: String,
    /// At most [`MAX_SERIES`].
    pub series: Vec<Series<'a>>,
}

/// Splits a series key "CASE, key=value, ..." into the group it is faceted by and the rest.
/// A case "A/B" is grouped by "A"; other cases by themselves; without cases, by the first
/// swept value.
fn group_and_name(key: &str, has_case: bool) -> (String, String) {
    let (head, rest) = match key.split_once(", ") {
        Some((h, r)) => (h.to_string(), r.to_string()),
        None => (key.to_string(), String::new()),
    };
    if has_case {
        if let Some((group, sub)) = head.split_once('/') {
            let name = if rest.is_empty() {
                sub.to_string()
            } else {
                format!("{sub}, {rest}")
            };
            return (group.to_string(), name);
        }
    }
    let name = if rest.is_empty() {
        "all".to_string()
    } else {
        rest
    };
    (head, name)
}

/// The series of `configs`, in panels of at most [`MAX_SERIES`], with one style per
/// distinct legend text. `series` is what [`super::common::series`] returns.
pub(crate) fn facets<'a>(series: Vec<(String, Vec<&'a ConfigPoint>)>) -> Vec<Facet<'a>> {
    if series.len() <= MAX_SERIES {
        let series = series
            .into_iter()
            .enumerate()
            .map(|(i, (label, points))| Series {
                label,
                style: i,
                points,
            })
            .collect();
        return vec![Facet {
            title: String::new(),
            series,
        }];
    }
    let has_case = series
        .iter()
        .any(|(_, pts)| pts.iter().any(|p| p.case.is_some()));
    let groups_of_one = {
        let mut seen: Vec<String> = Vec::new();
        for (key, _) in &series {
            let (group, _) = group_and_name(key, has_case);
            if seen.contains(&group) {
                break;
            }
            seen.push(group);
        }
        seen.len() == series.len()
    };
    if groups_of_one {
        // Nothing to group by (every series would be a panel of its own): panels of eight,
        // in order, each series keeping its own style.
        // Balanced panels: 12 series make two of 6, not 8 and 4.
        let parts = series.len().div_ceil(MAX_SERIES);
        let per = series.len().div_ceil(parts);
        let mut series = series.into_iter().enumerate().peekable();
        return (0..parts)
            .map(|part| Facet {
                title: format!("series {}/{parts}", part + 1),
                series: series
                    .by_ref()
                    .take(per)
                    .map(|(i, (label, points))| Series {
                        label,
                        style: i,
                        points,
                    })
                    .collect(),
            })
            .collect();
    }
    let mut names: Vec<String> = Vec::new();
    let mut groups: Vec<(String, Vec<Series<'a>>)> = Vec::new();
    for (key, points) in series {
        let (group, label) = group_and_name(&key, has_case);
        let style = match names.iter().position(|n| *n == label) {
            Some(i) => i,
            None => {
                names.push(label.clone());
                names.len() - 1
            }
        };
        let s = Series {
            label,
            style,
            points,
        };
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, v)) => v.push(s),
            None => groups.push((group, vec![s])),
        }
    }
    let mut out = Vec::new();
    for (group, series) in groups {
        let parts = series.len().div_ceil(MAX_SERIES);
        let mut series = series.into_iter().peekable();
        for part in 0..parts {
            let title = if parts > 1 {
                format!("{group} ({}/{parts})", part + 1)
            } else {
                group.clone()
            };
            out.push(Facet {
                title,
                series: series.by_ref().take(MAX_SERIES).collect(),
            });
        }
    }
    out
}

/// Areas for `n` panels in a grid whose panels are about as wide as high on a 16:10
/// figure.
pub(crate) fn grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    n: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    let n = n.max(1);
    let cols = match n {
        1..=3 => n,
        4 => 2,
        5..=6 => 3,
        7..=8 => 4,
        9 => 3,
        10..=12 => 4,
        _ => (n as f64 * 1.6).sqrt().ceil() as usize,
    };
    let rows = n.div_ceil(cols);
    let mut panels = area.split_evenly((rows, cols));
    panels.truncate(n);
    panels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::data::test_point as point;

    #[test]
    fn many_cases_facet_by_prefix_with_shared_styles() {
        let mut pts = Vec::new();
        for (i, bench) in ["A", "B", "C"].iter().enumerate() {
            for (j, fam) in ["x", "y", "z"].iter().enumerate() {
                pts.push(point(i * 3 + j, &format!("{bench}/{fam}"), 0));
            }
        }
        let series = super::super::common::series(&pts);
        assert_eq!(series.len(), 9);
        let f = facets(series);
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].title, "B");
        let labels: Vec<_> = f[1].series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["x", "y", "z"]);
        assert_eq!(f[2].series[2].style, 2);
    }

    #[test]
    fn a_big_group_is_split_into_panels_of_eight() {
        let pts: Vec<_> = (0..20).map(|i| point(i, &format!("c{i}"), 0)).collect();
        let f = facets(super::super::common::series(&pts));
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|f| f.series.len() <= MAX_SERIES));
        assert_eq!(f.iter().map(|f| f.series.len()).sum::<usize>(), 20);
        assert_eq!(f[2].series[5].style, 19);
    }
}
