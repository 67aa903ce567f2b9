//! A results folder read back: the figures and `report.html` are drawn from the files a run
//! wrote, so `lopa-sim plot DIR` redraws exactly what `run` drew.

use std::borrow::Cow;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

use crate::plot::data::{ConfigPoint, KAxis, PlotData, ProgressBin, Trace, TraceCell, Via};

/// The files of a results folder that the figures and `report.html` are drawn from.
/// `lopa-sim plot` reads them from the folder; a run hands over the bytes it has just
/// written, so it neither waits for them to reach the disk nor reads them back.
pub struct Inputs<'a> {
    /// `summary.json`.
    pub summary_json: Cow<'a, [u8]>,
    /// `summary.csv`.
    pub summary_csv: Cow<'a, [u8]>,
    /// `rounds.csv`.
    pub rounds_csv: Cow<'a, [u8]>,
    /// `trace.csv`.
    pub trace_csv: Cow<'a, [u8]>,
}

impl Inputs<'static> {
    /// Reads the four files from `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        crate::input::check_folder(dir)
            .map_err(|e| anyhow::anyhow!("{e}; give the results folder a run wrote"))?;
        let read = |name: &str| {
            let path = dir.join(name);
            crate::input::read(&path, crate::input::RESULTS)
                .map(Cow::Owned)
                .with_context(|| format!("cannot read {}", path.display()))
        };
        Ok(Inputs {
            summary_json: read("summary.json")?,
            summary_csv: read("summary.csv")?,
            rounds_csv: read("rounds.csv")?,
            trace_csv: read("trace.csv")?,
        })
    }
}

/// The columns the figures read from each file, which every run writes.
const SUMMARY_COLUMNS: &[&str] = &[
    "config",
    "sequences",
    "branches",
    "tpf",
    "tpf_lo",
    "tpf_hi",
    "branch_tokens_per_token",
];
const ROUNDS_COLUMNS: &[&str] = &[
    "config",
    "bin",
    "progress_lo",
    "progress_hi",
    "rounds",
    "tokens",
];
const TRACE_COLUMNS: &[&str] = &["config", "seq", "branches", "round", "position", "via"];

/// One CSV row with its file's header, so that cells are found by column name.
struct Row<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    /// The cell in column `column`, if the file has that column.
    fn get(&self, column: &str) -> Option<&str> {
        let i = self.headers.iter().position(|h| h == column)?;
        self.record.get(i)
    }
}

/// The header and the rows of CSV `bytes` (the content of `path`), each row with its line
/// number. The header must hold every column of `required`, even when no row follows: a
/// file cut inside its header would otherwise read as a run with nothing in it.
fn rows(
    path: &Path,
    bytes: &[u8],
    required: &[&str],
) -> Result<(csv::StringRecord, Vec<(u64, csv::StringRecord)>)> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!(
            "{} is empty; a run writes at least its header line (re-run the scenario, or \
             `lopa-sim merge` the shards, to write it again)",
            path.display()
        );
    }
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    if let Some(missing) = required.iter().find(|c| !headers.iter().any(|h| h == **c)) {
        bail!(
            "{}: no column `{missing}` in the header line (a damaged or truncated file?)",
            path.display()
        );
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        out.push((line, record));
    }
    Ok((headers, out))
}

/// A CSV reader's error as `file:line: problem`.
fn csv_error(path: &Path, e: csv::Error) -> anyhow::Error {
    let at = |pos: &Option<csv::Position>| match pos {
        Some(p) => format!("{}:{}", path.display(), p.line()),
        None => path.display().to_string(),
    };
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => anyhow!(
            "{}: the row has {len} cells but the header {expected_len} (a damaged or \
             truncated file?)",
            at(pos)
        ),
        csv::ErrorKind::Utf8 { pos, err } => anyhow!("{}: not UTF-8 text: {err}", at(pos)),
        _ => anyhow!("cannot read {}: {e}", path.display()),
    }
}

/// One typed cell, with an error naming the file, line and column.
fn cell<T: std::str::FromStr>(path: &Path, line: u64, row: &Row, column: &str) -> Result<T> {
    let raw = row
        .get(column)
        .ok_or_else(|| anyhow!("{}: no column `{column}`", path.display()))?;
    // Counts and indices are read as integers, which take no fraction.
    let whole = "0.5".parse::<T>().is_err();
    let (lo, hi) = plausible(column);
    let lo = if whole { lo.max(0.0) } else { lo };
    let what = if whole { "a whole number" } else { "a number" };
    let value = raw.parse().map_err(|_| {
        anyhow!(
            "{}:{line}: column `{column}`: `{raw}` is not valid; a run writes {what} in \
             [{lo}, {hi}] here",
            path.display()
        )
    })?;
    // A damaged number (NaN, inf, 1e308) would pass parsing and hang or blank a figure.
    if let Ok(x) = raw.parse::<f64>() {
        if !(lo..=hi).contains(&x) {
            bail!(
                "{}:{line}: column `{column}`: `{raw}` is outside [{lo}, {hi}], the values a run writes",
                path.display()
            );
        }
    }
    Ok(value)
}

