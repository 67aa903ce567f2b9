//! `summary.csv`: one row per configuration.

use crate::record::ConfigRuns;
use crate::report::columns::LabelColumns;
use crate::report::runs_csv::float_cell;
use crate::report::summary::Summary;

/// The [`Summary`] columns after the label columns: the SPEC's, then the quality extras.
/// A last `branches` column holds the effective k, which the figures put on their x axis.
/// `tpf_lo` and `tpf_hi` (the 95% interval of `tpf`) come after the extras, so the SPEC's
/// columns keep their order.
pub const SUMMARY_COLUMNS: [&str; 18] = [
    "sequences",
    "tpf",
    "tpf_mean",
    "tpf_ci95",
    "content_tpf",
    "rounds_mean",
    "lookahead_win_rate",
    "invalid_per_1k",
    "branch_tokens_per_token",
    "greedy_match_rate",
    "log_likelihood_mean",
    "plan_consistent_rate",
    "token_errors_per_1k",
    "tpf_steps",
    "distinct2",
    "tpf_lo",
    "tpf_hi",
    "oracle_gap",
];

/// Columns added after [`SUMMARY_COLUMNS`] when any configuration has several worlds, so a
/// scenario with `worlds = 1` writes exactly the file it writes without the key.
pub const WORLD_COLUMNS: [&str; 3] = ["tpf_world_lo", "tpf_world_hi", "tpf_world_sd"];

fn summary_cells(s: &Summary) -> [String; 18] {
    let opt = |x: Option<f64>| x.map(float_cell).unwrap_or_default();
    [
        s.sequences.to_string(),
        float_cell(s.tpf),
        float_cell(s.tpf_mean),
        float_cell(s.tpf_ci95),
        float_cell(s.content_tpf),
        float_cell(s.rounds_mean),
        float_cell(s.lookahead_win_rate),
        opt(s.invalid_per_1k),
        float_cell(s.branch_tokens_per_token),
        opt(s.greedy_match_rate),
        opt(s.log_likelihood_mean),
        opt(s.plan_consistent_rate),
        opt(s.token_errors_per_1k),
        float_cell(s.tpf_steps),
        opt(s.distinct2),
        float_cell(s.tpf_lo),
        float_cell(s.tpf_hi),
        opt(s.oracle_gap),
    ]
}

fn world_cells(s: &Summary) -> [String; 3] {
    let opt = |x: Option<f64>| x.map(float_cell).unwrap_or_default();
    [
        opt(s.tpf_world_lo),
        opt(s.tpf_world_hi),
        opt(s.tpf_world_sd),
    ]
}

/// Renders `summary.csv`: `config`, `case` when any configuration has one, the swept keys,
/// then [`SUMMARY_COLUMNS`]. `summaries[i]` belongs to `runs[i]`.
///
/// # Panics
///
/// If the two slices differ in length, which is a caller bug rather than bad input.
pub fn summary_csv(runs: &[ConfigRuns], summaries: &[Summary]) -> Result<Vec<u8>, csv::Error> {
    assert_eq!(runs.len(), summaries.len(), "one summary per configuration");
    let labels = LabelColumns::of(runs);
    let worlds = runs.iter().any(|r| r.world_count() > 1);
    let world_headers = WORLD_COLUMNS.iter().filter(|_| worlds);
    let timed = super::timing::timed(runs);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = std::iter::once("config".to_string())
        .chain(labels.headers())
        .chain(SUMMARY_COLUMNS.iter().map(|c| c.to_string()))
        .chain(world_headers.map(|c| c.to_string()))
        .chain(std::iter::once("branches".to_string()))
        .chain(
            super::timing::SUMMARY_COLUMNS
                .iter()
                .filter(|_| timed)
                .map(|c| c.to_string()),
        );
    w.write_record(header)?;
    for (config, summary) in runs.iter().zip(summaries) {
        let row = std::iter::once(config.label.index.to_string())
            .chain(labels.cells(&config.label))
            .chain(summary_cells(summary))
            .chain(world_cells(summary).into_iter().filter(|_| worlds))
            .chain(std::iter::once(config.label.branches.to_string()))
            .chain(
                super::timing::summary_cells(config)
                    .into_iter()
                    .filter(|_| timed),
            );
        w.write_record(row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::summarize;
    use crate::report::test_data::two_configs;

    #[test]
    fn header_and_rows() {
        let runs = two_configs();
        let sums: Vec<Summary> = runs.iter().map(summarize).collect();
        let text = String::from_utf8(summary_csv(&runs, &sums).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "config,case,search.branches,decoder.fill_threshold,sequences,tpf,tpf_mean,\
             tpf_ci95,content_tpf,rounds_mean,lookahead_win_rate,invalid_per_1k,\
             branch_tokens_per_token,greedy_match_rate,log_likelihood_mean,\
             plan_consistent_rate,token_errors_per_1k,tpf_steps,distinct2,tpf_lo,tpf_hi,oracle_gap,branches"
        );
        // The CI cell comes from statrs' t quantile, so it is checked numerically instead.
        let cells: Vec<&str> = lines[1].split(',').collect();
        let ci: f64 = cells[7].parse().unwrap();
        assert!((ci - 2.5412409472349413).abs() < 1e-9, "{ci}");
        // So are the ends of the delta-method interval of tpf.
        let (lo, hi): (f64, f64) = (cells[19].parse().unwrap(), cells[20].parse().unwrap());
        let tpf: f64 = cells[5].parse().unwrap();
        assert!(lo < tpf && tpf < hi, "{lo} {tpf} {hi}");
        let mut without_ci = cells.clone();
        without_ci.drain(19..21);
        without_ci.remove(7);
        assert_eq!(
            without_ci.join(","),
            "0,,2,0.8,2,1.7777777777777777,1.8,1.5555555555555556,4.5,\
             0.3333333333333333,62.5,5.5,0.5,-5.893424593162161,,,1.4545454545454546,0.8,,2"
        );
        assert_eq!(
            lines[2],
            "1,long,4,1.0,1,4.0,4.0,0.0,4.0,3.0,1.0,,3.0,,,1.0,166.66666666666666,3.0,,4.0,4.0,,4"
        );
    }

    #[test]
    fn empty_config_writes_zeros_not_nan() {
        let runs = vec![ConfigRuns::default()];
        let sums: Vec<Summary> = runs.iter().map(summarize).collect();
        let text = String::from_utf8(summary_csv(&runs, &sums).unwrap()).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "0,0,0.0,0.0,0.0,0.0,0.0,0.0,,0.0,,,,,0.0,,0.0,0.0,,0"
        );
        assert!(!text.contains("NaN"));
    }
}
