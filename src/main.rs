//! The `lopa-sim` binary: parses arguments, calls the library, reports errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use lopa_sim::cli;

/// Simulate LoPA lookahead parallel decoding of diffusion LMs over synthetic confidence models.
#[derive(Parser)]
#[command(name = "lopa-sim", version = env!("LOPA_SIM_VERSION"), about)]
struct Args {
    #[command(subcommand)]
    command: Command,
    /// Print nothing but errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Say more about what is done (repeat for more).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Decoding threads (default: one per core). Results never depend on it.
    #[arg(long, short, global = true, value_name = "N")]
    jobs: Option<usize>,
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
    /// Print a shell completion script, e.g. `lopa-sim completions bash > lopa-sim.bash`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (quiet, verbose) = (args.quiet, args.verbose);
    if let Some(n) = args.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("error: --jobs {n}: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match args.command {
        Command::Run {
            scenario,
            out,
            sets,
            cases,
            list,
            export_markdown,
            force,
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
        })
        .map(|_| ()),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Args::command(),
                "lopa-sim",
                &mut std::io::stdout(),
            );
            Ok(())
        }
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
            if !quiet {
                for path in written {
                    cli::stdout(&format!("{}\n", path.display()));
                }
            }
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
        .map(|text| {
            if !quiet {
                cli::stdout(&text)
            }
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
