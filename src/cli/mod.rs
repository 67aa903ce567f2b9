//! The commands behind the binary: everything that touches files and the terminal.
//! `main.rs` only parses arguments into these options and reports errors.

mod finish;
pub mod interrupt;
mod list;
mod merge;
mod outputs;
mod progress;
mod run;
mod trace;

pub use merge::{merge, MergeOptions};
pub use run::{prepare, prepare_cases, run, RunOptions, RunOutput};
pub use trace::{trace, TraceOptions};

/// Prints `text` to stdout. A closed pipe (`lopa-sim run ... | head`) is not an error: the
/// reader has all it wanted, and the result files are written either way. Any other
/// failure (a full disk, `> /dev/full`) is: the output asked for was not delivered.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write to standard output: {e}"))
        }
        _ => Ok(()),
    }
}
