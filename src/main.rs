//! The `lopa-sim` binary: parses arguments, calls the library, reports errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lopa_sim::cli;

/// Simulate LoPA lookahead parallel decoding of diffusion LMs over synthetic confidence models.
#[derive(Parser)]
#[command(name = "lopa-sim", version, about)]
struct Args {
    /// Refuse a run whose estimated peak memory exceeds this (bytes, or 512M, 4G, ...).
    #[arg(long, global = true, default_value = "4G", value_parser = lopa_sim::budget::parse_bytes)]
    memory_budget: u64,
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
    /// Adjust one numeric key until the scenario's TPF hits a target; write the result.
    Calibrate {
        /// The scenario TOML file (one configuration after --set).
        scenario: PathBuf,
        /// The dotted key to adjust, e.g. model.deterministic_share.
        #[arg(long)]
        param: String,
        /// The TPF to reach, as tpf=X.
        #[arg(long, required_unless_present = "target_table")]
        target: Option<String>,
        /// Fit to TPFs measured at several decoder.fill_threshold values: "TAU:TPF,TAU:TPF,...".
        #[arg(long, conflicts_with = "target")]
        target_table: Option<String>,
        /// Search bounds LO,HI (default 0,1 for thresholds and shares).
        #[arg(long, value_name = "LO,HI", allow_hyphen_values = true)]
        range: Option<String>,
        /// Where to write the calibrated scenario.
        #[arg(long)]
        write: PathBuf,
        /// Override a key before calibrating.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
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
    lopa_sim::budget::set_limit(args.memory_budget);
    cli::interrupt::install();
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
            param,
            target,
            target_table,
            range,
            write,
            sets,
        } => calibrate(scenario, param, target, target_table, range, write, sets),
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

fn calibrate(
    scenario: PathBuf,
    param: String,
    target: Option<String>,
    table: Option<String>,
    range: Option<String>,
    write: PathBuf,
    sets: Vec<String>,
) -> anyhow::Result<()> {
    use lopa_sim::calibrate as cal;
    let opts = cal::CalibrateOptions {
        target: target.as_deref().map(cal::parse_target).transpose()?,
        table: table
            .as_deref()
            .map(cal::parse_table)
            .transpose()?
            .unwrap_or_default(),
        range: range.as_deref().map(cal::parse_range).transpose()?,
        scenario,
        param,
        write,
        sets,
    };
    println!("calibrating {} on {}", opts.param, opts.scenario.display());
    let result = cal::calibrate(&opts, &mut |line| println!("{line}"))?;
    let what = if opts.table.is_empty() {
        "TPF"
    } else {
        "RMS TPF error"
    };
    println!(
        "{} = {} ({what} {:.4}, {} evaluations)",
        opts.param,
        lopa_sim::report::float_cell(result.value),
        result.achieved,
        result.evaluations.len()
    );
    println!("wrote {}", opts.write.display());
    Ok(())
}