/// The range a run writes in each numeric column (TPF <= L <= 2^16).
fn plausible(column: &str) -> (f64, f64) {
    match column {
        "tpf" | "tpf_mean" => (1.0, 65536.0),
        "invalid_per_1k" => (0.0, 1000.0),
        "greedy_match_rate" | "progress_lo" | "progress_hi" => (0.0, 1.0),
        // Log-likelihoods are negative, and a delta-method interval end can dip below 0.
        "log_likelihood_mean" => (-1e15, 0.0),
        _ => (-1e12, 1e12),
    }
}

fn optional(path: &Path, line: u64, row: &Row, column: &str) -> Result<Option<f64>> {
    match row.get(column) {
        None | Some("") => Ok(None),
        Some(_) => cell(path, line, row, column).map(Some),
    }
}

/// Reads `summary.csv`, `summary.json`, `rounds.csv` and `trace.csv` from `dir`.
pub fn load(dir: &Path) -> Result<PlotData> {
    let inputs = Inputs::read(dir)?;
    plot_data(dir, &inputs, &summary_json(dir, &inputs)?)
}

/// `summary.json` of `inputs` parsed.
fn summary_json(dir: &Path, inputs: &Inputs) -> Result<serde_json::Value> {
    let path = dir.join("summary.json");
    serde_json::from_slice(&inputs.summary_json)
        .with_context(|| format!("{} is not valid JSON", path.display()))
}

/// The figures' data from `inputs`, the files of folder `dir` (named in errors), whose
/// `summary.json` is `json`.
fn plot_data(dir: &Path, inputs: &Inputs, json: &serde_json::Value) -> Result<PlotData> {
    let name = json["scenario"]["keys"]["name"]
        .as_str()
        .unwrap_or("lopa-sim")
        .to_string();
    let k_axis = match json["scenario"]["keys"]["plot.k_axis"].as_str() {
        Some("linear") => KAxis::Linear,
        Some("log2") => KAxis::Log2,
        _ => KAxis::Auto,
    };

    let path = dir.join("summary.csv");
    let (header, records) = rows(&path, &inputs.summary_csv, SUMMARY_COLUMNS)?;
    let headers: Vec<String> = header.iter().map(String::from).collect();
    let end = headers
        .iter()
        .position(|h| h == "sequences")
        .expect("a required column");
    let swept_keys: Vec<&String> = headers[1.min(end)..end]
        .iter()
        .filter(|h| *h != "case")
        .collect();
    let mut configs = Vec::new();
    for (line, record) in &records {
        let (p, line) = (&path, *line);
        let row = Row {
            headers: &header,
            record,
        };
        configs.push(ConfigPoint {
            config: cell(p, line, &row, "config")?,
            case: row.get("case").map(String::from),
            swept: swept_keys
                .iter()
                .map(|k| ((*k).clone(), row.get(k).unwrap_or_default().to_string()))
                .collect(),
            branches: cell(p, line, &row, "branches")?,
            tpf: cell(p, line, &row, "tpf")?,
            tpf_lo: cell(p, line, &row, "tpf_lo")?,
            tpf_hi: cell(p, line, &row, "tpf_hi")?,
            // Written only by runs over replicated worlds; absent or empty otherwise.
            tpf_world: match (
                optional(p, line, &row, "tpf_world_lo")?,
                optional(p, line, &row, "tpf_world_hi")?,
            ) {
                (Some(lo), Some(hi)) => Some((lo, hi)),
                _ => None,
            },
            invalid_per_1k: optional(p, line, &row, "invalid_per_1k")?,
            greedy_match_rate: optional(p, line, &row, "greedy_match_rate")?,
            log_likelihood_mean: optional(p, line, &row, "log_likelihood_mean")?,
            plan_consistent_rate: optional(p, line, &row, "plan_consistent_rate")?,
            token_errors_per_1k: optional(p, line, &row, "token_errors_per_1k")?,
            branch_tokens_per_token: cell(p, line, &row, "branch_tokens_per_token")?,
            decoder: None,
            search: None,
        });
    }
    // The resolved kinds tell the frontier figure which rule each configuration ran.
    for c in json["configurations"].as_array().into_iter().flatten() {
        let Some(point) = c["config"]
            .as_u64()
            .and_then(|n| configs.iter_mut().find(|p| p.config as u64 == n))
        else {
            continue;
        };
        let kind = |table: &str| c["resolved"][table]["kind"].as_str().map(String::from);
        point.decoder = kind("decoder");
        point.search = kind("search");
    }

    let path = dir.join("rounds.csv");
    let mut bins = Vec::new();
    let (header, records) = rows(&path, &inputs.rounds_csv, ROUNDS_COLUMNS)?;
    for (line, record) in &records {
        let (p, line) = (&path, *line);
        let row = Row {
            headers: &header,
            record,
        };
        bins.push(ProgressBin {
            config: cell(p, line, &row, "config")?,
            bin: cell(p, line, &row, "bin")?,
            lo: cell(p, line, &row, "progress_lo")?,
            hi: cell(p, line, &row, "progress_hi")?,
            rounds: cell(p, line, &row, "rounds")?,
            tokens: cell(p, line, &row, "tokens")?,
        });
    }

    let path = dir.join("trace.csv");
    let mut traces: Vec<Trace> = Vec::new();
    let (header, records) = rows(&path, &inputs.trace_csv, TRACE_COLUMNS)?;
    for (line, record) in &records {
        let (p, line) = (&path, *line);
        let row = Row {
            headers: &header,
            record,
        };
        let config: usize = cell(p, line, &row, "config")?;
        let via = match row.get("via") {
            Some("anchor") => Via::Anchor,
            Some("lookahead") => Via::Lookahead,
            Some("completion") => Via::Completion,
            other => bail!(
                "{}:{line}: column `via`: `{}` is not valid; a run writes anchor, lookahead \
                 or completion here",
                p.display(),
                other.unwrap_or_default()
            ),
        };
        let c = TraceCell {
            position: cell(p, line, &row, "position")?,
            round: cell(p, line, &row, "round")?,
            via,
        };
        if traces.last().is_none_or(|t| t.config != config) {
            traces.push(Trace {
                config,
                seq: cell(p, line, &row, "seq")?,
                branches: cell(p, line, &row, "branches")?,
                rounds: 0,
                positions: 0,
                cells: Vec::new(),
            });
        }
        let t = traces.last_mut().expect("just pushed");
        t.rounds = t.rounds.max(c.round);
        t.positions += 1;
        t.cells.push(c);
    }
    Ok(PlotData {
        name,
        k_axis,
        configs,
        bins,
        traces,
    })
}

