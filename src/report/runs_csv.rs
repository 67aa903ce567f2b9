//! `runs.csv`: one row per (configuration, sequence), the raw data every other output is
//! derived from.

use crate::record::{ConfigRuns, DecodeRecord};
use crate::report::columns::LabelColumns;

/// The section-5 columns that follow the label columns, in order.
pub const RECORD_COLUMNS: [&str; 13] = [
    "rounds",
    "tokens",
    "content_tokens",
    "tpf",
    "branch_evals",
    "branch_tokens",
    "lookahead_wins",
    "invalid_transitions",
    "log_likelihood",
    "matches_greedy",
    "plan_consistent",
    "token_errors",
    "distinct2",
];

/// Formats a float in shortest round-trip form that still reads as a float: `1.0`, not `1`,
/// so a column keeps one type for readers that infer it from the text.
pub fn float_cell(x: f64) -> String {
    let s = x.to_string();
    // Display never uses an exponent, but guard anyway; inf and NaN have no ".0" form.
    if x.is_finite() && !s.contains(['.', 'e', 'E']) {
        s + ".0"
    } else {
        s
    }
}

fn opt<T>(x: Option<T>, f: impl FnOnce(T) -> String) -> String {
    x.map(f).unwrap_or_default()
}

fn bool_cell(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

fn record_cells(r: &DecodeRecord) -> [String; 13] {
    let q = &r.quality;
    [
        r.rounds.to_string(),
        r.tokens.to_string(),
        r.content_tokens.to_string(),
        float_cell(r.tpf()),
        r.branch_evals.to_string(),
        r.branch_tokens.to_string(),
        r.lookahead_wins.to_string(),
        opt(q.invalid_transitions, |v| v.to_string()),
        opt(q.log_likelihood, float_cell),
        opt(q.matches_greedy, bool_cell),
        opt(q.plan_consistent, bool_cell),
        opt(q.token_errors, |v| v.to_string()),
        opt(r.distinct2, float_cell),
    ]
}

/// Renders `runs.csv`: `config`, `seq`, `world` when any configuration is decoded in more
/// than one world, `case` when any configuration has one, the swept keys, then
/// [`RECORD_COLUMNS`]. Rows follow the order of `runs` and of their records (world-major).
/// With one world the rows are exactly those of a scenario without `worlds`.
pub fn runs_csv(runs: &[ConfigRuns]) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    write_runs_csv(runs, &mut out)?;
    Ok(out)
}

/// Streams `runs.csv` into `out`; a large sweep's rows never sit in memory as text.
pub fn write_runs_csv(runs: &[ConfigRuns], out: impl std::io::Write) -> Result<(), csv::Error> {
    let labels = LabelColumns::of(runs);
    let worlds = runs.iter().any(|r| r.world_count() > 1);
    let timed = super::timing::timed(runs);
    let mut w = csv::Writer::from_writer(out);
    let header = ["config".to_string(), "seq".to_string()]
        .into_iter()
        .chain(worlds.then(|| "world".to_string()))
        .chain(labels.headers())
        .chain(RECORD_COLUMNS.iter().map(|c| c.to_string()))
        .chain(
            super::timing::RUN_COLUMNS
                .iter()
                .filter(|_| timed)
                .map(|c| c.to_string()),
        );
    w.write_record(header)?;
    for config in runs {
        let label_cells = labels.cells(&config.label);
        for (i, record) in config.records.iter().enumerate() {
            let (world, seq) = config.world_seq(i);
            let row = [config.label.index.to_string(), seq.to_string()]
                .into_iter()
                .chain(worlds.then(|| world.to_string()))
                .chain(label_cells.iter().cloned())
                .chain(record_cells(record))
                .chain(
                    super::timing::run_cells(record)
                        .into_iter()
                        .filter(|_| timed),
                );
            w.write_record(row)?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_data::two_configs;

    #[test]
    fn float_cells() {
        assert_eq!(float_cell(1.0), "1.0");
        assert_eq!(float_cell(0.8), "0.8");
        assert_eq!(float_cell(-4.286849186324321), "-4.286849186324321");
        assert_eq!(float_cell(0.0), "0.0");
        assert_eq!(float_cell(-0.0), "-0.0");
        assert_eq!(float_cell(1e21), "1000000000000000000000.0");
        assert_eq!(float_cell(16.0 / 9.0), "1.7777777777777777");
    }

    #[test]
    fn rows_with_a_case_column() {
        let text = String::from_utf8(runs_csv(&two_configs()).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "config,seq,case,search.branches,decoder.fill_threshold,rounds,tokens,\
                 content_tokens,tpf,branch_evals,branch_tokens,lookahead_wins,\
                 invalid_transitions,log_likelihood,matches_greedy,plan_consistent,token_errors,\
                 distinct2",
                "0,0,,2,0.8,4,8,6,2.0,10,40,1,0,-4.286849186324321,1,,,0.6",
                "0,1,,2,0.8,5,8,8,1.6,12,48,2,1,-7.5,0,,,1.0",
                "1,0,long,4,1.0,3,12,12,4.0,9,36,3,,,,1,2,",
            ]
        );
        assert!(text.ends_with("1,2,\n"));
    }

    #[test]
    fn no_case_column_without_cases() {
        let mut runs = two_configs();
        runs[1].label.case = None;
        let text = String::from_utf8(runs_csv(&runs).unwrap()).unwrap();
        let mut lines = text.lines();
        assert!(lines
            .next()
            .unwrap()
            .starts_with("config,seq,search.branches,decoder.fill_threshold,rounds,"));
        assert_eq!(
            lines.last().unwrap(),
            "1,0,4,1.0,3,12,12,4.0,9,36,3,,,,1,2,"
        );
    }

    #[test]
    fn no_sweep_and_no_runs() {
        let mut runs = two_configs();
        runs.truncate(1);
        runs[0].label.swept.clear();
        let text = String::from_utf8(runs_csv(&runs).unwrap()).unwrap();
        assert!(text.starts_with("config,seq,rounds,"));
        assert_eq!(
            text.lines().nth(2).unwrap(),
            "0,1,5,8,8,1.6,12,48,2,1,-7.5,0,,,1.0"
        );
        let empty = String::from_utf8(runs_csv(&[]).unwrap()).unwrap();
        assert_eq!(empty.lines().count(), 1);
    }

    #[test]
    fn a_world_column_only_with_several_worlds() {
        let mut runs = two_configs();
        runs.truncate(1);
        let one = String::from_utf8(runs_csv(&runs).unwrap()).unwrap();
        assert!(!one.lines().next().unwrap().contains("world"));
        // Two worlds of one sequence each: the same records, now world-major.
        runs[0].worlds = 2;
        let two = String::from_utf8(runs_csv(&runs).unwrap()).unwrap();
        let lines: Vec<&str> = two.lines().collect();
        assert!(lines[0].starts_with("config,seq,world,search.branches,"));
        assert!(lines[1].starts_with("0,0,0,2,0.8,4,"), "{}", lines[1]);
        assert!(lines[2].starts_with("0,0,1,2,0.8,5,"), "{}", lines[2]);
    }
}
