//! Fail policy on wasm32, in Node: exhaustion returns errors, memory never grows.
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/fail_exhaustion.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/fail_exhaustion.rs"]
mod body;
