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
