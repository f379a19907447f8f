//! Random operations against the model on the real `wasm32-wasip2` target,
//! with nogrow as the global allocator and the C allocation family
//! (`c-malloc`): one heap, every Rust block carrying the C header, every
//! block resized and freed by either family, and `memory.size` never
//! changing under Fail. See `tests/common/`.
//!
//! A `wasm32-wasip2` test binary (a WASI command): `cargo xtask test-wasip2`
//! builds it with `--features c-malloc` and runs it in wasmtime; the body is
//! `tests/wasip2/random_ops.rs`.

mod common;

#[cfg(not(all(target_os = "wasi", not(target_env = "p1"))))]
#[test]
#[ignore = "a wasm32-wasip2 test binary: `cargo xtask test-wasip2` runs it in wasmtime"]
fn runs_on_wasm32_wasip2_in_wasmtime() {}

#[cfg(all(target_os = "wasi", not(target_env = "p1")))]
#[path = "wasip2/random_ops.rs"]
mod body;
