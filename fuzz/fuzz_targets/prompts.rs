//! Fuzz target `prompts`: see `lopa_sim_fuzz::prompts`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lopa_sim_fuzz::prompts(data));
