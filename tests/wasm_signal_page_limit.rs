//! Edge cases on wasm32 under Node with a Signal global allocator: hitting the
//! page limit fails cleanly (null, failure recorded, `memory.size` at most the
//! limit), the heap stays usable, and once everything is freed the grown
//! region is allocatable as one block again (growth extends one heap).
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/signal_page_limit.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/signal_page_limit.rs"]
mod body;
