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
/// reader has all it wanted, and the result files are written either way.
pub fn stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
