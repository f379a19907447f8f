//! libFuzzer target over nogrow's random-operation body (`tests/common/`):
//! the first input byte picks the policy and when the fake memory starts
//! refusing to grow; the rest are the body's decisions. Any violation of the
//! model panics, which libFuzzer reports as a crash.
//!
//! Run: `cargo +nightly fuzz run --fuzz-dir fuzz-alloc random_ops`.
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;

use core::{alloc::GlobalAlloc, alloc::Layout, sync::atomic::Ordering::Relaxed};

use common::{Bytes, Config, Region};
use libfuzzer_sys::fuzz_target;
use nogrow::{
    Arena, Fail, MIN_ARENA_BYTES, Nogrow, PAGE_SIZE, Policy, PolicyKind, Reserve, Signal,
    SliceMemory, State,
};

const ARENA: usize = 1 << 20;
const MAX_PAGES: usize = 640;

/// One state block, reset before every input (libFuzzer runs inputs one at a time).
static STATE: State = State::new();

fn reset(s: &State) {
    for a in [
        &s.generation,
        &s.policy,
        &s.pages,
        &s.allocs,
        &s.frees,
        &s.reallocs,
        &s.failures,
        &s.growths,
        &s.reserve_status,
        &s.limit_pages,
    ] {
        a.store(0, Relaxed);
    }
    for a in [
        &s.heap_bytes,
        &s.in_use,
        &s.peak_in_use,
        &s.last_fail_size,
        &s.last_fail_align,
        &s.last_fail_in_use,
        &s.last_fail_heap_bytes,
    ] {
        a.store(0, Relaxed);
    }
}

/// The arena and the fake memory, allocated once and reused by every input
/// (each input makes a fresh allocator over them).
struct Regions {
    arena: Region,
    memory: Region,
}

// SAFETY: libFuzzer runs inputs one at a time on one thread; the regions are
// only used by the allocator of the input being run.
unsafe impl Sync for Regions {}
// SAFETY: as above.
unsafe impl Send for Regions {}

static REGIONS: std::sync::OnceLock<Regions> = std::sync::OnceLock::new();

fn run<P: Policy>(policy: P, refuse_after: Option<usize>, limit: Option<usize>, choices: &[u8]) {
    reset(&STATE);
    let Regions { arena, memory } = REGIONS.get_or_init(|| Regions {
        arena: Region::new(ARENA),
        memory: Region::new(MAX_PAGES * PAGE_SIZE),
    });
    // SAFETY: `memory` is a region of MAX_PAGES pages that lives forever; only
    // this input's allocator uses it (the previous one is gone).
    let mut mem = unsafe { SliceMemory::new(memory.ptr(), 1, MAX_PAGES) };
    if let Some(n) = refuse_after {
        mem.refuse_after(n);
    }
    // SAFETY: `arena` lives forever and only this input's allocator uses it.
    let alloc = Nogrow::new(
        unsafe { Arena::from_raw(arena.ptr(), arena.len()) },
        policy,
        mem,
        &STATE,
    );
    let one = Layout::new::<u8>();
    // SAFETY: non-zero size; freed right away with the same layout.
    unsafe { alloc.dealloc(alloc.alloc(one), one) };
    let cfg = Config {
        ops: u64::MAX,
        max_live: 64,
        max_size: 20 << 20,
        huge_per_mille: 3,
        live_budget: 24 << 20,
        arena: (arena.ptr(), arena.len()),
        mem_base: memory.ptr(),
        fixed_pages: !P::GROWS || P::KIND == PolicyKind::Reserve,
        grow_guaranteed_below: (P::KIND == PolicyKind::Signal && refuse_after.is_none())
            .then(|| limit.unwrap_or(MAX_PAGES).min(MAX_PAGES)),
        memory_pages: None,
        full_check_every: 31,
        whole_arena_slack: Some(MIN_ARENA_BYTES),
        c_per_mille: 200,
    };
    let run = common::run(&alloc, &cfg, &mut Bytes(choices)).unwrap_or_else(|e| panic!("{e}"));
    common::finish(run).unwrap_or_else(|e| panic!("{e}"));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, choices)) = data.split_first() else {
        return;
    };
    let refuse_after = match mode >> 4 {
        0..8 => None,
        n => Some(usize::from(n - 8)),
    };
    match mode % 5 {
        0 => run(Fail, None, None, choices),
        1 => run(Reserve::pages(256), refuse_after, None, choices),
        2 => run(Signal::new(), refuse_after, None, choices),
        3 => run(
            Signal::new().step_pages(8).limit_pages(300),
            refuse_after,
            Some(300),
            choices,
        ),
        _ => run(Reserve::runtime(), None, None, choices),
    }
});
