//! Fuzz target `scenario`: see `lopa_sim_fuzz::scenario`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lopa_sim_fuzz::scenario(data));
