//! The wasm32 side of the random-operation tests: runs [`super::run`] on the
//! global allocator of the test binary under Node, comparing nogrow's page
//! count with the real `memory.size` after every operation.
//!
//! Counts come from the build: `NOGROW_RANDOM_OPS` and `NOGROW_RANDOM_SEED`
//! (read with `option_env!`, so changing them rebuilds the test).

use nogrow::{MIN_ARENA_BYTES, Nogrow, Policy, WasmMemory};
use wasm_bindgen_test::console_log;

use super::{Config, Report, Rng};

/// Ops for one wasm32 run: `NOGROW_RANDOM_OPS` at build time, else `default`.
pub fn ops(default: u64) -> u64 {
    option_env!("NOGROW_RANDOM_OPS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Seed for one wasm32 run: `NOGROW_RANDOM_SEED` at build time, else `default`.
pub fn seed(default: u64) -> u64 {
    option_env!("NOGROW_RANDOM_SEED")
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `memory.size` of memory 0, in pages.
pub fn memory_size() -> usize {
    core::arch::wasm32::memory_size(0)
}

/// Runs the random body on `alloc` (the binary's global allocator over
/// `arena`), prints the report, and returns it.
pub fn run_global<P: Policy>(
    alloc: &Nogrow<P, WasmMemory>,
    arena: (*mut u8, usize),
    fixed_pages: bool,
    grow_guaranteed_below: Option<usize>,
    ops: u64,
    seed: u64,
    space_end: Option<u64>,
) -> Report {
    let cfg = Config {
        ops,
        max_live: 256,
        max_size: 20 << 20,
        huge_per_mille: 3,
        live_budget: 40 << 20,
        arena,
        mem_base: core::ptr::null_mut(),
        fixed_pages,
        grow_guaranteed_below,
        memory_pages: Some(memory_size),
        full_check_every: 97,
        // The test harness's own blocks stay in the arena: leave them room.
        whole_arena_slack: Some(MIN_ARENA_BYTES + (alloc.stats().in_use * 4).max(64 << 10)),
        c_per_mille: 200,
        one_heap: false,
        space_end,
    };
    let pages_before = memory_size();
    let run = super::run(alloc, &cfg, &mut Rng(seed))
        .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", P::KIND.name()));
    let report =
        super::finish(run).unwrap_or_else(|e| panic!("{} seed {seed}: {e}", P::KIND.name()));
    console_log!(
        "{} wasm32 seed={seed} violations=0 pages {}->{} peak_pages={}: {report}",
        P::KIND.name(),
        pages_before,
        memory_size(),
        memory_size()
    );
    report
}
