//! Signal on wasm32, in Node: growth bumps the generation exactly once per
//! growth, pages match, and the page limit holds.
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/signal_growth.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/signal_growth.rs"]
mod body;
