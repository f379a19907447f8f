//! Random operations against the model on wasm32 under Node, with a Signal
//! global allocator whose heap grows from 80 MiB below the top reserve (the
//! test grows memory there first, as a host could) to the top, where
//! talc's 32-bit fit sums would wrap: every block stays inside memory and
//! below the top reserve, and requests too large for the heap's top fail
//! cleanly, without growth.
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/signal_top_random_ops.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/signal_top_random_ops.rs"]
mod body;
