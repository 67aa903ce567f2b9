//! The `lopa-sim` binary: parses arguments, calls the library, reports errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lopa_sim::cli;

/// Simulate LoPA lookahead parallel decoding of diffusion LMs over synthetic confidence models.
#[derive(Parser)]
#[command(name = "lopa-sim", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode every configuration of a scenario and write runs.csv, summary.csv and summary.json.
    Run {
        /// The scenario TOML file.
        scenario: PathBuf,
        /// Results folder (default: output.dir, else results/<name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a key, e.g. --set search.branches=4 (the value is read as TOML).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Redraw every figure and report.html of a results folder, without decoding again.
    Plot {
        /// The results folder a run wrote.
        dir: PathBuf,
    },
    /// Adjust numeric keys until the scenario's statistics hit their targets; write the result.
    Calibrate {
        /// The scenario TOML file.
        scenario: PathBuf,
        /// A dotted key to adjust, e.g. model.deterministic_share (repeat for several knobs).
        #[arg(long = "param", value_name = "KEY", required = true)]
        params: Vec<String>,
        /// A statistic to reach: STAT=X for a one-configuration scenario, CASE:STAT=X for a
        /// case (repeatable), e.g. tpf_steps=3.1.
        #[arg(
            long = "target",
            value_name = "[CASE:]STAT=X",
            required_unless_present = "target_table"
        )]
        targets: Vec<String>,
        /// Fit to TPFs measured at several decoder.fill_threshold values: "TAU:TPF,TAU:TPF,...".
        #[arg(long, conflicts_with = "targets")]
        target_table: Option<String>,
        /// Search bounds LO,HI, one per --param in order (default 0,1 for thresholds and shares).
        #[arg(long = "range", value_name = "LO,HI", allow_hyphen_values = true)]
        ranges: Vec<String>,
        /// Where to write the calibrated scenario (its name gains "-calibrated").
        #[arg(long)]
        write: PathBuf,
        /// Override a key before calibrating.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Only these cases (exact names or globs; repeatable).
        #[arg(long = "case", value_name = "NAME")]
        cases: Vec<String>,
        /// Only this configuration (the config column of summary.csv).
        #[arg(long, value_name = "N")]
        config: Option<usize>,
        /// Share of each target to come within: 0.02 or 2% (default 2%).
        #[arg(long)]
        tolerance: Option<String>,
        /// Write the closest values even when the fit misses the tolerance.
        #[arg(long)]
        accept_closest: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Decode one sequence of a one-configuration scenario and print one line per round.
    Trace {
        /// The scenario TOML file.
        scenario: PathBuf,
        /// The sequence to decode.
        #[arg(long, default_value_t = 0)]
        seq: usize,
        /// Override a key, e.g. --set 'sweep={}' --set search.branches=4.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Also write the rounds as JSON lines to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Run {
            scenario,
            out,
            sets,
            quiet,
        } => cli::run(&cli::RunOptions {
            scenario,
            out,
            sets,
            quiet,
        })
        .map(|_| ()),
        Command::Calibrate {
            scenario,
            params,
            targets,
            target_table,
            ranges,
            write,
            sets,
            cases,
            config,
            tolerance,
            accept_closest,
            quiet,
        } => calibrate_options(
            scenario,
            params,
            targets,
            target_table,
            ranges,
            write,
            sets,
            cases,
            config,
            tolerance,
            accept_closest,
        )
        .and_then(|opts| lopa_sim::calibrate::command(&opts, quiet)),
        Command::Plot { dir } => lopa_sim::results::render(&dir).map(|written| {
            for path in written {
                println!("{}", path.display());
            }
        }),
        Command::Trace {
            scenario,
            seq,
            sets,
            json,
        } => cli::trace(&cli::TraceOptions {
            scenario,
            seq,
            sets,
            json,
        })
        .map(|text| print!("{text}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn calibrate_options(
    scenario: PathBuf,
    params: Vec<String>,
    targets: Vec<String>,
    table: Option<String>,
    ranges: Vec<String>,
    write: PathBuf,
    sets: Vec<String>,
    cases: Vec<String>,
    config: Option<usize>,
    tolerance: Option<String>,
    accept_closest: bool,
) -> anyhow::Result<lopa_sim::calibrate::CalibrateOptions> {
    use lopa_sim::calibrate as cal;
    Ok(cal::CalibrateOptions {
        targets: targets
            .iter()
            .map(|t| cal::parse_target(t))
            .collect::<anyhow::Result<_>>()?,
        table: table
            .as_deref()
            .map(cal::parse_table)
            .transpose()?
            .unwrap_or_default(),
        ranges: ranges
            .iter()
            .map(|r| cal::parse_range(r))
            .collect::<anyhow::Result<_>>()?,
        tolerance: tolerance.as_deref().map(cal::parse_tolerance).transpose()?,
        scenario,
        params,
        write,
        sets,
        cases,
        config,
        accept_closest,
    })
}
