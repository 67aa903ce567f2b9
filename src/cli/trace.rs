//! `lopa-sim trace`: one sequence of one configuration, one line per round.
//!
//! Glyphs per generated position: `.` masked, `-` not appended yet (d2f adds blocks over
//! time), `=` committed in an earlier round, `#` committed this round by the anchor fill,
//! `L` committed this round as the winning lookahead branch's extra token, and `+` a
//! lookahead token that completed the decode without another forward pass (last line only).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::run::prepare_cases;
use crate::engine::Workspace;
use crate::record::{DecodeRecord, DecodeTrace, TracedRound};
use crate::report::write_atomic;

/// Options of `lopa-sim trace`.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The sequence to decode.
    pub seq: usize,
    /// `KEY=VALUE` overrides.
    pub sets: Vec<String>,
    /// `--case` patterns: keep only these cases.
    pub cases: Vec<String>,
    /// `--config N`: which configuration to trace, when there are several.
    pub config: Option<usize>,
    /// Also write JSON lines here.
    pub json: Option<PathBuf>,
}

/// Decodes one sequence and returns the text to print.
pub fn trace(opts: &TraceOptions) -> Result<String> {
    let (scenario, mut resolved) = prepare_cases(&opts.scenario, &opts.sets, &opts.cases)?;
    let index = match opts.config {
        Some(n) if n < resolved.len() => n,
        Some(n) => bail!(
            "{}: --config {n}: this scenario has {} configurations (0..{}); \
             `lopa-sim run --list` prints them",
            opts.scenario.display(),
            resolved.len(),
            resolved.len()
        ),
        None if resolved.len() == 1 => 0,
        None => {
            let swept: Vec<&str> = scenario.sweep.keys().map(String::as_str).collect();
            bail!(
                "{}: trace needs one configuration, but this scenario has {} \
                 (swept keys: [{}], cases: {}). Pick one with --config N (see \
                 `lopa-sim run --list`), --case NAME, or --set, e.g. --set 'sweep={{}}' \
                 --set search.branches=4",
                opts.scenario.display(),
                resolved.len(),
                swept.join(", "),
                scenario.cases.len()
            );
        }
    };
    if let Some(path) = &opts.json {
        let inputs = super::outputs::inputs(&opts.scenario, &resolved);
        super::outputs::check_export("--json", path, &inputs, None)?;
    }
    let chosen = resolved.swap_remove(index);
    let sequences = chosen.config.sequences;
    if opts.seq >= sequences {
        bail!(
            "{}: --seq {}: the scenario decodes sequences 0..{sequences}, so --seq must be \
             below {sequences}",
            opts.scenario.display(),
            opts.seq
        );
    }
    let setup = scenario.setups(&[chosen])?.remove(0);
    let (record, trace) = setup
        .trace(opts.seq, 0, &mut Workspace::default())
        .with_context(|| {
            format!(
                "scenario {}: configuration 0, sequence {}",
                opts.scenario.display(),
                opts.seq
            )
        })?;
    if let Some(path) = &opts.json {
        write_atomic(path, json_lines(&trace)?.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(render(&trace, &record, setup.gen_length))
}

fn render(trace: &DecodeTrace, record: &DecodeRecord, gen_length: usize) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Cell {
        Masked,
        Earlier,
    }
    let mut cells = vec![Cell::Masked; gen_length];
    let mut out = String::new();
    let last = trace.rounds.len();
    for (i, r) in trace.rounds.iter().enumerate() {
        let mut glyphs: Vec<char> = (0..gen_length)
            .map(|p| match cells[p] {
                Cell::Earlier => '=',
                Cell::Masked if p < r.positions => '.',
                Cell::Masked => '-',
            })
            .collect();
        for t in &r.filled {
            glyphs[t.position] = '#';
            cells[t.position] = Cell::Earlier;
        }
        if let Some(t) = &r.lookahead {
            glyphs[t.position] = 'L';
            cells[t.position] = Cell::Earlier;
        }
        if i + 1 == last {
            if let Some(t) = &trace.completion {
                glyphs[t.position] = '+';
            }
        }
        let glyphs: String = glyphs.into_iter().collect();
        let _ = writeln!(out, "round {:>3} |{glyphs}| {}", r.round, describe(r));
    }
    let _ = writeln!(
        out,
        "done: {} tokens in {} rounds (TPF {:.2}), {} lookahead wins, {} content tokens",
        record.tokens,
        record.rounds,
        record.tpf(),
        record.lookahead_wins,
        record.content_tokens
    );
    out
}

/// The winner and every branch's score; the winner's score is starred. Lookahead branches
/// are `b1..bk` in branch order. The text avoids the committed glyphs, so counting them over
/// a whole line counts positions.
fn describe(r: &TracedRound) -> String {
    let base = r.scores.len() - 1;
    let name = |b: usize| {
        if b == base {
            "base".to_string()
        } else {
            format!("b{}", b + 1)
        }
    };
    let winner = if r.winner == base {
        "base".to_string()
    } else {
        format!("lookahead {}", name(r.winner))
    };
    let scores: Vec<String> = r
        .scores
        .iter()
        .enumerate()
        .map(|(b, s)| {
            let star = if b == r.winner { "*" } else { "" };
            format!("{star}{} {s:.4}", name(b))
        })
        .collect();
    format!("winner: {winner}  scores: {}", scores.join(", "))
}

fn json_lines(trace: &DecodeTrace) -> Result<String> {
    let mut out = String::new();
    let last = trace.rounds.len();
    for (i, r) in trace.rounds.iter().enumerate() {
        let base = r.scores.len() - 1;
        let mut line = json!({
            "round": r.round,
            "filled": r.filled,
            "lookahead": r.lookahead,
            "scores": r.scores,
            "winner": r.winner,
            "winner_kind": if r.winner == base { "base" } else { "lookahead" },
            "positions": r.positions,
        });
        if i + 1 == last {
            line["completion"] = serde_json::to_value(&trace.completion)?;
        }
        out.push_str(&serde_json::to_string(&line)?);
        out.push('\n');
    }
    Ok(out)
}
