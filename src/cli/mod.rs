//! The commands behind the binary: everything that touches files and the terminal.
//! `main.rs` only parses arguments into these options and reports errors.

pub mod interrupt;
mod progress;
mod run;
mod trace;

pub use run::{prepare, run, RunOptions, RunOutput};
pub use trace::{trace, TraceOptions};
