//! One integration-test binary (ripgrep style), so the suite links once.

mod calibrate;
mod cli;
mod damaged_results;
mod figures;
mod frontier;
mod golden;
mod incremental;
mod input_files;
mod invariants;
mod malformed;
mod messages;
mod names;
mod numerics;
mod outputs;
mod properties;
mod refusals;
mod search;
mod selecting;
mod sharding;
mod system;
mod util;
mod worlds;
