//! The plain-text table printed after a run. Plain text only: it may be piped to a file or
//! a log, so no colours and no terminal-width queries.

use crate::record::ConfigRuns;
use crate::report::columns::LabelColumns;
use crate::report::summary::Summary;

struct Column {
    header: String,
    right: bool,
    cells: Vec<String>,
}

impl Column {
    fn new(header: &str, right: bool, cells: Vec<String>) -> Self {
        Column {
            header: header.to_string(),
            right,
            cells,
        }
    }

    fn width(&self) -> usize {
        self.cells
            .iter()
            .chain(std::iter::once(&self.header))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    }
}

fn fixed(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

fn fixed_opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| fixed(v, decimals))
}

/// Renders one line per configuration: `config`, `case` when any configuration has one,
/// the swept keys, then TPF, TPF in steps (`tpf_steps`), content TPF, mean rounds, lookahead win rate and invalid
/// transitions per 1000 tokens (`-` when the model does not define them). Every line,
/// the header included, ends with a newline. `summaries[i]` belongs to `runs[i]`.
///
/// # Panics
///
/// If the two slices differ in length, which is a caller bug.
pub fn table(runs: &[ConfigRuns], summaries: &[Summary]) -> String {
    let columns = columns(runs, summaries);
    aligned(&columns, runs.len())
}

/// The same table as GitHub Markdown, for `run --export-markdown` (as hyperfine does).
pub fn markdown(runs: &[ConfigRuns], summaries: &[Summary]) -> String {
    let columns = columns(runs, summaries);
    let row = |cell: &dyn Fn(&Column) -> String| {
        let cells: Vec<String> = columns.iter().map(cell).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = row(&|c| c.header.replace('|', "\\|"));
    out.push_str(&row(&|c| {
        if c.right {
            "---:".into()
        } else {
            ":---".into()
        }
    }));
    for i in 0..runs.len() {
        out.push_str(&row(&|c| c.cells[i].replace('|', "\\|")));
    }
    out
}

fn columns(runs: &[ConfigRuns], summaries: &[Summary]) -> Vec<Column> {
    assert_eq!(runs.len(), summaries.len(), "one summary per configuration");
    let labels = LabelColumns::of(runs);
    let label_cells: Vec<Vec<String>> = runs.iter().map(|r| labels.cells(&r.label)).collect();

    let mut columns = vec![Column::new(
        "config",
        true,
        runs.iter().map(|r| r.label.index.to_string()).collect(),
    )];
    for (i, header) in labels.headers().iter().enumerate() {
        // Case names are words; swept values are mostly numbers and read best right-aligned.
        let right = !(labels.has_case && i == 0);
        let cells = label_cells.iter().map(|row| row[i].clone()).collect();
        columns.push(Column::new(header, right, cells));
    }
    let numeric = |header: &str, f: &dyn Fn(&Summary) -> String| {
        Column::new(header, true, summaries.iter().map(f).collect())
    };
    columns.push(numeric("TPF", &|s| fixed(s.tpf, 2)));
    columns.push(numeric("TPF 95% CI", &|s| {
        format!("[{}, {}]", fixed(s.tpf_lo, 2), fixed(s.tpf_hi, 2))
    }));
    columns.push(numeric("TPF steps", &|s| fixed(s.tpf_steps, 2)));
    columns.push(numeric("content TPF", &|s| fixed(s.content_tpf, 2)));
    columns.push(numeric("rounds", &|s| fixed(s.rounds_mean, 2)));
    columns.push(numeric("win rate", &|s| fixed(s.lookahead_win_rate, 3)));
    columns.push(numeric("invalid/1k", &|s| fixed_opt(s.invalid_per_1k, 2)));
    columns
}

fn aligned(columns: &[Column], rows: usize) -> String {
    let widths: Vec<usize> = columns.iter().map(Column::width).collect();
    let line = |cell: &dyn Fn(&Column) -> &str| {
        let parts: Vec<String> = columns
            .iter()
            .zip(&widths)
            .map(|(c, &w)| {
                if c.right {
                    format!("{:>w$}", cell(c))
                } else {
                    format!("{:<w$}", cell(c))
                }
            })
            .collect();
        // Only a left-aligned last column could pad the end; trim so lines never trail spaces.
        let mut s = parts.join("  ").trim_end().to_string();
        s.push('\n');
        s
    };
    let mut out = line(&|c| c.header.as_str());
    for row in 0..rows {
        out.push_str(&line(&|c| c.cells[row].as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::summarize;
    use crate::report::test_data::two_configs;

    #[test]
    fn aligned_table_with_case() {
        let runs = two_configs();
        let sums: Vec<Summary> = runs.iter().map(summarize).collect();
        let expected = "\
config  case  search.branches  decoder.fill_threshold   TPF     TPF 95% CI  TPF steps  content TPF  rounds  win rate  invalid/1k
     0                      2                     0.8  1.78  [-0.73, 4.29]       1.45         1.56    4.50     0.333       62.50
     1  long                4                     1.0  4.00   [4.00, 4.00]       3.00         4.00    3.00     1.000           -
";
        assert_eq!(table(&runs, &sums), expected);
    }

    #[test]
    fn no_case_no_sweep() {
        let mut runs = two_configs();
        for r in &mut runs {
            r.label.case = None;
            r.label.swept.clear();
        }
        let sums: Vec<Summary> = runs.iter().map(summarize).collect();
        let expected = "\
config   TPF     TPF 95% CI  TPF steps  content TPF  rounds  win rate  invalid/1k
     0  1.78  [-0.73, 4.29]       1.45         1.56    4.50     0.333       62.50
     1  4.00   [4.00, 4.00]       3.00         4.00    3.00     1.000           -
";
        assert_eq!(table(&runs, &sums), expected);
    }

    #[test]
    fn markdown_table() {
        let runs = two_configs();
        let sums: Vec<Summary> = runs.iter().map(summarize).collect();
        let md = markdown(&runs, &sums);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with("| config | case | search.branches |"),
            "{md}"
        );
        assert!(lines[1].starts_with("| ---: | :--- | ---: |"), "{md}");
        assert!(
            lines[3].contains("| 1 | long | 4 | 1.0 | 4.00 | [4.00, 4.00] |"),
            "{md}"
        );
    }

    #[test]
    fn empty_input_prints_only_the_header() {
        assert_eq!(
            table(&[], &[]),
            "config  TPF  TPF 95% CI  TPF steps  content TPF  rounds  win rate  invalid/1k\n"
        );
    }
}
