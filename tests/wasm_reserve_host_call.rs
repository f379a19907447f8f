//! Reserve::pages on wasm32, in Node: one growth up front (here lazily, at the
//! harness's first allocation), then never again.
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/reserve_host_call.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/reserve_host_call.rs"]
mod body;
