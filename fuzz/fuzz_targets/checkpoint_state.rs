#![no_main]
// Harness and properties: crates/plaint-fuzz/src/ (docs/fuzzing.md).
libfuzzer_sys::fuzz_target!(|data: &[u8]| plaint_fuzz::checkpoint::checkpoint_state(data));
