//! One integration-test binary (ripgrep style), so the suite links once.

mod cli;
mod figures;
mod golden;
mod properties;
mod util;
