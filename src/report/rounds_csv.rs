//! `rounds.csv`: per configuration, rounds and committed tokens binned by generation
//! progress, summed over its sequences. It feeds the `tokens_per_round` figure, so the
//! figure can be redrawn without decoding again.

use crate::record::{ConfigRuns, PROGRESS_BINS};
use crate::report::columns::LabelColumns;
use crate::report::runs_csv::float_cell;

/// Renders `rounds.csv`: `config`, the label columns, then `bin`, `progress_lo`,
/// `progress_hi`, `rounds`, `tokens` and `tokens_per_round` (empty for a bin no round hit).
pub fn rounds_csv(runs: &[ConfigRuns]) -> Result<Vec<u8>, csv::Error> {
    let labels = LabelColumns::of(runs);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = std::iter::once("config".to_string())
        .chain(labels.headers())
        .chain(
            [
                "bin",
                "progress_lo",
                "progress_hi",
                "rounds",
                "tokens",
                "tokens_per_round",
            ]
            .map(String::from),
        );
    w.write_record(header)?;
    for config in runs {
        let totals = &config.bins;
        for b in 0..PROGRESS_BINS {
            let (rounds, tokens) = (totals.rounds[b], totals.tokens[b]);
            let per_round = if rounds == 0 {
                String::new()
            } else {
                float_cell(tokens as f64 / rounds as f64)
            };
            let row = std::iter::once(config.label.index.to_string())
                .chain(labels.cells(&config.label))
                .chain([
                    b.to_string(),
                    float_cell(b as f64 / PROGRESS_BINS as f64),
                    float_cell((b + 1) as f64 / PROGRESS_BINS as f64),
                    rounds.to_string(),
                    tokens.to_string(),
                    per_round,
                ]);
            w.write_record(row)?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ProgressBins;

    #[test]
    fn bins_sum_over_sequences() {
        let mut runs = crate::report::test_data::two_configs();
        runs.truncate(1);
        runs[0].bins = ProgressBins::from_rounds(&[4, 3, 1], 8);
        runs[0].bins.add(&ProgressBins::from_rounds(&[8], 8));
        let text = String::from_utf8(rounds_csv(&runs).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + PROGRESS_BINS);
        assert_eq!(
            lines[0],
            "config,search.branches,decoder.fill_threshold,bin,progress_lo,progress_hi,rounds,tokens,tokens_per_round"
        );
        // Rounds starting at progress 0 (both sequences), 4/8 = 0.5 and 7/8 = 0.875.
        assert_eq!(lines[1], "0,2,0.8,0,0.0,0.05,2,12,6.0");
        assert_eq!(lines[11], "0,2,0.8,10,0.5,0.55,1,3,3.0");
        assert_eq!(lines[18], "0,2,0.8,17,0.85,0.9,1,1,1.0");
        assert_eq!(lines[2], "0,2,0.8,1,0.05,0.1,0,0,");
    }
}
