//! Random operations against the model on wasm32 under Node, with a Reserve
//! global allocator: after the one (lazy) reserve, `memory.size` never changes.
//! See `tests/common/`.
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/reserve_random_ops.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/reserve_random_ops.rs"]
mod body;
