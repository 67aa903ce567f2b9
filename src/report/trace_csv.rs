//! `trace.csv`: every committed position of the traced decodes, for the `tfo_map` figure.

use crate::record::DecodeTrace;
use crate::report::runs_csv::float_cell;

/// Renders `trace.csv`: `config`, `seq`, `branches`, `round`, `position` (generated index),
/// `token`, `via` (`anchor`, `lookahead`, or `completion` for a lookahead token that ended
/// the decode without another forward pass, counted in the last round) and `confidence`.
pub fn trace_csv(traces: &[DecodeTrace]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "config",
        "seq",
        "branches",
        "round",
        "position",
        "token",
        "via",
        "confidence",
    ])?;
    for t in traces {
        let last = t.rounds.last().map_or(0, |r| r.round);
        let head = |round: u64| {
            [
                t.config.to_string(),
                t.seq.to_string(),
                t.branches.to_string(),
                round.to_string(),
            ]
        };
        for r in &t.rounds {
            let cells = r.lookahead.iter().map(|x| (x, "lookahead"));
            for (tok, via) in cells.chain(r.filled.iter().map(|x| (x, "anchor"))) {
                let [a, b, c, d] = head(r.round);
                w.write_record([
                    a,
                    b,
                    c,
                    d,
                    tok.position.to_string(),
                    tok.token.to_string(),
                    via.to_string(),
                    float_cell(tok.confidence),
                ])?;
            }
        }
        if let Some(tok) = &t.completion {
            let [a, b, c, d] = head(last);
            w.write_record([
                a,
                b,
                c,
                d,
                tok.position.to_string(),
                tok.token.to_string(),
                "completion".to_string(),
                float_cell(tok.confidence),
            ])?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
