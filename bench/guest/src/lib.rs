//! Benchmark guest: the same allocation workloads under one allocator, chosen
//! by a cargo feature (none of them: std's default, dlmalloc).
//!
//! Every workload is a plain `extern "C"` export that runs a guest-side loop
//! driven by a fixed-seed PRNG and returns how many allocations failed, so the
//! host (`bench/run.mjs`) only times one call. With the `size` feature the
//! module holds a tiny size probe instead of the workloads (code-size table).
//!
//! Capacity is the same for everyone: arena allocators get [`ARENA_BYTES`] of
//! static arena, and every module is linked with `--max-memory` =
//! [`MAX_MEMORY_BYTES`] (by `cargo xtask bench`), so growing allocators can
//! take what is left of the same total.

#![cfg_attr(not(feature = "size"), allow(clippy::missing_safety_doc))]

mod allocator;
mod random;
#[cfg(feature = "size")]
mod size;
#[cfg(not(feature = "size"))]
mod work;

/// Bytes of static arena for arena allocators (talc arena, bare TalcLock,
/// bump, nogrow Fail). nogrow Reserve splits it into a half of static arena
/// and a half reserved at start; nogrow Signal starts from 1 MiB and grows.
pub const ARENA_BYTES: usize = 32 << 20;

/// Every module's `--max-memory` (must equal `xtask/src/bench.rs`).
pub const MAX_MEMORY_BYTES: usize = ARENA_BYTES + (4 << 20);

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
