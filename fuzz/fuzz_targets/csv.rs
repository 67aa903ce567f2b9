//! Fuzz target `csv`: see `lopa_sim_fuzz::csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lopa_sim_fuzz::csv(data));
