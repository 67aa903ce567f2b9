//! Fuzz target `set`: see `lopa_sim_fuzz::set`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lopa_sim_fuzz::set(data));