/// Draws every figure into `dir/plots/` and writes `dir/report.html`, from the files in
/// `dir` alone. Returns the files written.
pub fn render(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    render_from(dir, &Inputs::read(dir)?)
}

/// Like [`render`], from `inputs`, the content of the files of `dir`.
pub fn render_from(dir: &Path, inputs: &Inputs) -> Result<Vec<std::path::PathBuf>> {
    let json = summary_json(dir, inputs)?;
    let data = plot_data(dir, inputs, &json)?;
    let timed = crate::plot::throughput::load_from(&dir.join("summary.csv"), &inputs.summary_csv)?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)
        .with_context(|| format!("cannot create {}", plots.display()))?;
    let rendered = crate::plot::render_figures(&data, &plots)?;
    let mut figures = Vec::new();
    for name in crate::plot::figures(&data) {
        let path = plots.join(format!("{name}.svg"));
        let svg = rendered
            .iter()
            .find(|r| r.path == path)
            .and_then(|r| r.svg.clone())
            .ok_or_else(|| anyhow!("{} was not drawn", path.display()))?;
        figures.push((
            name.to_string(),
            crate::plot::caption(name).to_string(),
            svg,
        ));
    }
    let mut written: Vec<_> = rendered.into_iter().map(|r| r.path).collect();
    written.extend(crate::plot::throughput::write(&timed, &plots)?);
    let scenario = &json["scenario"];
    let mut configurations = Vec::new();
    for c in json["configurations"].as_array().into_iter().flatten() {
        let mut title = format!("config {}", c["config"]);
        if let Some(case) = c["case"].as_str() {
            title.push_str(&format!(", case {case}"));
        }
        for (k, v) in c["swept"].as_object().into_iter().flatten() {
            title.push_str(&format!(", {k} = {}", v.as_str().unwrap_or_default()));
        }
        configurations.push((title, serde_json::to_string_pretty(&c["resolved"])?));
    }
    let summary_path = dir.join("summary.csv");
    let summary = std::str::from_utf8(&inputs.summary_csv)
        .with_context(|| format!("{} is not UTF-8", summary_path.display()))?;
    let html = crate::report::report_html(
        &data.name,
        &serde_json::to_string_pretty(scenario)?,
        summary,
        &figures,
        &configurations,
    );
    let page = dir.join("report.html");
    crate::report::write_atomic(&page, html.as_bytes())
        .with_context(|| format!("cannot write {}", page.display()))?;
    written.push(page);
    Ok(written)
}
