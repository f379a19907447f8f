//! wasm32 twin of `tests/reentrancy.rs`: the thread on the stack wasm-ld laid
//! out is named, so when it waits for a lock it holds itself nogrow knows it
//! is re-entrancy and panics at once (in every build) instead of hanging the
//! host. The global allocator is a nogrow instance over
//! `memory.grow` whose `Memory::grow` allocates; the panic machinery's own
//! allocations go to a small bump region so the message reaches the test
//! runner, which checks it (`should_panic(expected = ...)`).
//!
//! Runs on wasm32 in Node (`cargo test --target wasm32-unknown-unknown`); the
//! body is `tests/wasm/signal_reentrancy.rs`.

mod common;

wasm32_only!();

#[cfg(target_arch = "wasm32")]
#[path = "wasm/signal_reentrancy.rs"]
mod body;
