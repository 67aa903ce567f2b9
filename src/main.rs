//! The `lopa-sim` binary: parses arguments, calls the library, reports errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use lopa_sim::cli;

/// Simulate LoPA lookahead parallel decoding of diffusion LMs over synthetic confidence models.
#[derive(Parser)]
#[command(name = "lopa-sim", version = env!("LOPA_SIM_VERSION"), about)]
struct Args {
    /// Refuse a run whose estimated peak memory exceeds this (bytes, or 512M, 4G, ...)
    /// [default: 3/4 of the machine's memory, or 4G where that is unknown].
    #[arg(long, global = true, value_parser = lopa_sim::budget::parse_bytes)]
    memory_budget: Option<u64>,
    #[command(subcommand)]
    command: Command,
    /// Print nothing but errors and warnings (a warning flags results that mislead).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Say more about what is done (repeat for more).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Decoding threads, 1 to 1024 (default: one per core). Results never depend on it.
    #[arg(long, short, global = true, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: Option<u16>,
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
        /// Run only this case (repeatable; exact name or glob, e.g. 'GSM8K/*').
        #[arg(long = "case", value_name = "NAME")]
        cases: Vec<String>,
        /// Print the configurations and their keys, and decode nothing.
        #[arg(long)]
        list: bool,
        /// Also write the summary table as Markdown to FILE.
        #[arg(long, value_name = "FILE")]
        export_markdown: Option<PathBuf>,
        /// Write into a results folder that holds another scenario's results.
        #[arg(long)]
        force: bool,
        /// Decode only shard I of N (work items t with t mod N = I - 1), e.g. 2/8; combine
        /// the shard folders with `lopa-sim merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<lopa_sim::sweep::Shard>,
        /// Continue an interrupted run in the same --out folder: skip the work items its
        /// journal holds.
        #[arg(long)]
        resume: bool,
    },
    /// Combine the folders of `run --shard I/N` (every I of one N) into one results folder,
    /// byte-identical to an unsharded run.
    Merge {
        /// The shard folders, in any order.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The results folder to write.
        #[arg(long)]
        out: PathBuf,
        /// Write into a results folder that holds another scenario's results.
        #[arg(long)]
        force: bool,
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
        /// A setting that targets may name (NAME:STAT=X): overrides added for those targets
        /// only, never written, e.g. 'lowered:decoder.fill_threshold=0.7' (repeatable).
        #[arg(long = "variant", value_name = "NAME:KEY=VALUE,...")]
        variants: Vec<String>,
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
        /// Keep only this case (repeatable; exact name or glob).
        #[arg(long = "case", value_name = "NAME")]
        cases: Vec<String>,
        /// Trace configuration N of the scenario (as `run --list` numbers them).
        #[arg(long, value_name = "N")]
        config: Option<usize>,
        /// Also write the rounds as JSON lines to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Print the roofline of one round on a built-in hardware profile (what-if questions).
    System(lopa_sim::system::WhatIf),
    /// Print a shell completion script, e.g. `lopa-sim completions bash > lopa-sim.bash`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// The subcommand as typed, for the interrupt message.
    fn name(&self) -> &'static str {
        match self {
            Command::Run { .. } => "run",
            Command::Merge { .. } => "merge",
            Command::Plot { .. } => "plot",
            Command::Calibrate { .. } => "calibrate",
            Command::Trace { .. } => "trace",
            Command::System(_) => "system",
            Command::Completions { .. } => "completions",
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (quiet, verbose) = (args.quiet, args.verbose);
    if let Some(n) = args.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.into())
            .build_global()
        {
            eprintln!("error: --jobs {n}: {e}");
            return ExitCode::from(2);
        }
    }
    lopa_sim::budget::set_limit(
        args.memory_budget
            .unwrap_or_else(lopa_sim::budget::machine_default),
    );
    cli::interrupt::install(args.command.name());
    let result = match args.command {
        Command::Run {
            scenario,
            out,
            sets,
            cases,
            list,
            export_markdown,
            force,
            shard,
            resume,
        } => cli::run(&cli::RunOptions {
            scenario,
            out,
            sets,
            quiet,
            verbose,
            cases,
            list,
            export_markdown,
            force,
            shard,
            resume,
        })
        .map(|_| ()),
        Command::Merge { dirs, out, force } => cli::merge(&cli::MergeOptions {
            dirs,
            out,
            force,
            quiet,
            verbose,
        }),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Args::command(), "lopa-sim", &mut script);
            cli::stdout(&String::from_utf8_lossy(&script))
        }
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
            variants,
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
            variants,
        )
        .and_then(|opts| lopa_sim::calibrate::command(&opts, quiet)),
        Command::Plot { dir } => lopa_sim::results::render(&dir).and_then(|written| {
            if !quiet {
                for path in written {
                    cli::stdout(&format!("{}\n", path.display()))?;
                }
            }
            Ok(())
        }),
        Command::Trace {
            scenario,
            seq,
            sets,
            cases,
            config,
            json,
        } => cli::trace(&cli::TraceOptions {
            scenario,
            seq,
            sets,
            cases,
            config,
            json,
        })
        .and_then(|text| {
            if !quiet {
                cli::stdout(&text)?;
            }
            Ok(())
        }),
        Command::System(what_if) => what_if.run().and_then(|text| {
            if !quiet {
                cli::stdout(&text)?;
            }
            Ok(())
        }),
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
    variants: Vec<String>,
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
        variants: variants
            .iter()
            .map(|v| cal::parse_variant(v))
            .collect::<anyhow::Result<_>>()?,
        scenario,
        params,
        write,
        sets,
        cases,
        config,
        accept_closest,
    })
}
