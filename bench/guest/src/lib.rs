//! Benchmark guest: the same allocation workloads under one allocator, chosen
//! by a cargo feature (none of them: std's default, dlmalloc).
//!
//! Every workload is a plain `extern "C"` export that runs a guest-side loop
//! driven by a fixed-seed PRNG and returns how many allocations failed, so the
//! host (`bench/run.mjs`) only times one call. The real workloads
//! (serde_json, regex; `real.rs`) work on a document the host copies in
//! through `input_alloc` and leave a result the host checks. With the `size`
//! feature the module holds a tiny size probe instead of the workloads
//! (code-size table); serde_json and regex are not linked into it.
//!
//! Capacity is the same for everyone: arena allocators get [`ARENA_BYTES`] of
//! static arena, and every module is linked with `--max-memory` =
//! [`MAX_MEMORY_BYTES`] (by `cargo xtask bench`), so growing allocators can
//! take what is left of the same total.

#![cfg_attr(not(feature = "size"), allow(clippy::missing_safety_doc))]

mod allocator;
#[cfg(not(feature = "size"))]
mod random;
#[cfg(not(feature = "size"))]
mod real;
#[cfg(feature = "size")]
mod size;
#[cfg(not(feature = "size"))]
mod work;

/// Bytes of static arena for arena allocators (talc arena, bare TalcLock,
/// bump, nogrow Fail). nogrow Reserve splits it into a half of static arena
/// and a half reserved at start; nogrow Signal starts from 1 MiB and grows.
///
/// 32 MiB unless the build sets `BENCH_ARENA_BYTES` (decimal bytes): the
/// smallest-capacity check builds nogrow Fail with the arena a search found,
/// to confirm that shrinking the arena with a ballast block measures the same.
pub const ARENA_BYTES: usize = match option_env!("BENCH_ARENA_BYTES") {
    Some(s) => parse_bytes(s),
    None => 32 << 20,
};

/// Every module's `--max-memory` (must equal `xtask/src/bench.rs`).
pub const MAX_MEMORY_BYTES: usize = (32 << 20) + (4 << 20);

/// A decimal byte count, at compile time.
const fn parse_bytes(s: &str) -> usize {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "BENCH_ARENA_BYTES is empty");
    let mut n = 0usize;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "BENCH_ARENA_BYTES: decimal bytes");
        n = n * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    assert!(n <= 32 << 20, "BENCH_ARENA_BYTES: at most 32 MiB");
    n
}

/// Bytes of static arena this module's allocator owns from the start (0 for
/// allocators that only grow memory).
#[unsafe(no_mangle)]
pub extern "C" fn bench_static_arena() -> u32 {
    allocator::STATIC_ARENA as u32
}

/// Whether this module's allocator grows `memory` on demand (1) or not (0).
#[unsafe(no_mangle)]
pub extern "C" fn bench_grows() -> u32 {
    allocator::GROWS as u32
}

/// The `--max-memory` this module was meant to be linked with, in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn bench_max_memory() -> u32 {
    MAX_MEMORY_BYTES as u32
}
