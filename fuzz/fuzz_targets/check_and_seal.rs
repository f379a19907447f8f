//! Fuzzes `nogrow check` and `nogrow seal` with the body the test suite
//! replays (`nogrow_cli::fuzz::run`): no input may panic, a sealed module
//! validates, and sealing it again changes nothing.
//!
//! cargo +nightly fuzz run check_and_seal fuzz/corpus/check_and_seal nogrow-cli/tests/corpus target/guests
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nogrow_cli::fuzz::run(data));
