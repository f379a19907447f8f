//! Random operations against the model on wasm32 under Node, with a Signal
//! global allocator: memory grows only when it must, geometrically, within the
//! page limit, and nogrow's page count always equals `memory.size`.
//! See `tests/common/`.
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/signal_random_ops.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/signal_random_ops.rs"]
mod body;
