//! Reserve::runtime on wasm32, in Node: grows only when asked, once.
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/reserve_runtime_amount.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/reserve_runtime_amount.rs"]
mod body;
