//! Fuzz target `results`: see `lopa_sim_fuzz::results`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lopa_sim_fuzz::results(data));
